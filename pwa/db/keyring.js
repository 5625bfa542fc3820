// The PIN side of the device store: the keyring and the wrong-PIN counter
// (plaintext in `meta`), unlock, sealing what Doorstep v1 left in plaintext,
// and the wipe. The rules (how many tries, what a wipe reports) are lock.js's.
import * as box from '../crypto.js';
import { MAX_PIN_ATTEMPTS, attemptUnlock } from '../lock.js';
import { STORES, deleteDb, req, tx } from './idb.js';
import { lock, metaAad, sealEntryFields, sealNotice, sealPayload, sealRecord, setDataKey } from './seal.js';
import { lostChanges } from './changes.js';

/** The service worker's cache of the app shell (sw.js: VERSION). */
export const SHELL_CACHE_PREFIX = 'doorstep-shell-';

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
  setDataKey(made.key);
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
      setDataKey(k);
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

/** Forget the wipe report once the server has it. */
export async function clearWipeReport() {
  return tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').delete('wipe_report'); });
}

/** Seal what Doorstep v1 wrote in plaintext (records, outbox, notices, session) once a PIN is set. */
export async function sealLegacy() {
  const raw = await tx(STORES, 'readonly', async (t) => ({
    records: await req(t.objectStore('records').getAll()),
    outbox: await req(t.objectStore('outbox').getAll()),
    notices: await req(t.objectStore('notices').getAll()),
    session: await req(t.objectStore('meta').get('session')),
  }));
  const records = [];
  for (const r of raw.records) if (!box.isSealed(r.payload)) records.push(await sealRecord({ ...r, fields: r.payload }));
  const outbox = [];
  for (const { fields, ...e } of raw.outbox) {
    if (!box.isSealed(e.payload)) outbox.push({ ...e, payload: await sealEntryFields(e.payload || fields || {}, e.change_id) });
  }
  const notices = [];
  for (const n of raw.notices) if (!n.sealed) notices.push(await sealNotice(n));
  const plainSession = raw.session && !box.isSealed(raw.session) ? raw.session : null;
  const session = plainSession ? await sealPayload(plainSession, metaAad('session')) : null;
  await tx(STORES, 'readwrite', (t) => {
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

/**
 * Forget everything on this device: the database (with the keyring) and every
 * cache but the app shell, which holds no data and lets the app start offline.
 * `report` (plaintext, no personal data) is left in a fresh database, to be
 * sent to the audit log after the next sign-in.
 */
export async function wipe({ report = null } = {}) {
  lock();
  await deleteDb();
  if (globalThis.caches) {
    for (const name of await caches.keys()) if (!name.startsWith(SHELL_CACHE_PREFIX)) await caches.delete(name);
  }
  if (report) await tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(report, 'wipe_report'); });
}
