// Which records on the phone answer an office review asking for follow-up (views/followups.js),
// read from the rule schema.js exports (sync/rules.py FOLLOW_UP_ANSWERS), as the server reads it.
// The list on screen, and the server's side, are tested in tests/browser/test_pwa_notices.py and
// tests/office/test_review_sync.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localAnswer } from '../views/followups.js';

const VISIT = 'a0000000-0000-4000-8000-000000000001';
const CONV = 'a0000000-0000-4000-8000-000000000002';
const AT = '2026-12-01T10:00:00.000Z';
const LATER = '2026-12-01T11:00:00.000Z';
const review = (subject_type, subject_id) => ({ subject_type, subject_id, state: 'needs_follow_up', reviewed_at: AT });
const data = (more) => ({ note: [], conversation: [], visit: [], ...more });
const found = (r, d) => {
  const answer = localAnswer(r, d);
  return answer && [answer.type, answer.rec.id];
};

test('a note on the reviewed record answers it; one made before the review does not count', () => {
  assert.deepEqual(found(review('visit', VISIT), data({ note: [{ id: 'n', subject_type: 'visit', subject_id: VISIT, created_at: LATER }] })), ['note', 'n']);
  assert.equal(localAnswer(review('visit', VISIT), data({ note: [{ id: 'n', subject_id: VISIT, created_at: '2026-11-30T10:00:00Z' }] })), null);
  assert.deepEqual(found(review('visit', VISIT), data({ note: [{ id: 'n', subject_id: VISIT, _changed_at: LATER }] })), ['note', 'n']);
});

test('a submitted visit or conversation following it up answers it; a draft does not', () => {
  const visit = { id: 'v', status: 'submitted', follow_up_of: CONV, created_at: LATER };
  assert.deepEqual(found(review('conversation', CONV), data({ visit: [visit] })), ['visit', 'v']);
  assert.equal(localAnswer(review('conversation', CONV), data({ visit: [{ ...visit, status: 'draft' }] })), null);
  const conv = { id: 'c', status: 'submitted', follow_up_of: VISIT, created_at: LATER };
  assert.deepEqual(found(review('visit', VISIT), data({ conversation: [conv] })), ['conversation', 'c']);
  assert.equal(localAnswer(review('visit', VISIT), data({ conversation: [{ ...conv, status: 'draft' }] })), null);
});

test('a submitted conversation held on a reviewed visit answers it, not a review of a conversation', () => {
  const conv = { id: 'c', status: 'submitted', visit_id: VISIT, created_at: LATER };
  assert.deepEqual(found(review('visit', VISIT), data({ conversation: [conv] })), ['conversation', 'c']);
  assert.equal(localAnswer(review('conversation', VISIT), data({ conversation: [conv] })), null);
});

test('a note comes first, then a conversation, then a visit', () => {
  const d = data({
    visit: [{ id: 'v', status: 'submitted', follow_up_of: VISIT, created_at: LATER }],
    conversation: [{ id: 'c', status: 'submitted', visit_id: VISIT, created_at: LATER }],
  });
  assert.deepEqual(found(review('visit', VISIT), d), ['conversation', 'c']);
  d.note.push({ id: 'n', subject_id: VISIT, created_at: LATER });
  assert.deepEqual(found(review('visit', VISIT), d), ['note', 'n']);
  assert.equal(localAnswer(review('visit', CONV), d), null);
});
