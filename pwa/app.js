// Wiring: routes, the sync status bar, the scheduler, the idle lock, location
// and the service worker. Screens live in views/, storage in db.js, sync in
// sync.js, sign-in / PIN / lock / wipe in session.js.
import * as db from './db.js';
import { createApi } from './api.js';
import { createSyncEngine, createScheduler } from './sync.js';
import { createSession } from './session.js';
import { createIdleTimer, idleMsFrom } from './lock.js';
import { h } from './views/ui.js';
import { renderSignin } from './views/signin.js';
import { renderLock, renderSetPin } from './views/pin.js';
import { renderCaseload } from './views/caseload.js';
import { renderCase } from './views/case.js';
import { renderVisit } from './views/visit.js';
import { renderConversation } from './views/conversation.js';
import { renderHousehold } from './views/household.js';
import { renderRuns, renderRun } from './views/transport.js';
import { renderProblems } from './views/problems.js';

const SYNC_EVERY_MS = 60_000;
const DAY_MS = 24 * 3600 * 1000;

const main = document.getElementById('main');
const statusEl = document.getElementById('sync-status');
const syncBtn = document.getElementById('sync-now');
const nav = document.getElementById('nav');
const banners = document.getElementById('banners');

const state = {
  session: null, phase: 'idle', error: null, retryMessage: null, position: null, lastFix: null, watching: false,
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
});
const engine = createSyncEngine({ store: db, api });
let scheduler = null;
const idle = createIdleTimer({ idleMs: idleMsFrom(location.search), onIdle: () => session.lock() });

// --- sync -------------------------------------------------------------------
function startSync() {
  if (scheduler) scheduler.stop();
  const me = createScheduler({
    engine,
    isOnline: () => navigator.onLine,
    lock: (fn) => webLock('doorstep-sync', fn),
    onState: (s) => {
      if (scheduler !== me) return;
      state.phase = s.phase;
      state.error = s.error || null;
      state.retryMessage = s.message || null;
      refreshStatus();
      if (s.phase === 'synced' && s.result && (s.result.pushed || s.result.pulled)) liveRerender();
      if (s.phase === 'synced' && state.wipeReport) session.flushReports();
    },
    onStop: (kind) => stopped(kind),
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

async function stopped(kind) {
  if (kind === 'revoked') {
    await session.wipeDevice('The office has signed this phone out of Doorstep, and the data on it has been removed. Sign in again to carry on.');
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

function deviceName() {
  const ua = navigator.userAgent;
  const platform = navigator.userAgentData?.platform
    || (/Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : 'browser');
  return `Doorstep on ${platform}`;
}

const session = createSession({
  state, db, api, deviceName,
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
  signIn: (u, p) => session.signIn(u, p),
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
let statusSeq = 0;

async function refreshStatus() {
  const seq = ++statusSeq;
  const online = navigator.onLine;
  syncBtn.hidden = !state.session || state.locked;
  if (!state.session || state.locked) {
    const what = state.locked ? 'Locked' : state.pending ? 'Set a PIN to carry on' : 'Not signed in';
    setText(statusEl, `${online ? 'Online' : 'Offline'} · ${what}`);
    renderBanners({ warnings: [] });
    return;
  }
  const [sum, last, notices] = await Promise.all([db.outboxSummary(), db.getMeta('last_synced_at'), db.noticeCount()]);
  if (seq !== statusSeq) return;
  const parts = [online ? 'Online' : 'Offline'];
  const waiting = sum.records;
  if (state.phase === 'syncing' && online) parts.push('Syncing…');
  if (waiting) parts.push(`${waiting} ${waiting === 1 ? 'change' : 'changes'} waiting`);
  else if (!online) parts.push('Nothing waiting');
  else if (state.phase !== 'syncing' && state.phase !== 'error' && last) parts.push('All synced');
  if (state.phase === 'error' && online) parts.push(state.retryMessage || 'Sync failed, retrying');
  parts.push(last ? `Last synced ${new Date(last).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}` : 'Not synced yet');
  setText(statusEl, parts.join(' · '));
  const problems = nav.querySelector('[data-section=problems]');
  setText(problems, notices ? `Problems (${notices})` : 'Problems');
  const warnings = [];
  if (state.persisted === false && sum.oldest && Date.now() - Date.parse(sum.oldest) > DAY_MS) {
    warnings.push('Warning: this phone may clear Doorstep\'s storage, and some changes have waited more than a day. Get a signal and sync now.');
  }
  renderBanners({ warnings });
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
  window.addEventListener('pageshow', (ev) => { if (ev.persisted) session.lock(); });
}

async function init() {
  registerWorker();
  try {
    await db.ready();
    await session.init(); // locked when a PIN is set: the data key is never stored
  } catch (err) {
    main.replaceChildren(h('h1', {}, 'Doorstep cannot store data here'), h('p', {}, String(err && err.message)));
    return;
  }
  window.addEventListener('hashchange', () => render());
  window.addEventListener('online', () => { refreshStatus(); syncNow('online'); });
  window.addEventListener('offline', () => refreshStatus());
  syncBtn.addEventListener('click', () => { if (!navigator.onLine) refreshStatus(); syncNow('manual'); });
  setInterval(() => { if (navigator.onLine) syncNow('timer'); }, SYNC_EVERY_MS);
  setInterval(() => refreshStatus(), 30_000);
  watchActivity();
  await render();
  await refreshStatus();
  document.documentElement.dataset.ready = '1';
}

init();
