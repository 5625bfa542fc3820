// The screens: which view a #route shows, drawing it into <main> (or the sign-in,
// PIN and lock screens), the navigation's current section and Drafts count, and
// redrawing after a sync — never over a form being filled in. app.js boots and
// wires; the views draw.
import { h } from './views/ui.js';
import { renderSignin, renderForgotPin } from './views/signin.js';
import { renderLock, renderSetPin } from './views/pin.js';
import { renderCaseload } from './views/caseload.js';
import { renderToday } from './views/today.js';
import { renderCase, caseOfHousehold } from './views/case.js';
import { renderVisit } from './views/visit.js';
import { renderConversation } from './views/conversation.js';
import { renderHousehold } from './views/household.js';
import { renderPerson } from './views/people.js';
import { renderPlan } from './views/support_plan.js';
import { renderWellbeing } from './views/wellbeing.js';
import { renderCheckIn } from './views/checkin.js';
import { renderRuns, renderRun } from './views/transport.js';
import { renderProblems } from './views/problems.js';
import { renderFollowUps } from './views/followups.js';
import { renderSettings } from './views/settings.js';
import { renderDrafts, renderCorrection } from './views/drafts.js';
import { recordKey, loadDraft } from './drafts.js';
import { setText } from './statusbar.js';

const ID = '([\\w-]+)';
const rx = (pattern) => new RegExp(`^${pattern.replace(/:id/g, ID)}$`);

/** The forms a rejected change of these types is corrected in (with the server's messages beside the fields). */
const FORMS = {
  visit: renderVisit, conversation: renderConversation, household: renderHousehold, support_plan: renderPlan, person: renderPerson, wellbeing_plan: renderWellbeing,
};

/** The case a record to correct belongs to (its form's route needs it), or null. */
async function caseOf(ctx, type, id) {
  if (type === 'household') return caseOfHousehold(ctx, id);
  const [draft, rec] = await Promise.all([loadDraft(ctx.drafts, recordKey(type, id)), ctx.get(type, id)]);
  return (draft && (draft.case_id || draft.rejected?.fields.case_id)) || rec?.case_id || null;
}

/**
 * `#/correct/<type>/<id>`: a rejected change opens at its own form when it has one
 * (a visit, a conversation, the household's contacts), else on the screen that
 * edits just the fields sent (a note, a transport event).
 */
export async function renderCorrect(ctx, { type, id }) {
  const form = Object.hasOwn(FORMS, type) ? FORMS[type] : null;
  const caseId = form ? await caseOf(ctx, type, id) : null;
  if (caseId && (await ctx.get('case', caseId))) return form(ctx, { caseId, id });
  return renderCorrection(ctx, { type, id });
}

// [pattern, view, parameter names, navigation section]
export const ROUTES = [
  [rx('#/case/:id/visit/:id'), renderVisit, ['caseId', 'id'], 'case'],
  [rx('#/case/:id/visit/:id/follows/:id'), renderVisit, ['caseId', 'id', 'followUpOf'], 'case'],
  [rx('#/case/:id/conversation/:id'), renderConversation, ['caseId', 'id'], 'case'],
  [rx('#/case/:id/conversation/:id/follows/:id'), renderConversation, ['caseId', 'id', 'followUpOf'], 'case'],
  [rx('#/case/:id/visit/:id/conversation/:id'), renderConversation, ['caseId', 'visitId', 'id'], 'case'],
  [rx('#/case/:id/household'), renderHousehold, ['caseId'], 'case'],
  [rx('#/case/:id/person/:id'), renderPerson, ['caseId', 'id'], 'case'],
  [rx('#/case/:id/plan/:id'), renderPlan, ['caseId', 'id'], 'case'],
  [rx('#/case/:id/plan/:id/reviews/:id'), renderPlan, ['caseId', 'id', 'reviews'], 'case'],
  [rx('#/case/:id/wellbeing/:id'), renderWellbeing, ['caseId', 'id'], 'case'],
  [rx('#/case/:id/wellbeing/:id/reviews/:id'), renderWellbeing, ['caseId', 'id', 'reviews'], 'case'],
  [rx('#/checkin/:id'), renderCheckIn, ['id'], 'caseload'],
  [rx('#/case/:id'), renderCase, ['id'], 'case'],
  [rx('#/today'), renderToday, [], 'caseload'],
  [rx('#/runs'), renderRuns, [], 'runs'],
  [rx('#/run/:id'), renderRun, ['id'], 'runs'],
  [rx('#/problems'), renderProblems, [], 'problems'],
  [rx('#/followups'), renderFollowUps, [], 'followups'],
  [rx('#/settings'), renderSettings, [], 'settings'],
  [rx('#/drafts'), renderDrafts, [], 'drafts'],
  [rx('#/correct/:id/:id'), renderCorrect, ['type', 'id'], 'drafts'],
];

/** The view, its parameters and the navigation section of a location hash (the caseload otherwise). */
export function route(hash) {
  for (const [pattern, view, names, section] of ROUTES) {
    const m = pattern.exec(hash);
    if (m) return { view, section, params: Object.fromEntries(names.map((n, i) => [n, m[i + 1]])) };
  }
  return { view: renderCaseload, section: 'caseload', params: {} };
}

/** `ctx`: what the views get; `draftSummary()`: db.js's; `locate(ask)`: location.js's. */
export function createScreens({ state, ctx, main, nav, draftSummary, locate }) {
  let renderSeq = 0;
  let current = null;

  async function screen() {
    if (state.locked) {
      return { out: state.resetting ? await renderForgotPin(ctx) : renderLock(ctx, { message: state.lockMessage }), section: 'signin' };
    }
    if (state.pending) return { out: renderSetPin(ctx, state.pending), section: 'signin' };
    if (!state.session) return { out: renderSignin(ctx, { message: state.signinMessage }), section: 'signin' };
    const r = route(location.hash);
    let out;
    try {
      out = await r.view(ctx, r.params);
    } catch (err) {
      console.error(err);
      out = { node: h('section', {}, h('h1', { tabindex: '-1' }, 'Something went wrong'), h('p', {}, String(err && err.message))), title: 'Error', live: true };
    }
    if (r.section === 'caseload' && !state.position) locate(false);
    return { out, section: r.section };
  }

  async function render({ keepFocus = false } = {}) {
    const seq = ++renderSeq;
    const { out, section } = await screen();
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
    // index.html's sign-in screen, adopted where it stands (views/signin.js): what was typed and the focus stay
    const inPlace = !flash && main.childElementCount === 1 && main.firstElementChild === out.node;
    if (!inPlace) main.replaceChildren(...[flash, out.node].filter(Boolean));
    current = out;
    document.title = `${out.title} · Doorstep`;
    if (inPlace) return;
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
      const { drafts } = await draftSummary();
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

  return { render, refreshDrafts, liveRerender };
}
