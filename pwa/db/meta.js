// The `meta` store: the session (sealed: tokens and the user), the cursor, the
// clock, the last sync and the other small values, one key each.
import * as box from '../crypto.js';
import { req, tx } from './idb.js';
import { SEALED_META, metaAad, openPayload, sealPayload } from './seal.js';

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
