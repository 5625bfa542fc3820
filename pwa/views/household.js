// Edit the household fields an officer may change: contacts and access notes; its parents and carers (views/people.js) are listed above.
// Only the fields that changed are sent, so edits to different fields on two
// devices both survive. Like every form it is kept on the phone as it is typed,
// checked against the declared schema before it is sent, and a change the
// server rejected opens here with its messages beside the fields (views/form.js).
import { h, title, field, personName } from './ui.js';
import { fieldLabel as L, fieldHelp } from '../validate.js';
import { recordKey, loadDraft } from '../drafts.js';
import { loadCase, missingCase } from './case.js';
import { recordForm } from './form.js';
import { personsOf, peopleSection } from './people.js';

/** The two fields as the form compares them (blank parts as null). */
const asSaved = (hh) => ({
  access_notes: hh.access_notes || null,
  contacts: (hh.contacts || []).map((c) => ({ name: c.name, relationship: c.relationship || null, phone: c.phone || null })),
});

export async function renderHousehold(ctx, { caseId }) {
  const loaded = await loadCase(ctx, caseId);
  if (!loaded || !loaded.household) return missingCase();
  const hh = loaded.household;
  const persons = await personsOf(ctx, hh.id);
  const who = personName(loaded.pupil);
  const draft = await loadDraft(ctx.drafts, recordKey('household', hh.id));
  const rejected = draft && draft.rejected;
  const saved = asSaved(hh);
  // what the form opens with: the record, and what the server rejected laid over it
  const start = { ...saved, ...(rejected ? rejected.fields : {}) };
  const notes = field(L('access_notes'), {
    kind: 'textarea', value: start.access_notes || '', hint: fieldHelp('access_notes') || 'Entry codes, dogs, best times, who to ask for.',
  });
  const list = h('ol', { class: 'contact-rows' });
  const rows = [];
  let fx = null;
  function addRow(c = {}) {
    const n = rows.length + 1;
    const row = {
      name: field(`Contact ${n} name`, { value: c.name || '', autocomplete: 'off' }),
      relationship: field(`Contact ${n} relationship`, { value: c.relationship || '', autocomplete: 'off' }),
      phone: field(`Contact ${n} phone`, { kind: 'tel', value: c.phone || '', autocomplete: 'off' }),
    };
    const li = h('li', {}, row.name.wrap, row.relationship.wrap, row.phone.wrap,
      h('button', {
        type: 'button', class: 'link',
        onclick: () => { li.remove(); rows.splice(rows.indexOf(row), 1); if (fx) fx.changed(); },
      }, `Remove contact ${n}`));
    rows.push(row);
    list.append(li);
    return row;
  }
  (start.contacts || []).forEach(addRow);

  // rows with anything in them are sent (an empty row is dropped); a phone number
  // without a name is a problem the schema finds (the name is required)
  const filledRows = () => rows.filter((r) => r.name.input.value.trim() || r.relationship.input.value.trim() || r.phone.input.value.trim());
  const controls = { access_notes: notes.input, contacts: rows[0]?.name.input };

  fx = recordForm(ctx, {
    type: 'household', id: hh.id, draft, saved,
    snapshot: () => ({
      access_notes: notes.input.value,
      contacts: rows.map((r) => ({ name: r.name.input.value, relationship: r.relationship.input.value, phone: r.phone.input.value })),
    }),
    restore: (s) => {
      notes.input.value = s.access_notes ?? '';
      rows.splice(0);
      list.replaceChildren();
      (s.contacts || []).forEach(addRow);
    },
    meta: () => ({
      type: 'household', id: hh.id, case_id: caseId, route: `#/case/${caseId}/household`, title: `Contacts and access notes: ${who}`,
    }),
    controls,
    // a problem with contacts.<i>.<part> is shown next to that contact's control
    control: (problem) => {
      const [, i, part] = problem.path.split('.');
      const row = i !== undefined && filledRows()[Number(i)];
      if (!row) return controls[problem.field] || null;
      return (row[part] || row.name).input;
    },
    message: (p) => (p.code === 'missing' && p.path.endsWith('.name') ? 'Give the contact\'s name, or remove the contact.' : p.message),
    discard: { what: 'household', after: () => ctx.go(`#/case/${caseId}`) },
  });

  async function save() {
    const next = {
      access_notes: notes.input.value.trim() || null,
      contacts: filledRows().map((r) => ({
        name: r.name.input.value.trim() || null,
        relationship: r.relationship.input.value.trim() || null,
        phone: r.phone.input.value.trim() || null,
      })),
    };
    if (!(await fx.send(next))) return;
    fx.sent();
    ctx.flash('Household details saved on this phone.');
    ctx.go(`#/case/${caseId}`);
  }

  const node = h('section', {},
    title(rejected ? 'Contacts and access notes: needs correcting' : 'Contacts and access notes'),
    h('p', { class: 'muted' }, hh.address),
    peopleSection(caseId, loaded.c, persons),
    fx.form({ onsubmit: save },
      notes.wrap,
      h('fieldset', {}, h('legend', {}, 'Contacts'), list,
        h('button', { type: 'button', class: 'secondary', onclick: () => { addRow().name.input.focus(); fx.changed(); } }, 'Add contact')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save household details')),
      fx.kept.line,
      fx.discard),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Household', live: false };
}
