// Safe lone working on the phone (views/checkin.js): when a check-in is overdue, which are this
// officer's open ones, and the known risks read from the household and its earlier visits.
// Checking in, out and the banner are tested in Chromium: tests/browser/test_pwa_wellbeing_checkin.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueMs, isOverdue, openCheckIns, knownRisks, checksOut, DEFAULT_MINUTES, DURATIONS } from '../views/checkin.js';

const ci = { id: 'a', started_at: '2026-11-20T10:00:00Z', expected_minutes: 45 };

test('a check-in is overdue once its expected duration has passed, and never once closed', () => {
  assert.equal(dueMs(ci), Date.parse('2026-11-20T10:45:00Z'));
  assert.equal(isOverdue(ci, Date.parse('2026-11-20T10:45:00Z')), false);
  assert.equal(isOverdue(ci, Date.parse('2026-11-20T10:45:01Z')), true);
  assert.equal(isOverdue({ ...ci, closed_at: '2026-11-20T10:50:00Z', closed_how: 'safe' }, Date.parse('2026-11-20T12:00:00Z')), false);
  assert.ok(DURATIONS.includes(DEFAULT_MINUTES) && DEFAULT_MINUTES === 45);
});

test('the open check-ins are this officer\'s, oldest first; one not yet synced has no officer and is theirs', () => {
  const list = [
    { ...ci, id: 'late', started_at: '2026-11-20T11:00:00Z', officer_id: 'me' },
    { ...ci, id: 'early', officer_id: 'me' },
    { ...ci, id: 'local' },
    { ...ci, id: 'theirs', officer_id: 'other' },
    { ...ci, id: 'closed', officer_id: 'me', closed_at: '2026-11-20T10:30:00Z', closed_how: 'safe' },
  ];
  assert.deepEqual(openCheckIns(list, 'me').map((c) => c.id), ['early', 'local', 'late']);
});

test('the known risks are the access notes and the earlier visits found unsafe or with a concern', () => {
  const risks = knownRisks({ access_notes: 'Dog in the yard' }, [
    { outcome: 'no_answer', started_at: '2026-10-01T10:00:00Z' },
    { outcome: 'unsafe_to_proceed', started_at: '2026-10-08T10:00:00Z' },
    { outcome: 'seen_child_and_parent', safeguarding_concern: true, started_at: '2026-10-15T10:00:00Z' },
  ]);
  assert.deepEqual(risks.map((r) => r.kind), ['access', 'visit', 'visit']);
  assert.equal(risks[0].text, 'Access notes: Dog in the yard');
  assert.match(risks[1].text, /^Visit on 8 Oct 2026: /);
  assert.match(risks[2].text, /safeguarding concern recorded$/);
  assert.deepEqual(knownRisks(null, []), []);
});

test('a visit checks a check-in out when this officer submitted it for that case between its start and now', () => {
  const open = { ...ci, case_id: 'c1', household_id: 'h1' };
  const now = Date.parse('2026-11-20T11:00:00Z');
  const visit = { status: 'submitted', case_id: 'c1', officer_id: 'me', ended_at: '2026-11-20T10:40:00Z' };
  assert.equal(checksOut(open, visit, 'me', now), true);
  assert.equal(checksOut(open, { ...visit, case_id: 'c2', household_id: 'h1' }, 'me', now), true, 'the same household');
  assert.equal(checksOut(open, { ...visit, status: 'draft' }, 'me', now), false);
  assert.equal(checksOut(open, { ...visit, officer_id: 'other' }, 'me', now), false);
  assert.equal(checksOut(open, { ...visit, officer_id: undefined }, 'me', now), true, 'not synced yet: this phone\'s');
  assert.equal(checksOut(open, { ...visit, ended_at: '2026-11-20T09:00:00Z' }, 'me', now), false, 'an earlier visit');
  assert.equal(checksOut(open, { ...visit, ended_at: '2026-12-08T13:00:00Z' }, 'me', now), false, 'a visit dated ahead');
  assert.equal(checksOut(open, { ...visit, case_id: 'c2', household_id: 'h2' }, 'me', now), false);
});
