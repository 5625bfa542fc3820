// Encryption at rest (crypto.js) with node's WebCrypto: round trips, wrong
// PIN, tampering, moved values, the stored keyring revealing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createKeyring, unlockKeyring, seal, open, isSealed, derivePinKey,
  WrongPinError, UnreadableError, PBKDF2_ITERATIONS, SALT_BYTES, IV_BYTES, KDF,
} from '../crypto.js';

const PIN = '482915';
const SECRET = { first_name: 'Zebedee', last_name: 'Quillfeather', notes: 'Mum says the bus never comes — 12 Acacia Row' };
const utf8 = (buf) => new TextDecoder().decode(buf instanceof ArrayBuffer ? new Uint8Array(buf) : buf);

// One keyring at the real cost, shared by the tests (600,000 iterations each time is slow).
const made = await createKeyring(PIN);

test('the keyring uses PBKDF2-SHA-256 at 600,000 iterations, a 16-byte salt and an AES-KW wrapped key', () => {
  const { keyring } = made;
  assert.equal(PBKDF2_ITERATIONS, 600_000);
  assert.equal(keyring.kdf, KDF);
  assert.equal(keyring.kdf, 'PBKDF2-SHA-256');
  assert.equal(keyring.iterations, 600_000);
  assert.ok(keyring.salt instanceof Uint8Array);
  assert.equal(keyring.salt.length, SALT_BYTES);
  assert.equal(keyring.wrap, 'AES-KW');
  assert.equal(keyring.wrapped_key.byteLength, 40, 'a 256-bit key wrapped by AES-KW is 40 bytes');
  assert.ok(isSealed(keyring.verifier));
});

test('the data key in memory is non-extractable AES-GCM-256, for encrypt and decrypt only', async () => {
  const { key } = made;
  assert.equal(key.extractable, false);
  assert.equal(key.algorithm.name, 'AES-GCM');
  assert.equal(key.algorithm.length, 256);
  assert.deepEqual([...key.usages].sort(), ['decrypt', 'encrypt']);
  await assert.rejects(globalThis.crypto.subtle.exportKey('raw', key));
});

test('a sealed value opens again with the same key and place, and shows no plaintext', async () => {
  const box = await seal(made.key, SECRET, 'record/pupil/p1');
  assert.ok(isSealed(box));
  assert.equal(box.iv.length, IV_BYTES);
  assert.deepEqual(Object.keys(box).sort(), ['ct', 'iv', 'sealed']);
  for (const word of ['Zebedee', 'Quillfeather', 'Acacia', 'bus never comes']) {
    assert.ok(!utf8(box.ct).includes(word), `${word} is in the ciphertext`);
    assert.ok(!JSON.stringify(box).includes(word));
  }
  assert.deepEqual(await open(made.key, box, 'record/pupil/p1'), SECRET);
  for (const v of [null, 0, 'text', [1, 2], { nested: { deep: [true] } }]) {
    assert.deepEqual(await open(made.key, await seal(made.key, v, 'x'), 'x'), v);
  }
});

test('every seal has a fresh IV, so equal values do not look equal', async () => {
  const ivs = new Set();
  const cts = new Set();
  for (let i = 0; i < 50; i += 1) {
    const box = await seal(made.key, SECRET, 'a');
    ivs.add(Buffer.from(box.iv).toString('hex'));
    cts.add(Buffer.from(box.ct).toString('hex'));
  }
  assert.equal(ivs.size, 50);
  assert.equal(cts.size, 50);
});

test('the right PIN unlocks the stored keyring; the key opens what the first key sealed', async () => {
  const stored = structuredClone(made.keyring); // as IndexedDB gives it back
  const box = await seal(made.key, SECRET, 'outbox/c1');
  const again = await unlockKeyring(stored, PIN);
  assert.equal(again.extractable, false);
  assert.deepEqual(await open(again, structuredClone(box), 'outbox/c1'), SECRET);
});

test('a wrong PIN is refused', async () => {
  for (const wrong of ['482916', '000000', '', '4829150']) {
    await assert.rejects(unlockKeyring(made.keyring, wrong), WrongPinError, `PIN ${JSON.stringify(wrong)}`);
  }
});

test('a keyring with a changed salt, iteration count, wrapped key or verifier does not unlock', async () => {
  const flip = (bytes, at = 0) => { const b = new Uint8Array(bytes).slice(); b[at] ^= 1; return b; };
  const k = made.keyring;
  await assert.rejects(unlockKeyring({ ...k, salt: flip(k.salt) }, PIN), WrongPinError);
  await assert.rejects(unlockKeyring({ ...k, iterations: k.iterations - 1 }, PIN), WrongPinError);
  await assert.rejects(unlockKeyring({ ...k, wrapped_key: flip(k.wrapped_key, 10).buffer }, PIN), WrongPinError);
  await assert.rejects(unlockKeyring({ ...k, verifier: { ...k.verifier, ct: flip(k.verifier.ct, 3).buffer } }, PIN), WrongPinError);
  await assert.rejects(unlockKeyring({ ...k, kdf: 'MD5' }, PIN), /unknown keyring format/);
});

test('tampered ciphertext, IV or tag, or a value moved to another place, does not open', async () => {
  const box = await seal(made.key, SECRET, 'record/visit/v1');
  const ct = new Uint8Array(box.ct);
  const bad = (i) => { const b = ct.slice(); b[i] ^= 0x80; return b.buffer; };
  await assert.rejects(open(made.key, { ...box, ct: bad(0) }, 'record/visit/v1'), UnreadableError);
  await assert.rejects(open(made.key, { ...box, ct: bad(ct.length - 1) }, 'record/visit/v1'), UnreadableError, 'the tag');
  const iv = box.iv.slice();
  iv[0] ^= 1;
  await assert.rejects(open(made.key, { ...box, iv }, 'record/visit/v1'), UnreadableError);
  await assert.rejects(open(made.key, { ...box, ct: ct.slice(0, 10).buffer }, 'record/visit/v1'), UnreadableError);
  await assert.rejects(open(made.key, box, 'record/visit/v2'), UnreadableError, 'swapped between records');
  await assert.rejects(open(made.key, SECRET, 'record/visit/v1'), UnreadableError, 'plaintext is not accepted');
});

test('a key from another keyring (another PIN set on the phone) cannot open old values', async () => {
  const other = await createKeyring('759301', { iterations: 1000 });
  const box = await seal(made.key, SECRET, 'outbox/c9');
  await assert.rejects(open(other.key, box, 'outbox/c9'), UnreadableError);
  // Same PIN, new keyring: a new random salt and a new random data key.
  const same = await createKeyring(PIN, { iterations: 1000 });
  assert.notDeepEqual(Buffer.from(same.keyring.salt), Buffer.from(made.keyring.salt));
  await assert.rejects(open(same.key, box, 'outbox/c9'), UnreadableError);
});

test('the PIN key only wraps and unwraps, and cannot be exported', async () => {
  const pinKey = await derivePinKey(PIN, made.keyring.salt, 1000);
  assert.equal(pinKey.extractable, false);
  assert.equal(pinKey.algorithm.name, 'AES-KW');
  assert.deepEqual([...pinKey.usages].sort(), ['unwrapKey', 'wrapKey']);
});
