// The attendance support plan ("support first", docs/casework.md): barriers, agreed actions
// each with an owner and a due date, a review date, the family's view and consent. A plan
// is recorded offline in sections (views/sections.js) and kept as it is typed (views/form.js);
// once submitted it is never changed: a review is a new version that supersedes it
// (`support_plan.supersedes`, docs/protocol.md §7.9), opening with the last version's answers.
import { h, title, field, checkbox, BARRIERS, fmtDate, pendingMark, personName } from './ui.js';
import { fieldLabel as L, codeLabels } from '../validate.js';
import { recordKey, loadDraft } from '../drafts.js';
import { loadCase, missingCase } from './case.js';
import { recordForm, barrierPicker, actionRowProblems } from './form.js';
import { planScreen } from './plan_screen.js';
import { createSections, answerText, codesText } from './sections.js';

const OWNERS = codeLabels('plan_owner');
const CONSENT = codeLabels('consent');
const OUTCOMES = codeLabels('plan_review_outcome');

/** A case's plans on this phone, newest version first, and the current one: the latest submitted
 * version no submitted version supersedes (null when none is submitted). */
export function plansOf(plans, caseId) {
  const mine = plans.filter((p) => p.case_id === caseId)
    .sort((a, b) => (b.plan_version || 0) - (a.plan_version || 0) || String(b.created_at || '').localeCompare(String(a.created_at || '')));
  const replaced = new Set(mine.filter((p) => p.status === 'submitted' && p.supersedes).map((p) => p.supersedes));
  const current = mine.find((p) => p.status === 'submitted' && !replaced.has(p.id)) || null;
  return { versions: mine, current };
}

const versionName = (p) => `Version ${p.plan_version || 1}`;

/** The case screen's "Attendance support plan": the current version, drafts, and what to do next. */
export function planSection(caseId, plans) {
  const { versions, current } = plansOf(plans, caseId);
  const drafts = versions.filter((p) => p.status !== 'submitted');
  const next = current
    ? h('a', { class: 'button-link', href: `#/case/${caseId}/plan/${crypto.randomUUID()}/reviews/${current.id}` }, 'Review the plan')
    : drafts.length ? null : h('a', { class: 'button-link', href: `#/case/${caseId}/plan/${crypto.randomUUID()}` }, 'Record a support plan');
  return h('section', { 'aria-labelledby': 'plan-h', class: 'plan' },
    h('h2', { id: 'plan-h' }, 'Attendance support plan'),
    current ? h('p', {}, h('a', { href: `#/case/${caseId}/plan/${current.id}` }, `${versionName(current)}, review by ${current.review_on ? fmtDate(current.review_on) : 'a date not set'}`),
      pendingMark(current)) : h('p', { class: drafts.length ? '' : 'muted' }, drafts.length ? 'No plan submitted yet.' : 'No plan yet: support comes first.'),
    drafts.length ? h('ul', {}, drafts.map((p) => h('li', {}, h('a', { href: `#/case/${caseId}/plan/${p.id}` }, `${versionName(p)} (draft)`)))) : null,
    versions.length > 1 ? h('details', {}, h('summary', {}, 'Earlier versions'),
      h('ul', {}, versions.filter((p) => p !== current && p.status === 'submitted').map((p) => h('li', {},
        h('a', { href: `#/case/${caseId}/plan/${p.id}` }, versionName(p)))))) : null,
    next ? h('p', {}, next) : null);
}

export async function renderPlan(ctx, { caseId, id, reviews = null }) {
  const loaded = await loadCase(ctx, caseId);
  const existing = await ctx.get('support_plan', id);
  const draft = await loadDraft(ctx.drafts, recordKey('support_plan', id));
  if (!loaded && !existing && !draft) return missingCase();
  const who = loaded ? personName(loaded.pupil) : 'this pupil';
  if (existing && existing.status === 'submitted') return readOnly(ctx, caseId, existing, who);
  const supersedes = existing?.supersedes || draft?.rejected?.fields.supersedes || reviews;
  const previous = supersedes ? await ctx.get('support_plan', supersedes) : null;
  return form(ctx, caseId, id, { existing, draft, who, supersedes, previous });
}

function actionsList(actions) {
  return (actions || []).length ? h('ul', { class: 'plan-actions' }, actions.map((a) => h('li', {}, a.action,
    a.owner ? ` (${OWNERS[a.owner] || a.owner})` : '', a.due_on ? `, by ${fmtDate(a.due_on)}` : '', a.done ? ' — done' : '')))
    : h('p', {}, 'None.');
}

async function readOnly(ctx, caseId, p, who) {
  const { current } = plansOf((await ctx.load(['support_plan'])).support_plan, caseId);
  const node = h('section', {},
    title(`Support plan for ${who}: ${versionName(p).toLowerCase()}`),
    h('p', { class: 'muted' }, p === current || p.id === current?.id ? 'The current plan. Submitted: it is reviewed, never changed.'
      : 'An earlier version, kept as it was agreed.'), pendingMark(p),
    h('dl', { class: 'facts' },
      p.supersedes ? [h('dt', {}, L('review_outcome')), h('dd', {}, OUTCOMES[p.review_outcome] || 'Not recorded')] : null,
      p.review_notes ? [h('dt', {}, L('review_notes')), h('dd', {}, p.review_notes)] : null,
      h('dt', {}, L('barriers')), h('dd', {}, codesText(p.barriers, BARRIERS)),
      h('dt', {}, L('family_view')), h('dd', {}, p.family_view || 'None recorded'),
      h('dt', {}, L('family_consent')), h('dd', {}, CONSENT[p.family_consent] || 'Not recorded'),
      h('dt', {}, L('review_on')), h('dd', {}, p.review_on ? fmtDate(p.review_on) : 'Not set')),
    h('h2', {}, L('actions')), actionsList(p.actions),
    current && current.id === p.id
      ? h('p', {}, h('a', { class: 'button-link', href: `#/case/${caseId}/plan/${crypto.randomUUID()}/reviews/${p.id}` }, 'Review the plan')) : null,
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Support plan', live: true };
}

function form(ctx, caseId, id, { existing, draft, who, supersedes, previous }) {
  const rejected = draft && draft.rejected;
  // a review opens with the last version's answers (its actions, barriers and consent), to change
  const base = existing || (previous ? {
    barriers: previous.barriers, actions: (previous.actions || []).map((a) => ({ ...a })), family_consent: previous.family_consent,
  } : {});
  const start = { ...base, ...(rejected ? rejected.fields : {}) };
  const barriers = Object.entries(BARRIERS).map(([value, label]) => checkbox(label, { value, checked: (start.barriers || []).includes(value) }));
  const view = field(L('family_view'), { kind: 'textarea', value: start.family_view || '', hint: 'In the family\'s words: what would help.' });
  const reviewOn = field(L('review_on'), { kind: 'date', value: start.review_on || '' });
  const consent = field(L('family_consent'), { kind: 'select', value: start.family_consent || 'not_asked', options: Object.entries(CONSENT) });
  const outcome = previous || supersedes
    ? field(L('review_outcome'), { kind: 'select', value: start.review_outcome || '', options: [['', 'Choose…'], ...Object.entries(OUTCOMES)] }) : null;
  const notes = outcome ? field(L('review_notes'), { kind: 'textarea', value: start.review_notes || '' }) : null;
  const list = h('ol', { class: 'action-rows' });
  const rows = [];
  let fx = null;
  function addRow(a = {}) {
    const n = rows.length + 1;
    const row = {
      action: field(`Action ${n}`, { value: a.action || '' }),
      owner: field(`Who does action ${n}`, { kind: 'select', value: a.owner || '', options: [['', 'Choose…'], ...Object.entries(OWNERS)] }),
      due: field(`Action ${n} due date`, { kind: 'date', value: a.due_on || '' }),
      done: checkbox(`Action ${n} done`, { checked: !!a.done }),
    };
    const li = h('li', {}, row.action.wrap, row.owner.wrap, row.due.wrap, row.done.wrap,
      h('button', { type: 'button', class: 'link', onclick: () => { li.remove(); rows.splice(rows.indexOf(row), 1); if (fx) fx.changed(); } }, `Remove action ${n}`));
    rows.push(row);
    list.append(li);
    return row;
  }
  (start.actions || []).forEach(addRow);
  const filledRows = () => rows.filter((r) => r.action.input.value.trim() || r.owner.input.value || r.due.input.value);
  const addButton = h('button', { type: 'button', class: 'secondary', onclick: () => { addRow().action.input.focus(); fx.changed(); } }, 'Add action');
  const controls = {
    barriers: barriers[0].input, family_view: view.input, review_on: reviewOn.input, family_consent: consent.input,
    review_outcome: outcome?.input, review_notes: notes?.input, actions: rows[0]?.action.input || addButton,
  };
  const actionsText = () => filledRows().map((r) => [r.action.input.value.trim() || '(no action written)',
    r.owner.input.value ? ` (${OWNERS[r.owner.input.value]})` : '', r.due.input.value ? `, by ${fmtDate(r.due.input.value)}` : ''].join('')).join('; ') || 'None';
  const steps = createSections({
    sections: [
      ...(outcome ? [{ name: 'The review', nodes: [h('p', { class: 'info' }, `Reviewing ${previous ? versionName(previous).toLowerCase() : 'the last version'}: it stays as it was agreed.`), outcome.wrap, notes.wrap] }] : []),
      { name: 'Barriers and views', nodes: [barrierPicker(L('barriers'), barriers), view.wrap] },
      { name: 'Actions', nodes: [h('fieldset', {}, h('legend', {}, L('actions')), list, addButton)] },
      { name: 'Review and consent', nodes: [reviewOn.wrap, consent.wrap] },
    ],
    summary: () => [
      ...(outcome ? [{ label: L('review_outcome'), value: OUTCOMES[outcome.input.value] || 'Not recorded', control: outcome.input },
        { label: L('review_notes'), value: answerText(notes.input.value, { empty: 'None recorded' }), control: notes.input }] : []),
      { label: L('barriers'), value: codesText(barriers.filter((b) => b.input.checked).map((b) => b.input.value), BARRIERS), control: barriers[0].input },
      { label: L('family_view'), value: answerText(view.input.value, { empty: 'None recorded' }), control: view.input },
      { label: L('actions'), value: actionsText(), control: filledRows()[0]?.action.input || addButton },
      { label: L('review_on'), value: reviewOn.input.value ? fmtDate(reviewOn.input.value) : 'Not set', control: reviewOn.input },
      { label: L('family_consent'), value: CONSENT[consent.input.value] || 'Not recorded', control: consent.input },
    ],
    final: 'Once you submit, this version of the plan is final: it goes to the office when there is signal and is never '
      + 'changed. To change the plan afterwards, review it: the review is a new version. Until then, "Save draft" keeps it open.',
  });
  fx = recordForm(ctx, {
    type: 'support_plan', id, draft, saved: existing, sections: steps,
    snapshot: () => ({
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value), family_view: view.input.value,
      actions: rows.map((r) => ({ action: r.action.input.value, owner: r.owner.input.value, due_on: r.due.input.value, done: r.done.input.checked })),
      review_on: reviewOn.input.value, family_consent: consent.input.value,
      review_outcome: outcome ? outcome.input.value : '', review_notes: notes ? notes.input.value : '',
    }),
    restore: (s) => {
      for (const b of barriers) b.input.checked = (s.barriers || []).includes(b.input.value);
      view.input.value = s.family_view ?? '';
      rows.splice(0);
      list.replaceChildren();
      (s.actions || []).forEach(addRow);
      reviewOn.input.value = s.review_on ?? '';
      consent.input.value = s.family_consent || 'not_asked';
      if (outcome) { outcome.input.value = s.review_outcome ?? ''; notes.input.value = s.review_notes ?? ''; }
    },
    meta: () => ({ type: 'support_plan', id, case_id: caseId, route: `#/case/${caseId}/plan/${id}${supersedes && !existing ? `/reviews/${supersedes}` : ''}`, title: `Support plan: ${who}` }),
    controls,
    ...actionRowProblems(filledRows, controls),
    discard: { what: 'support plan', after: (wasSaved) => (wasSaved ? ctx.rerender() : ctx.go(`#/case/${caseId}`)) },
  });

  function values(status) {
    const v = {
      case_id: caseId,
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value),
      family_view: view.input.value.trim() || null,
      actions: filledRows().map((r) => ({
        action: r.action.input.value.trim() || null, owner: r.owner.input.value || null, due_on: r.due.input.value || null,
        done: r.done.input.checked || null,
      })),
      review_on: reviewOn.input.value || null,
      family_consent: consent.input.value || null,
      status,
    };
    if (supersedes) Object.assign(v, { supersedes, review_outcome: outcome.input.value || null, review_notes: notes.input.value.trim() || null });
    return v;
  }
  return planScreen(ctx, fx, steps, { name: 'Support plan', caseId, who, rejected, supersedes, existing, values });
}
