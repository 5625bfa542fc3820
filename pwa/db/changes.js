// The outbox: local changes waiting for the server, in order, with the device
// clock that stamps them. Sending and settling follow outbox.js's rules; a
// settled push also writes the records it advanced, the notices it raised and
// the rejected work kept to correct (drafts), in one transaction.
import * as hlc from '../hlc.js';
import { newEntry, settle, key } from '../outbox.js';
import { mergeCorrection } from '../drafts.js';
import { req, tx } from './idb.js';
import { openEntry, openRecord, openStoredDraft, sealDraft, sealEntryFields, sealNotice, sealRecord } from './seal.js';
import { draftsChanged } from './drafts.js';

/**
 * Record one local change: the HLC ticks, the entry goes to the outbox and a
 * new record gets its (empty) server copy, all in one transaction. When this
 * resolves the change is on disk.
 */
export async function addChange({ type, id, op = 'put', fields = {} }) {
  const changeId = crypto.randomUUID();
  const payload = await sealEntryFields(op === 'delete' ? {} : fields, changeId);
  const empty = await sealRecord({ type, id, version: null, fields: {} });
  const at = new Date().toISOString();
  return tx(['records', 'outbox', 'meta'], 'readwrite', async (t) => {
    const meta = t.objectStore('meta');
    const node = await req(meta.get('device_id'));
    const last = await req(meta.get('hlc'));
    const stamp = hlc.send(last || null, Date.now(), node || 'device');
    meta.put(stamp, 'hlc');
    const records = t.objectStore('records');
    const row = await req(records.get([type, id]));
    if (!row) records.put(empty);
    const entry = newEntry({ type, id, op, fields, baseVersion: row ? row.version : null, hlc: stamp, changeId, at });
    const { fields: _f, ...stored } = entry;
    const seq = await req(t.objectStore('outbox').add({ ...stored, payload }));
    return { ...entry, seq };
  });
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

/** What is waiting: records with changes, entries, the oldest entry's time. */
export async function outboxSummary() {
  const rows = await tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').getAll()));
  const records = new Set(rows.map((r) => key(r.type, r.id)));
  const oldest = rows.reduce((m, r) => (m === null || r.created_at < m ? r.created_at : m), null);
  return { records: records.size, entries: rows.length, oldest };
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
