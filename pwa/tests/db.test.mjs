// db.js and its store modules (db/): the API the app imports stays the same,
// and the seal (db/seal.js) keeps the on-device row shapes — what is in the
// clear and what is sealed — that phones already hold. The stores themselves
// run in a real browser (tests/browser/test_pwa_storage.py and friends).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as db from '../db.js';
import * as seal from '../db/seal.js';
import { isSealed, UnreadableError } from '../crypto.js';

const key = () => globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);

test('db.js exports the same API as before the split into db/', () => {
  assert.deepEqual(Object.keys(db).sort(), [
    'DB_NAME', 'DB_VERSION', 'LockedError', 'SHELL_CACHE_PREFIX', 'STORES',
    'addChange', 'addNotices', 'applyPull', 'clearWipeReport', 'createKeyring', 'deleteDraft', 'deleteMeta',
    'dismissNotice', 'draftSummary', 'finishSnapshot', 'getDraft', 'getMeta', 'getRecord', 'isUnlocked',
    'listDrafts', 'listNotices', 'loadTypes', 'lock', 'lockInfo', 'lostChanges', 'noticeCount', 'onDraftsChanged',
    'openPayload', 'outboxSummary', 'pendingChanges', 'putDraft', 'ready', 'receiveHlc', 'sealLegacy',
    'sealPayload', 'setMeta', 'settlePush', 'unlock', 'wipe', 'wipeAfterWrongPins',
  ]);
  assert.equal(db.DB_NAME, 'doorstep');
  assert.equal(db.DB_VERSION, 2);
  assert.deepEqual(db.STORES, ['records', 'outbox', 'meta', 'notices', 'drafts']);
  assert.equal(db.SHELL_CACHE_PREFIX, 'doorstep-shell-');
});

test('locked, nothing is sealed or opened, and the lock is the one db.js exports', async () => {
  seal.lock();
  assert.equal(db.isUnlocked(), false);
  await assert.rejects(db.sealPayload({ a: 1 }, 'x'), (err) => err instanceof db.LockedError && err.code === 'locked');
  await assert.rejects(seal.sealRecord({ type: 'pupil', id: 'p1', fields: {} }), db.LockedError);
  seal.setDataKey(await key());
  assert.equal(db.isUnlocked(), true);
  db.lock();
  assert.equal(seal.isUnlocked(), false);
});

test('a record row keeps type, id and version in the clear and seals the fields under its place', async () => {
  seal.setDataKey(await key());
  const row = await seal.sealRecord({ type: 'pupil', id: 'p1', version: 3, fields: { first_name: 'Zebedee' } });
  assert.deepEqual(Object.keys(row), ['type', 'id', 'version', 'payload']);
  assert.deepEqual([row.type, row.id, row.version], ['pupil', 'p1', 3]);
  assert.ok(isSealed(row.payload));
  assert.doesNotMatch(JSON.stringify(row), /Zebedee/);
  assert.deepEqual(await seal.openRecord(row), { type: 'pupil', id: 'p1', version: 3, fields: { first_name: 'Zebedee' } });
  // moved to another record, it does not open
  await assert.rejects(seal.openRecord({ ...row, id: 'p2' }), UnreadableError);
  assert.equal(await seal.openRecord(undefined), null);
});

test('an outbox entry seals its fields under its change id', async () => {
  seal.setDataKey(await key());
  const payload = await seal.sealEntryFields({ notes: 'gate locked' }, 'c1');
  const opened = await seal.openEntry({ seq: 1, change_id: 'c1', type: 'visit', id: 'v1', payload });
  assert.deepEqual(opened, { seq: 1, change_id: 'c1', type: 'visit', id: 'v1', fields: { notes: 'gate locked' } });
  await assert.rejects(seal.openEntry({ seq: 2, change_id: 'c2', payload }), UnreadableError);
});

test('notices and drafts keep only what sorting and counting need in the clear', async () => {
  seal.setDataKey(await key());
  const notice = { id: 'n1', at: '2026-12-01T10:00:00Z', type: 'rejected', status: 'new', message: 'Mrs Quill' };
  const nrow = await seal.sealNotice(notice);
  assert.deepEqual(Object.keys(nrow), ['id', 'at', 'type', 'status', 'sealed']);
  assert.doesNotMatch(JSON.stringify(nrow), /Quill/);
  assert.deepEqual(await seal.openNotice(nrow), notice);

  const draft = { key: 'visit/v1', type: 'visit', id: 'v1', updated_at: '2026-12-01', rejected: { x: 1 }, fields: { notes: 'Quill' } };
  const drow = await seal.sealDraft(draft);
  assert.deepEqual(Object.keys(drow), ['key', 'type', 'id', 'updated_at', 'needs_correcting', 'sealed']);
  assert.equal(drow.needs_correcting, true);
  assert.doesNotMatch(JSON.stringify(drow), /Quill/);
  assert.deepEqual(await seal.openDraft(drow), draft);
  assert.equal(await seal.openDraft(null), null);
});

test('a stored draft that cannot be read is dropped, but a locked app is not mistaken for one', async () => {
  seal.setDataKey(await key());
  const drow = await seal.sealDraft({ key: 'visit/v1', type: 'visit', id: 'v1' });
  assert.equal(await seal.openStoredDraft({ ...drow, key: 'visit/v2' }), null);
  assert.equal(await seal.openStoredDraft(null), null);
  seal.lock();
  await assert.rejects(seal.openStoredDraft(drow), db.LockedError);
});
