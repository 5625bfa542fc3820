// Who may see the data on this phone: sign-in, setting the PIN, the lock and
// unlock, "Forgot PIN?", wiping, signing out, and reporting to the audit log
// what a wipe or a forgotten PIN cost. app.js wires it to the screens; the
// keyring and the data key are in db.js, the rules in lock.js.
import { MAX_PIN_ATTEMPTS } from './lock.js';
import { countLocalWork, signedOutMessage } from './localwork.js';
import { FORGOT_REASON, WIPE_REASON, lostNotices, lostReport, reportedLost, sendReport, wipeMessage, wipeReportEvent } from './reports.js';

export { lostNotices, lostReport, wipeMessage } from './reports.js';

const LOCK_GRACE_MS = 10_000; // how long a lock waits for a sync under way to store its answer

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/**
 * The name a phone gets when the officer gives none: browser and platform ("Chrome on
 * Android"), so two phones of one officer can be told apart in the office's device list.
 */
export function defaultDeviceName(nav = globalThis.navigator || {}) {
  const ua = nav.userAgent || '';
  const platform = nav.userAgentData?.platform
    || (/Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
      : /Mac OS X/.test(ua) ? 'macOS' : /CrOS/.test(ua) ? 'ChromeOS' : /Linux/.test(ua) ? 'Linux' : 'a browser');
  const browser = /SamsungBrowser\//.test(ua) ? 'Samsung Internet' : /Edg(A|iOS)?\//.test(ua) ? 'Edge'
    : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\/|CriOS\//.test(ua) ? 'Chrome'
      : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  return `${browser} on ${platform}`;
}

const KIND_WORDS = { lost: 'as lost or stolen', returned: 'as returned or replaced' };

/**
 * What the officer reads after a revoked phone wiped itself. `unsent`: changes still in the
 * outbox when it wiped (the figure the server records), `maybeSent` of them sent once without
 * an answer; `finalSent`: changes its final push carried (revoked as returned).
 */
export function revokedMessage({ kind = null, unsent = 0, maybeSent = 0, finalSent = null } = {}) {
  const parts = [`The office has signed this phone out of Doorstep${KIND_WORDS[kind] ? ` ${KIND_WORDS[kind]}` : ''}, and the data on it has been removed.`];
  if (kind === 'returned' && finalSent !== null) {
    parts.push(finalSent ? `${plural(finalSent, 'change was', 'changes were')} sent to the server first.` : 'Nothing was waiting to be sent.');
  }
  if (unsent) {
    parts.push(`${plural(unsent, 'change that had not been sent was', 'changes that had not been sent were')} lost${maybeSent
      ? ` (${maybeSent === unsent && unsent === 1 ? 'it had' : `${maybeSent} had`} been sent without an answer, so may have reached the server)` : ''}.`);
  } else if (kind === 'lost') {
    parts.push('No unsent changes were lost.');
  }
  parts.push('Sign in again to carry on.');
  return parts.join(' ');
}

export function createSession({ state, db, api, deviceName = () => defaultDeviceName(), hooks }) {
  const { render, refreshStatus, startSync, stopSync, syncNow, requestPersist, idle } = hooks;
  let lockGen = 0;
  // Other tabs of the app start again after a wipe here (their key and screens are stale).
  const tabs = globalThis.BroadcastChannel ? new BroadcastChannel('doorstep-device') : null;
  if (tabs) tabs.onmessage = (ev) => { if (ev.data === 'wiped') { db.lock(); location.reload(); } };
  const wiped = () => { if (tabs) tabs.postMessage('wiped'); };

  const toSession = (data, name) => ({
    access_token: data.access_token, refresh_token: data.refresh_token,
    expires_at: Date.now() + (data.expires_in || 900) * 1000, device_id: data.device_id, user: data.user,
    device_name: name,
  });
  // The name the officer gave this phone at sign-in ("Name this phone"), else browser and platform.
  const nameOf = (name) => (typeof name === 'string' && name.trim() ? name.trim().slice(0, 200) : deviceName());

  async function init() {
    let info = await db.lockInfo();
    if (info.hasPin && info.failures >= MAX_PIN_ATTEMPTS) {
      await db.wipeAfterWrongPins(info.failures); // the page closed after the last wrong PIN
      info = await db.lockInfo();
    }
    state.hasPin = info.hasPin;
    state.locked = info.hasPin;
    state.wipeReport = info.wipeReport;
    if (info.wipeReport && !info.hasPin) state.signinMessage = wipeMessage(info.wipeReport);
    if (!info.hasPin && info.legacySession) state.pending = { session: info.legacySession, legacy: true, lost: [] };
    if (state.pending) idle.start();
  }

  // --- lock and unlock ----------------------------------------------------------
  /** Lock now: the screen at once; the key once a sync under way has stored its answer. */
  async function lock() {
    idle.stop();
    if (!state.hasPin) {
      // Signed in but no PIN set yet: forget the sign-in (its tokens are only in memory).
      if (state.pending && !state.pending.legacy) {
        state.pending = null;
        state.signinMessage = 'Doorstep was left waiting for a PIN, so you have been signed out. Sign in again.';
        render();
      }
      return;
    }
    if (state.locked) return;
    const gen = ++lockGen;
    state.locked = true;
    state.resetting = false;
    state.pending = null; // a PIN reset half done: its sign-in (in memory only) is dropped
    state.lockMessage = null;
    state.flash = null;
    render();
    refreshStatus();
    await stopSync(LOCK_GRACE_MS);
    if (gen !== lockGen || !state.locked) return; // unlocked again meanwhile
    state.session = null;
    db.lock();
  }

  /** Returns null when unlocked, else what to tell the officer. */
  async function unlock(pin) {
    const res = await db.unlock(pin);
    if (res.wiped) {
      wiped();
      lockGen += 1;
      stopSync(0);
      Object.assign(state, { hasPin: false, locked: false, session: null, pending: null, resetting: false });
      const info = await db.lockInfo();
      state.wipeReport = info.wipeReport;
      state.signinMessage = wipeMessage(info.wipeReport);
      navigator.serviceWorker?.controller?.postMessage('precache');
      location.hash = '#/';
      await render();
      refreshStatus();
      return null;
    }
    if (!res.ok) return res;
    lockGen += 1;
    state.locked = false;
    state.lockMessage = null;
    const s = await db.getMeta('session');
    if (s && !s.expired) state.session = s;
    else {
      state.session = null;
      const { entries } = await db.outboxSummary();
      state.signinMessage = entries
        ? `Sign in again to send the ${plural(entries, 'change', 'changes')} waiting on this phone.` : 'Please sign in again.';
    }
    idle.start();
    if (state.session) { startSync(); requestPersist(); }
    await render();
    refreshStatus();
    return null;
  }

  // --- sign-in, PIN -------------------------------------------------------------
  async function sendReports(session, reports) {
    for (const r of reports) await sendReport(api, r, session);
  }

  /** Sign in with username and password, naming this phone; what follows depends on the phone's state. */
  async function signIn(username, password, name) {
    name = nameOf(name);
    if (state.locked && state.resetting) return forgotPinSignIn(username, password, name);
    if (state.hasPin && !state.locked) return signInAgain(username, password, name);
    const data = await api.login(username, password, name);
    const session = toSession(data, name);
    const report = state.wipeReport;
    if (report) {
      // Best effort: if this fails the report is kept and sent after the next sync.
      try {
        await sendReports(session, [wipeReportEvent(report)]);
        await db.clearWipeReport();
        state.wipeReport = null;
      } catch (err) { console.warn('pin_wipe report', err); }
    }
    state.pending = { session, lost: reportedLost(report), reason: WIPE_REASON };
    state.signinMessage = null;
    idle.start();
    if (location.hash && location.hash !== '#/') location.hash = '#/';
    await render();
    refreshStatus();
  }

  /** The PIN is known but the sign-in ended (or another officer takes the phone). */
  async function signInAgain(username, password, name) {
    const prev = await db.getMeta('session');
    const data = await api.login(username, password, name);
    if (prev && prev.user && prev.user.id !== data.user.id) {
      const { entries } = await db.outboxSummary();
      if (entries) {
        const who = prev.user.display_name || prev.user.username;
        throw Object.assign(new Error(`This phone holds ${plural(entries, 'unsent change', 'unsent changes')} by ${who}. ${who} must sign in to send them first.`), { code: 'different_user' });
      }
      // Another officer: their own data, their own PIN.
      await wipeQuietly();
      state.pending = { session: toSession(data, name), lost: [] };
      idle.start();
      location.hash = '#/';
      await render();
      refreshStatus();
      return;
    }
    state.session = toSession(data, name);
    await db.setMeta('session', state.session);
    state.signinMessage = null;
    state.upgrade = false;
    requestPersist();
    startSync();
    if (location.hash && location.hash !== '#/') location.hash = '#/';
    else await render();
    refreshStatus();
  }

  /**
   * "Forgot PIN?": sign in again online. Changes that were never sent cannot be
   * read without the old PIN; the server's audit log hears about them before
   * anything is cleared, and the officer sees them once the new PIN is set.
   */
  async function forgotPinSignIn(username, password, name) {
    const data = await api.login(username, password, name);
    const session = toSession(data, name);
    const [lost, info, work] = await Promise.all([db.lostChanges(), db.lockInfo(), countLocalWork(db)]);
    // drafts and changes to correct are sealed too: counted (the officer confirmed) and reported with the changes
    if (lost.length || work.drafts || work.needsCorrecting) {
      await sendReports(session, [lostReport('outbox_unreadable', lost, {
        reason: 'pin_forgotten', previous_device_id: info.deviceId, previous_user_id: info.userId,
        drafts: work.drafts, needs_correcting: work.needsCorrecting,
      })]);
    }
    lockGen += 1;
    state.locked = false;
    state.resetting = false;
    state.pending = { session, lost, reset: true, reason: FORGOT_REASON, dropped: work };
    idle.start();
    location.hash = '#/';
    await render();
    refreshStatus();
  }

  /** Set the PIN after sign-in: the keyring is made, then the session is stored sealed. */
  async function setPin(pin) {
    const p = state.pending;
    if (!p) return;
    // Anything already here was sealed under a key that is gone (a forgotten PIN, a
    // wipe another tab did): unreadable, and reported. Only an unsent wipe report stays.
    if (!p.legacy) await db.wipe({ report: state.wipeReport });
    await db.createKeyring(pin);
    if (p.legacy) await db.sealLegacy();
    else await db.setMeta('session', p.session);
    if (p.lost.length) await db.addNotices(lostNotices(p.lost, p.reason));
    Object.assign(state, { hasPin: true, locked: false, pending: null, signinMessage: null, upgrade: false });
    state.session = p.session && !p.session.expired ? p.session : null;
    if (!state.session) state.signinMessage = 'Please sign in again to sync.';
    state.flash = p.lost.length
      ? `PIN set. ${plural(p.lost.length, 'change', 'changes')} could not be kept; see Problems.`
      : 'PIN set. Doorstep locks after a few minutes without use; unlock it with this PIN.';
    idle.start();
    requestPersist();
    if (state.session) startSync();
    location.hash = '#/';
    await render();
    refreshStatus();
  }

  /** A wipe report the sign-in could not send: sent once a sync has worked. */
  async function flushReports() {
    const report = state.wipeReport;
    if (!report || !state.session || state.locked) return;
    try {
      await sendReport(api, wipeReportEvent(report));
      await db.clearWipeReport();
      if (state.wipeReport === report) state.wipeReport = null;
    } catch (err) { console.warn('pin_wipe report', err); }
  }

  function forgotPin() {
    state.resetting = true;
    render();
  }

  function cancelForgot() {
    state.resetting = false;
    render();
  }

  // --- wipe, sign out --------------------------------------------------------------
  async function wipeQuietly({ report = null } = {}) {
    lockGen += 1;
    idle.stop();
    await stopSync(0);
    Object.assign(state, { session: null, pending: null, hasPin: false, locked: false, resetting: false });
    await db.wipe({ report });
    if (report) state.wipeReport = report; // sent after the next sign-in
    wiped();
    // Only the shell cache is kept; ask the worker to fetch it again in case it is missing.
    navigator.serviceWorker?.controller?.postMessage('precache');
  }

  async function wipeDevice(message, { report = null } = {}) {
    await wipeQuietly({ report });
    state.signinMessage = message;
    location.hash = '#/';
    await render();
    refreshStatus();
  }

  /**
   * The server answered `device_revoked` (the sync stopped): wipe, telling the officer how
   * many unsent changes were lost (the outbox is counted before it goes; the server recorded
   * the same figure from this phone's last request) and, revoked as returned, how many were sent.
   */
  async function revokedWipe(err) {
    const details = (err && err.details) || {};
    let unsent = 0;
    let maybeSent = 0;
    try {
      const left = await db.lostChanges();
      unsent = left.length;
      // sent once without an answer: it may have arrived, unless the server refused everything (lost)
      if (details.kind !== 'lost') maybeSent = left.filter((c) => c.sent).length;
    } catch (e) { console.warn('outbox', e); }
    const finalSent = err && Number.isInteger(err.finalSent) ? err.finalSent : null;
    await wipeDevice(revokedMessage({ kind: details.kind || null, unsent, maybeSent, finalSent }));
  }

  /**
   * Sign out: nothing is left on the phone. Work not at the office goes only with `discard`
   * (the officer saw how much and confirmed: views/signout.js), and is reported to the audit
   * log (`device_wiped`, reason `signed_out`) — offline, in the wipe report for the next sign-in.
   */
  async function signOut({ discard = false } = {}) {
    const work = await countLocalWork(db);
    if (work.unsent) {  // never deleted by a sign-out, asked or not (views/signout.js)
      state.flash = 'Nothing was deleted: changes not sent yet never are by signing out. Sync, then sign out.';
      render({ keepFocus: true });
      return false;
    }
    if (work.total && !discard) {
      state.flash = 'Nothing was deleted: this phone holds work that has not reached the office. Sign out again to see what it is.';
      render({ keepFocus: true });
      return false;
    }
    let report = null;
    if (work.total) {
      const [lost, info] = await Promise.all([db.lostChanges(), db.lockInfo()]);
      const details = {
        reason: 'signed_out', unsent: work.unsent, drafts: work.drafts, needs_correcting: work.needsCorrecting,
        previous_device_id: info.deviceId, previous_user_id: info.userId,
      };
      try {
        await sendReport(api, lostReport('device_wiped', lost, details));
      } catch (err) {
        console.warn('device_wiped report', err);
        report = { event: 'device_wiped', at: new Date().toISOString(), lost, details };
      }
    }
    try { await api.logout(); } catch { /* offline or already gone: the data goes anyway */ }
    await wipeDevice(signedOutMessage(work, { told: !report }), { report });
    return true;
  }

  return {
    init, lock, unlock, signIn, setPin, forgotPin, cancelForgot, signOut, wipeDevice, revokedWipe, flushReports,
  };
}
