// All IndexedDB access of the app: a handful of async functions over one
// opened database. The schema version is the IndexedDB version; `upgrade`
// branches on oldVersion.
//
// Encryption at rest (docs/security.md): every record payload, outbox entry's
// fields, notice and the session (tokens) is sealed with AES-GCM under the data
// key (crypto.js) before it is written, and opened after it is read — always
// outside a transaction, because WebCrypto is async and an IndexedDB
// transaction closes when it waits on anything else. What stays plaintext is
// what indexing and the lock need: store keys (type names, ids), versions, HLC
// stamps, created times, the cursor, the keyring and the wrong-PIN counter.
// The data key lives only in this module's memory, between unlock() and lock().
import * as hlc from './hlc.js';
import * as box from './crypto.js';
import { MAX_PIN_ATTEMPTS, attemptUnlock } from './lock.js';
import { newEntry, overlay, settle, pulled, key, groupByRecord } from './outbox.js';
import { mergeCorrection } from './drafts.js';

export const DB_NAME = 'doorstep';
export const DB_VERSION = 2;
const ALL = ['records', 'outbox', 'meta', 'notices', 'drafts'];

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
  if (oldVersion < 2) {
    // Drafts (drafts.js): forms kept as they are typed, and rejected changes to correct.
    // Version 1 had nothing like them, so the upgrade only adds the store.
    db.createObjectStore('drafts', { keyPath: 'key' });
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

// --- the data key and the seal: the one place values are encrypted ---------
let dataKey = null; // non-extractable CryptoKey, in memory only while unlocked

/** Personal data asked for while the app is locked. */
export class LockedError extends Error {
  constructor() { super('Doorstep is locked.'); this.name = 'LockedError'; this.code = 'locked'; }
}

/** `aad` names where the value is stored, so a sealed value moved elsewhere does not open. */
export async function sealPayload(value, aad) {
  if (!dataKey) throw new LockedError();
  return box.seal(dataKey, value, aad);
}
export async function openPayload(sealed, aad) {
  if (!dataKey) throw new LockedError();
  return box.open(dataKey, sealed, aad);
}

const recordAad = (type, id) => `record/${type}/${id}`;
const entryAad = (changeId) => `outbox/${changeId}`;
const noticeAad = (id) => `notice/${id}`;
const draftAad = (k) => `draft/${k}`;
const metaAad = (k) => `meta/${k}`;
/** Meta values that are personal or secret (the tokens, the user): sealed. */
const SEALED_META = new Set(['session']);

async function openRecord(row) {
  if (!row) return null;
  const fields = await openPayload(row.payload, recordAad(row.type, row.id));
  return { type: row.type, id: row.id, version: row.version ?? null, fields: fields || {} };
}
async function sealRecord(rec) {
  const payload = await sealPayload(rec.fields || {}, recordAad(rec.type, rec.id));
  return { type: rec.type, id: rec.id, version: rec.version ?? null, payload };
}
async function openEntry(row) {
  const { payload, ...rest } = row;
  return { ...rest, fields: (await openPayload(payload, entryAad(row.change_id))) || {} };
}
/** A notice keeps id, time, type and status in the clear (sorting, counting); the rest is sealed. */
async function sealNotice(n) {
  return { id: n.id, at: n.at, type: n.type, status: n.status, sealed: await sealPayload(n, noticeAad(n.id)) };
}
const openNotice = (row) => openPayload(row.sealed, noticeAad(row.id));
/** A draft keeps its key, type, id, time and whether it needs correcting in the clear; the rest is sealed. */
async function sealDraft(d) {
  return {
    key: d.key, type: d.type || null, id: d.id || null, updated_at: d.updated_at || null,
    needs_correcting: !!d.rejected, sealed: await sealPayload(d, draftAad(d.key)),
  };
}
const openDraft = (row) => (row ? openPayload(row.sealed, draftAad(row.key)) : null);

/** Resolves once the database is open (and created or upgraded). */
export async function ready() { await openDb(); }

// --- PIN: the keyring, unlock and lock ----------------------------------------
export const isUnlocked = () => dataKey !== null;

/** Forget the data key: everything personal is unreadable until unlock(). */
export function lock() { dataKey = null; }

/** What the app needs before unlocking, all plaintext. */
export async function lockInfo() {
  return tx(['meta'], 'readonly', async (t) => {
    const meta = t.objectStore('meta');
    const keyring = await req(meta.get('keyring'));
    const session = keyring ? null : await req(meta.get('session'));
    return {
      hasPin: !!keyring,
      failures: (await req(meta.get('pin_failures'))) || 0,
      userId: (await req(meta.get('user_id'))) || null,
      deviceId: (await req(meta.get('device_id'))) || null,
      wipeReport: (await req(meta.get('wipe_report'))) || null,
      // A session written before PINs existed (Doorstep v1): its data is sealed once a PIN is set.
      legacySession: session && !box.isSealed(session) ? session : null,
    };
  });
}

/** Set a PIN: a new keyring (random salt, random data key), and the app is unlocked with it. */
export async function createKeyring(pin) {
  const made = await box.createKeyring(pin);
  await tx(['meta'], 'readwrite', (t) => {
    t.objectStore('meta').put(made.keyring, 'keyring');
    t.objectStore('meta').put(0, 'pin_failures');
  });
  dataKey = made.key;
}

/** Try a PIN against the wrong-PIN counter (lock.js: attemptUnlock): ten wrong in a row wipe. */
export async function unlock(pin) {
  const res = await attemptUnlock(pin, {
    begin: () => tx(['meta'], 'readwrite', async (t) => {
      const meta = t.objectStore('meta');
      const keyring = await req(meta.get('keyring'));
      const failures = (await req(meta.get('pin_failures'))) || 0;
      if (keyring) meta.put(failures + 1, 'pin_failures'); // counted before the check
      return { keyring, failures };
    }),
    check: (keyring, p) => box.unlockKeyring(keyring, p),
    succeed: async (k) => {
      await tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(0, 'pin_failures'); });
      dataKey = k;
    },
    wipe: (count) => wipeAfterWrongPins(count),
  });
  return { ok: res.ok, wiped: !!res.wiped, left: res.left ?? null };
}

/** Wipe after too many wrong PINs. The report is sent to the audit log after the next sign-in. */
export async function wipeAfterWrongPins(attempts = MAX_PIN_ATTEMPTS) {
  const info = await lockInfo();
  const lost = await lostChanges();
  await wipe({
    report: {
      event: 'pin_wipe', at: new Date().toISOString(), attempts,
      previous_device_id: info.deviceId, previous_user_id: info.userId, lost,
    },
  });
}

/**
 * The outbox as far as it is readable without the key: type, id, op and time of
 * each change, and whether it was sent (the answer may have been lost on the way back).
 */
export async function lostChanges() {
  const rows = await tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').getAll()));
  return rows.map((r) => ({
    change_id: r.change_id, type: r.type, id: r.id, op: r.op, created_at: r.created_at, sent: !!r.sent,
  }));
}

/** Forget the wipe report once the server has it. */
export async function clearWipeReport() {
  return tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').delete('wipe_report'); });
}

/** Seal what Doorstep v1 wrote in plaintext (records, outbox, notices, session) once a PIN is set. */
export async function sealLegacy() {
  const raw = await tx(ALL, 'readonly', async (t) => ({
    records: await req(t.objectStore('records').getAll()),
    outbox: await req(t.objectStore('outbox').getAll()),
    notices: await req(t.objectStore('notices').getAll()),
    session: await req(t.objectStore('meta').get('session')),
  }));
  const records = [];
  for (const r of raw.records) if (!box.isSealed(r.payload)) records.push(await sealRecord({ ...r, fields: r.payload }));
  const outbox = [];
  for (const { fields, ...e } of raw.outbox) {
    if (!box.isSealed(e.payload)) outbox.push({ ...e, payload: await sealPayload(e.payload || fields || {}, entryAad(e.change_id)) });
  }
  const notices = [];
  for (const n of raw.notices) if (!n.sealed) notices.push(await sealNotice(n));
  const plainSession = raw.session && !box.isSealed(raw.session) ? raw.session : null;
  const session = plainSession ? await sealPayload(plainSession, metaAad('session')) : null;
  await tx(ALL, 'readwrite', (t) => {
    for (const r of records) t.objectStore('records').put(r);
    for (const e of outbox) t.objectStore('outbox').put(e);
    for (const n of notices) t.objectStore('notices').put(n);
    if (session) {
      t.objectStore('meta').put(session, 'session');
      t.objectStore('meta').put(plainSession.device_id || null, 'device_id');
      t.objectStore('meta').put(plainSession.user?.id || null, 'user_id');
    }
  });
  return { records: records.length, outbox: outbox.length, notices: notices.length };
}

// --- meta: session, cursor, hlc, last sync ------------------------------------
export async function getMeta(k) {
  const value = await tx(['meta'], 'readonly', (t) => req(t.objectStore('meta').get(k)));
  if (!SEALED_META.has(k) || value === undefined || value === null) return value;
  if (!box.isSealed(value)) return null; // plaintext where a sealed value belongs: not trusted
  return openPayload(value, metaAad(k));
}
export async function setMeta(k, value) {
  const sealed = SEALED_META.has(k) && value != null;
  const stored = sealed ? await sealPayload(value, metaAad(k)) : value;
  return tx(['meta'], 'readwrite', (t) => {
    const meta = t.objectStore('meta');
    meta.put(stored, k);
    if (k === 'session' && value) {
      // The ids the clock and the lock need without the key.
      meta.put(value.device_id || null, 'device_id');
      meta.put(value.user?.id || null, 'user_id');
    }
  });
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
  const changeId = crypto.randomUUID();
  const payload = await sealPayload(op === 'delete' ? {} : fields, entryAad(changeId));
  const empty = await sealPayload({}, recordAad(type, id));
  const at = new Date().toISOString();
  return tx(['records', 'outbox', 'meta'], 'readwrite', async (t) => {
    const meta = t.objectStore('meta');
    const node = await req(meta.get('device_id'));
    const last = await req(meta.get('hlc'));
    const stamp = hlc.send(last || null, Date.now(), node || 'device');
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
  const rejected = settled.some((e) => byId.get(e.change_id).status === 'rejected');
  const read = await tx(['records', 'outbox', 'drafts'], 'readonly', async (t) => {
    const out = new Map();
    for (const [type, id] of keys) {
      const row = await req(t.objectStore('records').get([type, id]));
      const count = await req(t.objectStore('outbox').index('record').count([type, id]));
      // the draft kept for this record (drafts.recordKey is outbox.key), read only when needed
      const draft = rejected ? await req(t.objectStore('drafts').get(key(type, id))) : undefined;
      out.set(key(type, id), { row, count, draft });
    }
    return out;
  });
  const at = new Date().toISOString();
  const records = new Map();
  const notices = [];
  const drafts = new Map();
  for (const [k, { row }] of read) records.set(k, await openRecord(row));
  const remaining = new Map([...read].map(([k, v]) => [k, v.count]));
  for (const e of settled) {
    const k = key(e.type, e.id);
    remaining.set(k, remaining.get(k) - 1);
    const res = settle(records.get(k), e, byId.get(e.change_id), { at, othersPending: remaining.get(k) > 0 });
    if (res.record !== undefined) records.set(k, res.record);
    if (res.notice) notices.push(res.notice);
    if (res.correction) {
      // Nothing rejected is thrown away: it waits under Drafts to be corrected.
      if (!drafts.has(k)) drafts.set(k, await openStoredDraft(read.get(k).draft));
      drafts.set(k, mergeCorrection(drafts.get(k), res.correction));
    }
  }
  const sealed = new Map();
  for (const [k, rec] of records) sealed.set(k, rec ? await sealRecord(rec) : null);
  const sealedNotices = await Promise.all(notices.map(sealNotice));
  const sealedDrafts = await Promise.all([...drafts.values()].map(sealDraft));
  await tx(['records', 'outbox', 'notices', 'drafts'], 'readwrite', (t) => {
    for (const e of settled) t.objectStore('outbox').delete(e.seq);
    for (const [k, row] of sealed) {
      if (row) t.objectStore('records').put(row);
      else t.objectStore('records').delete(keyPairs.get(k));
    }
    for (const n of sealedNotices) t.objectStore('notices').put(n);
    for (const d of sealedDrafts) t.objectStore('drafts').put(d);
  });
  if (sealedDrafts.length) draftsChanged();
  return { settled: settled.length, notices: notices.length, corrections: sealedDrafts.length };
}

/** A stored draft opened, or null when there is none or it cannot be read (it is replaced). */
async function openStoredDraft(row) {
  if (!row) return null;
  try { return await openDraft(row); } catch (err) {
    if (err && err.code === 'locked') throw err;
    return null;
  }
}

/** Apply one pulled page and, when given, save the cursor in the same transaction. */
export async function applyPull(changes, { cursor } = {}) {
  const prepared = await Promise.all(changes.map(async (ch) => {
    const rec = pulled(null, ch);
    return { ch, row: rec ? await sealRecord(rec) : null };
  }));
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
    const node = await req(meta.get('device_id'));
    const last = await req(meta.get('hlc'));
    meta.put(hlc.receive(last || null, stamp, node || 'device'), 'hlc');
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
    const opened = await Promise.all(rows[type].map(openRecord));
    out[type] = opened.map((rec) => overlay(rec, pending.get(key(rec.type, rec.id)))).filter(Boolean);
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

// --- drafts (drafts.js): forms as they are typed, rejected changes to correct ----
let draftListener = null;
/** `fn()` runs after the drafts change (the navigation shows how many there are). */
export function onDraftsChanged(fn) { draftListener = fn; }
function draftsChanged() { if (draftListener) { try { draftListener(); } catch { /* the screen's business */ } } }

/** One draft, opened, or null. */
export async function getDraft(k) {
  const row = await tx(['drafts'], 'readonly', (t) => req(t.objectStore('drafts').get(k)));
  return row ? openDraft(row) : null;
}
/** Store a draft (sealed: what was typed is personal). */
export async function putDraft(d) {
  const row = await sealDraft(d);
  await tx(['drafts'], 'readwrite', (t) => { t.objectStore('drafts').put(row); });
  draftsChanged();
}
export async function deleteDraft(k) {
  await tx(['drafts'], 'readwrite', (t) => { t.objectStore('drafts').delete(k); });
  draftsChanged();
}
/** Every draft, opened, newest first; one that cannot be read is left out. */
export async function listDrafts() {
  const rows = await tx(['drafts'], 'readonly', (t) => req(t.objectStore('drafts').getAll()));
  const out = [];
  for (const row of rows) {
    const d = await openStoredDraft(row);
    if (d) out.push(d);
  }
  return out.sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1));
}
/** How many drafts, and how many need correcting, without the key. */
export async function draftSummary() {
  const rows = await tx(['drafts'], 'readonly', (t) => req(t.objectStore('drafts').getAll()));
  return { drafts: rows.length, needsCorrecting: rows.filter((r) => r.needs_correcting).length };
}

export async function listNotices() {
  const rows = await tx(['notices'], 'readonly', (t) => req(t.objectStore('notices').getAll()));
  const notices = await Promise.all(rows.map(openNotice));
  return notices.sort((a, b) => (a.at < b.at ? 1 : -1));
}
/** Keep notices the officer must see (e.g. changes lost with a forgotten PIN). */
export async function addNotices(list) {
  const rows = await Promise.all(list.map(sealNotice));
  return tx(['notices'], 'readwrite', (t) => { for (const r of rows) t.objectStore('notices').put(r); });
}
export async function noticeCount() {
  return tx(['notices'], 'readonly', (t) => req(t.objectStore('notices').count()));
}
export async function dismissNotice(id) {
  return tx(['notices'], 'readwrite', (t) => { t.objectStore('notices').delete(id); });
}

/**
 * Forget everything on this device: the database (with the keyring) and every
 * cache but the app shell, which holds no data and lets the app start offline.
 * `report` (plaintext, no personal data) is left in a fresh database, to be
 * sent to the audit log after the next sign-in.
 */
export async function wipe({ report = null } = {}) {
  dataKey = null;
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
    for (const name of await caches.keys()) if (!name.startsWith(SHELL_CACHE_PREFIX)) await caches.delete(name);
  }
  if (report) await tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(report, 'wipe_report'); });
}

/** The service worker's cache of the app shell (sw.js: VERSION). */
export const SHELL_CACHE_PREFIX = 'doorstep-shell-';
export const STORES = ALL;
