// The sync engine (sync.js) over the HTTP client (api.js), the in-memory store and a
// fake server that only replays golden answers (fake-server.mjs): every push result and
// pull page the phone gets here is one a vector in tests/golden/ records, and pytest
// checks those vectors against the server's engine. The phone makes each vector's
// changes itself (its clock must stamp them as the vector has them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSyncEngine, createScheduler, classify, backoffDelay, retryDelay, retryMessage } from '../sync.js';
import { createApi, ApiError } from '../api.js';
import * as hlc from '../hlc.js';
import { key, toWire } from '../outbox.js';
import { createMemoryStore, fakeUuid } from './memory-store.mjs';
import {
  createFakeServer, vector, pushAnswer, lostPush, otherDevice, pullAnswer, resetAnswer,
} from './fake-server.mjs';

const DEVICE = 'dev-a'; // officer 1's phone in every vector
const SEED = vector('seed-snapshot'); // the state every vector starts from, as this phone first pulls it

async function setup({ batchSize = 200, pullLimit = 500, synced = false } = {}) {
  const server = createFakeServer({ device: DEVICE });
  const phone = { wall: Date.parse(SEED.now), ids: [] };
  const store = createMemoryStore({ now: () => phone.wall, uuid: () => phone.ids.shift() ?? fakeUuid() });
  await store.setMeta('session', { device_id: DEVICE, access_token: server.tokens.access, refresh_token: server.tokens.refresh });
  const api = createApi({
    base: 'http://fake/api',
    getSession: () => store.getMeta('session'),
    setSession: (s) => store.setMeta('session', s),
    fetchImpl: server.fetch,
  });
  const engine = createSyncEngine({ store, api, batchSize, pullLimit });
  /** The officer makes a vector's change on the phone, at its stamp's time: the outbox entry is that change. */
  async function write(change) {
    phone.wall = hlc.parse(change.hlc).ms;
    phone.ids.push(change.change_id);
    const entry = await store.addChange({ type: change.type, id: change.id, op: change.op, fields: change.fields });
    assert.deepEqual(toWire(entry), change, 'the phone stamps the change as the vector has it');
    return entry;
  }
  if (synced) { // the phone has pulled the seed: its records, its cursor, its clock past the server's
    server.script(pullAnswer(SEED, { since: 'start' }));
    await engine.syncOnce();
    server.requests.length = 0;
  }
  return { server, store, api, engine, phone, write };
}

const pushes = (server) => server.requests.filter((r) => r.path === '/api/sync/push');
const pulls = (server) => server.requests.filter((r) => r.path === '/api/sync/pull');
const played = (server) => assert.ok(server.done, JSON.stringify(server.left));
const itemKeys = (pages) => new Set(pages.flatMap((p) => p.changes.filter((c) => !c.removed && !c.deleted).map((c) => key(c.type, c.id))));

test('the outbox goes out in batches, in order, and empties', async () => {
  const v = vector('outbox-in-order');
  const { server, store, engine, write } = await setup({ batchSize: 2, synced: true });
  server.script(pushAnswer(v), pullAnswer(v));
  for (const c of v.batch) await write(c);
  assert.equal((await store.outboxSummary()).records, 5);
  const { pushed } = await engine.syncOnce();
  assert.equal(pushed, 5);
  assert.deepEqual(pushes(server).map((r) => r.body.changes.length), [2, 2, 1]);
  assert.deepEqual(pushes(server).flatMap((r) => r.body.changes.map((c) => c.id)), v.batch.map((c) => c.id));
  const first = pushes(server)[0].body;
  assert.equal(first.client_id, DEVICE);
  assert.equal(first.changes[0].base_version, null, 'a new record has base_version null');
  assert.ok(hlc.isStamp(first.changes[0].hlc));
  assert.equal((await store.outboxSummary()).entries, 0);
  const t = await store.getRecord('task', v.batch[0].id);
  assert.equal(t.title, 'Task 1');
  assert.equal(t._version, 1);
  assert.equal(t.done, false, 'the pull brings the record as the server keeps it');
  played(server);
});

test('pull follows has_more, applies every page and keeps the cursor', async () => {
  const v = SEED;
  const snapshot = v.expect.pull.find((p) => p.since === 'start' && p.limit === 2);
  const { server, store, engine } = await setup({ pullLimit: 2 });
  // Nothing is written after the snapshot: the pull from its cursor is the vector's empty one.
  server.script(pullAnswer(v, { since: 'start', limit: 2 }), pullAnswer(v));
  await engine.syncOnce();
  assert.equal(pulls(server).length, snapshot.pages.length);
  assert.ok(snapshot.pages.length >= 3);
  assert.equal(pulls(server)[0].cursor, null, 'the first pull is a snapshot');
  assert.ok(pulls(server).every((r) => r.limit === 2));
  assert.deepEqual(new Set(store.records.keys()), itemKeys(snapshot.pages));
  const saved = await store.getMeta('cursor');
  assert.equal(saved, server.lastCursor, 'the cursor of the last page');
  // Nothing new: one more pull from the saved cursor, nothing applied.
  const again = await engine.syncOnce();
  assert.equal(again.pulled, 0);
  assert.equal(pulls(server).at(-1).cursor, saved);
  played(server);
});

test('local clock advances past server_hlc: the next change is stamped later', async () => {
  const v = vector('outbox-in-order');
  const { server, store, engine, write, phone } = await setup({ synced: true });
  server.script(pushAnswer(v), pullAnswer(v));
  for (const c of v.batch) await write(c);
  await engine.syncOnce();
  const ahead = hlc.parse(v.expect.server_hlc);
  assert.ok(ahead.ms > phone.wall, 'the server clock runs ahead of the phone\'s');
  const entry = await store.addChange({ type: 'task', id: fakeUuid(), fields: { title: 't' } });
  assert.ok(entry.hlc > v.expect.server_hlc);
  assert.equal(entry.hlc, hlc.format({ ms: ahead.ms, counter: ahead.counter + 1, node: DEVICE }));
  played(server);
});

test('a pulled record keeps the officer\'s pending edits on top', async () => {
  const edit = vector('other-device-edit');
  const v = vector('different-fields-both-survive');
  const { server, store, engine, write } = await setup({ synced: true });
  server.script(otherDevice(edit), pullAnswer(edit), pushAnswer(v), pullAnswer(v));
  const [mine] = v.batch;
  await write(mine); // contacts, from version 1
  // The office changes the access notes meanwhile; this phone pulls before it pushes.
  await engine.pull();
  let h = await store.getRecord('household', mine.id);
  assert.equal(h.access_notes, edit.batch[0].fields.access_notes);
  assert.deepEqual(h.contacts, mine.fields.contacts, 'the pending edit stays on top');
  assert.equal(h._version, 2);
  assert.equal(h._pending, 1);
  await engine.syncOnce();
  h = await store.getRecord('household', mine.id);
  assert.equal(h.access_notes, edit.batch[0].fields.access_notes);
  assert.deepEqual(h.contacts, mine.fields.contacts);
  assert.equal(h._version, 3);
  assert.equal(h._pending, 0);
  played(server);
});

test('a lost answer is re-sent with the same change id: applied once', async () => {
  const v = vector('resent-after-lost-answer');
  const { server, store, engine, write } = await setup();
  server.script(lostPush(v, 1), pushAnswer(v), pullAnswer(v, { since: 'start' }));
  const [visit] = v.batch;
  await write(visit);
  await assert.rejects(engine.syncOnce(), (e) => e.code === 'network');
  assert.equal((await store.outboxSummary()).entries, 1, 'kept until the server answers');
  await engine.syncOnce();
  const [a, b] = pushes(server);
  assert.equal(a.body.changes[0].change_id, b.body.changes[0].change_id);
  assert.equal(b.answered, `push of ${v.name}`);
  assert.equal(v.expect.results[0].status, 'duplicate', 'what the server answered');
  assert.equal((await store.getRecord('visit', visit.id))._version, 1, 'applied once');
  assert.equal((await store.outboxSummary()).entries, 0);
  assert.equal((await store.listNotices()).length, 0, 'a duplicate is a success');
  played(server);
});

test('removed purges the records but never the outbox', async () => {
  const moved = vector('reassign-removes');
  const v = vector('offline-visit-after-reassign');
  const { server, store, engine, write } = await setup({ synced: true });
  server.script(otherDevice(moved), pullAnswer(moved), pushAnswer(v, { count: 1 }), pullAnswer(v));
  const [visit] = v.batch; // made offline, before the case was reassigned
  await write(visit);
  await engine.pull(); // e.g. a pull that ran before the push could
  const caseId = visit.fields.case_id;
  assert.equal(await store.getRecord('case', caseId), null);
  assert.equal(await store.getRecord('pupil', 'b0000000-0000-4000-8000-000000000001'), null);
  assert.equal((await store.outboxSummary()).entries, 1);
  await engine.syncOnce();
  assert.equal(pushes(server)[0].answered, `push of ${v.name}`);
  const theirs = v.expect.pull.find((p) => p.as.device_id !== DEVICE).pages[0].changes.find((c) => c.id === visit.id);
  assert.equal(theirs.fields.outcome, 'no_answer', 'the visit still reaches the server');
  assert.equal(await store.getRecord('visit', visit.id), null, 'and is not brought back on the device');
  assert.equal((await store.outboxSummary()).entries, 0);
  played(server);
});

test('a record purged while its change was in flight is not brought back by the answer', async () => {
  const moved = vector('reassign-removes');
  const scope = vector('offline-visit-after-reassign');
  const v = vector('resent-after-scope-left');
  const { server, store, engine, write } = await setup({ synced: true });
  // The visit reaches the server after the reassign, its answer is lost; a pull then removes
  // it from the phone, and only then does the re-sent change get its answer (duplicate).
  server.script(otherDevice(moved), pullAnswer(moved), lostPush(v, 2), pullAnswer(scope), pushAnswer(v), pullAnswer(v));
  const [visit] = v.batch;
  await write(visit);
  await engine.pull();
  await assert.rejects(engine.push(), (e) => e.code === 'network');
  await engine.pull();
  assert.equal(await store.getRecord('visit', visit.id), null, 'removed, though its change is still pending');
  assert.equal((await store.outboxSummary()).entries, 1);
  await engine.syncOnce();
  assert.equal((await store.outboxSummary()).entries, 0);
  assert.equal(await store.getRecord('visit', visit.id), null, 'the duplicate answer does not bring it back');
  assert.equal(store.records.has(key('visit', visit.id)), false);
  assert.equal((await store.listNotices()).length, 0);
  played(server);
});

test('reset: the outbox is pushed, then a fresh snapshot purges what left scope', async () => {
  const v = vector('outbox-in-order');
  const { server, store, engine, write } = await setup({ synced: true });
  // A case this phone kept from long ago: it left scope while the phone missed the removal.
  const gone = 'ca000000-0000-4000-8000-000000000002';
  await store.applyPull([{ type: 'case', id: gone, version: 1, deleted: false, fields: { status: 'open' } }]);
  await store.setMeta('cursor', 'too-old');
  server.script(resetAnswer('too-old'), pushAnswer(v), pullAnswer(v, { since: 'start' }));
  for (const c of v.batch) await write(c);
  await engine.pull(); // e.g. a pull that ran before the push could
  assert.deepEqual(server.requests.map((r) => [r.path, r.cursor]), [
    ['/api/sync/pull', 'too-old'], ['/api/sync/push', null], ['/api/sync/pull', null]], 'reset, the outbox, a snapshot');
  assert.equal((await store.outboxSummary()).entries, 0);
  assert.equal(await store.getRecord('case', gone), null);
  assert.ok(await store.getRecord('case', 'ca000000-0000-4000-8000-000000000001'));
  for (const c of v.batch) assert.equal((await store.getRecord('task', c.id)).title, c.fields.title);
  assert.equal(await store.getMeta('cursor'), server.lastCursor);
  played(server);
});

test('merged and rejected changes become notices with the reason', async () => {
  const edit = vector('other-device-edit');
  const v = vector('merged-and-rejected');
  const { server, store, engine, write } = await setup({ synced: true });
  server.script(otherDevice(edit), pullAnswer(edit), pushAnswer(v), pullAnswer(v));
  // This phone's edit is stamped before the office's newer one, which it has not seen.
  for (const c of v.batch) await write(c);
  await engine.pull();
  await engine.syncOnce();
  const notices = await store.listNotices();
  assert.deepEqual(notices.map((n) => n.status).sort(), ['merged', 'rejected']);
  assert.deepEqual(notices.find((n) => n.status === 'merged').lost_fields, ['access_notes']);
  assert.match(notices.find((n) => n.status === 'rejected').reason, /visit has no field 'colour'/);
  const h = await store.getRecord('household', v.batch[0].id);
  assert.equal(h.access_notes, edit.batch[0].fields.access_notes, 'both ends agree');
  assert.equal(h._version, 2);
  assert.equal(await store.getRecord('visit', v.batch[1].id), null, 'a rejected new record is dropped');
  played(server);
});

test('token_expired: refresh once, rotate, retry', async () => {
  const v = vector('create-applied');
  const { server, store, engine, write } = await setup({ synced: true });
  server.script(pushAnswer(v), pullAnswer(v));
  server.expireTokens();
  await write(v.batch[0]);
  await engine.syncOnce();
  const s = await store.getMeta('session');
  assert.equal(s.access_token, server.tokens.access);
  assert.equal(s.refresh_token, server.tokens.refresh);
  assert.equal(server.requests.filter((r) => r.path === '/api/auth/refresh').length, 1);
  played(server);
});

test('concurrent calls share one refresh (a refresh token is single-use)', async () => {
  const v = vector('create-applied');
  const { server, store, api } = await setup({ synced: true });
  server.script(pushAnswer(v), pullAnswer(v), pullAnswer(v));
  server.expireTokens();
  const cursor = await store.getMeta('cursor');
  await Promise.all([api.push({ client_id: DEVICE, changes: v.batch }), api.pull(cursor, 10), api.pull(cursor, 10)]);
  assert.equal(server.requests.filter((r) => r.path === '/api/auth/refresh').length, 1);
  played(server);
});

test('413: the batch halves until the server takes it', async () => {
  const v = vector('outbox-in-order');
  const { server, store, engine, write } = await setup({ batchSize: 5, synced: true });
  server.script(pushAnswer(v), pullAnswer(v));
  for (const c of v.batch) await write(c);
  server.failNext({ path: '/sync/push', status: 413, code: 'payload_too_large' });
  await engine.syncOnce();
  assert.deepEqual(pushes(server).map((r) => r.body.changes.length), [5, 2, 2, 1]);
  assert.equal((await store.outboxSummary()).entries, 0);
  played(server);
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
    random: () => 0, // no jitter: the delays are exact (status.test.mjs tests the jitter)
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
    const v = vector('create-applied');
    const { server, store, engine, write } = await setup({ synced: true });
    server.script(pushAnswer(v));
    await write(v.batch[0]);
    server.failNext({ path: '/sync/push', status, code });
    let stopped = null;
    const s = createScheduler({ engine, onStop: (k) => { stopped = k; }, ...fakeTimers() });
    await s.run('manual');
    assert.equal(stopped, kind);
    assert.ok(s.stopped);
    assert.equal((await store.outboxSummary()).entries, 1, 'the outbox is the app\'s to wipe or keep');
    assert.ok(pushes(server).every((r) => !r.answered), 'no answer was given');
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
  const v = vector('create-applied');
  const { server, store, engine, write } = await setup({ synced: true });
  server.script(pushAnswer(v), pullAnswer(v));
  const { id } = await write(v.batch[0]);
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
  assert.equal(pushes(server)[0].answered, null, 'nothing reached the server');
  await clock.fire();
  assert.equal(states.at(-1).phase, 'synced');
  assert.equal((await store.outboxSummary()).entries, 0);
  assert.equal((await store.getRecord('visit', id))._version, 1, 'applied once');
  assert.equal(pushes(server).length, 2);
  assert.equal(clock.timers.length, 0);
  played(server);
});

test('repeated busy answers back off from the Retry-After, doubling, capped at a minute', async () => {
  const v = vector('create-applied');
  const { server, store, engine, write } = await setup({ synced: true });
  server.script(pushAnswer(v), pullAnswer(v));
  await write(v.batch[0]);
  for (let i = 0; i < 3; i += 1) server.failNext({ path: '/sync/push', status: 503, code: 'busy', retryAfter: 2 });
  const clock = fakeTimers();
  const s = createScheduler({ engine, ...clock });
  await s.run('manual');
  const delays = [];
  while (clock.timers.length && delays.length < 10) { delays.push(clock.timers[0].ms); await clock.fire(); }
  assert.deepEqual(delays, [2000, 4000, 8000]);
  assert.equal((await store.outboxSummary()).entries, 0);
  played(server);
  const busy = new ApiError(503, 'busy', 'busy', { retry_after: 2 });
  assert.deepEqual([1, 2, 5, 6, 20].map((n) => retryDelay(n, busy)), [2000, 4000, 32000, 60000, 60000]);
  const long = new ApiError(507, 'storage_full', 'full', { retry_after: 120 });
  assert.equal(retryDelay(1, long), 120000, 'never sooner than the server asked');
  assert.equal(retryDelay(3, new ApiError(0, 'network')), 1000, 'no Retry-After: the plain backoff');
  assert.equal(retryMessage(long, 120000), 'Server storage full, retrying in 120 s');
  assert.equal(retryMessage(new ApiError(0, 'network'), 1000), 'Server not answering, retrying');
});
