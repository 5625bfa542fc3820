// All IndexedDB access of the app: a handful of async functions over one
// opened database. The schema version is the IndexedDB version; `upgrade`
// branches on oldVersion. Record payloads and outbox fields pass through
// sealPayload/openPayload (identity today; AES-GCM with a PIN-derived key
// later), always outside a transaction, so async crypto can slot in.
import * as hlc from './hlc.js';
import { newEntry, overlay, settle, pulled, key, groupByRecord } from './outbox.js';

export const DB_NAME = 'doorstep';
export const DB_VERSION = 1;
const ALL = ['records', 'outbox', 'meta', 'notices'];

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    const records = db.createObjectStore('records', { keyPath: ['type', 'id'] });
    records.createIndex('type', 'type');
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    outbox.createIndex('record', ['type', 'id']);
    outbox.createIndex('change_id', 'change_id', { unique: true });
    db.createObjectStore('meta');
    db.createObjectStore('notices', { keyPath: 'id' });
  }
}

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const r = indexedDB.open(DB_NAME, DB_VERSION);
      r.onupgradeneeded = (ev) => upgrade(r.result, ev.oldVersion);
      r.onsuccess = () => {
        const db = r.result;
        // Another tab (or wipe) wants to delete or upgrade: let it.
        db.onversionchange = () => { db.close(); dbPromise = null; };
        db.onclose = () => { dbPromise = null; };
        resolve(db);
      };
      r.onerror = () => { dbPromise = null; reject(r.error); };
      r.onblocked = () => { dbPromise = null; reject(new Error('database blocked by another tab')); };
    });
  }
  return dbPromise;
}

const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

async function tx(stores, mode, fn) {
  const db = await openDb();
  const t = db.transaction(stores, mode);
  const finished = new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  let result;
  try {
    result = await fn(t);
  } catch (err) {
    try { t.abort(); } catch { /* already finished */ }
    await finished.catch(() => {});
    throw err;
  }
  await finished;
  return result;
}

// --- payload seal: the one place records and outbox fields are encoded ------
export async function sealPayload(value) { return value; }
export async function openPayload(sealed) { return sealed; }

async function openRecord(row) {
  if (!row) return null;
  return { type: row.type, id: row.id, version: row.version ?? null, fields: (await openPayload(row.payload)) || {} };
}
async function sealRecord(rec) {
  return { type: rec.type, id: rec.id, version: rec.version ?? null, payload: await sealPayload(rec.fields || {}) };
}
async function openEntry(row) {
  const { payload, ...rest } = row;
  return { ...rest, fields: (await openPayload(payload)) || {} };
}

/** Resolves once the database is open (and created or upgraded). */
export async function ready() { await openDb(); }

// --- meta: session, cursor, hlc, last sync, persistence --------------------
export async function getMeta(k) {
  return tx(['meta'], 'readonly', (t) => req(t.objectStore('meta').get(k)));
}
export async function setMeta(k, value) {
  return tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(value, k); });
}
export async function deleteMeta(k) {
  return tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').delete(k); });
}

/**
 * Record one local change: the HLC ticks, the entry goes to the outbox and a
 * new record gets its (empty) server copy, all in one transaction. When this
 * resolves the change is on disk.
 */
export async function addChange({ type, id, op = 'put', fields = {} }) {
  const payload = await sealPayload(op === 'delete' ? {} : fields);
  const empty = await sealPayload({});
  const changeId = crypto.randomUUID();
  const at = new Date().toISOString();
  return tx(['records', 'outbox', 'meta'], 'readwrite', async (t) => {
    const meta = t.objectStore('meta');
    const session = await req(meta.get('session'));
    const last = await req(meta.get('hlc'));
    const stamp = hlc.send(last || null, Date.now(), session?.device_id || 'device');
    meta.put(stamp, 'hlc');
    const records = t.objectStore('records');
    const row = await req(records.get([type, id]));
    if (!row) records.put({ type, id, version: null, payload: empty });
    const entry = newEntry({ type, id, op, fields, baseVersion: row ? row.version : null, hlc: stamp, changeId, at });
    const { fields: _f, ...stored } = entry;
    const seq = await req(t.objectStore('outbox').add({ ...stored, payload }));
    return { ...entry, seq };
  });
}

/** The first `limit` outbox entries in order, marked as sent (resent as-is after a failure). */
export async function pendingChanges(limit = 200) {
  const rows = await tx(['outbox'], 'readwrite', (t) => new Promise((resolve, reject) => {
    const out = [];
    const r = t.objectStore('outbox').openCursor();
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const c = r.result;
      if (!c || out.length >= limit) { resolve(out); return; }
      if (!c.value.sent) c.update({ ...c.value, sent: true });
      out.push({ ...c.value, sent: true });
      c.continue();
    };
  }));
  return Promise.all(rows.map(openEntry));
}

/** Apply push results: drop settled entries, advance records, keep notices. */
export async function settlePush(entries, results) {
  const byId = new Map(results.map((r) => [r.change_id, r]));
  const settled = entries.filter((e) => byId.has(e.change_id));
  const keyPairs = new Map(settled.map((e) => [key(e.type, e.id), [e.type, e.id]]));
  const keys = [...keyPairs.values()];
  const read = await tx(['records', 'outbox'], 'readonly', async (t) => {
    const out = new Map();
    for (const [type, id] of keys) {
      const row = await req(t.objectStore('records').get([type, id]));
      const count = await req(t.objectStore('outbox').index('record').count([type, id]));
      out.set(key(type, id), { row, count });
    }
    return out;
  });
  const at = new Date().toISOString();
  const records = new Map();
  const notices = [];
  for (const [k, { row }] of read) records.set(k, await openRecord(row));
  const remaining = new Map([...read].map(([k, v]) => [k, v.count]));
  for (const e of settled) {
    const k = key(e.type, e.id);
    remaining.set(k, remaining.get(k) - 1);
    const res = settle(records.get(k), e, byId.get(e.change_id), { at, othersPending: remaining.get(k) > 0 });
    if (res.record !== undefined) records.set(k, res.record);
    if (res.notice) notices.push(res.notice);
  }
  const sealed = new Map();
  for (const [k, rec] of records) sealed.set(k, rec ? await sealRecord(rec) : null);
  await tx(['records', 'outbox', 'notices'], 'readwrite', (t) => {
    for (const e of settled) t.objectStore('outbox').delete(e.seq);
    for (const [k, row] of sealed) {
      if (row) t.objectStore('records').put(row);
      else t.objectStore('records').delete(keyPairs.get(k));
    }
    for (const n of notices) t.objectStore('notices').put(n);
  });
  return { settled: settled.length, notices: notices.length };
}

/** Apply one pulled page and, when given, save the cursor in the same transaction. */
export async function applyPull(changes, { cursor } = {}) {
  const prepared = [];
  for (const ch of changes) {
    const rec = pulled(null, ch);
    prepared.push({ ch, row: rec ? await sealRecord(rec) : null });
  }
  return tx(['records', 'meta'], 'readwrite', async (t) => {
    const store = t.objectStore('records');
    let applied = 0;
    for (const { ch, row } of prepared) {
      const existing = await req(store.get([ch.type, ch.id]));
      if (row && existing && existing.version != null && row.version != null && existing.version > row.version) continue;
      if (row) store.put(row);
      else if (existing) store.delete([ch.type, ch.id]);
      applied += 1;
    }
    if (cursor !== undefined) t.objectStore('meta').put(cursor, 'cursor');
    return applied;
  });
}

/** After a full snapshot: drop every record the snapshot did not carry, save the cursor. */
export async function finishSnapshot(seenKeys, cursor) {
  return tx(['records', 'meta'], 'readwrite', (t) => new Promise((resolve, reject) => {
    let purged = 0;
    const r = t.objectStore('records').openCursor();
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const c = r.result;
      if (!c) {
        t.objectStore('meta').put(cursor, 'cursor');
        resolve(purged);
        return;
      }
      // Records created here and not yet on the server (version null) stay.
      if (c.value.version != null && !seenKeys.has(key(c.value.type, c.value.id))) { c.delete(); purged += 1; }
      c.continue();
    };
  }));
}

/** Advance the device clock past a stamp from the server. */
export async function receiveHlc(stamp) {
  if (!hlc.isStamp(stamp)) return;
  await tx(['meta'], 'readwrite', async (t) => {
    const meta = t.objectStore('meta');
    const session = await req(meta.get('session'));
    const last = await req(meta.get('hlc'));
    meta.put(hlc.receive(last || null, stamp, session?.device_id || 'device'), 'hlc');
  });
}

/** Every record of the given types as the screens see them: {type: [view, …]}. */
export async function loadTypes(types) {
  const { rows, entries } = await tx(['records', 'outbox'], 'readonly', async (t) => {
    const rows = {};
    for (const type of types) rows[type] = await req(t.objectStore('records').index('type').getAll(type));
    return { rows, entries: await req(t.objectStore('outbox').getAll()) };
  });
  const opened = await Promise.all(entries.filter((e) => types.includes(e.type)).map(openEntry));
  const pending = groupByRecord(opened);
  const out = {};
  for (const type of types) {
    out[type] = [];
    for (const row of rows[type]) {
      const v = overlay(await openRecord(row), pending.get(key(row.type, row.id)));
      if (v) out[type].push(v);
    }
  }
  return out;
}

/** One record as the screens see it, or null. */
export async function getRecord(type, id) {
  const { row, entries } = await tx(['records', 'outbox'], 'readonly', async (t) => ({
    row: await req(t.objectStore('records').get([type, id])),
    entries: await req(t.objectStore('outbox').index('record').getAll([type, id])),
  }));
  return overlay(await openRecord(row), await Promise.all(entries.map(openEntry)));
}

/** What is waiting: records with changes, entries, the oldest entry's time. */
export async function outboxSummary() {
  const rows = await tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').getAll()));
  const records = new Set(rows.map((r) => key(r.type, r.id)));
  const oldest = rows.reduce((m, r) => (m === null || r.created_at < m ? r.created_at : m), null);
  return { records: records.size, entries: rows.length, oldest };
}

export async function listNotices() {
  const rows = await tx(['notices'], 'readonly', (t) => req(t.objectStore('notices').getAll()));
  return rows.sort((a, b) => (a.at < b.at ? 1 : -1));
}
export async function dismissNotice(id) {
  return tx(['notices'], 'readwrite', (t) => { t.objectStore('notices').delete(id); });
}

/** Forget everything on this device: the database and every cache. */
export async function wipe() {
  if (dbPromise) {
    try { (await dbPromise).close(); } catch { /* was not open */ }
    dbPromise = null;
  }
  await new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase(DB_NAME);
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
    r.onblocked = () => resolve(); // other tabs close on versionchange; the delete completes then
  });
  if (globalThis.caches) {
    for (const name of await caches.keys()) await caches.delete(name);
  }
}

export const STORES = ALL;
