// All IndexedDB access of the app: a handful of async functions over one
// opened database, one module per store under db/ and re-exported here, so
// the rest of the app imports one module:
//
//   db/idb.js       the database: layout, upgrade (by oldVersion), transactions
//   db/seal.js      the data key and the seal: the one place values are encrypted
//   db/keyring.js   the PIN: keyring, unlock, wrong-PIN counter, legacy sealing, wipe
//   db/meta.js      session, cursor, last sync and other small values
//   db/changes.js   the outbox and the device clock; settling a push
//   db/records.js   the server's copy of each record, pulled; records as the screens see them
//   db/drafts.js    forms as they are typed, rejected changes to correct
//   db/notices.js   what the officer must see
//
// Encryption at rest (docs/security.md): every record payload, outbox entry's
// fields, notice, draft and the session (tokens) is sealed with AES-GCM under
// the data key (crypto.js) before it is written, and opened after it is read —
// always outside a transaction. The data key lives only in db/seal.js's memory,
// between unlock() and lock().
export { DB_NAME, DB_VERSION, STORES, ready } from './db/idb.js';
export { LockedError, sealPayload, openPayload, isUnlocked, lock } from './db/seal.js';
export {
  SHELL_CACHE_PREFIX, lockInfo, createKeyring, unlock, wipeAfterWrongPins, clearWipeReport, sealLegacy, wipe,
} from './db/keyring.js';
export { getMeta, setMeta, deleteMeta } from './db/meta.js';
export { addChange, receiveHlc, pendingChanges, settlePush, outboxSummary, lostChanges } from './db/changes.js';
export { applyPull, finishSnapshot, loadTypes, getRecord } from './db/records.js';
export { onDraftsChanged, getDraft, putDraft, deleteDraft, listDrafts, draftSummary } from './db/drafts.js';
export { listNotices, addNotices, noticeCount, dismissNotice } from './db/notices.js';
