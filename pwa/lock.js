// The lock's rules, free of the DOM and of storage: the PIN policy, the idle
// time, the idle timer and the wrong-PIN limit. app.js wires them to the page,
// db.js keeps the keyring and the counter, views/pin.js draws the screens.

export const MAX_PIN_ATTEMPTS = 10;
export const DEFAULT_IDLE_MS = 5 * 60 * 1000;
export const MIN_IDLE_MS = 1000;
export const PIN_MIN = 6;
export const PIN_MAX = 16;

/**
 * Why a new PIN is refused, or null when it is acceptable: at least 6 digits,
 * not one digit repeated, not a run (123456, 987654), not a short pattern
 * repeated (121212, 123123).
 */
export function pinProblem(pin) {
  const p = String(pin ?? '');
  if (!p) return 'Enter a PIN.';
  if (!/^\d+$/.test(p)) return 'Use digits only.';
  if (p.length < PIN_MIN) return `Your PIN must be at least ${PIN_MIN} digits long.`;
  if (p.length > PIN_MAX) return `Your PIN can be at most ${PIN_MAX} digits long.`;
  if (/^(\d)\1+$/.test(p)) return 'Do not use one digit over and over (like 111111). Choose a PIN that is hard to guess.';
  const steps = new Set();
  for (let i = 1; i < p.length; i += 1) steps.add((Number(p[i]) - Number(p[i - 1]) + 10) % 10);
  if (steps.size === 1 && (steps.has(1) || steps.has(9))) {
    return 'Do not use digits in order (like 123456 or 654321). Choose a PIN that is hard to guess.';
  }
  for (let n = 2; n <= 3; n += 1) {
    if (p.length % n === 0 && p === p.slice(0, n).repeat(p.length / n)) {
      return 'Do not repeat a short pattern (like 121212 or 123123). Choose a PIN that is hard to guess.';
    }
  }
  return null;
}

/** Why a new PIN and its confirmation are refused, or null. */
export function newPinProblem(pin, confirm) {
  return pinProblem(pin) || (String(pin) !== String(confirm ?? '') ? 'The two PINs are not the same. Enter the same PIN twice.' : null);
}

/**
 * The idle time for this page: the default (5 minutes), or a shorter one
 * asked for with `?lock=SECONDS` (tests, or a stricter deployment). It can
 * only be shortened, never lengthened or switched off.
 */
export function idleMsFrom(search = '') {
  const raw = new URLSearchParams(search).get('lock');
  if (raw === null || !/^\d+(\.\d+)?$/.test(raw)) return DEFAULT_IDLE_MS;
  return Math.min(DEFAULT_IDLE_MS, Math.max(MIN_IDLE_MS, Math.round(Number(raw) * 1000)));
}

/**
 * Calls `onIdle` once when `idleMs` pass without `poke()`. `check()` is also
 * called on becoming visible again, because timers sleep in the background.
 */
export function createIdleTimer({
  idleMs = DEFAULT_IDLE_MS, onIdle, now = () => Date.now(),
  every = 1000, setTimer = setInterval, clearTimer = clearInterval,
}) {
  let last = now();
  let handle = null;
  const timer = {
    get armed() { return handle !== null; },
    idleMs,
    start() {
      last = now();
      if (handle === null) handle = setTimer(() => timer.check(), Math.min(every, idleMs));
    },
    stop() {
      if (handle !== null) clearTimer(handle);
      handle = null;
    },
    poke() { last = now(); },
    check() {
      if (handle === null || now() - last < idleMs) return false;
      timer.stop();
      onIdle();
      return true;
    },
  };
  return timer;
}

/** How long a lock waits for the forms' drafts to be written before it drops the key anyway. */
export const DRAFT_SAVE_MS = 2000;

/**
 * Lock, after the drafts are saved (drafts.flushAll): what the officer was typing
 * is sealed and stored while the key is still in memory, so unlocking reopens the
 * form as it was. The lock never waits longer than `timeoutMs`, and a failed save
 * never stops it: the key still goes.
 */
export async function saveThenLock({ save, lock, timeoutMs = DRAFT_SAVE_MS, setTimer = setTimeout, clearTimer = clearTimeout }) {
  let timer = null;
  try {
    await Promise.race([
      Promise.resolve().then(save),
      new Promise((resolve) => { timer = setTimer(resolve, timeoutMs); }),
    ]);
  } catch (err) {
    console.warn('drafts not saved before the lock', err);
  } finally {
    clearTimer(timer);
  }
  return lock();
}

/**
 * One unlock attempt against the wrong-PIN counter (db.js supplies the storage):
 * `begin()` reads the keyring and the count and stores count + 1 before the
 * PIN is checked, so closing the page mid-check still counts; `check(keyring,
 * pin)` resolves the key or throws an error with code 'wrong_pin'; `succeed(key)`
 * stores 0; `wipe(count)` runs at the MAX_PIN_ATTEMPTS-th wrong PIN in a row.
 * Resolves {ok: true, key} | {ok: false, left} | {ok: false, wiped: true}.
 */
export async function attemptUnlock(pin, { begin, check, succeed, wipe }, max = MAX_PIN_ATTEMPTS) {
  const { keyring, failures } = await begin();
  if (!keyring) throw new Error('No PIN is set on this phone.');
  if (failures >= max) {
    await wipe(failures);
    return { ok: false, wiped: true, left: 0 };
  }
  let key;
  try {
    key = await check(keyring, pin);
  } catch (err) {
    if (!err || err.code !== 'wrong_pin') throw err;
    const used = failures + 1;
    if (used < max) return { ok: false, wiped: false, left: max - used };
    await wipe(used);
    return { ok: false, wiped: true, left: 0 };
  }
  await succeed(key);
  return { ok: true, key };
}

/** What the lock screen says after a wrong PIN. */
export function attemptsLeftMessage(left) {
  if (left <= 0) return 'Wrong PIN.';
  const tries = `${left} ${left === 1 ? 'try' : 'tries'}`;
  return left <= 3
    ? `Wrong PIN. ${tries} left. After that, Doorstep's data on this phone is wiped.`
    : `Wrong PIN. ${tries} left before Doorstep's data on this phone is wiped.`;
}
