// Edit the household fields an officer may change: contacts and access notes.
// Only the fields that changed are sent, so edits to different fields on two
// devices both survive.
import { h, title, field, changedFields } from './ui.js';
import { loadCase, missingCase } from './case.js';

export async function renderHousehold(ctx, { caseId }) {
  const loaded = await loadCase(ctx, caseId);
  if (!loaded || !loaded.household) return missingCase();
  const hh = loaded.household;
  const notes = field('Access notes', {
    kind: 'textarea', value: hh.access_notes || '', hint: 'Entry codes, dogs, best times, who to ask for.',
  });
  const list = h('ol', { class: 'contact-rows' });
  const rows = [];
  function addRow(c = {}) {
    const n = rows.length + 1;
    const row = {
      name: field(`Contact ${n} name`, { value: c.name || '', autocomplete: 'off' }),
      relationship: field(`Contact ${n} relationship`, { value: c.relationship || '', autocomplete: 'off' }),
      phone: field(`Contact ${n} phone`, { kind: 'tel', value: c.phone || '', autocomplete: 'off' }),
    };
    const li = h('li', {}, row.name.wrap, row.relationship.wrap, row.phone.wrap,
      h('button', { type: 'button', class: 'link', onclick: () => { li.remove(); rows.splice(rows.indexOf(row), 1); } }, `Remove contact ${n}`));
    rows.push(row);
    list.append(li);
    return row;
  }
  (hh.contacts || []).forEach(addRow);
  const msg = h('p', { class: 'saved', 'aria-live': 'polite' });
  const node = h('section', {},
    title('Contacts and access notes'),
    h('p', { class: 'muted' }, hh.address),
    h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const next = {
          access_notes: notes.input.value.trim() || null,
          contacts: rows.filter((r) => r.name.input.value.trim()).map((r) => ({
            name: r.name.input.value.trim(),
            relationship: r.relationship.input.value.trim() || null,
            phone: r.phone.input.value.trim() || null,
          })),
        };
        const prev = { access_notes: hh.access_notes || null, contacts: (hh.contacts || []).map((c) => ({
          name: c.name, relationship: c.relationship || null, phone: c.phone || null })) };
        const fields = changedFields(prev, next);
        if (Object.keys(fields).length) await ctx.save('household', hh.id, fields);
        ctx.flash('Household details saved on this phone.');
        ctx.go(`#/case/${caseId}`);
      },
    },
    notes.wrap,
    h('fieldset', {}, h('legend', {}, 'Contacts'), list,
      h('button', { type: 'button', class: 'secondary', onclick: () => addRow().name.input.focus() }, 'Add contact')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save household details')),
    msg),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Household', live: false };
}
