// Drafts (drafts.js): the autosave of forms, rejected changes kept to correct,
// and the lock that saves them first (lock.js: saveThenLock).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  createAutosave, flushAll, loadDraft, mergeCorrection, rejectedErrors, recordKey, formKey, isEmpty,
  sameSnapshot, resetAutosaves, AUTOSAVE_MS,
} from '../drafts.js';
import { newEntry, settle, correctionFor } from '../outbox.js';
import { saveThenLock } from '../lock.js';
import { validateRecord } from '../validate.js';
import { SCHEMA } from '../schema.js';

/** The drafts side of db.js, in memory; `locked` makes every call fail as db.js does when locked. */
function draftStore() {
  const rows = new Map();
  const store = {
    rows, locked: false, writes: 0,
    async getDraft(k) { if (store.locked) throw Object.assign(new Error('locked'), { code: 'locked' }); return structuredClone(rows.get(k) ?? null); },
    async putDraft(d) {
      if (store.locked) throw Object.assign(new Error('locked'), { code: 'locked' });
      await new Promise((r) => { setImmediate(r); }); // a write takes a moment (sealing)
      store.writes += 1;
      rows.set(d.key, structuredClone(d));
    },
    async deleteDraft(k) { if (store.locked) throw Object.assign(new Error('locked'), { code: 'locked' }); rows.delete(k); },
    async listDrafts() { return [...rows.values()]; },
  };
  return store;
}

/** Timers the test moves by hand. */
function fakeTimers() {
  let t = 0;
  let next = 1;
  const due = new Map();
  return {
    setTimer: (fn, ms) => { const id = next++; due.set(id, [t + ms, fn]); return id; },
    clearTimer: (id) => { due.delete(id); },
    advance(ms) {
      t += ms;
      for (const [id, [at, fn]] of [...due].sort((a, b) => a[1][0] - b[1][0])) {
        if (at <= t) { due.delete(id); fn(); }
      }
    },
    get pending() { return due.size; },
  };
}

/** A form: an object of values standing for its controls. */
function formOf(values) {
  const state = { ...values };
  return { state, snapshot: () => ({ ...state }) };
}

beforeEach(() => resetAutosaves());

test('a change is kept within a second, as typed, and not before it changes', async () => {
  const store = draftStore();
  const timers = fakeTimers();
  const form = formOf({ notes: '' });
  const auto = createAutosave({
    store, key: recordKey('visit', 'v1'), snapshot: form.snapshot, ...timers,
    meta: () => ({ type: 'visit', id: 'v1', case_id: 'c1', route: '#/case/c1/visit/v1' }),
    now: () => '2026-11-23T08:15:00.000Z',
  });
  assert.ok(AUTOSAVE_MS < 1000);
  await flushAll();
  assert.equal(store.rows.size, 0, 'an untouched form keeps nothing');
  form.state.notes = 'Nobody ho';
  auto.changed();
  form.state.notes = 'Nobody home ';
  auto.changed();
  assert.equal(store.rows.size, 0, 'not on every keystroke');
  timers.advance(AUTOSAVE_MS);
  await flushAll();
  const d = store.rows.get('visit:v1');
  assert.deepEqual(d.values, { notes: 'Nobody home ' }, 'exactly as typed, trailing space and all');
  assert.equal(d.case_id, 'c1');
  assert.equal(d.route, '#/case/c1/visit/v1');
  assert.equal(d.updated_at, '2026-11-23T08:15:00.000Z');
  assert.equal(store.writes, 1, 'one write for a burst of typing');
});

test('a form back as it opened keeps no draft; saved() and discard() drop it', async () => {
  const store = draftStore();
  const timers = fakeTimers();
  const form = formOf({ notes: 'saved text' });
  const auto = createAutosave({ store, key: 'visit:v2', snapshot: form.snapshot, ...timers });
  form.state.notes = 'saved text and more';
  auto.changed();
  await auto.flush();
  assert.ok(store.rows.has('visit:v2'));
  form.state.notes = 'saved text';
  auto.changed();
  await auto.flush();
  assert.equal(store.rows.has('visit:v2'), false, 'typed back to what it was: no draft');
  form.state.notes = 'changed again';
  auto.changed();
  await auto.flush();
  await auto.saved(); // "Save draft": the work is in the outbox now
  assert.equal(store.rows.has('visit:v2'), false);
  auto.changed(); // nothing changed since the save: the new baseline
  await auto.flush();
  assert.equal(store.rows.has('visit:v2'), false);
  form.state.notes = 'after the save';
  auto.changed();
  await auto.flush();
  assert.equal(store.rows.get('visit:v2').values.notes, 'after the save');
  await auto.discard();
  assert.equal(store.rows.has('visit:v2'), false);
  auto.changed();
  timers.advance(AUTOSAVE_MS);
  await flushAll();
  assert.equal(store.rows.has('visit:v2'), false, 'a discarded form writes nothing more');
});

test('flushAll writes what is pending at once (the lock, leaving the page), and later writes win', async () => {
  const store = draftStore();
  const timers = fakeTimers();
  const form = formOf({ text: '' });
  const auto = createAutosave({ store, key: formKey('note', 'case', 'c1'), snapshot: form.snapshot, ...timers });
  for (const text of ['a', 'ab', 'abc']) {
    form.state.text = text;
    auto.changed();
    auto.flush(); // writes queued one after another, none awaited
  }
  form.state.text = 'abcd';
  auto.changed();
  await flushAll();
  assert.equal(timers.pending, 0);
  assert.equal(store.rows.get('form:note:case:c1').values.text, 'abcd', 'the last state, never an older one');
});

test('validation blocks sending, never typing: an invalid form is still kept', async () => {
  const store = draftStore();
  const long = 'x'.repeat(SCHEMA.types.visit.fields.notes.max + 50);
  const form = formOf({ notes: long, outcome: 'not-a-code' });
  const auto = createAutosave({ store, key: 'visit:v3', snapshot: form.snapshot, pristine: { notes: '', outcome: '' } });
  auto.changed();
  await flushAll();
  assert.equal(store.rows.get('visit:v3').values.notes.length, long.length, 'every character kept');
  const problems = validateRecord('visit', { case_id: '00000000-0000-4000-8000-000000000001', notes: long, outcome: 'not-a-code' }, { creating: true });
  assert.deepEqual(problems.map((p) => p.field).sort(), ['notes', 'outcome'], 'but it would not be sent');
});

test('a second form on the same key takes over; a write while locked is not an error', async () => {
  const store = draftStore();
  const first = formOf({ notes: 'first' });
  const a = createAutosave({ store, key: 'visit:v4', snapshot: first.snapshot, pristine: {} });
  a.changed();
  const second = formOf({ notes: 'second' });
  const b = createAutosave({ store, key: 'visit:v4', snapshot: second.snapshot, pristine: {} });
  await flushAll();
  assert.equal(store.rows.get('visit:v4').values.notes, 'first', 'the first form\'s pending change was written');
  assert.equal(a.alive(), false);
  b.changed();
  await flushAll();
  assert.equal(store.rows.get('visit:v4').values.notes, 'second');
  store.locked = true;
  second.state.notes = 'third';
  b.changed();
  await flushAll(); // resolves: the lock already saved what it could
  store.locked = false;
  assert.equal(store.rows.get('visit:v4').values.notes, 'second');
});

test('loadDraft waits for pending writes, so a screen never reads a stale draft', async () => {
  const store = draftStore();
  const timers = fakeTimers();
  const form = formOf({ notes: 'typed just before leaving' });
  const auto = createAutosave({ store, key: 'visit:v5', snapshot: form.snapshot, pristine: { notes: '' }, ...timers });
  auto.changed(); // the timer has not fired: the officer tapped "Back" at once
  const d = await loadDraft(store, 'visit:v5');
  assert.equal(d.values.notes, 'typed just before leaving');
  store.locked = true;
  await assert.rejects(loadDraft(store, 'visit:v5'), /locked/);
});

test('a rejected put leaves a correction with the fields and the per-field errors; a delete does not', () => {
  const fresh = { type: 'visit', id: 'v', version: null, fields: {} };
  const e = newEntry({ type: 'visit', id: 'v', fields: { case_id: 'c', outcome: 'door_knocked', notes: 'n' }, hlc: 'h', changeId: 'c1', at: 'now' });
  const errors = [{ field: 'outcome', code: 'validation_failed', message: 'outcome must be one of no_answer, card_left' }];
  const r = settle(fresh, e, { change_id: 'c1', status: 'rejected', errors }, { at: '2026-11-23T09:00:00.000Z' });
  assert.equal(r.record, null);
  assert.deepEqual(r.correction, {
    type: 'visit', id: 'v', op: 'put', fields: { case_id: 'c', outcome: 'door_knocked', notes: 'n' },
    errors, change_id: 'c1', at: '2026-11-23T09:00:00.000Z',
  });
  assert.match(r.notice.reason, /kept under Drafts/);
  const del = newEntry({ type: 'task', id: 't', op: 'delete', hlc: 'h', changeId: 'c2', at: 'now' });
  assert.equal(settle({ type: 'task', id: 't', version: 3, fields: {} }, del, { status: 'rejected', errors: [] }).correction, null);
  assert.equal(settle(fresh, e, { status: 'applied', version: 1 }).correction, undefined);
  assert.equal(settle(fresh, e, { status: 'merged', version: 1, lost_fields: ['notes'] }).correction, undefined);
  const bare = correctionFor(e, { status: 'rejected', errors: [{ code: 'forbidden' }] }, 'now');
  assert.deepEqual(bare.errors, [{ field: null, code: 'forbidden', message: 'forbidden' }]);
});

test('corrections add up per record, the latest error per field wins, and what the form held stays', () => {
  const c1 = { type: 'visit', id: 'v', op: 'put', fields: { case_id: 'c', outcome: 'x', notes: 'one' }, change_id: 'a', at: 't1',
    errors: [{ field: 'outcome', code: 'validation_failed', message: 'old outcome message' }, { field: null, code: 'forbidden', message: 'whole' }] };
  const first = mergeCorrection(null, c1);
  assert.equal(first.key, 'visit:v');
  assert.equal(first.case_id, 'c');
  assert.equal(first.values, null);
  assert.equal(isEmpty(first), false);
  const withForm = { ...first, values: { notes: 'typing on' }, route: '#/case/c/visit/v' };
  const c2 = { type: 'visit', id: 'v', op: 'put', fields: { notes: 'two' }, change_id: 'b', at: 't2',
    errors: [{ field: 'outcome', code: 'validation_failed', message: 'new outcome message' }] };
  const merged = mergeCorrection(withForm, c2);
  assert.deepEqual(merged.rejected.fields, { case_id: 'c', outcome: 'x', notes: 'two' });
  assert.deepEqual(merged.rejected.change_ids, ['a', 'b']);
  assert.deepEqual(rejectedErrors(merged).map((e) => e.message), ['whole', 'new outcome message']);
  assert.deepEqual(merged.values, { notes: 'typing on' });
  assert.equal(merged.route, '#/case/c/visit/v');
  assert.equal(merged.updated_at, 't2');
  assert.ok(isEmpty(null) && isEmpty({ key: 'k', values: null, rejected: null }));
  assert.ok(sameSnapshot({ a: 1, position: { lat: 1 } }, { a: 1, position: null }, ['position']));
});

test('the lock saves the drafts first, and locks even when the save fails or hangs', async () => {
  const order = [];
  await saveThenLock({ save: async () => { order.push('save'); }, lock: () => { order.push('lock'); } });
  assert.deepEqual(order, ['save', 'lock']);
  let locked = false;
  const warn = console.warn;
  console.warn = () => {};
  try {
    await saveThenLock({ save: () => { throw new Error('disk full'); }, lock: () => { locked = true; } });
  } finally { console.warn = warn; }
  assert.ok(locked, 'a failed save never keeps the key in memory');
  locked = false;
  const started = Date.now();
  await saveThenLock({ save: () => new Promise(() => {}), lock: () => { locked = true; }, timeoutMs: 50 });
  assert.ok(locked && Date.now() - started < 1000, 'a hung save is not waited for');
});

test('every field the forms send is in the schema the server declares (so every form is checked)', () => {
  const forms = {
    visit: ['case_id', 'household_id', 'started_at', 'ended_at', 'outcome', 'child_seen', 'safeguarding_concern',
      'concern_details', 'barriers', 'notes', 'status', 'lat', 'lon', 'accuracy_m'],
    conversation: ['case_id', 'visit_id', 'spoke_with', 'reason_given', 'barriers', 'parent_view', 'agreed_actions',
      'next_contact_on', 'status'],
    note: ['subject_type', 'subject_id', 'text'],
    task: ['case_id', 'title', 'due_on', 'done', 'assigned_to'],
    transport_stop: ['status', 'event_at', 'event_lat', 'event_lon'],
    transport_run: ['status', 'departed_at', 'arrived_at'],
  };
  for (const [type, fields] of Object.entries(forms)) {
    for (const f of fields) assert.ok(SCHEMA.types[type].fields[f], `${type}.${f} is not in schema.js`);
  }
  // the limits come from it: a note too long, a stop status not in the list
  assert.equal(validateRecord('note', { subject_type: 'case', subject_id: '00000000-0000-4000-8000-000000000001', text: 'x'.repeat(10_001) }, { creating: true })[0].field, 'text');
  assert.equal(validateRecord('transport_stop', { status: 'gone' })[0].field, 'status');
  assert.equal(validateRecord('task', { case_id: '00000000-0000-4000-8000-000000000001', title: 'y'.repeat(301) }, { creating: true })[0].field, 'title');
});
