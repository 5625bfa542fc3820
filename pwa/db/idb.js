// The one opened IndexedDB database: its layout, the upgrade, and the
// transaction helper every store module uses. The schema version is the
// IndexedDB version; `upgrade` branches on oldVersion. The layout is what
// phones already hold (tests/browser/test_pwa_drafts.py upgrades a frozen v1):
// change it only by adding a version.

export const DB_NAME = 'doorstep';
export const DB_VERSION = 2;
export const STORES = ['records', 'outbox', 'meta', 'notices', 'drafts'];

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

/** Resolves once the database is open (and created or upgraded). */
export async function ready() { await openDb(); }

/** An IDBRequest as a promise. */
export const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

/**
 * Run `fn(transaction)` over `stores`; resolves with its result once the
 * transaction commits. `fn` may await IndexedDB requests only: anything else
 * (WebCrypto) lets the transaction close, so sealing happens before or after.
 */
export async function tx(stores, mode, fn) {
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

/** Close this tab's connection and delete the database (the next tx() creates it afresh). */
export async function deleteDb() {
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
}
