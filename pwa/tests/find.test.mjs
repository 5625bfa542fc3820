// find.js: search, filters, what is due, Today and directions, on plain records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fold, matches, dueByCase, dueState, passes, todayItems, directionsHref, filterCount,
} from '../find.js';

const row = {
  pupil: { first_name: 'Zoë', last_name: 'Okafor', upn: 'A123456789012', band: 'severe', school_id: 's1', penalty_threshold_met: true },
  household: { address: '14 Moor Lane, Dewsbury', postcode: 'WF12 8AB', lat: 53.69, lon: -1.63 },
};

test('search: name (accents and case aside), UPN, address words, postcode with or without its space', () => {
  assert.equal(fold(' SW1A 1aa '), 'sw1a1aa');
  for (const q of ['zoe', 'OKAFOR', 'zoe okafor', 'a1234567', 'moor lane', 'wf128ab', 'WF12 8', 'dewsbury okafor', '']) {
    assert.ok(matches(row, q), q);
  }
  for (const q of ['smith', 'zoe smith', 'wf13']) assert.ok(!matches(row, q), q);
});

test('due: open tasks, and the next contact of the latest conversation until a contact on or after it', () => {
  const at = (r) => r.at;
  const data = {
    task: [{ case_id: 'c1', due_on: '2026-12-01' }, { case_id: 'c1', due_on: '2026-11-01', done: true }, { case_id: 'c2', due_on: null }],
    conversation: [
      { case_id: 'c1', next_contact_on: '2026-12-10', at: '2026-12-01T10:00Z', status: 'submitted' },
      { case_id: 'c2', next_contact_on: '2026-12-03', at: '2026-11-20T10:00Z', status: 'submitted' },
      { case_id: 'c3', next_contact_on: '2026-12-04', at: '2026-11-20T10:00Z', status: 'draft' }, // a draft is not a contact
    ],
    visit: [{ case_id: 'c2', at: '2026-12-04T09:00Z', status: 'submitted' }], // c2's follow-up was made
  };
  const due = dueByCase(data, at);
  assert.equal(due.get('c1').tasks.length, 1);
  assert.equal(due.get('c1').followUps.length, 1);
  assert.equal(due.get('c1').first, '2026-12-01');
  assert.equal(due.has('c2'), false);
  assert.equal(due.has('c3'), false);
  assert.equal(dueState('2026-12-01', '2026-12-06'), 'overdue');
  assert.equal(dueState('2026-12-06', '2026-12-06'), 'today');
  assert.equal(dueState('2026-12-12', '2026-12-06'), 'soon');
  assert.equal(dueState('2026-12-30', '2026-12-06'), null);
  const items = todayItems(due, '2026-12-06');
  assert.deepEqual(items.map((i) => [i.kind, i.date, i.overdue]), [['task', '2026-12-01', true]]);
  assert.equal(todayItems(due, '2026-12-10').length, 2);
});

test('filters', () => {
  const f = { band: 'severe', school: '', threshold: true, due: false };
  assert.ok(passes(row, f, '2026-12-06'));
  assert.equal(filterCount(f), 2);
  assert.ok(!passes(row, { ...f, band: 'ok' }, '2026-12-06'));
  assert.ok(!passes(row, { ...f, school: 's2' }, '2026-12-06'));
  assert.ok(!passes(row, { ...f, due: true }, '2026-12-06'));
  assert.ok(passes({ ...row, due: { first: '2026-12-06' } }, { ...f, due: true }, '2026-12-06'));
});

test('the improving filter (docs/relationships.md)', () => {
  const row = { pupil: { band: 'persistent', improving: true } };
  assert.ok(passes(row, { improving: true }, '2026-12-06'));
  assert.ok(!passes({ pupil: { band: 'persistent', improving: false } }, { improving: true }, '2026-12-06'));
  assert.ok(!passes({ pupil: null }, { improving: true }, '2026-12-06'));
  assert.equal(filterCount({ improving: true, band: 'severe' }), 2);
});

test('directions: geo: on Android, a web map elsewhere, the address without a point', () => {
  const hh = row.household;
  assert.equal(directionsHref(hh, 'Mozilla/5.0 (Linux; Android 14)'), 'geo:53.69,-1.63?q=53.69,-1.63(14%20Moor%20Lane%2C%20Dewsbury%2C%20WF12%208AB)');
  assert.equal(directionsHref(hh, 'Mozilla/5.0 (X11; Linux x86_64)'), 'https://www.google.com/maps/dir/?api=1&destination=53.69%2C-1.63');
  assert.equal(directionsHref({ address: '1 A St', postcode: null }, 'Android'), 'geo:0,0?q=1%20A%20St');
  assert.equal(directionsHref({ address: '' }, 'x'), null);
  assert.equal(directionsHref(null), null);
});
