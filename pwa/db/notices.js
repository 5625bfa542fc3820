// The `notices` store: what the officer must see (a rejected change, work lost
// with a forgotten PIN). Sealed, with id, time, type and status in the clear.
import { req, tx } from './idb.js';
import { openNotice, sealNotice } from './seal.js';

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
