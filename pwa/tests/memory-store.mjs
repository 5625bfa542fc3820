// An in-memory store with the same interface as db.js, built on the same pure
// rules (outbox.js, hlc.js), so the sync engine can be tested without a browser.
import * as hlc from '../hlc.js';
import { newEntry, overlay, settle, pulled, key, groupByRecord } from '../outbox.js';

let uuidCounter = 0;
export const fakeUuid = () => {
  uuidCounter += 1;
  return `00000000-0000-4000-8000-${String(uuidCounter).padStart(12, '0')}`;
};

export function createMemoryStore({ now = () => Date.now(), uuid = fakeUuid } = {}) {
  const records = new Map(); // key -> {type, id, version, fields}
  const outbox = []; // entries with seq
  const meta = new Map();
  const notices = new Map();
  let seq = 0;
  const clone = (v) => (v === undefined ? v : structuredClone(v));

  return {
    records, outbox, meta, notices,
    async getMeta(k) { return clone(meta.get(k)); },
    async setMeta(k, v) { meta.set(k, clone(v)); },
    async deleteMeta(k) { meta.delete(k); },
    async addChange({ type, id, op = 'put', fields = {} }) {
      const node = meta.get('session')?.device_id || 'device';
      const stamp = hlc.send(meta.get('hlc') || null, now(), node);
      meta.set('hlc', stamp);
      const existing = records.get(key(type, id));
      if (!existing) records.set(key(type, id), { type, id, version: null, fields: {} });
      const entry = newEntry({
        type, id, op, fields: clone(fields), baseVersion: existing ? existing.version : null,
        hlc: stamp, changeId: uuid(), at: new Date(now()).toISOString(),
      });
      seq += 1;
      outbox.push({ ...entry, seq });
      return { ...entry, seq };
    },
    async pendingChanges(limit = 200) {
      const out = outbox.slice(0, limit);
      for (const e of out) e.sent = true;
      return clone(out);
    },
    async settlePush(entries, results) {
      const byId = new Map(results.map((r) => [r.change_id, r]));
      let settled = 0;
      let count = 0;
      for (const e of entries) {
        const r = byId.get(e.change_id);
        if (!r) continue;
        const i = outbox.findIndex((x) => x.seq === e.seq);
        if (i >= 0) outbox.splice(i, 1);
        const k = key(e.type, e.id);
        const others = outbox.some((x) => key(x.type, x.id) === k);
        const res = settle(records.get(k) || null, e, r, { at: new Date(now()).toISOString(), othersPending: others });
        if (res.record === null) records.delete(k);
        else if (res.record !== undefined) records.set(k, res.record);
        if (res.notice) { notices.set(res.notice.id, res.notice); count += 1; }
        settled += 1;
      }
      return { settled, notices: count };
    },
    async applyPull(changes, { cursor } = {}) {
      let applied = 0;
      for (const ch of changes) {
        const k = key(ch.type, ch.id);
        const existing = records.get(k) || null;
        const rec = pulled(existing, clone(ch));
        if (rec === existing) continue;
        if (rec) records.set(k, rec);
        else records.delete(k);
        applied += 1;
      }
      if (cursor !== undefined) meta.set('cursor', cursor);
      return applied;
    },
    async finishSnapshot(seen, cursor) {
      let purged = 0;
      for (const [k, r] of records) {
        if (r.version != null && !seen.has(k)) { records.delete(k); purged += 1; }
      }
      meta.set('cursor', cursor);
      return purged;
    },
    async receiveHlc(stamp) {
      const node = meta.get('session')?.device_id || 'device';
      meta.set('hlc', hlc.receive(meta.get('hlc') || null, stamp, node));
    },
    async getRecord(type, id) {
      const k = key(type, id);
      return overlay(records.get(k) || null, outbox.filter((e) => key(e.type, e.id) === k));
    },
    async loadTypes(types) {
      const pending = groupByRecord(outbox);
      const out = {};
      for (const t of types) {
        out[t] = [...records.values()].filter((r) => r.type === t)
          .map((r) => overlay(r, pending.get(key(r.type, r.id)))).filter(Boolean);
      }
      return out;
    },
    async outboxSummary() {
      return {
        records: new Set(outbox.map((e) => key(e.type, e.id))).size,
        entries: outbox.length,
        oldest: outbox.length ? outbox[0].created_at : null,
      };
    },
    async listNotices() { return [...notices.values()]; },
    async dismissNotice(id) { notices.delete(id); },
  };
}
