// The lock's rules (lock.js) and the lost-change reports (session.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pinProblem, newPinProblem, idleMsFrom, createIdleTimer, attemptsLeftMessage, attemptUnlock,
  DEFAULT_IDLE_MS, MAX_PIN_ATTEMPTS,
} from '../lock.js';
import { lostReport, lostNotices, wipeMessage } from '../session.js';

test('a PIN has at least 6 digits and digits only', () => {
  assert.match(pinProblem(''), /Enter a PIN/);
  assert.match(pinProblem('48291'), /at least 6 digits/);
  assert.match(pinProblem('48291a'), /digits only/);
  assert.match(pinProblem('4829 15'), /digits only/);
  assert.match(pinProblem('1'.repeat(17)), /at most 16/);
  for (const ok of ['482915', '7391846', '204816', '9081726354', '112358']) assert.equal(pinProblem(ok), null, ok);
});

test('easy PINs are refused with a clear reason', () => {
  for (const same of ['000000', '111111', '99999999']) assert.match(pinProblem(same), /one digit over and over/, same);
  for (const run of ['123456', '234567', '654321', '012345', '9876543210', '890123']) assert.match(pinProblem(run), /digits in order/, run);
  for (const pattern of ['121212', '123123', '909090', '147147147']) assert.match(pinProblem(pattern), /repeat a short pattern/, pattern);
});

test('the confirmation must match', () => {
  assert.match(newPinProblem('482915', '482916'), /not the same/);
  assert.match(newPinProblem('482915', ''), /not the same/);
  assert.equal(newPinProblem('482915', '482915'), null);
  assert.match(newPinProblem('123456', '123456'), /digits in order/, 'the policy is checked first');
});

test('the idle time is 5 minutes; ?lock= can shorten it but never lengthen or switch it off', () => {
  assert.equal(DEFAULT_IDLE_MS, 300_000);
  assert.equal(idleMsFrom(''), 300_000);
  assert.equal(idleMsFrom('?lock=2'), 2000);
  assert.equal(idleMsFrom('?lock=1.5'), 1500);
  assert.equal(idleMsFrom('?lock=0'), 1000, 'at least a second');
  assert.equal(idleMsFrom('?lock=3600'), 300_000, 'never longer than the default');
  for (const odd of ['?lock=', '?lock=-5', '?lock=off', '?lock=Infinity', '?lock=1e9', '?other=2']) {
    assert.equal(idleMsFrom(odd), 300_000, odd);
  }
});

function fakeClock() {
  let t = 0;
  const timers = new Map();
  let next = 1;
  return {
    now: () => t,
    setTimer: (fn, ms) => { timers.set(next, { fn, ms, at: t + ms }); return next++; },
    clearTimer: (id) => { timers.delete(id); },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, x] = due;
        t = x.at;
        x.at += x.ms;
        if (timers.has(id)) x.fn();
      }
      t = end;
    },
    get count() { return timers.size; },
  };
}

test('the idle timer fires once after the idle time without activity', () => {
  const clock = fakeClock();
  let fired = 0;
  const timer = createIdleTimer({ idleMs: 300_000, onIdle: () => { fired += 1; }, ...clock });
  timer.start();
  clock.advance(299_000);
  assert.equal(fired, 0);
  timer.poke(); // the officer tapped something
  clock.advance(299_000);
  assert.equal(fired, 0, 'activity restarts the wait');
  clock.advance(2000);
  assert.equal(fired, 1);
  assert.equal(timer.armed, false);
  clock.advance(3_600_000);
  assert.equal(fired, 1, 'once, until started again');
  assert.equal(clock.count, 0, 'no timer left running');
});

test('coming back from the background checks at once; a stopped timer never fires', () => {
  // In the background the interval does not run: only the clock moves on.
  let t = 0;
  let fired = 0;
  const timer = createIdleTimer({
    idleMs: 60_000, onIdle: () => { fired += 1; }, now: () => t, setTimer: () => 1, clearTimer: () => {},
  });
  timer.start();
  t = 59_000;
  assert.equal(timer.check(), false);
  t = 61_000; // back in the foreground (visibilitychange → check)
  assert.equal(timer.check(), true);
  assert.equal(fired, 1);
  timer.start();
  timer.stop();
  t = 1_000_000;
  assert.equal(timer.check(), false, 'stopped');
  assert.equal(fired, 1);
});

test('the lock screen counts down the tries left', () => {
  assert.equal(MAX_PIN_ATTEMPTS, 10);
  assert.match(attemptsLeftMessage(9), /9 tries left/);
  assert.match(attemptsLeftMessage(3), /3 tries left\. After that, Doorstep's data on this phone is wiped/);
  assert.match(attemptsLeftMessage(1), /1 try left/);
});

test('lost changes are reported with type, op and time only, and kept as notices', () => {
  const lost = [
    { change_id: 'c1', type: 'visit', id: '11111111-1111-4111-8111-111111111111', op: 'put', created_at: '2026-11-22T09:00:00.000Z' },
    { change_id: 'c2', type: 'visit', id: '11111111-1111-4111-8111-111111111111', op: 'put', created_at: '2026-11-22T09:05:00.000Z' },
    { change_id: 'c3', type: 'note', id: '22222222-2222-4222-8222-222222222222', op: 'put', created_at: '2026-11-22T09:06:00.000Z' },
  ];
  const r = lostReport('outbox_unreadable', lost, { reason: 'pin_forgotten' });
  assert.equal(r.event, 'outbox_unreadable');
  assert.equal(r.details.count, 3);
  assert.equal(r.details.reason, 'pin_forgotten');
  assert.deepEqual(r.details.changes[0], { type: 'visit', op: 'put', created_at: '2026-11-22T09:00:00.000Z', sent: false });
  assert.deepEqual(r.entity_ids, ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222']);
  const many = Array.from({ length: 1500 }, (_, i) => ({ ...lost[0], change_id: `c${i}`, id: `id-${i}` }));
  assert.equal(lostReport('pin_wipe', many).entity_ids.length, 1000, 'the server takes at most 1,000 ids');
  const notices = lostNotices(lost, 'why', 'now');
  assert.equal(notices.length, 3);
  assert.deepEqual(notices.map((n) => n.status), ['unreadable', 'unreadable', 'unreadable']);
  assert.equal(notices[0].recorded_at, '2026-11-22T09:00:00.000Z');
  assert.equal(notices[0].id, 'lost-c1');
  assert.match(wipeMessage({ lost }), /Ten wrong PINs.*3 changes that had not been sent/);
  assert.doesNotMatch(wipeMessage({ lost: [] }), /changes/);
});

// The wrong-PIN counter with a stored-as-in-IndexedDB keyring (few iterations: the
// count and the wipe are under test here, the real cost in crypto.test.mjs).
async function phone(pin = '482915') {
  const { createKeyring, unlockKeyring } = await import('../crypto.js');
  const { keyring } = await createKeyring(pin, { iterations: 1000 });
  const disk = { keyring: structuredClone(keyring), failures: 0, wiped: null };
  const store = {
    async begin() {
      const seen = { keyring: disk.keyring, failures: disk.failures };
      if (disk.keyring) disk.failures += 1;
      return seen;
    },
    check: (kr, p) => unlockKeyring(kr, p),
    async succeed() { disk.failures = 0; },
    async wipe(count) { disk.wiped = count; disk.keyring = null; disk.failures = 0; },
  };
  return { disk, store, try: (p) => attemptUnlock(p, store) };
}

test('wrong PINs count down, and the right PIN resets the count', async () => {
  const p = await phone();
  for (let i = 1; i <= 9; i += 1) {
    const r = await p.try('000000');
    assert.deepEqual({ ok: r.ok, left: r.left, wiped: r.wiped }, { ok: false, left: 10 - i, wiped: false });
    assert.equal(p.disk.failures, i, 'stored at once');
  }
  const ok = await p.try('482915');
  assert.equal(ok.ok, true);
  assert.equal(ok.key.extractable, false);
  assert.equal(p.disk.failures, 0);
  const again = await p.try('111111');
  assert.equal(again.left, 9, 'a new run of ten');
});

test('the tenth wrong PIN in a row wipes; after that nothing unlocks', async () => {
  const p = await phone();
  for (let i = 0; i < 9; i += 1) await p.try(`99999${i}`);
  assert.equal(p.disk.wiped, null);
  const tenth = await p.try('999999');
  assert.deepEqual({ ok: tenth.ok, wiped: tenth.wiped }, { ok: false, wiped: true });
  assert.equal(p.disk.wiped, 10);
  assert.equal(p.disk.keyring, null);
  await assert.rejects(p.try('482915'), /No PIN is set/, 'even the right PIN: the keyring is gone');
});

test('a check that never finishes (the page closed) still counts; the count survives a reload', async () => {
  const p = await phone();
  const hung = attemptUnlock('000000', { ...p.store, check: () => new Promise(() => {}) });
  await new Promise((r) => { setImmediate(r); });
  assert.equal(p.disk.failures, 1, 'counted before the check');
  void hung;
  p.disk.failures = 9; // nine wrong tries stored before a reload
  const r = await p.try('000000');
  assert.equal(r.wiped, true);
});

test('a count already at ten wipes without checking the PIN', async () => {
  const p = await phone();
  p.disk.failures = 10;
  let checked = false;
  const r = await attemptUnlock('482915', { ...p.store, check: () => { checked = true; } });
  assert.equal(r.wiped, true);
  assert.equal(checked, false);
});

test('an error that is not a wrong PIN is not counted as one', async () => {
  const p = await phone();
  await assert.rejects(attemptUnlock('482915', { ...p.store, check: () => { throw new Error('disk full'); } }), /disk full/);
  assert.equal(p.disk.failures, 1, 'the attempt still counts (it was stored first)');
  assert.equal((await p.try('482915')).ok, true);
});
