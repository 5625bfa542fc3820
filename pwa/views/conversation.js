// A doorstep conversation: who, the reason given, barriers, the parent's view,
// agreed actions (action, owner, due date) and the next contact. Kept on the
// phone as it is typed (drafts.js); a rejected one opens with the server's messages.
import {
  h, title, field, checkbox, BARRIERS, personName, fmtDate, fmtDateTime, pendingMark,
} from './ui.js';
import { fieldLabel as L, fieldHelp } from '../validate.js';
import { recordKey, loadDraft } from '../drafts.js';
import { loadCase, missingCase, noteForm } from './case.js';
import { keptChange } from './drafts.js';
import { recordForm, barrierPicker, actionRowProblems } from './form.js';
import { createSections, answerText, codesText } from './sections.js';
import { followsText } from './followups.js';

export async function renderConversation(ctx, { caseId, id, visitId, followUpOf = null }) {
  const loaded = await loadCase(ctx, caseId);
  const existing = await ctx.get('conversation', id);
  const draft = await loadDraft(ctx.drafts, recordKey('conversation', id));
  if (!loaded && !existing && !draft) return missingCase();
  const who = loaded ? personName(loaded.pupil) : 'this pupil';
  const visits = (await ctx.load(['visit'])).visit
    .filter((v) => v.case_id === caseId && v.status === 'submitted')
    .sort((a, b) => (visitTime(a) < visitTime(b) ? 1 : -1));
  if (existing && existing.status === 'submitted') return readOnly(ctx, caseId, existing, who, visits, draft);
  // the reviewed record this conversation follows up (an office review asked for it), however it was opened
  const follows = existing?.follow_up_of || draft?.rejected?.fields.follow_up_of || draft?.values?.follow_up_of || followUpOf;
  return form(ctx, caseId, id, { existing, draft, who, visits, visitId, follows, followsWords: await followsText(ctx, follows) });
}

function visitTime(v) {
  return v.started_at || v.planned_for || v.created_at || '';
}

/** How a visit is named in the "Held during a visit" list and on a submitted conversation. */
function visitLabel(v) {
  const at = visitTime(v);
  return `Home visit, ${at ? fmtDateTime(at) : 'time not known'}`;
}

async function readOnly(ctx, caseId, c, who, visits, draft) {
  const actions = c.agreed_actions || [];
  const visit = c.visit_id && visits.find((v) => v.id === c.visit_id);
  const node = h('section', {},
    title(`Conversation about ${who}`),
    h('p', { class: 'muted' }, 'Submitted: read-only. Add a note below to correct it.'), pendingMark(c),
    draft && draft.rejected ? keptChange(ctx, draft) : null,
    h('dl', { class: 'facts' },
      h('dt', {}, L('spoke_with')), h('dd', {}, c.spoke_with || ''),
      h('dt', {}, 'Held during'), h('dd', {}, visit
        ? h('a', { href: `#/case/${caseId}/visit/${visit.id}` }, visitLabel(visit))
        : c.visit_id ? 'A visit not on this phone' : 'Not on a visit'),
      h('dt', {}, L('reason_given')), h('dd', {}, c.reason_given || 'None recorded'),
      h('dt', {}, L('barriers')), h('dd', {}, (c.barriers || []).map((b) => BARRIERS[b] || b).join(', ') || 'None recorded'),
      h('dt', {}, L('parent_view')), h('dd', {}, c.parent_view || 'None recorded'),
      h('dt', {}, L('next_contact_on')), h('dd', {}, c.next_contact_on ? fmtDate(c.next_contact_on) : 'Not set')),
    h('h2', {}, L('agreed_actions')),
    actions.length ? h('ul', {}, actions.map((a) => h('li', {}, a.action,
      a.owner ? ` (${a.owner})` : '', a.due_on ? `, by ${fmtDate(a.due_on)}` : ''))) : h('p', {}, 'None.'),
    await noteForm(ctx, 'conversation', c.id, 'Correction note', { caseId }),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Conversation', live: true };
}

function form(ctx, caseId, id, { existing, draft, who, visits, visitId, follows, followsWords }) {
  const rejected = draft && draft.rejected;
  // what the form opens with: the record, and what the server rejected laid over it
  const start = { ...(existing || {}), ...(rejected ? rejected.fields : {}) };
  const chosenVisit = existing || rejected ? start.visit_id || '' : visitId || '';
  const visitOptions = [['', 'Not on a visit'], ...visits.map((v) => [v.id, visitLabel(v)])];
  if (chosenVisit && !visits.some((v) => v.id === chosenVisit)) visitOptions.push([chosenVisit, 'A visit not on this phone']);
  const onVisit = field(L('visit_id'), { kind: 'select', value: chosenVisit, options: visitOptions,
    hint: fieldHelp('visit_id') });
  const spoke = field(L('spoke_with'), { value: start.spoke_with || '', autocomplete: 'off', hint: fieldHelp('spoke_with') });
  const reason = field(L('reason_given'), { kind: 'textarea', value: start.reason_given || '' });
  const barriers = Object.entries(BARRIERS).map(([value, label]) =>
    checkbox(label, { value, checked: (start.barriers || []).includes(value) }));
  const view = field(L('parent_view'), { kind: 'textarea', value: start.parent_view || '' });
  const next = field(L('next_contact_on'), { kind: 'date', value: start.next_contact_on || '' });
  const list = h('ol', { class: 'action-rows' });
  const rows = [];
  let fx = null;
  function addRow(a = {}) {
    const n = rows.length + 1;
    const action = field(`Action ${n}`, { value: a.action || '' });
    const owner = field(`Owner of action ${n}`, { value: a.owner || '' });
    const due = field(`Action ${n} due date`, { kind: 'date', value: a.due_on || '' });
    const row = { action, owner, due };
    const li = h('li', {}, action.wrap, owner.wrap, due.wrap,
      h('button', {
        type: 'button', class: 'link',
        onclick: () => { li.remove(); rows.splice(rows.indexOf(row), 1); if (fx) fx.changed(); },
      }, `Remove action ${n}`));
    row.li = li;
    rows.push(row);
    list.append(li);
    return row;
  }
  (start.agreed_actions || []).forEach(addRow);
  const savedMsg = h('p', { class: 'saved', 'aria-live': 'polite' });

  // rows with anything in them are sent (an empty row is dropped); an owner or a date
  // without an action is a problem the schema finds (the action is required)
  const filledRows = () => rows.filter((r) => r.action.input.value.trim() || r.owner.input.value.trim() || r.due.input.value);
  const controls = {
    visit_id: onVisit.input, spoke_with: spoke.input, reason_given: reason.input, parent_view: view.input,
    next_contact_on: next.input, barriers: barriers[0].input, agreed_actions: rows[0]?.action.input,
  };

  const actionsText = () => {
    const filled = filledRows();
    if (!filled.length) return 'None';
    return filled.map((r) => [r.action.input.value.trim() || '(no action written)',
      r.owner.input.value.trim() ? ` (${r.owner.input.value.trim()})` : '',
      r.due.input.value ? `, by ${fmtDate(r.due.input.value)}` : ''].join('')).join('; ');
  };
  const addButton = h('button', { type: 'button', class: 'secondary', onclick: () => { addRow().action.input.focus(); fx.changed(); } }, 'Add action');
  // in sections (sections.js), then every answer in words before "Submit"
  const steps = createSections({
    sections: [
      { name: 'Who and why', nodes: [follows ? h('p', { class: 'info follows' }, followsWords) : null, onVisit.wrap, spoke.wrap, reason.wrap] },
      { name: 'Barriers and views', nodes: [barrierPicker(L('barriers'), barriers), view.wrap] },
      { name: 'What happens next', nodes: [h('fieldset', {}, h('legend', {}, L('agreed_actions')), list, addButton), next.wrap] },
    ],
    summary: () => [
      { label: L('visit_id'), value: onVisit.input.selectedOptions[0]?.textContent || 'Not on a visit', control: onVisit.input },
      { label: L('spoke_with'), value: answerText(spoke.input.value), control: spoke.input },
      { label: L('reason_given'), value: answerText(reason.input.value, { empty: 'None recorded' }), control: reason.input },
      { label: L('barriers'), value: codesText(barriers.filter((b) => b.input.checked).map((b) => b.input.value), BARRIERS), control: barriers[0].input },
      { label: L('parent_view'), value: answerText(view.input.value, { empty: 'None recorded' }), control: view.input },
      { label: L('agreed_actions'), value: actionsText(), control: filledRows()[0]?.action.input || addButton },
      { label: L('next_contact_on'), value: next.input.value ? fmtDate(next.input.value) : 'Not set', control: next.input },
    ],
    final: 'Once you submit, this conversation is final: it goes to the office when there is signal, and it can no '
      + 'longer be changed on this phone or any other. To correct it afterwards, add a correction note to it. '
      + 'Until then, "Save draft" keeps it open to change.',
  });

  fx = recordForm(ctx, {
    type: 'conversation', id, draft, saved: existing, sections: steps,
    // The form's raw state, as typed (kept as the draft, empty action rows too), and back.
    snapshot: () => ({
      visit_id: onVisit.input.value, spoke_with: spoke.input.value, reason_given: reason.input.value,
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value),
      parent_view: view.input.value,
      agreed_actions: rows.map((r) => ({ action: r.action.input.value, owner: r.owner.input.value, due_on: r.due.input.value })),
      next_contact_on: next.input.value,
      follow_up_of: follows || '',
    }),
    restore: (s) => {
      onVisit.input.value = s.visit_id ?? '';
      spoke.input.value = s.spoke_with ?? '';
      reason.input.value = s.reason_given ?? '';
      for (const b of barriers) b.input.checked = (s.barriers || []).includes(b.input.value);
      view.input.value = s.parent_view ?? '';
      rows.splice(0);
      list.replaceChildren();
      (s.agreed_actions || []).forEach(addRow);
      next.input.value = s.next_contact_on ?? '';
    },
    meta: () => ({ type: 'conversation', id, case_id: caseId, route: `#/case/${caseId}/conversation/${id}`, title: `Conversation: ${who}` }),
    controls,
    ...actionRowProblems(filledRows, controls),
    discard: { what: 'conversation', after: (wasSaved) => (wasSaved ? ctx.rerender() : ctx.go(`#/case/${caseId}`)) },
  });

  function values(status) {
    const v = {
      case_id: caseId,
      visit_id: onVisit.input.value || null,
      spoke_with: spoke.input.value.trim() || null,
      reason_given: reason.input.value.trim() || null,
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value),
      parent_view: view.input.value.trim() || null,
      agreed_actions: filledRows().map((r) => ({
        action: r.action.input.value.trim() || null, owner: r.owner.input.value.trim() || null, due_on: r.due.input.value || null,
      })),
      next_contact_on: next.input.value || null,
      status,
    };
    if (follows) v.follow_up_of = follows;
    return v;
  }

  async function save(status) {
    if (!(await fx.send(values(status)))) return;
    if (status === 'submitted') {
      fx.sent();
      ctx.flash('Conversation submitted. It is saved on this phone and will be sent when there is signal.');
      ctx.rerender();
    } else {
      await fx.keptOpen();
      savedMsg.textContent = 'Draft saved on this phone.';
    }
  }

  const formEl = fx.form({ onsubmit: () => save('submitted') }, steps.panels, fx.footer(save, savedMsg));

  const heading = rejected ? `Conversation about ${who}: needs correcting`
    : existing ? `Conversation about ${who} (draft)` : `Record conversation: ${who}`;
  const node = h('section', {},
    title(heading),
    formEl,
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Record conversation', live: false };
}
