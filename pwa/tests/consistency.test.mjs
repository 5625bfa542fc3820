// validate.js: the consistency rules of schema.js (sync/schema.py CONSISTENCY) on the phone,
// errors in validateRecord and warnings from consistency(), the clock tests included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRecord, consistency } from '../validate.js';

const CASE = 'ca000000-0000-4000-8000-000000000001';
const NOW = Date.parse('2026-12-06T10:00:00Z');
const visit = (more) => ({ case_id: CASE, status: 'submitted', outcome: 'spoke_to_parent', child_seen: false, ...more });
const problems = (r, type = 'visit') => validateRecord(type, r, { now: NOW }).map((p) => [p.field, p.code]);

test('an outcome that says the child was seen with "child seen" false is an error beside child_seen', () => {
  assert.deepEqual(problems(visit({ outcome: 'child_seen' })), [['child_seen', 'consistency']]);
  assert.deepEqual(problems(visit({ outcome: 'seen_child_and_parent', status: 'draft' })), [['child_seen', 'consistency']]);
  assert.deepEqual(problems(visit({ outcome: 'child_seen', child_seen: true })), []);
});

test('no contact at the door with the child seen is a warning when submitting, not an error', () => {
  for (const outcome of ['no_answer', 'card_left', 'refused']) {
    const r = visit({ outcome, child_seen: true });
    assert.deepEqual(problems(r), []);
    assert.deepEqual(consistency('visit', r, 'warning', { now: NOW }).map((w) => w.id), ['no_contact_child_seen']);
    assert.deepEqual(consistency('visit', { ...r, status: 'draft' }, 'warning', { now: NOW }), []);
  }
  assert.deepEqual(consistency('visit', visit({ child_seen: true }), 'warning', { now: NOW }), []);
});

test('a visit in the future (ten minutes of slack) and one that starts after it ends are errors on started_at', () => {
  assert.deepEqual(problems(visit({ started_at: '2026-12-06T10:30:00Z' })), [['started_at', 'consistency']]);
  assert.deepEqual(problems(visit({ started_at: '2026-12-06T10:05:00Z' })), []);
  assert.deepEqual(problems(visit({ started_at: '2026-12-05T10:30:00Z', ended_at: '2026-12-05T10:00:00Z' })), [['started_at', 'consistency']]);
  // both at once: one message on the field
  assert.equal(problems(visit({ started_at: '2026-12-07T10:30:00Z', ended_at: '2026-12-06T10:00:00Z' })).length, 1);
});

test('a next contact before today is a warning when a conversation is submitted', () => {
  const conv = { case_id: CASE, status: 'submitted', spoke_with: 'Mother', next_contact_on: '2026-12-01' };
  assert.deepEqual(problems(conv, 'conversation'), []);
  assert.deepEqual(consistency('conversation', conv, 'warning', { now: NOW }).map((w) => w.field), ['next_contact_on']);
  assert.deepEqual(consistency('conversation', { ...conv, next_contact_on: '2026-12-06' }, 'warning', { now: NOW }), []);
});

test('a schema without consistency rules (an older shell) checks none', () => {
  assert.deepEqual(consistency('visit', visit({ outcome: 'child_seen' }), 'error', { schema: { consistency: undefined } }), []);
});
