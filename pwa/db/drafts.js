// The `drafts` store (drafts.js has the rules): forms as they are typed, and
// rejected changes kept to correct. Sealed, with the key, type, id, time and
// whether it needs correcting in the clear (seal.js: sealDraft).
import { req, tx } from './idb.js';
import { openDraft, openStoredDraft, sealDraft } from './seal.js';

let draftListener = null;
/** `fn()` runs after the drafts change (the navigation shows how many there are). */
export function onDraftsChanged(fn) { draftListener = fn; }
export function draftsChanged() { if (draftListener) { try { draftListener(); } catch { /* the screen's business */ } } }

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
