// The wellbeing plan for a pupil who finds school hard to face (emotionally based school
// avoidance; docs/relationships.md, "Wellbeing plans"): what helps and what makes it harder, a
// trusted adult, a safe space, agreed adjustments, a gradual return timetable (sessions a week,
// rising) and a review date. Recorded offline in sections and kept as it is typed, like the
// support plan (views/support_plan.js, whose versions rule it shares); once submitted it is never
// changed: a review is a new version that supersedes it (docs/protocol.md §7.10).
import { h, title, field, fmtDate, pendingMark, personName } from './ui.js';
import { fieldLabel as L, fieldHelp } from '../validate.js';
import { recordKey, loadDraft } from '../drafts.js';
import { loadCase, missingCase } from './case.js';
import { recordForm } from './form.js';
import { planScreen } from './plan_screen.js';
import { createSections, answerText } from './sections.js';
import { plansOf } from './support_plan.js';

const versionName = (p) => `Version ${p.plan_version || 1}`;
const weeksText = (weeks) => (weeks || []).map((w) => `${fmtDate(w.week_starting)}: ${w.sessions}`).join('; ') || 'None';

/** The Monday a week after `iso` (YYYY-MM-DD), for the next row of the timetable. */
function weekAfter(iso) {
  const d = new Date(`${iso}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return '';
  d.setUTCDate(d.getUTCDate() + 7);
  return d.toISOString().slice(0, 10);
}

/** The case screen's "Wellbeing plan": the current version, drafts, and what to do next. */
export function wellbeingSection(caseId, plans) {
  const { versions, current } = plansOf(plans, caseId);
  const drafts = versions.filter((p) => p.status !== 'submitted');
  const next = current
    ? h('a', { class: 'button-link', href: `#/case/${caseId}/wellbeing/${crypto.randomUUID()}/reviews/${current.id}` }, 'Review the wellbeing plan')
    : drafts.length ? null : h('a', { class: 'button-link', href: `#/case/${caseId}/wellbeing/${crypto.randomUUID()}` }, 'Record a wellbeing plan');
  return h('section', { 'aria-labelledby': 'wellbeing-h', class: 'wellbeing' },
    h('h2', { id: 'wellbeing-h' }, 'Wellbeing plan'),
    current ? h('p', {}, h('a', { href: `#/case/${caseId}/wellbeing/${current.id}` },
      `${versionName(current)}, review by ${current.review_on ? fmtDate(current.review_on) : 'a date not set'}`), pendingMark(current))
      : h('p', { class: drafts.length ? '' : 'muted' }, drafts.length ? 'No wellbeing plan submitted yet.' : 'No wellbeing plan.'),
    drafts.length ? h('ul', {}, drafts.map((p) => h('li', {}, h('a', { href: `#/case/${caseId}/wellbeing/${p.id}` }, `${versionName(p)} (draft)`)))) : null,
    versions.filter((p) => p !== current && p.status === 'submitted').length ? h('details', {}, h('summary', {}, 'Earlier versions'),
      h('ul', {}, versions.filter((p) => p !== current && p.status === 'submitted').map((p) => h('li', {},
        h('a', { href: `#/case/${caseId}/wellbeing/${p.id}` }, versionName(p)))))) : null,
    next ? h('p', {}, next) : null);
}

export async function renderWellbeing(ctx, { caseId, id, reviews = null }) {
  const loaded = await loadCase(ctx, caseId);
  const existing = await ctx.get('wellbeing_plan', id);
  const draft = await loadDraft(ctx.drafts, recordKey('wellbeing_plan', id));
  if (!loaded && !existing && !draft) return missingCase();
  const who = loaded ? personName(loaded.pupil) : 'this pupil';
  if (existing && existing.status === 'submitted') return readOnly(ctx, caseId, existing, who);
  const supersedes = existing?.supersedes || draft?.rejected?.fields.supersedes || reviews;
  const previous = supersedes ? await ctx.get('wellbeing_plan', supersedes) : null;
  return form(ctx, caseId, id, { existing, draft, who, supersedes, previous });
}

async function readOnly(ctx, caseId, p, who) {
  const { current } = plansOf((await ctx.load(['wellbeing_plan'])).wellbeing_plan, caseId);
  const isCurrent = current && current.id === p.id;
  const node = h('section', {},
    title(`Wellbeing plan for ${who}: ${versionName(p).toLowerCase()}`),
    h('p', { class: 'muted' }, isCurrent ? 'The current plan. Submitted: it is reviewed, never changed.' : 'An earlier version, kept as it was agreed.'),
    pendingMark(p),
    h('dl', { class: 'facts' },
      h('dt', {}, L('what_helps')), h('dd', {}, p.what_helps || 'None recorded'),
      h('dt', {}, L('what_makes_it_harder')), h('dd', {}, p.what_makes_it_harder || 'None recorded'),
      h('dt', {}, L('trusted_adult')), h('dd', {}, p.trusted_adult || 'None recorded'),
      h('dt', {}, L('safe_space')), h('dd', {}, p.safe_space || 'None recorded'),
      h('dt', {}, L('review_on')), h('dd', {}, p.review_on ? fmtDate(p.review_on) : 'Not set')),
    h('h2', {}, L('adjustments')),
    (p.adjustments || []).length ? h('ul', {}, p.adjustments.map((a) => h('li', {}, a))) : h('p', {}, 'None.'),
    h('h2', {}, L('return_timetable')),
    (p.return_timetable || []).length ? h('table', { class: 'return-weeks' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, L('week_starting')), h('th', { scope: 'col' }, L('sessions')))),
      h('tbody', {}, p.return_timetable.map((w) => h('tr', {}, h('td', {}, fmtDate(w.week_starting)), h('td', {}, String(w.sessions))))))
      : h('p', {}, 'None.'),
    isCurrent ? h('p', {}, h('a', { class: 'button-link', href: `#/case/${caseId}/wellbeing/${crypto.randomUUID()}/reviews/${p.id}` }, 'Review the wellbeing plan')) : null,
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Wellbeing plan', live: true };
}

function form(ctx, caseId, id, { existing, draft, who, supersedes, previous }) {
  const rejected = draft && draft.rejected;
  // a review opens with the last version's answers, to change
  const base = existing || (previous ? {
    what_helps: previous.what_helps, what_makes_it_harder: previous.what_makes_it_harder, trusted_adult: previous.trusted_adult,
    safe_space: previous.safe_space, adjustments: [...(previous.adjustments || [])],
    return_timetable: (previous.return_timetable || []).map((w) => ({ ...w })),
  } : {});
  const start = { ...base, ...(rejected ? rejected.fields : {}) };
  const helps = field(L('what_helps'), { kind: 'textarea', value: start.what_helps || '', hint: fieldHelp('what_helps') });
  const harder = field(L('what_makes_it_harder'), { kind: 'textarea', value: start.what_makes_it_harder || '' });
  const adult = field(L('trusted_adult'), { value: start.trusted_adult || '', hint: fieldHelp('trusted_adult') });
  const space = field(L('safe_space'), { value: start.safe_space || '', hint: fieldHelp('safe_space') });
  const reviewOn = field(L('review_on'), { kind: 'date', value: start.review_on || '' });
  let fx = null;
  const changed = () => { if (fx) fx.changed(); };

  // the agreed adjustments: one line each
  const adjList = h('ol', { class: 'adjustment-rows' });
  const adjRows = [];
  function addAdjustment(text = '') {
    const n = adjRows.length + 1;
    const row = field(`Adjustment ${n}`, { value: text });
    const li = h('li', {}, row.wrap, h('button', {
      type: 'button', class: 'link', onclick: () => { li.remove(); adjRows.splice(adjRows.indexOf(row), 1); changed(); },
    }, `Remove adjustment ${n}`));
    adjRows.push(row);
    adjList.append(li);
    return row;
  }
  (start.adjustments || []).forEach((a) => addAdjustment(a));
  const addAdjButton = h('button', { type: 'button', class: 'secondary', onclick: () => { addAdjustment().input.focus(); changed(); } }, 'Add adjustment');

  // the gradual return: a week's start and the sessions planned, week by week
  const weekList = h('ol', { class: 'week-rows' });
  const weekRows = [];
  function addWeek(w = {}) {
    const n = weekRows.length + 1;
    const row = {
      week: field(`Week ${n} starts`, { kind: 'date', value: w.week_starting || '' }),
      sessions: field(`Week ${n} sessions planned`, { kind: 'number', value: w.sessions ?? '', min: 0, max: 10, inputmode: 'numeric' }),
    };
    const li = h('li', {}, row.week.wrap, row.sessions.wrap, h('button', {
      type: 'button', class: 'link', onclick: () => { li.remove(); weekRows.splice(weekRows.indexOf(row), 1); changed(); },
    }, `Remove week ${n}`));
    weekRows.push(row);
    weekList.append(li);
    return row;
  }
  (start.return_timetable || []).forEach(addWeek);
  const addWeekButton = h('button', {
    type: 'button', class: 'secondary',
    onclick: () => {
      const last = weekRows[weekRows.length - 1];
      const row = addWeek(last ? { week_starting: weekAfter(last.week.input.value), sessions: last.sessions.input.value } : {});
      row.week.input.focus();
      changed();
    },
  }, 'Add week');

  const adjustments = () => adjRows.map((r) => r.input.value.trim()).filter(Boolean);
  const filledWeeks = () => weekRows.filter((r) => r.week.input.value || r.sessions.input.value !== '');
  const weeks = () => filledWeeks().map((r) => ({
    week_starting: r.week.input.value || null,
    sessions: r.sessions.input.value === '' ? null : Number(r.sessions.input.value),
  }));
  const controls = {
    what_helps: helps.input, what_makes_it_harder: harder.input, trusted_adult: adult.input, safe_space: space.input,
    review_on: reviewOn.input, adjustments: adjRows[0]?.input || addAdjButton, return_timetable: weekRows[0]?.week.input || addWeekButton,
  };
  const steps = createSections({
    sections: [
      ...(previous || supersedes ? [{ name: 'The review', nodes: [h('p', { class: 'info' }, `Reviewing ${previous ? versionName(previous).toLowerCase() : 'the last version'}: it stays as it was agreed. Change what the review agreed.`)] }] : []),
      { name: 'What helps', nodes: [helps.wrap, harder.wrap, adult.wrap, space.wrap] },
      { name: 'Adjustments', nodes: [h('fieldset', {}, h('legend', {}, L('adjustments')), adjList, addAdjButton)] },
      { name: 'Gradual return', nodes: [h('fieldset', {}, h('legend', {}, L('return_timetable')), h('p', { class: 'hint' }, fieldHelp('return_timetable')), weekList, addWeekButton)] },
      { name: 'Review date', nodes: [reviewOn.wrap] },
    ],
    summary: () => [
      { label: L('what_helps'), value: answerText(helps.input.value, { empty: 'None recorded' }), control: helps.input },
      { label: L('what_makes_it_harder'), value: answerText(harder.input.value, { empty: 'None recorded' }), control: harder.input },
      { label: L('trusted_adult'), value: answerText(adult.input.value), control: adult.input },
      { label: L('safe_space'), value: answerText(space.input.value), control: space.input },
      { label: L('adjustments'), value: adjustments().join('; ') || 'None', control: adjRows[0]?.input || addAdjButton },
      { label: L('return_timetable'), value: weeksText(weeks().filter((w) => w.week_starting)), control: weekRows[0]?.week.input || addWeekButton },
      { label: L('review_on'), value: reviewOn.input.value ? fmtDate(reviewOn.input.value) : 'Not set', control: reviewOn.input },
    ],
    final: 'Once you submit, this version of the wellbeing plan is final: it goes to the office when there is signal and is '
      + 'never changed. To change it afterwards, review it: the review is a new version. Until then, "Save draft" keeps it open.',
  });
  fx = recordForm(ctx, {
    type: 'wellbeing_plan', id, draft, saved: existing, sections: steps,
    snapshot: () => ({
      what_helps: helps.input.value, what_makes_it_harder: harder.input.value, trusted_adult: adult.input.value,
      safe_space: space.input.value, review_on: reviewOn.input.value,
      adjustments: adjRows.map((r) => r.input.value),
      weeks: weekRows.map((r) => ({ week_starting: r.week.input.value, sessions: r.sessions.input.value })),
    }),
    restore: (s) => {
      helps.input.value = s.what_helps ?? '';
      harder.input.value = s.what_makes_it_harder ?? '';
      adult.input.value = s.trusted_adult ?? '';
      space.input.value = s.safe_space ?? '';
      reviewOn.input.value = s.review_on ?? '';
      adjRows.splice(0);
      adjList.replaceChildren();
      (s.adjustments || []).forEach((a) => addAdjustment(a));
      weekRows.splice(0);
      weekList.replaceChildren();
      (s.weeks || []).forEach(addWeek);
    },
    meta: () => ({ type: 'wellbeing_plan', id, case_id: caseId, route: `#/case/${caseId}/wellbeing/${id}${supersedes && !existing ? `/reviews/${supersedes}` : ''}`, title: `Wellbeing plan: ${who}` }),
    controls,
    control: (problem) => {
      const [, i, part] = problem.path.split('.');
      if (problem.field === 'return_timetable' && i !== undefined) {
        const row = filledWeeks()[Number(i)];
        if (row) return part === 'sessions' ? row.sessions.input : row.week.input;
      }
      return controls[problem.field] || null;
    },
    discard: { what: 'wellbeing plan', after: (wasSaved) => (wasSaved ? ctx.rerender() : ctx.go(`#/case/${caseId}`)) },
  });

  function values(status) {
    const v = {
      case_id: caseId,
      what_helps: helps.input.value.trim() || null,
      what_makes_it_harder: harder.input.value.trim() || null,
      trusted_adult: adult.input.value.trim() || null,
      safe_space: space.input.value.trim() || null,
      adjustments: adjustments(),
      return_timetable: weeks(),
      review_on: reviewOn.input.value || null,
      status,
    };
    if (supersedes) v.supersedes = supersedes;
    return v;
  }
  return planScreen(ctx, fx, steps, { name: 'Wellbeing plan', caseId, who, rejected, supersedes, existing, values });
}
