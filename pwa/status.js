// The sync status, free of the DOM: which state the phone is in (offline, server
// unreachable, signed out, syncing, synced…) in the officer's words, how long
// ago a sync last worked, and what "Sync now" answers when it cannot sync.
// sync.js's scheduler reports failures through `describeFailure`; app.js keeps
// the model and draws `syncStatus(model, now)` in the status bar.

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const seconds = (ms) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Why a sync failed: `{kind, reason, why, serverAsked}`. `kind` is `offline`,
 * `unreachable` (no answer, a timeout, a gateway error), `busy` (429, 503),
 * `full` (507), `server` (another 5xx) or `failed` (anything else); `reason` is
 * the status bar's words, `why` the sentence "Sync now" answers with;
 * `serverAsked` is true when the server said how long to wait (Retry-After).
 */
export function describeFailure(err, { online = true } = {}) {
  const status = err && typeof err.status === 'number' ? err.status : null;
  const code = err && err.code;
  const d = (err && err.details) || {};
  const serverAsked = Number(d.retry_after ?? d.retry_after_s) > 0;
  if (!online) return { kind: 'offline', reason: 'Offline', why: 'this phone has no network connection', serverAsked: false };
  if (code === 'timeout') {
    const s = d.timeout_ms ? ` within ${seconds(d.timeout_ms)} s` : '';
    return { kind: 'unreachable', reason: 'Server not answering', why: `the server did not answer${s}`, serverAsked };
  }
  if (code === 'network' || status === 0) {
    return { kind: 'unreachable', reason: 'Server not answering', why: 'the server cannot be reached', serverAsked };
  }
  if (status === 429 || status === 503) {
    return { kind: 'busy', reason: 'Server busy', why: 'the server is busy', serverAsked };
  }
  if (status === 507) return { kind: 'full', reason: 'Server storage full', why: 'the server has run out of storage', serverAsked };
  if (status === 502 || status === 504) {
    return { kind: 'unreachable', reason: 'Server not answering', why: `the server is not answering (error ${status})`, serverAsked };
  }
  if (status >= 500) return { kind: 'server', reason: 'Server error', why: `the server had an error (${status})`, serverAsked };
  const message = err && err.message ? String(err.message).replace(/\.$/, '') : 'something went wrong';
  return { kind: 'failed', reason: 'Sync failed', why: message.charAt(0).toLowerCase() + message.slice(1), serverAsked };
}

/**
 * The status bar's words for a failure retried in `delayMs`: "Server busy, retrying
 * in 30 s" when the server said how long to wait, else "Server not answering,
 * retrying" (a countdown that changes at every quick retry would only be noise).
 */
export function retryText(failure, delayMs) {
  if (failure.serverAsked && delayMs > 0) return `${failure.reason}, retrying in ${seconds(delayMs)} s`;
  return `${failure.reason}, retrying`;
}

/** "1 change waiting", "3 changes waiting", or '' for none. */
export function waitingText(n) {
  return n ? `${plural(n, 'change', 'changes')} waiting` : '';
}

/** "Last synced just now | 3 min ago | 2 h ago | 4 days ago", or "Not synced yet". */
export function ageText(lastIso, now = Date.now()) {
  const at = lastIso ? Date.parse(lastIso) : NaN;
  if (Number.isNaN(at)) return 'Not synced yet';
  const min = Math.floor(Math.max(0, now - at) / 60000);
  if (min < 1) return 'Last synced just now';
  if (min < 60) return `Last synced ${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 24) return `Last synced ${h} h ago`;
  return `Last synced ${plural(Math.floor(h / 24), 'day', 'days')} ago`;
}

const join = (...parts) => parts.filter(Boolean).join(' · ');

/**
 * What the status bar shows. `m` (all optional): `{online, signedIn, locked,
 * needsPin, signedOut, upgrade, phase, failure, retryAt, lastSyncedAt, waiting}`;
 * `signedOut` means a sign-in that ended with the phone's data kept, `failure`
 * the last failure since a sync last worked (describeFailure's result, with
 * `text`, the words retryText chose). Returns `{state, text, detail}`: `state`
 * is one of offline, unreachable, error, signedout, locked, upgrade, syncing,
 * waiting, synced, idle; `text` belongs in the live region (it changes only when
 * the state or the count does); `detail` (the age, the next try) ticks and must
 * not be announced.
 */
export function syncStatus(m, now = Date.now()) {
  const online = m.online !== false;
  const count = waitingText(m.waiting || 0);
  const age = ageText(m.lastSyncedAt, now);
  const net = online ? '' : 'Offline';
  if (m.needsPin) return { state: 'signedout', text: 'Set a PIN to carry on', detail: '' };
  if (m.locked) return { state: 'locked', text: join(net, 'Locked', count), detail: m.lastSyncedAt ? age : '' };
  if (!m.signedIn) {
    if (m.signedOut) return { state: 'signedout', text: join(net, 'Signed out, sign in again', count), detail: age };
    return { state: 'signedout', text: join(net, 'Not signed in'), detail: '' };
  }
  if (m.upgrade) return { state: 'upgrade', text: join('Update needed to sync', count), detail: age };
  if (!online) return { state: 'offline', text: join('Offline', count || 'Nothing waiting'), detail: age };
  if (m.failure) {
    let next = '';
    if (m.phase === 'syncing') next = 'Trying again now…';
    else if (m.retryAt && m.retryAt > now) next = `Next try in ${seconds(m.retryAt - now)} s`;
    const state = m.failure.kind === 'failed' ? 'error' : 'unreachable';
    return { state, text: join(m.failure.text || retryText(m.failure, 0), count || 'Nothing waiting'), detail: join(next, age) };
  }
  if (m.phase === 'syncing') return { state: 'syncing', text: join('Syncing…', count), detail: age };
  if (count) return { state: 'waiting', text: count, detail: age };
  if (m.lastSyncedAt) return { state: 'synced', text: 'All synced', detail: age };
  return { state: 'idle', text: 'Nothing waiting', detail: age };
}

function kept(waiting) {
  if (!waiting) return 'Nothing is waiting to be sent.';
  return waiting === 1
    ? 'Your change is saved on this phone.'
    : `Your ${waiting} changes are saved on this phone.`;
}

/**
 * What "Sync now" says instead of syncing, or null when it should sync: offline,
 * the server asked to wait (Retry-After) and the wait is not over, or the app
 * needs updating first.
 */
export function syncNowRefusal(m, now = Date.now()) {
  if (m.online === false) {
    return `Can't sync: this phone is offline. ${kept(m.waiting)} Doorstep syncs by itself when a signal returns.`;
  }
  if (m.upgrade) return `Can't sync: Doorstep needs updating first. ${kept(m.waiting)} Reload to update.`;
  if (m.failure && m.failure.serverAsked && m.retryAt && m.retryAt > now) {
    return `Can't sync yet: ${m.failure.why} and asked Doorstep to wait. ${kept(m.waiting)} Next try in ${seconds(m.retryAt - now)} s.`;
  }
  return null;
}

/** What "Sync now" says when the sync it started failed and is retried in `retryIn` ms. */
export function syncNowFailed(failure, { waiting = 0, retryIn = 0 } = {}) {
  const next = retryIn > 0 ? ` Doorstep tries again in ${seconds(retryIn)} s.` : ' Doorstep keeps trying.';
  return `Can't sync: ${failure.why}. ${kept(waiting)}${next}`;
}
