import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSyncEngine, createScheduler, classify, backoffDelay, retryDelay, retryMessage } from '../sync.js';
import { createApi, ApiError } from '../api.js';
import * as hlc from '../hlc.js';
import { createMemoryStore, fakeUuid } from './memory-store.mjs';
import { createFakeServer } from './fake-server.mjs';

const DEVICE = 'dev-1';

async function setup({ batchSize = 200, pullLimit = 500 } = {}) {
  const server = createFakeServer();
  const store = createMemoryStore();
  await store.setMeta('session', { device_id: DEVICE, access_token: server.tokens.access, refresh_token: server.tokens.refresh });
  const api = createApi({
    base: 'http://fake/api',
    getSession: () => store.getMeta('session'),
    setSession: (s) => store.setMeta('session', s),
    fetchImpl: server.fetch,
  });
  const engine = createSyncEngine({ store, api, batchSize, pullLimit });
  return { server, store, api, engine };
}

const pushes = (server) => server.requests.filter((r) => r.path === '/api/sync/push');

test('the outbox goes out in batches, in order, and empties', async () => {
  const { server, store, engine } = await setup({ batchSize: 2 });
  const ids = [];
  for (let i = 0; i < 5; i += 1) {
    const id = fakeUuid();
    ids.push(id);
    await store.addChange({ type: 'visit', id, fields: { case_id: 'c', notes: `n${i}` } });
  }
  assert.equal((await store.outboxSummary()).records, 5);
  const { pushed } = await engine.syncOnce();
  assert.equal(pushed, 5);
  assert.deepEqual(pushes(server).map((r) => r.body.changes.length), [2, 2, 1]);
  assert.deepEqual(pushes(server).flatMap((r) => r.body.changes.map((c) => c.id)), ids);
  const first = pushes(server)[0].body;
  assert.equal(first.client_id, DEVICE);
  assert.equal(first.changes[0].base_version, null, 'a new record has base_version null');
  assert.ok(hlc.isStamp(first.changes[0].hlc));
  assert.equal((await store.outboxSummary()).entries, 0);
  const v = await store.getRecord('visit', ids[0]);
  assert.equal(v.notes, 'n0');
  assert.equal(v._version, 1);
});

test('pull follows has_more, applies every page and keeps the cursor', async () => {
  const { server, store, engine } = await setup({ pullLimit: 2 });
  for (let i = 0; i < 5; i += 1) server.put('school', `s${i}`, { name: `School ${i}` }, server.stampNow());
  await engine.syncOnce();
  const pulls = server.requests.filter((r) => r.path === '/api/sync/pull');
  assert.equal(pulls.length, 3);
  assert.ok(!pulls[0].search.includes('cursor='), 'the first pull is a snapshot');
  assert.equal((await store.loadTypes(['school'])).school.length, 5);
  assert.equal(await store.getMeta('cursor'), String(server.seq));
  // Nothing new: one more pull from the saved cursor, nothing applied.
  const again = await engine.syncOnce();
  assert.equal(again.pulled, 0);
});

test('local clock advances past server_hlc: the next change is stamped later', async () => {
  const { server, store, engine } = await setup();
  server.put('school', 's', { name: 'x' }, hlc.format({ ms: Date.now() + 3_600_000, counter: 5, node: 'server' }));
  // The server clock runs an hour ahead.
  const ahead = hlc.format({ ms: Date.now() + 3_600_000, counter: 9, node: 'server' });
  server.stampNow = () => ahead;
  await store.receiveHlc(ahead);
  const entry = await store.addChange({ type: 'task', id: fakeUuid(), fields: { title: 't' } });
  assert.ok(entry.hlc > ahead);
  await engine.syncOnce();
});

test('a pulled record keeps the officer\'s pending edits on top', async () => {
  const { server, store, engine } = await setup();
  server.put('household', 'h', { address: '1 Road', access_notes: 'old', contacts: [] }, server.stampNow());
  await engine.syncOnce();
  await store.addChange({ type: 'household', id: 'h', fields: { access_notes: 'mine' } });
  // Another device changes contacts; this device pulls before it pushes.
  server.put('household', 'h', { contacts: [{ name: 'Gran' }] }, server.stampNow());
  await engine.pull();
  const v = await store.getRecord('household', 'h');
  assert.equal(v.access_notes, 'mine');
  assert.deepEqual(v.contacts, [{ name: 'Gran' }]);
  await engine.syncOnce();
  assert.equal(server.get('household', 'h').fields.access_notes, 'mine');
  assert.deepEqual(server.get('household', 'h').fields.contacts, [{ name: 'Gran' }]);
});

test('a lost answer is re-sent with the same change id: applied once', async () => {
  const { server, store, engine } = await setup();
  const id = fakeUuid();
  await store.addChange({ type: 'visit', id, fields: { case_id: 'c', status: 'submitted', outcome: 'no_answer' } });
  server.failNext({ path: '/sync/push', network: true, afterApply: true });
  await assert.rejects(engine.syncOnce(), (e) => e.code === 'network');
  assert.equal((await store.outboxSummary()).entries, 1, 'kept until the server answers');
  await engine.syncOnce();
  const [a, b] = pushes(server);
  assert.equal(a.body.changes[0].change_id, b.body.changes[0].change_id);
  assert.equal(server.get('visit', id).version, 1);
  assert.equal((await store.outboxSummary()).entries, 0);
  assert.equal((await store.listNotices()).length, 0, 'a duplicate is a success');
});

test('removed purges the records but never the outbox', async () => {
  const { server, store, engine } = await setup();
  server.put('case', 'c1', { pupil_id: 'p1', status: 'open' }, server.stampNow());
  server.put('pupil', 'p1', { first_name: 'Ann' }, server.stampNow());
  await engine.syncOnce();
  const visit = fakeUuid();
  await store.addChange({ type: 'visit', id: visit, fields: { case_id: 'c1', outcome: 'no_answer' } });
  server.remove('case', 'c1');
  server.remove('pupil', 'p1');
  server.remove('visit', visit);
  await engine.pull(); // e.g. a pull that ran before the push could
  assert.equal(await store.getRecord('case', 'c1'), null);
  assert.equal(await store.getRecord('pupil', 'p1'), null);
  assert.equal((await store.outboxSummary()).entries, 1);
  await engine.syncOnce();
  assert.equal(server.get('visit', visit).fields.outcome, 'no_answer', 'the visit still reaches the server');
  assert.equal(await store.getRecord('visit', visit), null, 'and is not brought back on the device');
});

test('reset: the outbox is pushed, then a fresh snapshot purges what left scope', async () => {
  const { server, store, engine } = await setup();
  server.put('case', 'keep', { status: 'open' }, server.stampNow());
  server.put('case', 'gone', { status: 'open' }, server.stampNow());
  await engine.syncOnce();
  server.entities.delete('case:gone'); // left scope while the device missed the removal
  server.forgetBefore(server.seq + 10);
  const t = fakeUuid();
  await store.addChange({ type: 'task', id: t, fields: { title: 'call school', case_id: 'keep' } });
  await engine.syncOnce();
  assert.equal(server.get('task', t).fields.title, 'call school');
  assert.ok(await store.getRecord('case', 'keep'));
  assert.equal(await store.getRecord('case', 'gone'), null);
  assert.ok(await store.getRecord('task', t));
});

test('merged and rejected changes become notices with the reason', async () => {
  const { server, store, engine } = await setup();
  server.put('household', 'h', { address: 'x', access_notes: 'a' }, server.stampNow());
  await engine.syncOnce();
  // Written on the server after this device's edit was stamped: the device's value loses.
  await store.addChange({ type: 'household', id: 'h', fields: { access_notes: 'older edit' } });
  server.put('household', 'h', { access_notes: 'newer edit' }, hlc.format({ ms: Date.now() + 60_000, counter: 0, node: 'other' }));
  await store.addChange({ type: 'visit', id: fakeUuid(), fields: { case_id: 'c', bad: 1 } });
  await engine.syncOnce();
  const notices = await store.listNotices();
  assert.deepEqual(notices.map((n) => n.status).sort(), ['merged', 'rejected']);
  assert.match(notices.find((n) => n.status === 'rejected').reason, /bad is not a field/);
  assert.equal((await store.getRecord('household', 'h')).access_notes, 'newer edit', 'both ends agree');
});

test('token_expired: refresh once, rotate, retry', async () => {
  const { server, store, engine } = await setup();
  server.expireTokens();
  await store.addChange({ type: 'task', id: fakeUuid(), fields: { title: 't' } });
  await engine.syncOnce();
  const s = await store.getMeta('session');
  assert.equal(s.access_token, server.tokens.access);
  assert.equal(s.refresh_token, server.tokens.refresh);
  assert.equal(server.requests.filter((r) => r.path === '/api/auth/refresh').length, 1);
});

test('concurrent calls share one refresh (a refresh token is single-use)', async () => {
  const { server, api } = await setup();
  server.expireTokens();
  await Promise.all([api.pull(null, 10), api.pull(null, 10), api.push({ client_id: DEVICE, changes: [] })]);
  assert.equal(server.requests.filter((r) => r.path === '/api/auth/refresh').length, 1);
});

test('413: the batch halves until the server takes it', async () => {
  const { server, store, engine } = await setup({ batchSize: 8 });
  for (let i = 0; i < 8; i += 1) await store.addChange({ type: 'task', id: fakeUuid(), fields: { title: `${i}` } });
  server.failNext({ path: '/sync/push', status: 413, code: 'payload_too_large' });
  await engine.syncOnce();
  assert.deepEqual(pushes(server).map((r) => r.body.changes.length), [8, 4, 4]);
  assert.equal((await store.outboxSummary()).entries, 0);
});

test('the error codes the scheduler acts on', () => {
  assert.equal(classify(new ApiError(401, 'device_revoked')), 'revoked');
  assert.equal(classify(new ApiError(426, 'upgrade_required')), 'upgrade');
  assert.equal(classify(new ApiError(401, 'unauthenticated')), 'signin');
  assert.equal(classify(new ApiError(0, 'network')), 'retry');
  assert.equal(classify(new ApiError(503, 'http_503')), 'retry');
  assert.deepEqual([1, 2, 3, 4, 20].map((n) => backoffDelay(n)), [250, 500, 1000, 2000, 60000]);
});

function fakeTimers() {
  const timers = [];
  return {
    timers,
    setTimer: (fn, ms) => { const t = { fn, ms }; timers.push(t); return t; },
    clearTimer: (t) => { const i = timers.indexOf(t); if (i >= 0) timers.splice(i, 1); },
    async fire() { const t = timers.shift(); t.fn(); await new Promise((r) => setTimeout(r, 5)); },
  };
}

test('the scheduler backs off while failing and stops retrying once synced', async () => {
  let calls = 0;
  const engine = { syncOnce: async () => { calls += 1; if (calls < 4) throw new ApiError(0, 'network'); return {}; } };
  const clock = fakeTimers();
  const states = [];
  const s = createScheduler({ engine, onState: (x) => states.push(x.phase), ...clock });
  await s.run('online');
  const delays = [];
  while (clock.timers.length) { delays.push(clock.timers[0].ms); await clock.fire(); }
  assert.deepEqual(delays, [250, 500, 1000]);
  assert.equal(calls, 4);
  assert.equal(states.at(-1), 'synced');
});

test('the scheduler does not try while offline', async () => {
  let calls = 0;
  const s = createScheduler({ engine: { syncOnce: async () => { calls += 1; } }, isOnline: () => false, onState: () => {} });
  await s.run('timer');
  assert.equal(calls, 0);
});

test('device_revoked and upgrade_required stop the scheduler and keep the outbox', async () => {
  for (const [status, code, kind] of [[401, 'device_revoked', 'revoked'], [426, 'upgrade_required', 'upgrade']]) {
    const { server, store, engine } = await setup();
    await store.addChange({ type: 'task', id: fakeUuid(), fields: { title: 't' } });
    server.failNext({ path: '/sync/push', status, code });
    let stopped = null;
    const s = createScheduler({ engine, onStop: (k) => { stopped = k; }, ...fakeTimers() });
    await s.run('manual');
    assert.equal(stopped, kind);
    assert.ok(s.stopped);
    assert.equal((await store.outboxSummary()).entries, 1, 'the outbox is the app\'s to wipe or keep');
  }
});

test('a run asked for during a sync runs once more afterwards', async () => {
  let calls = 0;
  let release;
  const gate = new Promise((r) => { release = r; });
  const engine = { syncOnce: async () => { calls += 1; if (calls === 1) await gate; return {}; } };
  const s = createScheduler({ engine, ...fakeTimers() });
  const first = s.run('startup');
  s.run('change');
  s.run('change');
  release();
  await first;
  assert.equal(calls, 2);
});

test('503 busy with Retry-After: the outbox stays, the retry waits as asked, then it goes once', async () => {
  const { server, store, engine } = await setup();
  const id = fakeUuid();
  await store.addChange({ type: 'task', id, fields: { title: 'call back' } });
  server.failNext({ path: '/sync/push', status: 503, code: 'busy', retryAfter: 3 });
  const clock = fakeTimers();
  const states = [];
  const s = createScheduler({ engine, onState: (x) => states.push(x), ...clock });
  await s.run('manual');
  const failed = states.at(-1);
  assert.equal(failed.phase, 'error');
  assert.equal(failed.error.status, 503);
  assert.equal(failed.error.code, 'busy');
  assert.equal(failed.error.details.retry_after, 3);
  assert.equal(failed.retryIn, 3000);
  assert.equal(failed.message, 'Server busy, retrying in 3 s');
  assert.deepEqual(clock.timers.map((t) => t.ms), [3000], 'one retry, after the Retry-After');
  assert.equal((await store.outboxSummary()).entries, 1, 'the outbox is untouched');
  assert.equal(server.get('task', id), undefined, 'nothing reached the server');
  await clock.fire();
  assert.equal(states.at(-1).phase, 'synced');
  assert.equal((await store.outboxSummary()).entries, 0);
  assert.equal(server.get('task', id).version, 1, 'applied once');
  assert.equal(pushes(server).length, 2);
  assert.equal(clock.timers.length, 0);
});

test('repeated busy answers back off from the Retry-After, doubling, capped at a minute', async () => {
  const { server, store, engine } = await setup();
  await store.addChange({ type: 'task', id: fakeUuid(), fields: { title: 't' } });
  for (let i = 0; i < 3; i += 1) server.failNext({ path: '/sync/push', status: 503, code: 'busy', retryAfter: 2 });
  const clock = fakeTimers();
  const s = createScheduler({ engine, ...clock });
  await s.run('manual');
  const delays = [];
  while (clock.timers.length) { delays.push(clock.timers[0].ms); await clock.fire(); }
  assert.deepEqual(delays, [2000, 4000, 8000]);
  assert.equal((await store.outboxSummary()).entries, 0);
  const busy = new ApiError(503, 'busy', 'busy', { retry_after: 2 });
  assert.deepEqual([1, 2, 5, 6, 20].map((n) => retryDelay(n, busy)), [2000, 4000, 32000, 60000, 60000]);
  const long = new ApiError(507, 'storage_full', 'full', { retry_after: 120 });
  assert.equal(retryDelay(1, long), 120000, 'never sooner than the server asked');
  assert.equal(retryDelay(3, new ApiError(0, 'network')), 1000, 'no Retry-After: the plain backoff');
  assert.equal(retryMessage(long, 120000), 'Server storage full, retrying in 120 s');
  assert.equal(retryMessage(new ApiError(0, 'network'), 1000), 'Sync failed, retrying');
});
