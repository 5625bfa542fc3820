// Outbox and local-state rules: pure functions shared by the IndexedDB store
// (db.js) and the in-memory store of the node tests.
//
// A record keeps the last state the server sent (`fields`, `version`); what the
// officer changed since lives only in the outbox. What the screens show is the
// record with its pending outbox entries laid over it (`overlay`), so a pulled
// record can never overwrite a field that still has a pending change.
import { fieldLabel } from './validate.js';

export const key = (type, id) => `${type}:${id}`;

/** A new outbox entry for one change (PROTOCOL §3), not yet sent. */
export function newEntry({ type, id, op = 'put', fields = {}, baseVersion = null, hlc, changeId, at }) {
  if (op !== 'put' && op !== 'delete') throw new Error(`unknown op ${op}`);
  return {
    change_id: changeId,
    type,
    id,
    op,
    fields: op === 'delete' ? {} : { ...fields },
    base_version: baseVersion ?? null,
    hlc,
    created_at: at,
    sent: false,
  };
}

/** The change as it goes on the wire. */
export function toWire(entry) {
  const { change_id, type, id, op, fields, base_version, hlc } = entry;
  return { change_id, type, id, op, fields, base_version, hlc };
}

/** Outbox entries (in outbox order) grouped by record key. */
export function groupByRecord(entries) {
  const out = new Map();
  for (const e of entries) {
    const k = key(e.type, e.id);
    if (!out.has(k)) out.set(k, []);
    out.get(k).push(e);
  }
  return out;
}

/** How many records have changes waiting (what the status bar counts). */
export function pendingRecordCount(entries) {
  return groupByRecord(entries).size;
}

/**
 * What the screens show: the server state with pending changes laid over it.
 * Returns null for a record that is gone or deleted locally.
 */
export function overlay(record, entries = []) {
  if (!record) return null;
  const fields = { ...record.fields };
  let deleted = false;
  let changedAt = null;
  for (const e of entries) {
    if (e.op === 'delete') deleted = true;
    else Object.assign(fields, e.fields);
    changedAt = e.created_at;
  }
  if (deleted) return null;
  return {
    ...fields,
    id: record.id,
    _type: record.type,
    _version: record.version ?? null,
    _pending: entries.length,
    _changed_at: changedAt,
  };
}

/**
 * Settle one pushed entry with its result. Returns
 * `{record, notice}`: `record` is the new stored record (null: delete it,
 * undefined: leave it), `notice` is what the officer must be told, or null.
 * `othersPending` says whether other outbox entries remain for this record.
 */
export function settle(record, entry, result, { at, othersPending = false } = {}) {
  const status = result.status;
  if (status === 'applied' || status === 'duplicate') {
    if (entry.op === 'delete') return { record: null, notice: null };
    // A record purged meanwhile (it left the officer's scope) is not brought back.
    if (!record) return { record: undefined, notice: null };
    return { record: advance(record, entry.fields, result.version), notice: null };
  }
  if (status === 'merged') {
    const lost = new Set(result.lost_fields || []);
    const kept = {};
    for (const [name, value] of Object.entries(entry.fields)) if (!lost.has(name)) kept[name] = value;
    // The version stays: the device has not seen the newer values that won;
    // the next pull brings the record at its latest state.
    const next = record ? { ...record, fields: { ...record.fields, ...kept } } : undefined;
    return { record: next, notice: noticeFor(entry, result, at) };
  }
  // rejected (or anything unknown): nothing was written on the server. A record the
  // server never had leaves the records; the officer's values are kept as a draft
  // that needs correcting (drafts.js), never thrown away.
  const neverOnServer = record && (record.version === null || record.version === undefined);
  return {
    record: neverOnServer && !othersPending ? null : undefined,
    notice: noticeFor(entry, result, at),
    correction: correctionFor(entry, result, at),
  };
}

/**
 * What a rejected put leaves to correct: the fields sent and the server's errors
 * (`{field, code, message}`), for drafts.mergeCorrection. A rejected delete leaves
 * the record as it is on the server: nothing to correct, the notice says why.
 */
export function correctionFor(entry, result, at) {
  if (entry.op !== 'put') return null;
  return {
    type: entry.type,
    id: entry.id,
    op: entry.op,
    fields: { ...entry.fields },
    errors: (result.errors || []).map((e) => ({ field: e.field ?? null, code: e.code || 'rejected', message: e.message || e.code || '' })),
    change_id: entry.change_id,
    at,
  };
}

function advance(record, fields, version) {
  const newer = typeof version === 'number' && (record.version == null || version >= record.version);
  return { ...record, version: newer ? version : record.version ?? null, fields: { ...record.fields, ...fields } };
}

/** A notice for a merged or rejected change, kept until the officer dismisses it. */
export function noticeFor(entry, result, at) {
  const lost = result.lost_fields || [];
  const errors = result.errors || [];
  let reason;
  if (result.status === 'merged') {
    reason = lost.includes('_deleted')
      ? 'Not deleted: someone changed this record after your delete.'
      : `Someone else changed ${lost.map(humanField).join(', ')} first; the office can see both values.`;
  } else if (errors.length) {
    reason = errors.map((e) => e.message || e.code).join('; ');
  } else {
    reason = `The server answered "${result.status}".`;
  }
  if (result.status !== 'merged' && entry.op === 'put') {
    reason = `${reason.replace(/\.$/, '')}. It is kept under Drafts: correct it and send it again, or discard it.`;
  }
  return {
    id: entry.change_id,
    change_id: entry.change_id,
    status: result.status,
    type: entry.type,
    entity_id: entry.id,
    op: entry.op,
    fields: entry.fields,
    lost_fields: lost,
    errors,
    reason,
    at,
  };
}

/** A field name as people read it (sync/vocabulary.json), in the middle of a sentence. */
export function humanField(name) {
  if (name === '_deleted') return 'the deletion';
  const label = fieldLabel(name);
  return /^[A-Z][A-Z]/.test(label) ? label : label[0].toLowerCase() + label.slice(1);
}

/**
 * The stored record after one pulled change (PROTOCOL §4): null to purge it
 * (removed from scope, or a tombstone), else the record at the server state.
 */
export function pulled(existing, change) {
  if (change.removed || change.deleted) return null;
  if (existing && existing.version != null && change.version != null && existing.version > change.version) {
    return existing; // never go back to an older state
  }
  const fields = { ...(change.fields || {}) };
  delete fields.id;
  return { type: change.type, id: change.id, version: change.version ?? null, fields };
}
