import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEntry, overlay, settle, pulled, toWire, pendingRecordCount } from '../outbox.js';

const entry = (fields, extra = {}) => newEntry({
  type: 'household', id: 'h1', fields, baseVersion: 3, hlc: '001000000000000-000000-d', changeId: `c-${Math.random()}`,
  at: '2026-11-22T08:00:00.000Z', ...extra,
});

test('an entry goes on the wire as PROTOCOL §3 names it', () => {
  const e = entry({ access_notes: 'dog' });
  assert.deepEqual(Object.keys(toWire(e)).sort(), ['base_version', 'change_id', 'fields', 'hlc', 'id', 'op', 'type']);
  assert.equal(toWire(e).base_version, 3);
  assert.throws(() => newEntry({ type: 'x', id: 'y', op: 'patch' }));
  assert.deepEqual(newEntry({ type: 'task', id: 't', op: 'delete', fields: { a: 1 } }).fields, {});
});

test('pending changes are laid over the server copy, in order', () => {
  const record = { type: 'household', id: 'h1', version: 3, fields: { access_notes: 'old', language: 'en' } };
  const v = overlay(record, [entry({ access_notes: 'one' }), entry({ access_notes: 'two', contacts: [] })]);
  assert.equal(v.access_notes, 'two');
  assert.equal(v.language, 'en');
  assert.deepEqual(v.contacts, []);
  assert.equal(v._pending, 2);
  assert.equal(v._version, 3);
  assert.equal(overlay(record, [newEntry({ type: 'task', id: 'h1', op: 'delete' })]), null);
  assert.equal(overlay(null, [entry({ a: 1 })]), null, 'a purged record stays hidden');
});

test('a pulled record never overwrites a field with a pending change', () => {
  const mine = entry({ access_notes: 'mine' });
  const stored = pulled(null, { type: 'household', id: 'h1', version: 5, fields: { id: 'h1', access_notes: 'theirs', contacts: [{ name: 'A' }] } });
  const v = overlay(stored, [mine]);
  assert.equal(v.access_notes, 'mine');
  assert.deepEqual(v.contacts, [{ name: 'A' }]);
  assert.equal(v._version, 5);
});

test('pulled: removed and deleted purge; an older version is ignored', () => {
  const existing = { type: 'case', id: 'c', version: 7, fields: {} };
  assert.equal(pulled(existing, { type: 'case', id: 'c', removed: true }), null);
  assert.equal(pulled(existing, { type: 'case', id: 'c', version: 8, deleted: true, fields: {} }), null);
  assert.equal(pulled(existing, { type: 'case', id: 'c', version: 6, fields: { a: 1 } }), existing);
  assert.equal(pulled(existing, { type: 'case', id: 'c', version: 8, fields: { a: 1 } }).fields.a, 1);
});

test('settle applied: the server copy takes the fields and the new version', () => {
  const record = { type: 'household', id: 'h1', version: 3, fields: { access_notes: 'old' } };
  const e = entry({ access_notes: 'new' });
  const { record: next, notice } = settle(record, e, { change_id: e.change_id, status: 'applied', version: 4 });
  assert.deepEqual(next, { type: 'household', id: 'h1', version: 4, fields: { access_notes: 'new' } });
  assert.equal(notice, null);
  const dup = settle(record, e, { change_id: e.change_id, status: 'duplicate', version: 4 });
  assert.equal(dup.record.version, 4);
});

test('settle merged: the lost field is reported, the version stays for the next pull', () => {
  const record = { type: 'household', id: 'h1', version: 3, fields: { access_notes: 'old', language: 'en' } };
  const e = entry({ access_notes: 'mine', language: 'cy' });
  const { record: next, notice } = settle(record, e, { status: 'merged', version: 5, lost_fields: ['access_notes'] });
  assert.equal(next.version, 3);
  assert.equal(next.fields.language, 'cy');
  assert.equal(next.fields.access_notes, 'old');
  assert.equal(notice.status, 'merged');
  assert.deepEqual(notice.lost_fields, ['access_notes']);
  assert.equal(notice.fields.access_notes, 'mine', 'the losing value is kept for the officer');
  assert.match(notice.reason, /access notes/);
});

test('settle rejected: nothing is dropped silently', () => {
  const fresh = { type: 'visit', id: 'v', version: null, fields: {} };
  const e = newEntry({ type: 'visit', id: 'v', fields: { notes: 'x' }, hlc: 'h', changeId: 'c1', at: 'now' });
  const errors = [{ field: 'outcome', code: 'validation_failed', message: 'a visit needs an outcome' }];
  const r = settle(fresh, e, { status: 'rejected', errors }, { at: 'now' });
  assert.equal(r.record, null, 'a record the server never had goes (its values wait in r.correction)');
  assert.match(r.notice.reason, /^a visit needs an outcome\. It is kept under Drafts/);
  assert.equal(r.notice.fields.notes, 'x');
  const kept = settle(fresh, e, { status: 'rejected', errors }, { othersPending: true });
  assert.equal(kept.record, undefined, 'kept while other changes for it wait');
  const known = settle({ ...fresh, version: 2 }, e, { status: 'rejected', errors });
  assert.equal(known.record, undefined, 'a record the server has stays');
});

test('settle applied on a purged record does not bring it back', () => {
  const e = newEntry({ type: 'visit', id: 'v', fields: { notes: 'x' }, hlc: 'h', changeId: 'c1', at: 'now' });
  assert.equal(settle(null, e, { status: 'applied', version: 1 }).record, undefined);
});

test('the status counts records with changes, not entries', () => {
  const a = newEntry({ type: 'visit', id: 'v', fields: {}, hlc: 'h', changeId: '1', at: 'x' });
  const b = newEntry({ type: 'visit', id: 'v', fields: {}, hlc: 'h', changeId: '2', at: 'x' });
  const c = newEntry({ type: 'conversation', id: 'v', fields: {}, hlc: 'h', changeId: '3', at: 'x' });
  assert.equal(pendingRecordCount([a, b, c]), 2);
});
