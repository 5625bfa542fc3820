// Revoking a phone (docs/protocol.md §2.6, §2.7): the status headers every call carries,
// a returned phone's final push of its whole outbox, and what the officer is told after
// the wipe. The fake server below keeps the server's rules for a revoked device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, statusHeaders } from '../api.js';
import { createSyncEngine, classify } from '../sync.js';
import { defaultDeviceName, revokedMessage } from '../session.js';
import { createMemoryStore } from './memory-store.mjs';

const json = (status, body) => ({
  ok: status >= 200 && status < 300, status, headers: { get: () => null }, text: async () => JSON.stringify(body),
});
const revoked = (details) => json(401, { error: { code: 'device_revoked', message: 'revoked', details } });

/** A server with one phone, revoked as `kind` (or not), that keeps what the phone sends. */
function fakeServer({ kind = null } = {}) {
  const srv = { kind, open: kind === 'returned', received: [], requests: [], lostUnsent: null };
  srv.fetch = async (url, { method, headers, body }) => {
    const path = url.replace(/^\/api/, '').split('?')[0];
    const data = body ? JSON.parse(body) : null;
    srv.requests.push({ method, path, headers: { ...headers }, changes: data && data.changes ? data.changes.length : null });
    const unsent = /^\d+$/.test(headers['Doorstep-Unsent'] || '') ? Number(headers['Doorstep-Unsent']) : null;
    const pushing = method === 'POST' && path === '/sync/push';
    if (srv.kind === 'lost' || (srv.kind === 'returned' && !(srv.open && (pushing || path === '/auth/refresh')))) {
      if (srv.lostUnsent === null && !srv.open) srv.lostUnsent = unsent;
      return revoked(srv.kind === 'lost' ? { kind: 'lost' } : { kind: 'returned', final_push: srv.open });
    }
    if (pushing) {
      srv.received.push(...data.changes);
      const answer = {
        results: data.changes.map((c) => ({ change_id: c.change_id, status: 'applied', version: 1, errors: [], lost_fields: [] })),
        server_hlc: '000000000000001-000000-server', server_time: '2026-11-23T08:00:00Z',
      };
      if (srv.kind === 'returned') {
        answer.final = true;
        if (unsent === null || unsent <= data.changes.length) { srv.open = false; srv.lostUnsent = Math.max(0, (unsent ?? 0) - data.changes.length); }
      }
      return json(200, answer);
    }
    if (path === '/sync/pull') return json(200, { changes: [], cursor: 'c1', has_more: false, server_hlc: '000000000000001-000000-server' });
    return json(404, { error: { code: 'not_found', message: 'no', details: {} } });
  };
  return srv;
}

async function phone(srv, changes = 0, opts = {}) {
  const store = createMemoryStore();
  await store.setMeta('session', { access_token: 'a', refresh_token: 'r', device_id: 'dev-1', user: { id: 'u1' } });
  for (let i = 0; i < changes; i += 1) await store.addChange({ type: 'note', id: `n${i}`, fields: { text: `t${i}` } });
  const api = createApi({
    getSession: () => store.getMeta('session'), setSession: (s) => store.setMeta('session', s),
    fetchImpl: (...a) => srv.fetch(...a),
    deviceStatus: async () => ({ unsent: store.outbox.length, appVersion: 'doorstep-shell-abc123', lastSync: await store.getMeta('last_synced_at') }),
  });
  return { store, api, engine: createSyncEngine({ store, api, ...opts }) };
}

test('the status headers: unsent count, app version, last sync (empty when never); bad values left out', () => {
  assert.deepEqual(statusHeaders({ unsent: 3, appVersion: 'doorstep-shell-0a1b', lastSync: '2026-11-23T08:00:00.000Z' }), {
    'Doorstep-Unsent': '3', 'Doorstep-App-Version': 'doorstep-shell-0a1b', 'Doorstep-Last-Sync': '2026-11-23T08:00:00.000Z',
  });
  assert.deepEqual(statusHeaders({ unsent: -1, appVersion: 'x'.repeat(65), lastSync: null }), { 'Doorstep-Last-Sync': '' });
  assert.deepEqual(statusHeaders({ unsent: 0, appVersion: 'café' }), { 'Doorstep-Unsent': '0', 'Doorstep-Last-Sync': '' });
});

test('every call carries the report: push, pull, refresh and sign-in', async () => {
  const srv = fakeServer();
  const { engine, api, store } = await phone(srv, 2);
  await engine.syncOnce();
  await api.login('officer1', 'pw', 'Sam\'s phone').catch(() => {});
  const [firstPush, pull, login] = srv.requests;
  assert.equal(firstPush.path, '/sync/push');
  assert.equal(firstPush.headers['Doorstep-Unsent'], '2');
  assert.equal(firstPush.headers['Doorstep-App-Version'], 'doorstep-shell-abc123');
  assert.equal(firstPush.headers['Doorstep-Last-Sync'], '');
  assert.equal(pull.headers['Doorstep-Unsent'], '0');
  assert.equal(login.path, '/auth/login');
  assert.equal(login.headers['Doorstep-Last-Sync'], await store.getMeta('last_synced_at'));
  // a report that cannot be read does not stop the call
  const broken = createApi({ getSession: async () => ({ access_token: 'a' }), fetchImpl: srv.fetch,
    deviceStatus: async () => { throw new Error('no database'); } });
  await broken.pull();
  assert.equal(srv.requests.at(-1).headers['Doorstep-Unsent'], undefined);
});

test('returned: the whole outbox goes in several pushes, then the engine says revoked with the count sent', async () => {
  const srv = fakeServer({ kind: 'returned' });
  const { engine, store } = await phone(srv, 450, { batchSize: 200 });
  const err = await engine.syncOnce().then(() => null, (e) => e);
  assert.equal(err.code, 'device_revoked');
  assert.equal(classify(err), 'revoked');
  assert.deepEqual(err.details, { kind: 'returned', final_push: false });
  assert.equal(err.finalSent, 450);
  assert.equal(srv.received.length, 450);
  assert.deepEqual(srv.requests.map((r) => r.changes), [200, 200, 50]); // no pull, no empty push
  assert.deepEqual(srv.requests.map((r) => r.headers['Doorstep-Unsent']), ['450', '250', '50']);
  assert.equal(srv.open, false);
  assert.equal(srv.lostUnsent, 0);
  assert.equal(store.outbox.length, 0);
  // the app wipes and the officer signs in again: the same engine syncs the new device normally
  srv.kind = null;
  srv.requests.length = 0;
  await store.addChange({ type: 'note', id: 'after', fields: { text: 'new device' } });
  assert.equal((await engine.syncOnce()).pushed, 1);
  assert.deepEqual(srv.requests.map((r) => r.path), ['/sync/push', '/sync/pull']);
});

test('returned, learnt from a pull with nothing waiting: one empty push ends it', async () => {
  const srv = fakeServer({ kind: 'returned' });
  const { engine } = await phone(srv, 0);
  const err = await engine.syncOnce().then(() => null, (e) => e);
  assert.equal(err.code, 'device_revoked');
  assert.equal(err.finalSent, 0);
  assert.deepEqual(srv.requests.map((r) => [r.path, r.changes]), [['/sync/pull', null], ['/sync/push', 0]]);
  assert.equal(srv.open, false);
});

test('returned: a final push cut off by the network goes on at the next sync', async () => {
  const srv = fakeServer({ kind: 'returned' });
  const { engine, store } = await phone(srv, 5, { batchSize: 2 });
  // first batch arrives, then the connection drops
  const fetchOnce = srv.fetch;
  let calls = 0;
  srv.fetch = async (...a) => { calls += 1; if (calls === 2) throw new TypeError('Failed to fetch'); return fetchOnce(...a); };
  const first = await engine.syncOnce().then(() => null, (e) => e);
  assert.equal(first.code, 'network');
  assert.equal(classify(first), 'retry');
  assert.equal(store.outbox.length, 3);
  const err = await engine.syncOnce().then(() => null, (e) => e);
  assert.equal(err.code, 'device_revoked');
  assert.equal(err.finalSent, 5);
  assert.equal(srv.received.length, 5);
  assert.equal(srv.open, false);
});

test('lost: refused at once, nothing sent; the count is the outbox the phone reported', async () => {
  const srv = fakeServer({ kind: 'lost' });
  const { engine, store } = await phone(srv, 3);
  const err = await engine.syncOnce().then(() => null, (e) => e);
  assert.equal(err.code, 'device_revoked');
  assert.deepEqual(err.details, { kind: 'lost' });
  assert.equal(err.finalSent, undefined);
  assert.equal(srv.received.length, 0);
  assert.equal(srv.lostUnsent, 3);
  assert.equal(store.outbox.length, 3);
});

test('the wipe message says how many unsent changes were lost, and what a returned phone sent', () => {
  assert.match(revokedMessage({ kind: 'lost', unsent: 3 }), /as lost or stolen.*3 changes that had not been sent were lost/);
  assert.match(revokedMessage({ kind: 'lost', unsent: 0 }), /No unsent changes were lost/);
  assert.match(revokedMessage({ kind: 'returned', finalSent: 1 }), /as returned or replaced.*1 change was sent to the server first/);
  assert.doesNotMatch(revokedMessage({ kind: 'returned', finalSent: 1 }), /lost/);
  assert.match(revokedMessage({ kind: 'returned', finalSent: 0, unsent: 1, maybeSent: 1 }), /1 change that had not been sent was lost \(it had been sent without an answer/);
  assert.match(revokedMessage({}), /^The office has signed this phone out of Doorstep, and the data on it has been removed\. Sign in again/);
});

test('a phone is named by its browser and platform unless the officer names it', () => {
  const ua = (s) => ({ userAgent: s });
  assert.equal(defaultDeviceName(ua('Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36')), 'Chrome on Android');
  assert.equal(defaultDeviceName(ua('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1')), 'Safari on iOS');
  assert.equal(defaultDeviceName(ua('Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0')), 'Firefox on Android');
  assert.equal(defaultDeviceName(ua('Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36')), 'Samsung Internet on Android');
  assert.equal(defaultDeviceName({ userAgent: 'x', userAgentData: { platform: 'Android' } }), 'Browser on Android');
});
