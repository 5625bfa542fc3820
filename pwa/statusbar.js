// The status bar and the banners under it: one model (status.js) drawn in the
// live line (role=status), which changes only with the state or the count; the
// age and the next try tick in the line under it, which is not announced. Also
// "Sync now" and its answer, the Problems and Follow-ups counts in the navigation,
// and the storage and update banners. app.js wires it.
import { syncStatus, syncNowRefusal, syncNowFailed } from './status.js';
import { h } from './views/ui.js';
import { watchCheckIns } from './views/checkin.js';

const DAY_MS = 24 * 3600 * 1000;

export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/**
 * `els`: the page's status elements; `store`: outboxSummary and getMeta (db.js);
 * `counts`: `problems()` and `followUps()` (the views' counts); `syncNow(reason)`.
 */
export function createStatusBar({ state, store, els, counts, syncNow }) {
  const { statusEl, detailEl, replyEl, syncBtn, syncBar, nav, banners } = els;
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
        [sum, last, notices] = await Promise.all([store.outboxSummary(), store.getMeta('last_synced_at'), signedIn ? counts.problems() : 0]);
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
    // safe lone working (views/checkin.js): a submitted visit checks its case's check-in out; an overdue one is shown
    let overdue = [];
    try {
      const lone = await watchCheckIns(store, state.session?.user?.id);
      if (lone.closed && navigator.onLine) syncNow('change');
      overdue = lone.banners;
    } catch (err) { console.warn('check-ins', err); }
    if (seq !== statusSeq) return;
    renderBanners({ warnings, overdue });
  }

  /** The follow-ups link (views/followups.js): shown while the office's reviews ask for something. */
  async function showFollowUps() {
    const link = nav.querySelector('[data-section=followups]');
    if (!link) return;
    let count = 0;
    try { count = await counts.followUps(); } catch (err) { console.warn('follow-ups', err); }
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

  /** Why the sync just run did not send everything, in words, or null (it worked). */
  async function failureText() {
    if (state.phase === 'error' && state.failure) {
      await refreshStatus();
      const retryIn = state.retryAt ? state.retryAt - Date.now() : 0;
      return syncNowFailed(state.failure, { waiting: statusModel ? statusModel.waiting : 0, retryIn });
    }
    if (!navigator.onLine) {
      await refreshStatus();
      return syncNowRefusal({ ...statusModel, online: false });
    }
    return null;
  }

  async function onSyncNow() {
    await refreshStatus();
    const refusal = statusModel && syncNowRefusal(statusModel, Date.now());
    if (refusal) { sayAboutSync(refusal); return; }
    sayAboutSync('');
    await syncNow('manual');
    const failed = await failureText();
    if (failed) sayAboutSync(failed);
  }

  function renderBanners({ warnings, overdue = [] }) {
    const nodes = [...overdue.map((o) => o.node), ...warnings.map((w) => h('p', { class: 'warn', 'data-banner': 'storage' }, w))];
    if (state.upgrade) {
      nodes.push(h('div', { class: 'warn', 'data-banner': 'upgrade' },
        h('p', {}, 'Doorstep needs updating before it can sync. Your changes are kept on this phone.'),
        h('button', { type: 'button', class: 'primary', onclick: reloadApp }, 'Reload to update')));
    } else if (state.updateReady) {
      nodes.push(h('div', { class: 'info', 'data-banner': 'update' },
        h('p', {}, 'A new version of Doorstep is ready.'),
        h('button', { type: 'button', class: 'secondary', onclick: reloadApp }, 'Reload')));
    }
    const key = JSON.stringify([warnings, state.upgrade, state.updateReady, overdue.map((o) => o.id)]);
    if (banners.dataset.key !== key) { banners.dataset.key = key; banners.replaceChildren(...nodes); }
  }

  return { refreshStatus, paintStatus, onSyncNow, failureText };
}

async function reloadApp() {
  try { await (await navigator.serviceWorker?.getRegistration())?.update(); } catch { /* offline */ }
  location.reload();
}
