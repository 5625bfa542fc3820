// Boot and wiring: the app's state, the API client, the sync scheduler, the
// session, the idle lock, the service worker, and what the screens are given
// (`ctx`). Routing and drawing live in router.js, the status bar in statusbar.js,
// location in location.js; screens in views/, storage in db.js, sync in sync.js,
// sign-in / PIN / lock / wipe in session.js.
import * as db from './db.js';
import { createApi, timeoutMsFrom } from './api.js';
import { createSyncEngine, createScheduler } from './sync.js';
import { createSession, defaultDeviceName } from './session.js';
import { createIdleTimer, idleMsFrom, saveThenLock } from './lock.js';
import { flushAll as flushDrafts } from './drafts.js';
import { countLocalWork } from './localwork.js';
import { createLocation } from './location.js';
import { createStatusBar } from './statusbar.js';
import { createScreens } from './router.js';
import { h } from './views/ui.js';
import { countProblems } from './views/problems.js';
import { countFollowUps } from './views/followups.js';

const SYNC_EVERY_MS = 60_000;

const $ = (id) => document.getElementById(id);
const main = $('main');
const nav = $('nav');
const syncBtn = $('sync-now');

const state = {
  session: null, phase: 'idle', error: null, position: null, lastFix: null, watching: false,
  // the sync status (status.js): the last failure since a sync worked, when the retry runs, "Sync now"'s answer
  failure: null, retryAt: null, reply: null,
  persisted: null, upgrade: false, updateReady: false, flash: null, signinMessage: null, locating: false,
  // the lock (session.js): a PIN is set / the data key is not in memory / signed in, PIN not set yet
  hasPin: false, locked: false, pending: null, resetting: false, lockMessage: null, wipeReport: null,
};

const webLock = (name, fn) => (navigator.locks ? navigator.locks.request(name, fn) : fn());
const api = createApi({
  // While unlocked and signed in: the stored (sealed) copy, which another tab may
  // have refreshed — refresh tokens are single-use.
  getSession: async () => {
    if (!state.session) return null;
    try {
      const stored = await db.getMeta('session');
      if (stored && !stored.expired && stored.user?.id === state.session.user?.id) state.session = stored;
    } catch { /* locked meanwhile: what is in memory */ }
    return state.session;
  },
  setSession: async (s) => { state.session = s; await db.setMeta('session', s); },
  lock: webLock,
  timeoutMs: timeoutMsFrom(location.search),
  deviceStatus: () => deviceStatus(),
});
const engine = createSyncEngine({ store: db, api });
let scheduler = null;
const idle = createIdleTimer({ idleMs: idleMsFrom(location.search), onIdle: () => lockNow() });
// The forms' drafts are sealed and stored before the key goes (drafts.js), so unlocking reopens them.
const lockNow = () => saveThenLock({ save: flushDrafts, lock: () => session.lock() });

// --- sync -------------------------------------------------------------------
function startSync() {
  if (scheduler) scheduler.stop();
  Object.assign(state, { phase: 'idle', failure: null, retryAt: null });
  const me = createScheduler({
    engine,
    isOnline: () => navigator.onLine,
    lock: (fn) => webLock('doorstep-sync', fn),
    onState: (s) => {
      if (scheduler !== me) return;
      state.phase = s.phase;
      state.error = s.error || null;
      // A failure stands until a sync works: a retry under way does not flip it to "Syncing…".
      if (s.phase === 'error') Object.assign(state, { failure: s.failure, retryAt: s.retryAt });
      else if (s.phase === 'syncing') state.retryAt = null;
      else Object.assign(state, { failure: null, retryAt: null });
      refreshStatus();
      if (s.phase === 'synced' && s.result && (s.result.pushed || s.result.pulled)) screens.liveRerender();
      if (s.phase === 'synced' && state.wipeReport) session.flushReports();
    },
    onStop: (kind, err) => stopped(kind, err),
  });
  scheduler = me;
  me.run('startup');
}

/** Stop syncing; wait up to `graceMs` for a sync under way to store what it got. */
async function stopSync(graceMs = 0) {
  const s = scheduler;
  scheduler = null;
  if (!s) return;
  s.stop();
  if (graceMs > 0) await Promise.race([s.settled(), new Promise((r) => { setTimeout(r, graceMs); })]);
}

const syncNow = (reason) => (scheduler ? scheduler.run(reason) : Promise.resolve());

async function stopped(kind, err) {
  if (kind === 'revoked') {
    await session.revokedWipe(err); // says how many unsent changes went with the data
  } else if (kind === 'upgrade') {
    state.upgrade = true;
    refreshStatus();
  } else {
    // Sign-in ended: keep every record and the outbox for the same officer.
    try {
      const s = await db.getMeta('session');
      if (s) await db.setMeta('session', { ...s, expired: true });
    } catch (err) { console.warn('session', err); } // locked meanwhile: the refresh fails again later
    state.session = null;
    const { entries } = await db.outboxSummary();
    state.signinMessage = entries
      ? `Your sign-in has ended. Sign in again to send the ${entries} ${entries === 1 ? 'change' : 'changes'} waiting on this phone.`
      : 'Your sign-in has ended. Please sign in again.';
    render();
    refreshStatus();
  }
}

// What every API call reports (docs/protocol.md §2.7): unsent changes, the shell version, the last sync.
let appVersion = '';
async function readAppVersion() {
  try {
    const shells = (await caches.keys()).filter((n) => n.startsWith(db.SHELL_CACHE_PREFIX));
    if (shells.length) appVersion = shells[shells.length - 1]; // the newest shell
  } catch { /* no Cache Storage: not reported */ }
}
async function deviceStatus() {
  const [sum, last] = await Promise.all([db.outboxSummary(), db.getMeta('last_synced_at')]);
  return { unsent: sum.entries, appVersion, lastSync: last || '' };
}

const session = createSession({
  state, db, api, deviceName: () => defaultDeviceName(navigator),
  hooks: { render: (o) => render(o), refreshStatus: () => refreshStatus(), startSync, stopSync, syncNow, requestPersist, idle },
});

async function requestPersist() {
  if (!navigator.storage || !navigator.storage.persist) return;
  try {
    state.persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch {
    state.persisted = false;
  }
  refreshStatus();
}

const where = createLocation(state, { onPosition: () => screens.liveRerender(true) });

// --- what the screens are given ------------------------------------------------------
const ctx = {
  get session() { return state.session; },
  get signedIn() { return !!state.session && !state.locked; },
  load: (types) => db.loadTypes(types),
  get: (type, id) => db.getRecord(type, id),
  getMeta: (k) => db.getMeta(k),
  notices: () => db.listNotices(),
  dismiss: async (id) => { await db.dismissNotice(id); refreshStatus(); },
  /** The drafts store (drafts.js): forms as typed, rejected changes to correct. */
  drafts: { getDraft: db.getDraft, putDraft: db.putDraft, deleteDraft: db.deleteDraft, listDrafts: db.listDrafts },
  /** Resolves once the change is in IndexedDB; only then may a screen say "saved". */
  save: async (type, id, fields, op = 'put') => {
    const entry = await db.addChange({ type, id, op, fields });
    refreshStatus();
    if (navigator.onLine) syncNow('change');
    return entry;
  },
  go: (hash) => { if (location.hash === hash) render(); else location.hash = hash; },
  rerender: () => render({ keepFocus: true }),
  flash: (msg) => { state.flash = msg; },
  position: () => state.position,
  locate: (ask) => where.locate(ask),
  currentPosition: () => where.currentPosition(),
  watchPosition: (onFix) => where.watchPosition(onFix),
  lastPosition: () => where.lastPosition(),
  signIn: (u, p, name) => session.signIn(u, p, name),
  defaultDeviceName: () => defaultDeviceName(navigator),
  deviceStatus: () => deviceStatus(),
  /** What is here and not at the office (localwork.js), the forms' latest typing written first. */
  localWork: async () => { if (!state.locked) await flushDrafts(); return countLocalWork(db); },
  /** Sync now and wait: null when it worked, else why not, in words. */
  syncFirst: async () => { await syncNow('manual'); return bar.failureText(); },
  signOut: (opts) => session.signOut(opts),
  unlock: (pin) => session.unlock(pin),
  setPin: (pin) => session.setPin(pin),
  forgotPin: () => session.forgotPin(),
  cancelForgot: () => session.cancelForgot(),
  get pending() { return state.pending; },
  get resetting() { return state.resetting; },
};

const bar = createStatusBar({
  state,
  store: db,
  els: {
    statusEl: $('sync-status'), detailEl: $('sync-detail'), replyEl: $('sync-reply'),
    syncBtn, syncBar: $('sync-bar'), nav, banners: $('banners'),
  },
  counts: { problems: () => countProblems(ctx), followUps: () => countFollowUps(ctx) },
  syncNow,
});
const refreshStatus = () => bar.refreshStatus();

const screens = createScreens({ state, ctx, main, nav, draftSummary: () => db.draftSummary(), locate: (ask) => where.locate(ask) });
const render = (opts) => screens.render(opts);

// --- start ----------------------------------------------------------------------
function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  const hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((err) => console.warn('service worker', err));
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (hadController) { state.updateReady = true; refreshStatus(); }
  });
}

function watchActivity() {
  const poke = () => idle.poke();
  // What the officer does, not what the app does (a render scrolls to the top: not activity).
  for (const ev of ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart', 'touchmove']) {
    window.addEventListener(ev, poke, { passive: true, capture: true });
  }
  // Timers sleep while the app is in the background: check on the way back.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') idle.check(); });
  // Brought back from the back/forward cache: a reopen, so lock.
  window.addEventListener('pageshow', (ev) => { if (ev.persisted) lockNow(); });
  // Leaving the app (another app, the tab closing): what a form holds is written now.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flushDrafts(); });
  window.addEventListener('pagehide', () => { flushDrafts(); });
}

async function init() {
  registerWorker();
  readAppVersion();
  navigator.serviceWorker?.addEventListener('controllerchange', readAppVersion);
  try {
    await db.ready();
    await session.init(); // locked when a PIN is set: the data key is never stored
  } catch (err) {
    main.replaceChildren(h('h1', {}, 'Doorstep cannot store data here'), h('p', {}, String(err && err.message)));
    return;
  }
  window.addEventListener('hashchange', () => render());
  db.onDraftsChanged(() => screens.refreshDrafts());
  window.addEventListener('online', () => { refreshStatus(); syncNow('online'); });
  // Offline outranks a failure from before: back online, the next sync starts afresh.
  window.addEventListener('offline', () => { Object.assign(state, { failure: null, retryAt: null }); refreshStatus(); });
  syncBtn.addEventListener('click', () => bar.onSyncNow());
  setInterval(() => { if (navigator.onLine) syncNow('timer'); }, SYNC_EVERY_MS);
  setInterval(() => refreshStatus(), 30_000);
  setInterval(() => bar.paintStatus(), 1000); // the age and the next try; not announced
  watchActivity();
  await render();
  await refreshStatus();
  document.documentElement.dataset.ready = '1';
}

init();
