// The data key and the seal: the one place values are encrypted (docs/security.md).
// Every record payload, outbox entry's fields, notice, draft and the session is
// sealed with AES-GCM under the data key (crypto.js) before it is written, and
// opened after it is read — always outside a transaction (idb.js: tx). What
// stays plaintext is what indexing and the lock need: store keys (type names,
// ids), versions, HLC stamps, created times, the cursor, the keyring and the
// wrong-PIN counter. The data key lives only in this module's memory, between
// an unlock and lock().
import * as box from '../crypto.js';

let dataKey = null; // non-extractable CryptoKey, in memory only while unlocked

/** Personal data asked for while the app is locked. */
export class LockedError extends Error {
  constructor() { super('Doorstep is locked.'); this.name = 'LockedError'; this.code = 'locked'; }
}

export const isUnlocked = () => dataKey !== null;

/** Forget the data key: everything personal is unreadable until it is set again. */
export function lock() { dataKey = null; }

/** Keep the data key a keyring opened (keyring.js). */
export function setDataKey(k) { dataKey = k; }

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
export const metaAad = (k) => `meta/${k}`;
/** Meta values that are personal or secret (the tokens, the user): sealed. */
export const SEALED_META = new Set(['session']);

/** A records row: type, id and version in the clear, the fields sealed. */
export async function openRecord(row) {
  if (!row) return null;
  const fields = await openPayload(row.payload, recordAad(row.type, row.id));
  return { type: row.type, id: row.id, version: row.version ?? null, fields: fields || {} };
}
export async function sealRecord(rec) {
  const payload = await sealPayload(rec.fields || {}, recordAad(rec.type, rec.id));
  return { type: rec.type, id: rec.id, version: rec.version ?? null, payload };
}

/** An outbox entry's fields, sealed under its change id. */
export const sealEntryFields = (fields, changeId) => sealPayload(fields, entryAad(changeId));
export async function openEntry(row) {
  const { payload, ...rest } = row;
  return { ...rest, fields: (await openPayload(payload, entryAad(row.change_id))) || {} };
}

/** A notice keeps id, time, type and status in the clear (sorting, counting); the rest is sealed. */
export async function sealNotice(n) {
  return { id: n.id, at: n.at, type: n.type, status: n.status, sealed: await sealPayload(n, noticeAad(n.id)) };
}
export const openNotice = (row) => openPayload(row.sealed, noticeAad(row.id));

/** A draft keeps its key, type, id, time and whether it needs correcting in the clear; the rest is sealed. */
export async function sealDraft(d) {
  return {
    key: d.key, type: d.type || null, id: d.id || null, updated_at: d.updated_at || null,
    needs_correcting: !!d.rejected, sealed: await sealPayload(d, draftAad(d.key)),
  };
}
export const openDraft = (row) => (row ? openPayload(row.sealed, draftAad(row.key)) : null);

/** A stored draft opened, or null when there is none or it cannot be read (it is replaced). */
export async function openStoredDraft(row) {
  if (!row) return null;
  try { return await openDraft(row); } catch (err) {
    if (err && err.code === 'locked') throw err;
    return null;
  }
}
