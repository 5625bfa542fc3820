// Encryption at rest: pure WebCrypto, no storage (db.js keeps the keyring and
// calls these). The key hierarchy (docs/security.md):
//
//   PIN ──PBKDF2-SHA-256, 600,000 iterations, random 16-byte salt──▶ PIN key (AES-KW-256, never stored)
//   PIN key ──AES-KW (RFC 3394) wraps──▶ data key (random AES-GCM-256), stored only wrapped
//   data key ──AES-GCM, fresh 12-byte IV, AAD = where the value lives──▶ every sealed value
//
// After unwrapping, the data key is a non-extractable CryptoKey held in memory
// only; a wrong PIN fails the key wrap's integrity check (and the verifier).

export const KDF = 'PBKDF2-SHA-256';
/** OWASP Password Storage Cheat Sheet (2023) for PBKDF2-HMAC-SHA-256. */
export const PBKDF2_ITERATIONS = 600_000;
export const MIN_ITERATIONS = 600_000;
export const SALT_BYTES = 16;
export const IV_BYTES = 12;
const VERIFIER_TEXT = 'doorstep-keyring-verifier-v1';
const VERIFIER_AAD = 'doorstep/verifier';

const subtle = () => {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error('This browser cannot encrypt (WebCrypto is missing; Doorstep needs https or localhost).');
  return s;
};
const enc = new TextEncoder();
const dec = new TextDecoder();
const random = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** The PIN can't be read: a wrong PIN or a keyring that was tampered with. */
export class WrongPinError extends Error {
  constructor() { super('Wrong PIN.'); this.name = 'WrongPinError'; this.code = 'wrong_pin'; }
}

/** A sealed value that fails authentication: tampered, moved, or sealed under another key. */
export class UnreadableError extends Error {
  constructor(message = 'This data cannot be decrypted.') { super(message); this.name = 'UnreadableError'; this.code = 'unreadable'; }
}

/** PIN → AES-KW key (non-extractable, only wrapKey/unwrapKey). */
export async function derivePinKey(pin, salt, iterations = PBKDF2_ITERATIONS) {
  if (!(iterations >= 1)) throw new Error('bad iteration count');
  const base = await subtle().importKey('raw', enc.encode(String(pin)), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base, { name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey'],
  );
}

/**
 * A new keyring for a PIN: returns {keyring, key}. `keyring` is what is stored
 * (salt, iterations, the wrapped data key, a verifier): nothing in it reveals
 * the data key without the PIN. `key` is the data key, non-extractable.
 */
export async function createKeyring(pin, { iterations = PBKDF2_ITERATIONS } = {}) {
  const salt = random(SALT_BYTES);
  const pinKey = await derivePinKey(pin, salt, iterations);
  // Extractable only for this moment, so that it can be wrapped; the copy
  // the app keeps is unwrapped again as non-extractable.
  const fresh = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const wrapped = await subtle().wrapKey('raw', fresh, pinKey, 'AES-KW');
  const key = await unwrapDataKey(wrapped, pinKey);
  const verifier = await seal(key, VERIFIER_TEXT, VERIFIER_AAD);
  const keyring = {
    v: 1, kdf: KDF, iterations, salt, wrap: 'AES-KW', cipher: 'AES-GCM-256', wrapped_key: wrapped, verifier,
  };
  return { keyring, key };
}

function unwrapDataKey(wrapped, pinKey) {
  return subtle().unwrapKey('raw', wrapped, pinKey, 'AES-KW', { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** The data key for a PIN, or WrongPinError. */
export async function unlockKeyring(keyring, pin) {
  if (!keyring || keyring.kdf !== KDF || keyring.wrap !== 'AES-KW') throw new Error('unknown keyring format');
  const pinKey = await derivePinKey(pin, keyring.salt, keyring.iterations);
  let key;
  try {
    key = await unwrapDataKey(keyring.wrapped_key, pinKey);
  } catch {
    throw new WrongPinError(); // AES-KW's integrity check failed
  }
  try {
    if ((await open(key, keyring.verifier, VERIFIER_AAD)) !== VERIFIER_TEXT) throw new WrongPinError();
  } catch {
    throw new WrongPinError();
  }
  return key;
}

/** Is this a value `seal` produced? */
export function isSealed(box) {
  return !!box && typeof box === 'object' && box.sealed === 1 && box.iv instanceof Uint8Array
    && box.ct instanceof ArrayBuffer;
}

/**
 * Encrypt any JSON value with AES-GCM and a fresh random IV. `aad` names where
 * the value is stored (e.g. "record/visit/<id>"): a sealed value moved to
 * another place does not open.
 */
export async function seal(key, value, aad) {
  if (!key) throw new Error('no key');
  const iv = random(IV_BYTES);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: enc.encode(aad) }, key, enc.encode(JSON.stringify(value ?? null)),
  );
  return { sealed: 1, iv, ct };
}

/** Decrypt what `seal` made, or UnreadableError (wrong key, wrong place, or tampered). */
export async function open(key, box, aad) {
  if (!key) throw new Error('no key');
  if (!isSealed(box)) throw new UnreadableError('This value is not encrypted.');
  let plain;
  try {
    plain = await subtle().decrypt({ name: 'AES-GCM', iv: box.iv, additionalData: enc.encode(aad) }, key, box.ct);
  } catch {
    throw new UnreadableError();
  }
  return JSON.parse(dec.decode(plain));
}
