// One case: pupil, household and contacts, access notes, chronology, tasks.
// The note and task forms are kept on the phone as they are typed (drafts.js).
import {
  h, title, bandBadge, personName, fmtPct, fmtDate, fmtDateTime, field, checkbox, STAGES, OUTCOMES, AGENCIES,
  pendingMark, nowIso, showErrors, autosaveLine, humanType, distanceM, fmtDistance,
} from './ui.js';
import { directionsHref } from '../find.js';
import { validateRecord } from '../validate.js';
import { formKey, createAutosave, loadDraft, flushAll } from '../drafts.js';
import { peopleSection } from './people.js';
import { planSection } from './support_plan.js';
import { wellbeingSection } from './wellbeing.js';
import { checkInSection } from './checkin.js';

export async function loadCase(ctx, caseId) {
  const c = await ctx.get('case', caseId);
  if (!c) return null;
  const pupil = await ctx.get('pupil', c.pupil_id);
  const [school, household] = await Promise.all([
    pupil ? ctx.get('school', pupil.school_id) : null,
    pupil && pupil.household_id ? ctx.get('household', pupil.household_id) : null,
  ]);
  return { c, pupil, school, household };
}

/** A case on this phone whose pupil lives in the household, or null (its contacts are edited through a case). */
export async function caseOfHousehold(ctx, householdId) {
  const data = await ctx.load(['pupil', 'case']);
  const pupils = new Set(data.pupil.filter((p) => p.household_id === householdId).map((p) => p.id));
  const c = data.case.find((x) => pupils.has(x.pupil_id));
  return c ? c.id : null;
}

export function missingCase() {
  return {
    node: h('section', {}, title('Case not on this device'),
      h('p', {}, 'This case is no longer on this phone. It may have been closed or given to another officer. Anything you recorded for it has been kept and sent to the office.'),
      h('p', {}, h('a', { href: '#/' }, 'Back to caseload'))),
    title: 'Case not available',
    live: true,
  };
}

export async function renderCase(ctx, { id }) {
  const loaded = await loadCase(ctx, id);
  if (!loaded) return missingCase();
  const { c, pupil, school, household } = loaded;
  const data = await ctx.load(['visit', 'conversation', 'note', 'task', 'person', 'support_plan', 'wellbeing_plan', 'check_in']);
  const visits = data.visit.filter((v) => v.case_id === id);
  const convs = data.conversation.filter((v) => v.case_id === id);
  const subjects = new Set([id, ...visits.map((v) => v.id), ...convs.map((v) => v.id)]);
  const notes = data.note.filter((n) => subjects.has(n.subject_id));
  const tasks = data.task.filter((t) => t.case_id === id);
  await flushAll();
  // drafts of this case (a rejected note by its subject), but not this screen's own forms
  const drafts = (await ctx.drafts.listDrafts()).filter((d) => (d.case_id === id
    || (d.rejected && subjects.has(d.rejected.fields.subject_id))) && d.route !== `#/case/${id}`);

  const node = h('section', { class: 'case' },
    title(personName(pupil)),
    h('p', { class: 'muted' }, [school ? school.name : null, pupil?.year_group != null ? `Year ${pupil.year_group}` : null,
      pupil?.date_of_birth ? `Born ${fmtDate(pupil.date_of_birth)}` : null].filter(Boolean).join(' · ')),
    h('div', { class: 'panel' },
      h('p', { class: 'badges' }, bandBadge(pupil?.band),
        pupil?.penalty_threshold_met ? h('span', { class: 'badge threshold' }, 'Penalty notice threshold met') : null,
        pupil?.improving ? h('span', { class: 'badge improving' }, 'Improving') : null),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Attendance'), h('dd', {}, fmtPct(pupil?.attendance_pct)),
        h('dt', {}, 'Unauthorised, last 10 weeks'), h('dd', {}, pupil?.unauthorised_last_10_weeks ?? 'not known'),
        pupil?.attendance_last_4_weeks_pct != null ? [h('dt', {}, 'Last 4 school weeks'),
          h('dd', { class: 'improvement' }, `${fmtPct(pupil.attendance_last_4_weeks_pct)}, the 4 before ${fmtPct(pupil.attendance_previous_4_weeks_pct)}`)] : null,
        h('dt', {}, 'Stage'), h('dd', {}, STAGES[c.stage] || c.stage || 'Support'),
        c.agencies && c.agencies.length ? [h('dt', {}, 'Agencies'), h('dd', {}, c.agencies.map((a) => AGENCIES[a] || a).join(', '))] : null),
      c.summary ? h('p', {}, c.summary) : null),
    h('div', { class: 'actions dock' },
      h('button', { type: 'button', class: 'primary', onclick: () => ctx.go(`#/case/${id}/visit/${crypto.randomUUID()}`) }, 'Record visit'),
      h('button', { type: 'button', class: 'primary', onclick: () => ctx.go(`#/case/${id}/conversation/${crypto.randomUUID()}`) }, 'Record conversation')),
    draftsSection(drafts),
    checkInSection(ctx, { caseId: id, household, visits: data.visit, checkIns: data.check_in }),
    planSection(id, data.support_plan),
    wellbeingSection(id, data.wellbeing_plan),
    householdSection(id, household, ctx.position()),
    household ? peopleSection(id, c, data.person.filter((p) => p.household_id === household.id)) : null,
    chronology(id, visits, convs, notes),
    await tasksSection(ctx, id, tasks),
    await noteForm(ctx, 'case', id, 'Add a note to this case', { caseId: id }));
  return { node, title: personName(pupil), live: true };
}

/** What is on this phone for this case and not sent: unfinished forms, changes to correct. */
function draftsSection(drafts) {
  if (!drafts.length) return null;
  return h('section', { 'aria-labelledby': 'drafts-h', class: 'panel' },
    h('h2', { id: 'drafts-h' }, 'Not finished on this phone'),
    h('ul', {}, drafts.map((d) => h('li', {},
      h('a', { href: d.route || `#/correct/${d.type}/${d.id}` },
        `${d.rejected ? 'Correct' : 'Resume'} ${humanType(d.type).toLowerCase()}`),
      d.rejected ? h('span', { class: 'badge needs-correcting' }, 'Needs correcting') : null))),
    h('p', {}, h('a', { href: '#/drafts' }, 'All drafts')));
}

function householdSection(caseId, hh, position) {
  if (!hh) return h('section', { 'aria-labelledby': 'hh-h' }, h('h2', { id: 'hh-h' }, 'Household'), h('p', {}, 'No household on record.'));
  const contacts = hh.contacts || [];
  return h('section', { 'aria-labelledby': 'hh-h' },
    h('h2', { id: 'hh-h' }, 'Household'),
    h('p', { class: 'address' }, hh.address, hh.postcode ? `, ${hh.postcode}` : ''),
    directionsLine(hh, position),
    hh.language ? h('p', {}, `Language: ${hh.language}`) : null,
    contacts.length
      ? h('ul', { class: 'contacts', 'aria-label': 'Contacts' }, contacts.map((ct) => h('li', {},
        ct.phone
          ? h('a', { class: 'call', href: `tel:${ct.phone.replace(/[^\d+]/g, '')}` }, `Call ${ct.name}`,
            ct.relationship ? ` (${ct.relationship})` : '', h('span', { class: 'phone' }, ct.phone))
          : h('span', {}, ct.name, ct.relationship ? ` (${ct.relationship})` : '', ' — no phone number'))))
      : h('p', {}, 'No contacts on record.'),
    h('h3', {}, 'Access notes'),
    h('p', { class: hh.access_notes ? 'access' : 'muted', 'data-testid': 'access-notes' }, hh.access_notes || 'None recorded.'),
    pendingMark(hh),
    h('p', {}, h('a', { class: 'button-link', href: `#/case/${caseId}/household` }, 'Edit contacts and access notes')));
}

/** Directions to the household (a geo: URI or a web map, find.js) and how far it is when the phone knows. */
function directionsLine(hh, position) {
  const href = directionsHref(hh);
  const away = position ? distanceM(position, hh) : null;
  if (!href && away == null) return null;
  return h('p', { class: 'go' },
    href ? h('a', { class: 'button-link directions', href, rel: 'noopener' }, 'Directions') : null,
    away != null ? h('span', { class: 'muted' }, ` ${fmtDistance(away)}`) : null);
}

function chronology(caseId, visits, convs, notes) {
  const items = [
    ...visits.map((v) => ({ at: v.started_at || v.created_at || v._changed_at || '', kind: 'visit', r: v })),
    ...convs.map((v) => ({ at: conversationTime(v, visits), kind: 'conversation', r: v })),
    ...notes.map((n) => ({ at: n.created_at || n._changed_at || '', kind: 'note', r: n })),
  ].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return h('section', { 'aria-labelledby': 'chrono-h' },
    h('h2', { id: 'chrono-h' }, 'Chronology'),
    h('p', { class: 'muted' }, 'Newest first.'),
    items.length ? h('ol', { class: 'chrono' }, items.map((it) => chronoItem(caseId, it))) : h('p', {}, 'Nothing recorded yet.'));
}

/** A conversation held on a visit happened when the visit did. */
export function conversationTime(c, visits) {
  const v = c.visit_id && visits.find((x) => x.id === c.visit_id);
  return (v && (v.started_at || v.planned_for)) || c.created_at || c._changed_at || '';
}

function chronoItem(caseId, { at, kind, r }) {
  const when = at ? fmtDateTime(at) : 'Time not known';
  const status = r.status === 'draft' ? h('span', { class: 'badge draft' }, 'Draft') : null;
  if (kind === 'visit') {
    return h('li', { class: r.safeguarding_concern ? 'concern' : '' },
      r.safeguarding_concern ? h('p', { class: 'concern-flag' }, 'Safeguarding concern') : null,
      h('a', { href: `#/case/${caseId}/visit/${r.id}` }, `Home visit, ${when}`),
      h('p', {}, OUTCOMES[r.outcome] || 'Outcome not recorded',
        r.child_seen === true ? ' · child seen' : r.child_seen === false ? ' · child not seen' : ''),
      status, pendingMark(r));
  }
  if (kind === 'conversation') {
    return h('li', {},
      h('a', { href: `#/case/${caseId}/conversation/${r.id}` }, `Conversation, ${when}`),
      h('p', {}, r.spoke_with ? `Spoke with ${r.spoke_with}` : 'Who was spoken to not recorded'),
      status, pendingMark(r));
  }
  return h('li', {}, h('p', { class: 'muted' }, `Note, ${when}${r.subject_type && r.subject_type !== 'case' ? ` (correction to a ${r.subject_type})` : ''}`),
    h('p', { class: 'note-text' }, r.text), pendingMark(r));
}

async function tasksSection(ctx, caseId, tasks) {
  tasks.sort((a, b) => (a.done === b.done ? String(a.due_on || '9').localeCompare(String(b.due_on || '9')) : a.done ? 1 : -1));
  const newTitle = field('New task', { autocomplete: 'off' });
  const due = field('Due date', { kind: 'date' });
  const errors = h('div', { class: 'error', role: 'alert', hidden: true });
  const key = formKey('task', caseId);
  const draft = await loadDraft(ctx.drafts, key);
  const snapshot = () => ({ title: newTitle.input.value, due_on: due.input.value });
  const pristine = snapshot();
  if (draft && draft.values) { newTitle.input.value = draft.values.title ?? ''; due.input.value = draft.values.due_on ?? ''; }
  let formEl = null;
  const auto = createAutosave({
    store: ctx.drafts, key, snapshot, pristine,
    meta: () => ({ type: 'task', id: null, case_id: caseId, route: `#/case/${caseId}` }),
    alive: () => !!formEl && formEl.isConnected,
  });
  formEl = h('form', {
    class: 'inline-form',
    oninput: () => auto.changed(),
    onchange: () => auto.changed(),
    onsubmit: async (ev) => {
      ev.preventDefault();
      const text = newTitle.input.value.trim();
      if (!text) { newTitle.input.focus(); return; }
      const fields = {
        case_id: caseId, title: text, due_on: due.input.value || null, done: false, assigned_to: ctx.session.user.id,
      };
      const problems = validateRecord('task', fields, { creating: true })
        .map((p) => [{ title: newTitle.input, due_on: due.input }[p.field] || null, p.message]);
      showErrors(errors, problems);
      if (problems.length) { auto.flush(); return; }
      await ctx.save('task', crypto.randomUUID(), fields);
      await auto.discard();
      ctx.rerender();
    },
  }, errors, newTitle.wrap, due.wrap, h('button', { type: 'submit', class: 'secondary' }, 'Add task'));
  return h('section', { 'aria-labelledby': 'tasks-h' },
    h('h2', { id: 'tasks-h' }, 'Tasks'),
    tasks.length ? h('ul', { class: 'tasks' }, tasks.map((t) => {
      const box = checkbox(`${t.title}${t.due_on ? `, due ${fmtDate(t.due_on)}` : ''}`, {
        checked: !!t.done,
        onchange: async (ev) => { await ctx.save('task', t.id, { done: ev.target.checked }); },
      });
      return h('li', {}, box.wrap, pendingMark(t));
    })) : h('p', {}, 'No tasks.'),
    formEl);
}

// "Note saved …" outlives the re-renders that follow (the new note, the sync): a minute per form.
const noteSaved = new Map();
const NOTE_SAVED_MS = 60_000;

/**
 * A note form: corrections to submitted records are notes, and so are answers to
 * an office review (views/followups.js). What is typed is kept on the phone (one
 * draft per subject, wherever the form is) until the note is added. `route`: where
 * the Drafts list resumes it; `button`: the submit button's words; `done()`:
 * what follows a note added (else a line saying so, and the screen again).
 */
export async function noteForm(ctx, subjectType, subjectId, label, {
  caseId = null, route = location.hash || '#/', button = 'Add note', done = null,
} = {}) {
  const key = formKey('note', subjectType, subjectId);
  const draft = await loadDraft(ctx.drafts, key);
  const text = field(label, { kind: 'textarea', rows: 3 });
  const said = noteSaved.get(key);
  const saved = h('p', { 'aria-live': 'polite', class: 'saved' }, said && Date.now() < said.until ? said.text : '');
  const errors = h('div', { class: 'error', role: 'alert', hidden: true });
  const snapshot = () => ({ text: text.input.value });
  const pristine = snapshot();
  if (draft && draft.values) text.input.value = draft.values.text ?? '';
  const kept = autosaveLine(draft);
  kept.line.hidden = !(draft && draft.values);
  let formEl = null;
  const auto = createAutosave({
    store: ctx.drafts, key, snapshot, pristine,
    meta: () => ({ type: 'note', id: null, case_id: caseId, route }),
    alive: () => !!formEl && formEl.isConnected,
    onSaved: (d) => { kept.line.hidden = !d.values; kept.say(d); },
  });
  formEl = h('form', {
    class: 'inline-form',
    oninput: () => auto.changed(),
    onsubmit: async (ev) => {
      ev.preventDefault();
      const value = text.input.value.trim();
      if (!value) { text.input.focus(); return; }
      const fields = { subject_type: subjectType, subject_id: subjectId, text: value };
      const problems = validateRecord('note', fields, { creating: true }).map((p) => [p.field === 'text' ? text.input : null, p.message]);
      showErrors(errors, problems);
      if (problems.length) { auto.flush(); return; }
      await ctx.save('note', crypto.randomUUID(), fields);
      text.input.value = '';
      await auto.saved();
      if (done) { done(); return; }
      saved.textContent = `Note saved on this phone at ${nowIso().slice(11, 16)} UTC.`;
      noteSaved.set(key, { text: saved.textContent, until: Date.now() + NOTE_SAVED_MS });
      ctx.rerender();
    },
  }, errors, text.wrap, h('button', { type: 'submit', class: done ? 'primary' : 'secondary' }, button), saved, kept.line);
  return formEl;
}
