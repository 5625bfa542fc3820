// The sync status model (status.js), the request timeout (api.js) and the
// scheduler's jitter and waiting rules (sync.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeFailure, retryText, waitingText, ageText, syncStatus, syncNowRefusal, syncNowFailed,
} from '../status.js';
import { createScheduler, withJitter, retryMessage } from '../sync.js';
import {
  createApi, ApiError, DEFAULT_TIMEOUT_MS, timeoutMsFrom, retryAfterSeconds,
} from '../api.js';

const NOW = Date.parse('2025-03-10T10:00:00Z');
const ago = (ms) => new Date(NOW - ms).toISOString();
const MIN = 60_000;

test('failures are named by what went wrong', () => {
  const cases = [
    [new ApiError(0, 'network', 'x'), 'unreachable', 'Server not answering', 'the server cannot be reached'],
    [new ApiError(0, 'timeout', 'x', { timeout_ms: 20000 }), 'unreachable', 'Server not answering', 'the server did not answer within 20 s'],
    [new ApiError(502, 'http_502', 'x'), 'unreachable', 'Server not answering', 'the server is not answering (error 502)'],
    [new ApiError(503, 'busy', 'x', { retry_after: 30 }), 'busy', 'Server busy', 'the server is busy'],
    [new ApiError(429, 'rate_limited', 'x', { retry_after: 5 }), 'busy', 'Server busy', 'the server is busy'],
    [new ApiError(507, 'storage_full', 'x', { retry_after: 120 }), 'full', 'Server storage full', 'the server has run out of storage'],
    [new ApiError(500, 'http_500', 'x'), 'server', 'Server error', 'the server had an error (500)'],
    [new ApiError(400, 'bad_request', 'The cursor is not valid.'), 'failed', 'Sync failed', 'the cursor is not valid'],
    [new Error('The server answered no result for the changes sent.'), 'failed', 'Sync failed', 'the server answered no result for the changes sent'],
  ];
  for (const [err, kind, reason, why] of cases) {
    const f = describeFailure(err);
    assert.deepEqual([f.kind, f.reason, f.why], [kind, reason, why], err.message);
  }
  assert.equal(describeFailure(new ApiError(503, 'busy', 'x', { retry_after: 30 })).serverAsked, true);
  assert.equal(describeFailure(new ApiError(503, 'busy', 'x')).serverAsked, false);
  assert.equal(describeFailure(new ApiError(0, 'network'), { online: false }).kind, 'offline');
});

test('the retry words give a number only when the server said how long to wait', () => {
  const busy = describeFailure(new ApiError(503, 'busy', 'x', { retry_after: 30 }));
  assert.equal(retryText(busy, 30000), 'Server busy, retrying in 30 s');
  assert.equal(retryText(busy, 30400), 'Server busy, retrying in 31 s');
  assert.equal(retryText(describeFailure(new ApiError(0, 'network')), 4000), 'Server not answering, retrying');
  assert.equal(retryMessage(new ApiError(503, 'busy', 'x', { retry_after: 3 }), 3000), 'Server busy, retrying in 3 s');
});

test('the count and the age of the last sync', () => {
  assert.equal(waitingText(0), '');
  assert.equal(waitingText(1), '1 change waiting');
  assert.equal(waitingText(3), '3 changes waiting');
  assert.equal(ageText(null, NOW), 'Not synced yet');
  assert.equal(ageText('garbage', NOW), 'Not synced yet');
  assert.equal(ageText(ago(10_000), NOW), 'Last synced just now');
  assert.equal(ageText(ago(-5000), NOW), 'Last synced just now', 'a clock that went back is not a negative age');
  assert.equal(ageText(ago(3 * MIN + 5000), NOW), 'Last synced 3 min ago');
  assert.equal(ageText(ago(59 * MIN), NOW), 'Last synced 59 min ago');
  assert.equal(ageText(ago(125 * MIN), NOW), 'Last synced 2 h ago');
  assert.equal(ageText(ago(25 * 60 * MIN), NOW), 'Last synced 1 day ago');
  assert.equal(ageText(ago(80 * 60 * MIN), NOW), 'Last synced 3 days ago');
});

const signedIn = { online: true, signedIn: true, lastSyncedAt: ago(3 * MIN), waiting: 0, phase: 'synced' };
const failure = (err, delay) => {
  const f = describeFailure(err);
  return { ...f, text: retryText(f, delay) };
};

test('one state at a time: offline, unreachable, syncing, synced', () => {
  assert.deepEqual(syncStatus(signedIn, NOW), { state: 'synced', text: 'All synced', detail: 'Last synced 3 min ago' });
  assert.deepEqual(syncStatus({ ...signedIn, waiting: 2 }, NOW),
    { state: 'waiting', text: '2 changes waiting', detail: 'Last synced 3 min ago' });
  assert.deepEqual(syncStatus({ ...signedIn, phase: 'syncing', waiting: 1 }, NOW),
    { state: 'syncing', text: 'Syncing… · 1 change waiting', detail: 'Last synced 3 min ago' });
  assert.deepEqual(syncStatus({ ...signedIn, online: false, waiting: 1 }, NOW),
    { state: 'offline', text: 'Offline · 1 change waiting', detail: 'Last synced 3 min ago' });
  assert.equal(syncStatus({ ...signedIn, online: false }, NOW).text, 'Offline · Nothing waiting');
  // Offline wins over a failure from before the signal went.
  const down = failure(new ApiError(0, 'network'), 500);
  assert.equal(syncStatus({ ...signedIn, online: false, failure: down }, NOW).state, 'offline');

  const unreachable = { ...signedIn, phase: 'error', failure: down, retryAt: NOW + 12_000, waiting: 1 };
  assert.deepEqual(syncStatus(unreachable, NOW), {
    state: 'unreachable', text: 'Server not answering, retrying · 1 change waiting',
    detail: 'Next try in 12 s · Last synced 3 min ago',
  });
  // The retry under way does not flip the live line to "Syncing…" and back.
  assert.deepEqual(syncStatus({ ...unreachable, phase: 'syncing', retryAt: null }, NOW), {
    state: 'unreachable', text: 'Server not answering, retrying · 1 change waiting',
    detail: 'Trying again now… · Last synced 3 min ago',
  });
  const busy = { ...signedIn, phase: 'error', failure: failure(new ApiError(503, 'busy', 'b', { retry_after: 30 }), 30000), retryAt: NOW + 30000 };
  assert.deepEqual(syncStatus(busy, NOW), {
    state: 'unreachable', text: 'Server busy, retrying in 30 s · Nothing waiting', detail: 'Next try in 30 s · Last synced 3 min ago',
  });
  // Only the detail ticks: the live line stays the same words.
  assert.equal(syncStatus(busy, NOW + 10_000).text, syncStatus(busy, NOW).text);
  assert.equal(syncStatus(busy, NOW + 10_000).detail, 'Next try in 20 s · Last synced 3 min ago');
  const other = { ...signedIn, phase: 'error', failure: failure(new ApiError(400, 'bad', 'Bad cursor.'), 250) };
  assert.equal(syncStatus(other, NOW).state, 'error');
  assert.equal(syncStatus(other, NOW).text, 'Sync failed, retrying · Nothing waiting');
});

test('signed out, locked, a PIN to set, an update needed', () => {
  assert.deepEqual(syncStatus({ online: true, signedIn: false, signedOut: true, waiting: 2, lastSyncedAt: ago(2 * MIN) }, NOW),
    { state: 'signedout', text: 'Signed out, sign in again · 2 changes waiting', detail: 'Last synced 2 min ago' });
  assert.equal(syncStatus({ online: false, signedIn: false, signedOut: true, waiting: 0 }, NOW).text,
    'Offline · Signed out, sign in again');
  assert.equal(syncStatus({ online: true, signedIn: false }, NOW).text, 'Not signed in');
  assert.equal(syncStatus({ online: false, signedIn: false }, NOW).text, 'Offline · Not signed in');
  assert.deepEqual(syncStatus({ online: false, locked: true, waiting: 1, lastSyncedAt: ago(0) }, NOW),
    { state: 'locked', text: 'Offline · Locked · 1 change waiting', detail: 'Last synced just now' });
  assert.equal(syncStatus({ online: true, needsPin: true }, NOW).text, 'Set a PIN to carry on');
  assert.equal(syncStatus({ ...signedIn, upgrade: true, waiting: 1 }, NOW).text, 'Update needed to sync · 1 change waiting');
});

test('"Sync now" says why it cannot, and what happens to the changes', () => {
  assert.equal(syncNowRefusal({ ...signedIn, online: false, waiting: 2 }, NOW),
    "Can't sync: this phone is offline. Your 2 changes are saved on this phone. Doorstep syncs by itself when a signal returns.");
  assert.equal(syncNowRefusal({ ...signedIn, online: false, waiting: 1 }, NOW),
    "Can't sync: this phone is offline. Your change is saved on this phone. Doorstep syncs by itself when a signal returns.");
  assert.equal(syncNowRefusal({ ...signedIn, online: false }, NOW),
    "Can't sync: this phone is offline. Nothing is waiting to be sent. Doorstep syncs by itself when a signal returns.");
  const busy = failure(new ApiError(503, 'busy', 'b', { retry_after: 30 }), 30000);
  assert.equal(syncNowRefusal({ ...signedIn, failure: busy, retryAt: NOW + 25_000, waiting: 1 }, NOW),
    "Can't sync yet: the server is busy and asked Doorstep to wait. Your change is saved on this phone. Next try in 25 s.");
  assert.equal(syncNowRefusal({ ...signedIn, failure: busy, retryAt: NOW - 1 }, NOW), null, 'the wait is over');
  const down = failure(new ApiError(0, 'timeout', 't', { timeout_ms: 20000 }), 500);
  assert.equal(syncNowRefusal({ ...signedIn, failure: down, retryAt: NOW + 500 }, NOW), null, 'unreachable: it tries at once');
  assert.equal(syncNowRefusal(signedIn, NOW), null);
  assert.match(syncNowRefusal({ ...signedIn, upgrade: true }, NOW), /needs updating/);
  assert.equal(syncNowFailed(down, { waiting: 1, retryIn: 400 }),
    "Can't sync: the server did not answer within 20 s. Your change is saved on this phone. Doorstep tries again in 1 s.");
});

test('jitter only ever adds, at most a quarter', () => {
  assert.equal(withJitter(1000, () => 0), 1000);
  assert.equal(withJitter(1000, () => 1), 1250);
  assert.equal(withJitter(1000, () => 0.5), 1125);
  assert.equal(withJitter(1000, () => 0.5, 0), 1000);
  for (let i = 0; i < 200; i += 1) {
    const d = withJitter(30000);
    assert.ok(d >= 30000 && d <= 37500, d);
  }
});

function fakeClock() {
  const c = { t: NOW, timers: [] };
  c.now = () => c.t;
  c.setTimer = (fn, ms) => { const t = { fn, ms }; c.timers.push(t); return t; };
  c.clearTimer = (t) => { const i = c.timers.indexOf(t); if (i >= 0) c.timers.splice(i, 1); };
  c.fire = async () => { const t = c.timers.shift(); c.t += t.ms; t.fn(); await new Promise((r) => { setTimeout(r, 5); }); };
  return c;
}

function failingEngine(errors) {
  const engine = { calls: 0, async syncOnce() { engine.calls += 1; const e = errors.shift(); if (e) throw e; return {}; } };
  return engine;
}

test('the scheduler jitters its backoff, reports the failure and when it retries', async () => {
  const clock = fakeClock();
  const states = [];
  const engine = failingEngine([new ApiError(0, 'network'), new ApiError(0, 'network')]);
  const s = createScheduler({
    engine, onState: (x) => states.push(x), setTimer: clock.setTimer, clearTimer: clock.clearTimer, now: clock.now, random: () => 1,
  });
  await s.run('startup');
  const failed = states.at(-1);
  assert.equal(failed.phase, 'error');
  assert.equal(failed.retryIn, 313, '250 ms and a quarter more');
  assert.equal(failed.retryAt, NOW + 313);
  assert.equal(s.retryAt, NOW + 313);
  assert.equal(failed.message, 'Server not answering, retrying');
  assert.deepEqual([failed.failure.kind, failed.failure.text], ['unreachable', 'Server not answering, retrying']);
  await clock.fire();
  assert.equal(states.find((x, i) => i > 1 && x.phase === 'syncing').retrying, true, 'a retry says it is one');
  assert.equal(states.at(-1).retryIn, 625);
  await clock.fire();
  assert.equal(states.at(-1).phase, 'synced');
  assert.equal(s.retryAt, null);
  assert.equal(engine.calls, 3);
});

test('a booked retry is not jumped by the minute timer or a new change; "Sync now" and online go at once', async () => {
  const clock = fakeClock();
  const engine = failingEngine([new ApiError(0, 'network'), new ApiError(0, 'network'), new ApiError(0, 'network')]);
  const s = createScheduler({ engine, setTimer: clock.setTimer, clearTimer: clock.clearTimer, now: clock.now, random: () => 0 });
  await s.run('startup');
  assert.equal(engine.calls, 1);
  await s.run('timer');
  await s.run('change');
  assert.equal(engine.calls, 1, 'waits for the booked retry');
  assert.equal(clock.timers.length, 1);
  await s.run('manual');
  assert.equal(engine.calls, 2);
  assert.deepEqual(clock.timers.map((t) => t.ms), [250], 'the officer asked: the backoff starts again');
  await s.run('online');
  assert.equal(engine.calls, 3);
  assert.equal(clock.timers.length, 1);
});

test('while the server\'s Retry-After runs, only coming back online goes sooner', async () => {
  const clock = fakeClock();
  const busy = () => new ApiError(503, 'busy', 'busy', { retry_after: 30 });
  const engine = failingEngine([busy(), busy()]);
  const states = [];
  const s = createScheduler({
    engine, onState: (x) => states.push(x), setTimer: clock.setTimer, clearTimer: clock.clearTimer, now: clock.now, random: () => 0,
  });
  await s.run('startup');
  assert.equal(states.at(-1).message, 'Server busy, retrying in 30 s');
  for (const reason of ['manual', 'timer', 'change', 'startup']) await s.run(reason);
  assert.equal(engine.calls, 1, 'nothing goes before the server asked');
  await clock.fire(); // the booked retry, 30 s later: busy again, 60 s
  assert.equal(engine.calls, 2);
  assert.equal(states.at(-1).message, 'Server busy, retrying in 60 s');
  clock.t += 10_000;
  await s.run('manual');
  assert.equal(engine.calls, 2);
  await s.run('online');
  assert.equal(engine.calls, 3);
  assert.equal(states.at(-1).phase, 'synced');
  await s.run('manual');
  assert.equal(engine.calls, 4, 'after a sync worked, "Sync now" goes at once');
});

test('a failure while the phone went offline waits for `online`, with no timer', async () => {
  const clock = fakeClock();
  let online = true;
  const engine = { async syncOnce() { online = false; throw new ApiError(0, 'network'); } };
  const states = [];
  const s = createScheduler({
    engine, isOnline: () => online, onState: (x) => states.push(x.phase), setTimer: clock.setTimer, clearTimer: clock.clearTimer,
  });
  await s.run('manual');
  assert.deepEqual(states, ['syncing', 'offline']);
  assert.equal(clock.timers.length, 0);
});

test('every request gives up after the timeout: ApiError timeout, the fetch aborted', async () => {
  let signal = null;
  const hang = (_url, init) => new Promise((_resolve, reject) => {
    signal = init.signal;
    init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
  const api = createApi({
    base: 'http://x/api', getSession: async () => ({ access_token: 'a' }), setSession: async () => {}, fetchImpl: hang, timeoutMs: 30,
  });
  const started = Date.now();
  await assert.rejects(api.pull(null, 10), (err) => {
    assert.equal(err.code, 'timeout');
    assert.equal(err.status, 0);
    assert.equal(err.details.timeout_ms, 30);
    assert.equal(err.message, 'The server did not answer within 1 s.');
    return true;
  });
  assert.ok(Date.now() - started < 2000);
  assert.ok(signal.aborted);
  assert.equal(describeFailure(new ApiError(0, 'timeout', 'x', { timeout_ms: 30 })).why, 'the server did not answer within 1 s');

  // A body that never finishes is cut off too.
  const slowBody = (_url, init) => Promise.resolve({
    ok: true, status: 200, headers: new Map(),
    text: () => new Promise((_r, reject) => { init.signal.addEventListener('abort', () => reject(new Error('aborted'))); }),
  });
  const api2 = createApi({ base: '', getSession: async () => ({ access_token: 'a' }), setSession: async () => {}, fetchImpl: slowBody, timeoutMs: 20 });
  await assert.rejects(api2.push({ changes: [] }), { code: 'timeout' });

  // A refused connection is `network`, at once, and no timer is left behind.
  const refuse = () => Promise.reject(new TypeError('Failed to fetch'));
  const api3 = createApi({ base: '', getSession: async () => ({ access_token: 'a' }), setSession: async () => {}, fetchImpl: refuse });
  await assert.rejects(api3.push({ changes: [] }), { code: 'network' });
});

test('the timeout defaults to 20 s; a test page may set it with ?timeout=SECONDS', () => {
  assert.equal(DEFAULT_TIMEOUT_MS, 20000);
  assert.equal(timeoutMsFrom(''), 20000);
  assert.equal(timeoutMsFrom('?timeout=2'), 2000);
  assert.equal(timeoutMsFrom('?timeout=1.5&lock=3'), 1500);
  assert.equal(timeoutMsFrom('?timeout=0'), 500, 'never below half a second');
  assert.equal(timeoutMsFrom('?timeout=9999'), 120000);
  assert.equal(timeoutMsFrom('?timeout=abc'), 20000);
});

test('Retry-After in seconds or as an HTTP date', async () => {
  assert.equal(retryAfterSeconds('30'), 30);
  assert.equal(retryAfterSeconds(new Date(NOW + 45_000).toUTCString(), NOW), 45);
  assert.ok(Number.isNaN(retryAfterSeconds('soon')));
  const busy = async () => ({
    ok: false, status: 503, headers: new Map([['Retry-After', '7']]),
    text: async () => JSON.stringify({ error: { code: 'busy', message: 'Busy.', details: {} } }),
  });
  const api = createApi({ base: '', getSession: async () => ({ access_token: 'a' }), setSession: async () => {}, fetchImpl: busy });
  await assert.rejects(api.pull(null), (err) => err.code === 'busy' && err.details.retry_after === 7);
});
