// Parents and carers as people (`person` records, docs/protocol.md §7.8): the list on the
// household and case screens, and the form that records or changes one — kept on the phone
// as it is typed like every form (views/form.js). A person can be named as a parent the
// case concerns (the case's `parent_ids`).
import { h, title, field, checkbox, pendingMark } from './ui.js';
import { fieldLabel as L, fieldHelp } from '../validate.js';
import { recordKey, loadDraft } from '../drafts.js';
import { loadCase, missingCase } from './case.js';
import { recordForm } from './form.js';

const TRI = [['', 'Not recorded'], ['yes', 'Yes'], ['no', 'No']];
const tri = (v) => (v === true ? 'yes' : v === false ? 'no' : '');
const fromTri = (v) => (v === 'yes' ? true : v === 'no' ? false : null);

/** The persons of a household on this phone, those still involved first, by name. */
export async function personsOf(ctx, householdId) {
  const { person } = await ctx.load(['person']);
  return person.filter((p) => p.household_id === householdId)
    .sort((a, b) => (!!a.no_longer_involved - !!b.no_longer_involved) || String(a.name).localeCompare(String(b.name)));
}

/** "Parents and carers": each person in a line with what matters at the door, and links to edit or add. */
export function peopleSection(caseId, c, persons) {
  const named = new Set(c?.parent_ids || []);
  return h('section', { 'aria-labelledby': 'people-h', class: 'people' },
    h('h2', { id: 'people-h' }, 'Parents and carers'),
    persons.length ? h('ul', { class: 'people-list' }, persons.map((p) => h('li', { class: p.no_longer_involved ? 'muted' : '' },
      h('a', { href: `#/case/${caseId}/person/${p.id}` }, p.name),
      p.relationship ? ` (${p.relationship})` : '',
      h('span', { class: 'person-facts badges' }, [
        named.has(p.id) ? 'Named on this case' : null,
        p.parental_responsibility === true ? 'Parental responsibility' : p.parental_responsibility === false ? 'No parental responsibility' : null,
        p.needs_interpreter ? `Needs an interpreter${p.preferred_language ? ` (${p.preferred_language})` : ''}` : null,
        p.no_longer_involved ? 'No longer involved' : null,
      ].filter(Boolean).map((t) => h('span', { class: 'badge' }, t))),
      p.phone ? h('a', { class: 'call', href: `tel:${p.phone.replace(/[^\d+]/g, '')}` }, `Call ${p.phone}`) : null,
      pendingMark(p))))
      : h('p', {}, 'No parents or carers recorded.'),
    h('p', {}, h('a', { class: 'button-link', href: `#/case/${caseId}/person/${crypto.randomUUID()}` }, 'Add a parent or carer')));
}

export async function renderPerson(ctx, { caseId, id }) {
  const loaded = await loadCase(ctx, caseId);
  if (!loaded || !loaded.household) return missingCase();
  const { c, household } = loaded;
  const existing = await ctx.get('person', id);
  const draft = await loadDraft(ctx.drafts, recordKey('person', id));
  const rejected = draft && draft.rejected;
  const start = { ...(existing || {}), ...(rejected ? rejected.fields : {}) };
  const named = (c.parent_ids || []).includes(id);
  const name = field(L('name'), { value: start.name || '', autocomplete: 'off' });
  const relationship = field(L('relationship'), { value: start.relationship || '', autocomplete: 'off', hint: 'Mother, father, carer, grandmother…' });
  const pr = field(L('parental_responsibility'), { kind: 'select', value: tri(start.parental_responsibility), options: TRI, hint: fieldHelp('parental_responsibility') });
  const phone = field(L('phone'), { kind: 'tel', value: start.phone || '', autocomplete: 'off' });
  const email = field(L('email'), { inputmode: 'email', value: start.email || '', autocomplete: 'off' }); // checked by the schema, not the browser
  const address = field(`${L('address')} (only if not the household's)`, { kind: 'textarea', rows: 2, value: start.address || '' });
  const language = field(L('preferred_language'), { value: start.preferred_language ?? (existing ? '' : household.language || ''), autocomplete: 'off' });
  const interpreter = field(L('needs_interpreter'), { kind: 'select', value: tri(start.needs_interpreter), options: TRI });
  const gone = checkbox(L('no_longer_involved'), { checked: !!start.no_longer_involved });
  const concerns = checkbox('This case concerns this parent or carer', { checked: named });
  const controls = {
    name: name.input, relationship: relationship.input, parental_responsibility: pr.input, phone: phone.input, email: email.input,
    address: address.input, preferred_language: language.input, needs_interpreter: interpreter.input, no_longer_involved: gone.input,
  };
  const fx = recordForm(ctx, {
    type: 'person', id, draft, saved: existing,
    snapshot: () => ({
      name: name.input.value, relationship: relationship.input.value, parental_responsibility: pr.input.value,
      phone: phone.input.value, email: email.input.value, address: address.input.value,
      preferred_language: language.input.value, needs_interpreter: interpreter.input.value,
      no_longer_involved: gone.input.checked, concerns: concerns.input.checked,
    }),
    restore: (s) => {
      name.input.value = s.name ?? ''; relationship.input.value = s.relationship ?? ''; pr.input.value = s.parental_responsibility ?? '';
      phone.input.value = s.phone ?? ''; email.input.value = s.email ?? ''; address.input.value = s.address ?? '';
      language.input.value = s.preferred_language ?? ''; interpreter.input.value = s.needs_interpreter ?? '';
      gone.input.checked = !!s.no_longer_involved; concerns.input.checked = !!s.concerns;
    },
    meta: () => ({ type: 'person', id, case_id: caseId, route: `#/case/${caseId}/person/${id}`, title: `Parent or carer: ${name.input.value || 'new'}` }),
    controls,
    discard: { what: 'parent or carer', after: () => ctx.go(`#/case/${caseId}/household`) },
  });

  async function save() {
    const text = (input) => input.value.trim() || null;
    const values = {
      household_id: household.id, name: text(name.input), relationship: text(relationship.input),
      parental_responsibility: fromTri(pr.input.value), phone: text(phone.input), email: text(email.input),
      address: text(address.input), preferred_language: text(language.input),
      needs_interpreter: fromTri(interpreter.input.value), no_longer_involved: gone.input.checked || null,
    };
    if (!(await fx.send(values))) return;
    const parents = new Set(c.parent_ids || []);
    if (concerns.input.checked !== parents.has(id)) {
      if (concerns.input.checked) parents.add(id); else parents.delete(id);
      await ctx.save('case', caseId, { parent_ids: [...parents] });
    }
    fx.sent();
    ctx.flash('Parent or carer saved on this phone.');
    ctx.go(`#/case/${caseId}/household`);
  }

  const heading = rejected ? 'Parent or carer: needs correcting' : existing ? `Parent or carer: ${existing.name}` : 'Add a parent or carer';
  const node = h('section', {},
    title(heading),
    h('p', { class: 'muted' }, household.address),
    fx.form({ onsubmit: save },
      name.wrap, relationship.wrap, pr.wrap, concerns.wrap, phone.wrap, email.wrap, language.wrap, interpreter.wrap,
      address.wrap, gone.wrap,
      h('div', { class: 'actions dock' }, h('button', { type: 'submit', class: 'primary' }, 'Save parent or carer')),
      fx.kept.line, fx.discard),
    h('p', {}, h('a', { href: `#/case/${caseId}/household` }, 'Back to household')));
  return { node, title: 'Parent or carer', live: false };
}
