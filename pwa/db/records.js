// The `records` store: the server's copy of every record in scope, as pulled,
// and the records as the screens see them (that copy with the outbox's
// unsent changes laid over it, outbox.js: overlay).
import { overlay, pulled, key, groupByRecord } from '../outbox.js';
import { req, tx } from './idb.js';
import { openEntry, openRecord, sealRecord } from './seal.js';

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
