// Wiring: routes, the sync status bar, the scheduler, the idle lock, location
// and the service worker. Screens live in views/, storage in db.js, sync in
// sync.js, sign-in / PIN / lock / wipe in session.js.
import * as db from './db.js';
import { createApi, timeoutMsFrom } from './api.js';
import { createSyncEngine, createScheduler } from './sync.js';
import { syncStatus, syncNowRefusal, syncNowFailed } from './status.js';
import { createSession, defaultDeviceName } from './session.js';
import { createIdleTimer, idleMsFrom, saveThenLock } from './lock.js';
import { flushAll as flushDrafts } from './drafts.js';
import { h } from './views/ui.js';
import { renderSignin } from './views/signin.js';
import { renderLock, renderSetPin } from './views/pin.js';
import { renderCaseload } from './views/caseload.js';
import { renderCase } from './views/case.js';
import { renderVisit } from './views/visit.js';
import { renderConversation } from './views/conversation.js';
import { renderHousehold } from './views/household.js';
import { renderRuns, renderRun } from './views/transport.js';
import { renderProblems, countProblems } from './views/problems.js';
import { renderFollowUps, countFollowUps } from './views/followups.js';
import { renderSettings } from './views/settings.js';
import { renderDrafts, renderCorrection } from './views/drafts.js';

const SYNC_EVERY_MS = 60_000;
const DAY_MS = 24 * 3600 * 1000;

const main = document.getElementById('main');
const statusEl = document.getElementById('sync-status');
const syncBar = document.getElementById('sync-bar');
const detailEl = document.getElementById('sync-detail');
const replyEl = document.getElementById('sync-reply');
const syncBtn = document.getElementById('sync-now');
const nav = document.getElementById('nav');
const banners = document.getElementById('banners');

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
      if (s.phase === 'synced' && s.result && (s.result.pushed || s.result.pulled)) liveRerender();
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
  hooks: { render, refreshStatus, startSync, stopSync, syncNow, requestPersist, idle },
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

// --- location (never blocks anything) ------------------------------------------
async function geoPermission() {
  try { return (await navigator.permissions.query({ name: 'geolocation' })).state; } catch { return 'prompt'; }
}

function toFix(p) {
  return { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, at: Date.now() };
}

async function currentPosition(timeout = 15000) {
  if (!navigator.geolocation || (await geoPermission()) === 'denied') return null;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeout + 500);
    navigator.geolocation.getCurrentPosition(
      (p) => { clearTimeout(timer); state.lastFix = toFix(p); resolve(state.lastFix); },
      () => { clearTimeout(timer); resolve(null); },
      { enableHighAccuracy: true, timeout, maximumAge: 60000 },
    );
  });
}

async function locate(ask) {
  if (state.locating) return;
  if (!ask && (await geoPermission()) !== 'granted') return;
  state.locating = true;
  const fix = await currentPosition();
  state.locating = false;
  if (fix) { state.position = fix; liveRerender(true); }
}

async function watchPosition(onFix) {
  state.onFix = onFix || null;
  if (state.watching || !navigator.geolocation || (await geoPermission()) === 'denied') return;
  state.watching = true;
  navigator.geolocation.watchPosition((p) => {
    state.lastFix = toFix(p);
    if (state.onFix) state.onFix(state.lastFix);
  }, () => {}, { enableHighAccuracy: true, maximumAge: 30000 });
}

// --- screens -------------------------------------------------------------------
const ctx = {
  get session() { return state.session; },
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
  locate: (ask) => locate(ask),
  currentPosition: () => currentPosition(),
  watchPosition: (onFix) => watchPosition(onFix),
  lastPosition: () => (state.lastFix && Date.now() - state.lastFix.at < 120000 ? state.lastFix : null),
  signIn: (u, p, name) => session.signIn(u, p, name),
  defaultDeviceName: () => defaultDeviceName(navigator),
  deviceStatus: () => deviceStatus(),
  signOut: () => session.signOut(),
  unlock: (pin) => session.unlock(pin),
  setPin: (pin) => session.setPin(pin),
  forgotPin: () => session.forgotPin(),
  cancelForgot: () => session.cancelForgot(),
  get pending() { return state.pending; },
  get resetting() { return state.resetting; },
};

const ROUTES = [
  [/^#\/case\/([\w-]+)\/visit\/([\w-]+)$/, renderVisit, ['caseId', 'id'], 'case'],
  [/^#\/case\/([\w-]+)\/conversation\/([\w-]+)$/, renderConversation, ['caseId', 'id'], 'case'],
  [/^#\/case\/([\w-]+)\/visit\/([\w-]+)\/conversation\/([\w-]+)$/, renderConversation, ['caseId', 'visitId', 'id'], 'case'],
  [/^#\/case\/([\w-]+)\/household$/, renderHousehold, ['caseId'], 'case'],
  [/^#\/case\/([\w-]+)$/, renderCase, ['id'], 'case'],
  [/^#\/runs$/, renderRuns, [], 'runs'],
  [/^#\/run\/([\w-]+)$/, renderRun, ['id'], 'runs'],
  [/^#\/problems$/, renderProblems, [], 'problems'],
  [/^#\/followups$/, renderFollowUps, [], 'followups'],
  [/^#\/settings$/, renderSettings, [], 'settings'],
  [/^#\/drafts$/, renderDrafts, [], 'drafts'],
  [/^#\/correct\/([\w-]+)\/([\w-]+)$/, renderCorrection, ['type', 'id'], 'drafts'],
];

function route(hash) {
  for (const [rx, view, names, section] of ROUTES) {
    const m = rx.exec(hash);
    if (m) return { view, section, params: Object.fromEntries(names.map((n, i) => [n, m[i + 1]])) };
  }
  return { view: renderCaseload, section: 'caseload', params: {} };
}

let renderSeq = 0;
let current = null;

async function render({ keepFocus = false } = {}) {
  const seq = ++renderSeq;
  let out;
  let section = 'signin';
  if (state.locked) {
    out = state.resetting ? renderSignin(ctx, { reset: true }) : renderLock(ctx, { message: state.lockMessage });
  } else if (state.pending) {
    out = renderSetPin(ctx, state.pending);
  } else if (!state.session) {
    out = renderSignin(ctx, { message: state.signinMessage });
  } else {
    const r = route(location.hash);
    section = r.section;
    try {
      out = await r.view(ctx, r.params);
    } catch (err) {
      console.error(err);
      out = { node: h('section', {}, h('h1', { tabindex: '-1' }, 'Something went wrong'), h('p', {}, String(err && err.message))), title: 'Error', live: true };
    }
    if (section === 'caseload' && !state.position) locate(false);
  }
  if (seq !== renderSeq) return;
  nav.hidden = !state.session || state.locked;
  refreshDrafts();
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const flash = state.flash ? h('p', { class: 'flash', 'aria-live': 'polite' }, state.flash) : null;
  state.flash = null;
  const y = window.scrollY;
  main.replaceChildren(...[flash, out.node].filter(Boolean));
  current = out;
  document.title = `${out.title} · Doorstep`;
  if (keepFocus) window.scrollTo(0, y);
  else {
    window.scrollTo(0, 0);
    const h1 = main.querySelector('h1');
    if (h1 && document.documentElement.dataset.ready) h1.focus({ preventScroll: true });
  }
}

/** "Drafts (n)" in the navigation: forms kept on this phone and changes to correct (drafts.js). */
async function refreshDrafts() {
  const link = nav.querySelector('[data-section=drafts]');
  if (!link || !state.session || state.locked) return;
  try {
    const { drafts } = await db.draftSummary();
    setText(link, drafts ? `Drafts (${drafts})` : 'Drafts');
  } catch (err) { console.warn('drafts', err); }
}

/** Re-render a list or detail screen after a sync, never a form being filled in. */
function liveRerender(force = false) {
  if (!current || !current.live || !state.session || state.locked) return;
  const active = document.activeElement;
  const typing = active && main.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  const unsaved = [...main.querySelectorAll('textarea, input[type=text]')].some((el) => el.value);
  if (!force && (typing || unsaved)) return;
  render({ keepFocus: true });
}

// --- status bar ----------------------------------------------------------------
// One model (status.js): the live line (role=status) changes only with the state or
// the count; the age and the next try tick in the line under it, which is not announced.
let statusSeq = 0;
let statusModel = null;

async function refreshStatus() {
  const seq = ++statusSeq;
  syncBtn.hidden = !state.session || state.locked;
  const signedIn = !!state.session && !state.locked;
  let sum = { records: 0, entries: 0, oldest: null };
  let last = null;
  let notices = 0;
  // The outbox count and the last sync time are stored in the clear: shown while locked too.
  if (signedIn || (state.hasPin && !state.pending)) {
    try {
      [sum, last, notices] = await Promise.all([db.outboxSummary(), db.getMeta('last_synced_at'), signedIn ? countProblems(ctx) : 0]);
    } catch (err) { console.warn('status', err); }
  }
  if (seq !== statusSeq) return;
  statusModel = {
    online: navigator.onLine, signedIn, locked: state.locked, needsPin: !!state.pending,
    signedOut: !state.session && state.hasPin, upgrade: state.upgrade,
    phase: state.phase, failure: state.failure, retryAt: state.retryAt, lastSyncedAt: last, waiting: sum.records,
  };
  paintStatus();
  if (!signedIn) { renderBanners({ warnings: [] }); return; }
  const problems = nav.querySelector('[data-section=problems]');
  setText(problems, notices ? `Problems (${notices})` : 'Problems');
  showFollowUps(); // not awaited: it catches its own errors
  const warnings = [];
  if (state.persisted === false && sum.oldest && Date.now() - Date.parse(sum.oldest) > DAY_MS) {
    warnings.push('Warning: this phone may clear Doorstep\'s storage, and some changes have waited more than a day. Get a signal and sync now.');
  }
  renderBanners({ warnings });
}

/** The follow-ups link (views/followups.js): shown while the office's reviews ask for something. */
async function showFollowUps() {
  const link = nav.querySelector('[data-section=followups]');
  if (!link) return;
  let count = 0;
  try { count = await countFollowUps(ctx); } catch (err) { console.warn('follow-ups', err); }
  setText(link, count ? `Follow-ups (${count})` : 'Follow-ups');
  link.hidden = !count && link.getAttribute('aria-current') !== 'page';
}

/** Draw the model: cheap, so the clock repaints the age and the countdown every second. */
function paintStatus() {
  if (!statusModel) return;
  const now = Date.now();
  const view = syncStatus({ ...statusModel, online: navigator.onLine }, now);
  setText(statusEl, view.text);
  setText(detailEl, view.detail);
  if (syncBar.dataset.state !== view.state) syncBar.dataset.state = view.state;
  const r = state.reply;
  if (r && (r.state !== view.state || now > r.until)) sayAboutSync('');
}

/** "Sync now"'s answer, in its own polite live region; the same words again are announced again. */
function sayAboutSync(text) {
  state.reply = text ? { text, state: syncBar.dataset.state, until: Date.now() + 20_000 } : null;
  replyEl.textContent = '';
  if (text) setTimeout(() => { if (state.reply && state.reply.text === text) replyEl.textContent = text; }, 150);
}

async function onSyncNow() {
  await refreshStatus();
  const refusal = statusModel && syncNowRefusal(statusModel, Date.now());
  if (refusal) { sayAboutSync(refusal); return; }
  sayAboutSync('');
  await syncNow('manual');
  if (state.phase === 'error' && state.failure) {
    await refreshStatus();
    const retryIn = state.retryAt ? state.retryAt - Date.now() : 0;
    sayAboutSync(syncNowFailed(state.failure, { waiting: statusModel ? statusModel.waiting : 0, retryIn }));
  } else if (!navigator.onLine) {
    await refreshStatus();
    sayAboutSync(syncNowRefusal({ ...statusModel, online: false }));
  }
}

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

function renderBanners({ warnings }) {
  const nodes = warnings.map((w) => h('p', { class: 'warn', 'data-banner': 'storage' }, w));
  if (state.upgrade) {
    nodes.push(h('div', { class: 'warn', 'data-banner': 'upgrade' },
      h('p', {}, 'Doorstep needs updating before it can sync. Your changes are kept on this phone.'),
      h('button', { type: 'button', class: 'primary', onclick: reloadApp }, 'Reload to update')));
  } else if (state.updateReady) {
    nodes.push(h('div', { class: 'info', 'data-banner': 'update' },
      h('p', {}, 'A new version of Doorstep is ready.'),
      h('button', { type: 'button', class: 'secondary', onclick: reloadApp }, 'Reload')));
  }
  const key = JSON.stringify([warnings, state.upgrade, state.updateReady]);
  if (banners.dataset.key !== key) { banners.dataset.key = key; banners.replaceChildren(...nodes); }
}

async function reloadApp() {
  try { await (await navigator.serviceWorker?.getRegistration())?.update(); } catch { /* offline */ }
  location.reload();
}

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
  db.onDraftsChanged(() => refreshDrafts());
  window.addEventListener('online', () => { refreshStatus(); syncNow('online'); });
  // Offline outranks a failure from before: back online, the next sync starts afresh.
  window.addEventListener('offline', () => { Object.assign(state, { failure: null, retryAt: null }); refreshStatus(); });
  syncBtn.addEventListener('click', onSyncNow);
  setInterval(() => { if (navigator.onLine) syncNow('timer'); }, SYNC_EVERY_MS);
  setInterval(() => refreshStatus(), 30_000);
  setInterval(paintStatus, 1000); // the age and the next try; not announced
  watchActivity();
  await render();
  await refreshStatus();
  document.documentElement.dataset.ready = '1';
}

init();
