// A doorstep conversation: who, the reason given, barriers, the parent's view,
// agreed actions (action, owner, due date) and the next contact.
import {
  h, title, field, checkbox, BARRIERS, personName, fmtDate, fmtDateTime, changedFields, showErrors, pendingMark,
} from './ui.js';
import { loadCase, missingCase, noteForm } from './case.js';

export async function renderConversation(ctx, { caseId, id, visitId }) {
  const loaded = await loadCase(ctx, caseId);
  const existing = await ctx.get('conversation', id);
  if (!loaded && !existing) return missingCase();
  const who = loaded ? personName(loaded.pupil) : 'this pupil';
  const visits = (await ctx.load(['visit'])).visit
    .filter((v) => v.case_id === caseId && v.status === 'submitted')
    .sort((a, b) => (visitTime(a) < visitTime(b) ? 1 : -1));
  if (existing && existing.status === 'submitted') return readOnly(ctx, caseId, existing, who, visits);
  return form(ctx, caseId, id, existing, who, visits, visitId);
}

function visitTime(v) {
  return v.started_at || v.planned_for || v.created_at || '';
}

/** How a visit is named in the "Held during a visit" list and on a submitted conversation. */
function visitLabel(v) {
  const at = visitTime(v);
  return `Home visit, ${at ? fmtDateTime(at) : 'time not known'}`;
}

function readOnly(ctx, caseId, c, who, visits) {
  const actions = c.agreed_actions || [];
  const visit = c.visit_id && visits.find((v) => v.id === c.visit_id);
  const node = h('section', {},
    title(`Conversation about ${who}`),
    h('p', { class: 'muted' }, 'Submitted: read-only. Add a note below to correct it.'), pendingMark(c),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Spoke with'), h('dd', {}, c.spoke_with || ''),
      h('dt', {}, 'Held during'), h('dd', {}, visit
        ? h('a', { href: `#/case/${caseId}/visit/${visit.id}` }, visitLabel(visit))
        : c.visit_id ? 'A visit not on this phone' : 'Not on a visit'),
      h('dt', {}, 'Reason given'), h('dd', {}, c.reason_given || 'None recorded'),
      h('dt', {}, 'Barriers'), h('dd', {}, (c.barriers || []).map((b) => BARRIERS[b] || b).join(', ') || 'None recorded'),
      h('dt', {}, "Parent's view"), h('dd', {}, c.parent_view || 'None recorded'),
      h('dt', {}, 'Next contact'), h('dd', {}, c.next_contact_on ? fmtDate(c.next_contact_on) : 'Not set')),
    h('h2', {}, 'Agreed actions'),
    actions.length ? h('ul', {}, actions.map((a) => h('li', {}, a.action,
      a.owner ? ` (${a.owner})` : '', a.due_on ? `, by ${fmtDate(a.due_on)}` : ''))) : h('p', {}, 'None.'),
    noteForm(ctx, 'conversation', c.id, 'Correction note'),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Conversation', live: true };
}

function form(ctx, caseId, id, existing, who, visits, visitId) {
  let saved = existing;
  const chosenVisit = existing ? existing.visit_id || '' : visitId || '';
  const visitOptions = [['', 'Not on a visit'], ...visits.map((v) => [v.id, visitLabel(v)])];
  if (chosenVisit && !visits.some((v) => v.id === chosenVisit)) visitOptions.push([chosenVisit, 'A visit not on this phone']);
  const onVisit = field('Held during a visit', { kind: 'select', value: chosenVisit, options: visitOptions,
    hint: 'The conversation is then shown at the time of that visit.' });
  const spoke = field('Who was spoken to', { value: existing?.spoke_with || '', autocomplete: 'off', hint: 'Name and relationship, e.g. Mum (Jo Smith)' });
  const reason = field('Reason given', { kind: 'textarea', value: existing?.reason_given || '' });
  const barriers = Object.entries(BARRIERS).map(([value, label]) =>
    checkbox(label, { value, checked: (existing?.barriers || []).includes(value) }));
  const view = field("Parent's view", { kind: 'textarea', value: existing?.parent_view || '' });
  const next = field('Next contact', { kind: 'date', value: existing?.next_contact_on || '' });
  const list = h('ol', { class: 'action-rows' });
  const rows = [];
  function addRow(a = {}) {
    const n = rows.length + 1;
    const action = field(`Action ${n}`, { value: a.action || '' });
    const owner = field(`Owner of action ${n}`, { value: a.owner || '' });
    const due = field(`Action ${n} due date`, { kind: 'date', value: a.due_on || '' });
    const row = { action, owner, due };
    const li = h('li', {}, action.wrap, owner.wrap, due.wrap,
      h('button', { type: 'button', class: 'link', onclick: () => { li.remove(); rows.splice(rows.indexOf(row), 1); } }, `Remove action ${n}`));
    row.li = li;
    rows.push(row);
    list.append(li);
    return row;
  }
  (existing?.agreed_actions || []).forEach(addRow);
  const errors = h('div', { class: 'error', role: 'alert', hidden: true });
  const savedMsg = h('p', { class: 'saved', 'aria-live': 'polite' });

  function values(status) {
    return {
      case_id: caseId,
      visit_id: onVisit.input.value || null,
      spoke_with: spoke.input.value.trim() || null,
      reason_given: reason.input.value.trim() || null,
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value),
      parent_view: view.input.value.trim() || null,
      agreed_actions: rows.filter((r) => r.action.input.value.trim()).map((r) => ({
        action: r.action.input.value.trim(), owner: r.owner.input.value.trim() || null, due_on: r.due.input.value || null,
      })),
      next_contact_on: next.input.value || null,
      status,
    };
  }

  async function save(status) {
    const problems = [];
    if (status === 'submitted' && !spoke.input.value.trim()) problems.push([spoke.input, 'Say who you spoke to.']);
    for (const r of rows) {
      if (!r.action.input.value.trim() && (r.owner.input.value.trim() || r.due.input.value)) {
        problems.push([r.action.input, 'Describe the action, or remove it.']);
      }
    }
    showErrors(errors, problems);
    if (problems.length) return;
    const v = values(status);
    const fields = changedFields(saved, v);
    if (!saved) fields.case_id = caseId;
    if (Object.keys(fields).length) await ctx.save('conversation', id, fields);
    saved = { ...(saved || {}), ...v };
    if (status === 'submitted') {
      ctx.flash('Conversation submitted. It is saved on this phone and will be sent when there is signal.');
      ctx.rerender();
    } else {
      savedMsg.textContent = 'Draft saved on this phone.';
    }
  }

  const node = h('section', {},
    title(existing ? `Conversation about ${who} (draft)` : `Record conversation: ${who}`),
    h('form', { onsubmit: (e) => { e.preventDefault(); save('submitted'); } },
      errors,
      onVisit.wrap,
      spoke.wrap, reason.wrap,
      h('fieldset', {}, h('legend', {}, 'Barriers'), barriers.map((b) => b.wrap)),
      view.wrap,
      h('fieldset', {}, h('legend', {}, 'Agreed actions'), list,
        h('button', { type: 'button', class: 'secondary', onclick: () => addRow().action.input.focus() }, 'Add action')),
      next.wrap,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => save('draft') }, 'Save draft'),
        h('button', { type: 'submit', class: 'primary' }, 'Submit')),
      savedMsg),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Record conversation', live: false };
}
