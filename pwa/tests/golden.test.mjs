// The golden vectors (tests/golden/*.json, format in tests/golden/README.md) run against the
// PWA's own modules: its clock (hlc.js), its outbox rules (outbox.js, through the memory store
// built on them) and its sync engine (sync.js) fed the vectors' expected server answers, in
// place of a second merge in a fake server. pytest runs the same files against the engine
// (tests/sync/test_golden.py), so the phone and the server are checked against one truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as hlc from '../hlc.js';
import { key, toWire } from '../outbox.js';
import { createSyncEngine } from '../sync.js';
import { createMemoryStore } from './memory-store.mjs';

const DIR = new URL('../../tests/golden/', import.meta.url);
const vectors = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')));
const MAX_SKEW_MS = 5 * 60 * 1000;
const isObject = (c) => c && typeof c === 'object' && !Array.isArray(c);
const lower = (s) => (typeof s === 'string' ? s.toLowerCase() : s);

test('the golden vectors are there', () => {
  assert.ok(vectors.length >= 15, `${vectors.length} vectors`);
  for (const v of vectors) assert.equal(v.expect.results.length, v.batch.length, v.name);
});

/** The changes the phone would have in its outbox: the batch's well-formed changes, in order. */
function outboxOf(v) {
  const at = v.now;
  return v.batch.map((c, i) => ({ c, r: v.expect.results[i], i }))
    .filter(({ c }) => isObject(c) && (c.op === 'put' || c.op === 'delete'))
    .map(({ c, r, i }) => ({ entry: { ...toWire(c), created_at: at, sent: true, seq: i + 1 }, result: r }));
}

/** A memory store holding what the phone held before the batch: the outbox, and a server copy
 *  at `base_version` of each record the batch edits (a fresh record for one it creates). */
function phoneBefore(v) {
  const store = createMemoryStore({ now: () => Date.parse(v.now) });
  store.meta.set('session', { device_id: v.actor.device_id });
  for (const { entry } of outboxOf(v)) {
    store.outbox.push(structuredClone(entry));
    const k = key(entry.type, entry.id);
    if (!store.records.has(k)) {
      store.records.set(k, { type: entry.type, id: entry.id, version: entry.base_version, fields: {} });
    }
  }
  return store;
}

for (const v of vectors) {
  test(`${v.name}: the PWA clock agrees with the server's`, () => {
    const nowMs = Date.parse(v.now);
    // Stamps the server refused as malformed are exactly those the PWA's parser refuses.
    v.batch.forEach((c, i) => {
      if (!isObject(c) || !('hlc' in c)) return;
      const refused = v.expect.results[i].errors.some((e) => e.field === 'hlc');
      assert.equal(hlc.isStamp(c.hlc), !refused, `${c.hlc}`);
      if (!refused) assert.equal(hlc.format(hlc.parse(c.hlc)), c.hlc, 'a stamp parses back to itself');
    });
    // The device can tell which of its stamps the server re-stamps (§5.5).
    v.batch.forEach((c, i) => {
      const r = v.expect.results[i];
      if (r.status === 'rejected' || !hlc.isStamp(c.hlc)) return;
      assert.equal(hlc.parse(c.hlc).ms > nowMs + MAX_SKEW_MS, Boolean(r.clock_skew), `clock_skew of ${c.change_id}`);
    });
    // Every conflict keeps the newer stamp, as the PWA's order reads them.
    for (const c of v.expect.conflicts) {
      assert.ok(hlc.compare(c.kept.hlc, c.lost.hlc) > 0, `${c.kept.hlc} > ${c.lost.hlc}`);
    }
    // After receiving server_hlc, the device's next stamp is later than it and than its batch.
    if (v.expect.server_hlc) {
      const node = v.actor.device_id;
      const last = v.batch.filter((c) => hlc.isStamp(c.hlc)).map((c) => c.hlc).sort().at(-1) || null;
      const next = hlc.send(hlc.receive(last, v.expect.server_hlc, node), nowMs, node);
      assert.ok(next > v.expect.server_hlc, `${next} > ${v.expect.server_hlc}`);
    }
    // The vector's own clock steps, as the server's Clock runs them in test_golden.py.
    if (v.clock) {
      let last = null;
      for (const step of v.clock.steps) {
        if ('send' in step) {
          last = hlc.send(last, step.send, v.clock.node);
          assert.equal(last, step.expect);
        } else {
          last = hlc.receive(last, step.receive, v.clock.node);
          if (step.expect) assert.equal(last, step.expect);
        }
      }
    }
  });

  test(`${v.name}: the outbox settles the server's answers`, async () => {
    const store = phoneBefore(v);
    const sent = outboxOf(v);
    const before = new Map([...store.records].map(([k, r]) => [k, structuredClone(r)]));
    const res = await store.settlePush(sent.map((s) => s.entry), v.expect.results);
    assert.equal(res.settled, sent.length, 'every answered change is settled');
    assert.equal(store.outbox.length, 0, 'an answered change leaves the outbox, whatever its status');

    // Merged and rejected changes become notices with the server's words; the others do not.
    const noticed = new Set(sent.filter((s) => ['merged', 'rejected'].includes(s.result.status)).map((s) => s.entry.change_id));
    const notices = await store.listNotices();
    assert.deepEqual(new Set(notices.map((n) => n.change_id)), noticed);
    for (const n of notices) {
      const r = v.expect.results.findLast((x) => x.change_id === n.change_id);
      assert.deepEqual(n.lost_fields, r.lost_fields);
      if (r.status === 'rejected') {
        for (const e of r.errors) if (e.message) assert.ok(n.reason.includes(e.message), n.reason);
      }
      if (r.lost_fields.includes('_deleted')) assert.match(n.reason, /deletion|Not deleted/);
    }

    // The server copy each record is left at, by the protocol's meaning of each status (§3.3).
    for (const [k, was] of before) {
      const mine = sent.filter((s) => key(s.entry.type, s.entry.id) === k);
      let want = structuredClone(was);
      for (const { entry, result } of mine) {
        if (want === null) break;
        if (result.status === 'applied' || result.status === 'duplicate') {
          if (entry.op === 'delete') { want = null; continue; }
          if (want.version == null || result.version >= want.version) want.version = result.version;
          Object.assign(want.fields, entry.fields);
        } else if (result.status === 'merged') {
          for (const [f, value] of Object.entries(entry.fields)) if (!result.lost_fields.includes(f)) want.fields[f] = value;
        }
      }
      // A record the server never had is dropped once nothing for it is accepted.
      if (want && want.version == null && !mine.some((s) => ['applied', 'merged', 'duplicate'].includes(s.result.status))) want = null;
      assert.deepEqual(store.records.get(k) ?? null, want, k);
    }
  });

  test(`${v.name}: the sync engine handles the server's answers and pull pages`, async () => {
    const store = phoneBefore(v);
    const sent = outboxOf(v);
    const nowMs = Date.parse(v.now);
    const serverHlc = v.expect.server_hlc || hlc.format({ ms: nowMs, counter: 0, node: 'server' });
    const mine = v.expect.pull.find((p) => p.as.user_id === v.actor.user_id && p.since === 'before_batch');
    const pages = mine ? mine.pages : [{ changes: [], has_more: false }];
    // Records a pull removes or deletes were on the phone before: they must go.
    for (const page of pages) {
      for (const c of page.changes) {
        if ((c.removed || c.deleted) && !store.records.has(key(c.type, c.id))) {
          store.records.set(key(c.type, c.id), { type: c.type, id: c.id, version: 1, fields: {} });
        }
      }
    }
    store.meta.set('cursor', 'before-batch');
    const asked = [];
    const api = {
      async push(body) {
        assert.deepEqual(body.changes, sent.map((s) => toWire(s.entry)), 'the outbox goes out as it was, in order');
        const results = sent.map((s) => s.result);
        return { results, server_hlc: serverHlc, server_time: v.now };
      },
      async pull(cursor) {
        asked.push(cursor);
        const n = asked.length - 1;
        const page = pages[n];
        return { ...page, cursor: `page-${n + 1}`, server_hlc: serverHlc, server_time: v.now };
      },
    };
    const engine = createSyncEngine({ store, api });
    const { pushed } = await engine.syncOnce();
    assert.equal(pushed, sent.length);
    assert.deepEqual(asked, ['before-batch', ...pages.slice(1).map((_, i) => `page-${i + 1}`)], 'each page\'s cursor asks for the next');
    assert.equal(store.meta.get('cursor'), `page-${pages.length}`, 'the cursor saved is the last page\'s');
    assert.equal(store.outbox.length, 0);
    assert.ok(store.meta.get('hlc') >= hlc.format({ ...hlc.parse(serverHlc), node: v.actor.device_id }),
      'the phone clock advanced past server_hlc');
    // Each pulled item leaves the phone at the server's state: a device never sees its own old value again.
    const last = new Map();
    for (const page of pages) for (const c of page.changes) last.set(key(c.type, lower(c.id)), c);
    for (const [k, c] of last) {
      const shown = await store.getRecord(c.type, c.id);
      if (c.removed || c.deleted) { assert.equal(shown, null, `${k} purged`); continue; }
      assert.equal(shown._version, c.version, k);
      for (const [f, value] of Object.entries(c.fields)) assert.deepEqual(shown[f], value, `${k}.${f}`);
      assert.equal(shown._pending, 0);
    }
  });

  for (const p of v.expect.pull.filter((x) => x.since === 'start')) {
    test(`${v.name}: a snapshot for ${p.as.role} ${p.as.user_id.slice(0, 8)} stores its pages and purges the rest`, async () => {
      const store = createMemoryStore({ now: () => Date.parse(v.now) });
      store.meta.set('session', { device_id: p.as.device_id });
      store.records.set('task:stale', { type: 'task', id: 'stale', version: 4, fields: { title: 'left scope' } });
      let n = 0;
      const api = {
        async push() { throw new Error('nothing to push'); },
        async pull(cursor) {
          assert.equal(cursor, n === 0 ? null : `page-${n}`);
          const page = p.pages[n];
          n += 1;
          return { ...page, cursor: `page-${n}`, server_hlc: hlc.format({ ms: Date.parse(v.now), counter: 0, node: 'server' }) };
        },
      };
      await createSyncEngine({ store, api }).pull();
      assert.equal(n, p.pages.length);
      assert.equal(store.records.has('task:stale'), false, 'a record no page carried is purged');
      const want = new Set(p.pages.flatMap((pg) => pg.changes.filter((c) => !c.removed && !c.deleted).map((c) => key(c.type, c.id))));
      assert.deepEqual(new Set(store.records.keys()), want);
      assert.equal(store.meta.get('cursor'), `page-${p.pages.length}`);
    });
  }
}
