// Drafts: what is on this phone and not final yet (drafts.js). "Needs
// correcting": changes the server rejected, each opened at its form with the
// server's messages. "Not finished": forms kept as they were typed, and draft
// visits and conversations already saved. Discarding always asks first.
import {
  h, title, field, checkbox, personName, fmtDateTime, toLocalInput, fromLocalInput, confirmDialog, humanType,
} from './ui.js';
import { fieldLabel, codeLabels, codeLabel } from '../validate.js';
import { SCHEMA } from '../schema.js';
import { recordKey, loadDraft, flushAll, rejectedErrors } from '../drafts.js';
import { recordForm } from './form.js';

/** A value as people read it (codes by their labels). */
function shown(name, value, type) {
  const spec = SCHEMA.types[type]?.fields[name];
  if (value === null || value === undefined || value === '') return 'None';
  if (spec && spec.kind === 'enum') return codeLabel(spec.enum, value);
  if (spec && spec.kind === 'list' && spec.items.kind === 'enum') return value.map((v) => codeLabel(spec.items.enum, v)).join(', ') || 'None';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (spec && spec.kind === 'timestamp') return fmtDateTime(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A rejected change that no form can take any more (e.g. an edit to a visit the
 * office has since submitted): the server's reasons and the values sent, kept
 * until the officer discards them (asked first).
 */
export function keptChange(ctx, draft) {
  const r = draft.rejected;
  const btn = h('button', {
    type: 'button', class: 'secondary danger',
    onclick: async () => {
      const ok = await confirmDialog({
        heading: 'Discard this change?',
        text: 'The values below will be deleted from this phone. Copy anything you still need into a note first.',
        yes: 'Discard change', anchor: btn,
      });
      if (!ok) return;
      await ctx.drafts.deleteDraft(draft.key);
      ctx.flash('Change discarded.');
      ctx.rerender();
    },
  }, 'Discard change');
  return h('div', { class: 'kept-change' },
    h('h2', {}, 'Your change was not accepted'),
    h('ul', {}, rejectedErrors(draft).map((e) => h('li', {}, e.message))),
    h('p', {}, `What you sent (${fmtDateTime(r.at)}):`),
    h('dl', { class: 'facts' }, Object.entries(r.fields).map(([k, v]) => [h('dt', {}, fieldLabel(k)), h('dd', {}, shown(k, v, draft.type))])),
    h('div', { class: 'actions' }, btn));
}

// --- the Drafts list ----------------------------------------------------------------
/** Who or what a draft is about, and where it opens. */
function describe(d, data) {
  const cases = new Map(data.case.map((c) => [c.id, c]));
  const pupils = new Map(data.pupil.map((p) => [p.id, p]));
  const who = (caseId) => {
    const c = caseId && cases.get(caseId);
    return c ? personName(pupils.get(c.pupil_id)) : null;
  };
  const fields = { ...(d.rejected ? d.rejected.fields : {}) };
  const rec = d.type && data[d.type] ? data[d.type].find((r) => r.id === d.id) : null;
  const subject = fields.subject_id && data[fields.subject_type]?.find((r) => r.id === fields.subject_id);
  const caseId = d.case_id || fields.case_id || rec?.case_id || subject?.case_id || null;
  let route = d.route;
  if (!route) {
    route = (d.type === 'visit' || d.type === 'conversation') && caseId
      ? `#/case/${caseId}/${d.type}/${d.id}` : `#/correct/${d.type}/${d.id}`;
  }
  let name = who(caseId);
  if (!name && d.type === 'transport_stop') {
    const stop = data.transport_stop.find((s) => s.id === d.id);
    name = stop ? personName(pupils.get(stop.pupil_id)) : null;
  }
  return { route, label: d.title || `${humanType(d.type)}${name ? `: ${name}` : ''}` };
}

function draftItem(ctx, d, data) {
  const { route, label } = describe(d, data);
  const errs = rejectedErrors(d);
  const line = d.rejected
    ? `Not accepted ${fmtDateTime(d.rejected.at)}: ${errs.map((e) => e.message).join('; ') || 'no reason given'}`
    : `Kept on this phone, last changed ${fmtDateTime(d.updated_at)}`;
  const btn = h('button', {
    type: 'button', class: 'secondary danger',
    onclick: async () => {
      const ok = await confirmDialog({
        heading: 'Discard this draft?',
        text: d.rejected
          ? 'The server did not accept it, and it has not been corrected. Discarding deletes it from this phone; it cannot be brought back.'
          : 'What you typed will be deleted from this phone. It has not been sent, and it cannot be brought back.',
        yes: 'Discard draft', anchor: btn,
      });
      if (!ok) return;
      await ctx.drafts.deleteDraft(d.key);
      ctx.flash('Draft discarded.');
      ctx.rerender();
    },
  }, 'Discard', h('span', { class: 'visually-hidden' }, ` ${label}`));
  return h('li', { 'data-draft': d.key },
    h('a', { class: 'card', href: route },
      h('span', { class: 'card-title' }, `${d.rejected ? 'Correct' : 'Resume'} ${label}`),
      h('span', { class: 'card-line' }, line)),
    h('div', { class: 'actions' }, btn));
}

function savedItem(r, data) {
  const { route, label } = describe({ type: r._type, id: r.id, case_id: r.case_id }, data);
  return h('li', {},
    h('a', { class: 'card', href: route },
      h('span', { class: 'card-title' }, `Resume ${label}`),
      h('span', { class: 'card-line' }, r._pending ? 'Saved as a draft on this phone, waiting to sync' : 'Saved as a draft')));
}

export async function renderDrafts(ctx) {
  await flushAll();
  const drafts = await ctx.drafts.listDrafts();
  const data = await ctx.load(['case', 'pupil', 'visit', 'conversation', 'transport_stop']);
  const me = ctx.session.user.id;
  const local = new Set(drafts.map((d) => d.key));
  // draft visits and conversations already saved, by this officer, with nothing kept beside them
  const savedDrafts = [...data.visit, ...data.conversation].filter((r) => r.status === 'draft'
    && (r._version === null || r.created_by === me || r.officer_id === me) && !local.has(recordKey(r._type, r.id)));
  const rejected = drafts.filter((d) => d.rejected);
  const unfinished = drafts.filter((d) => !d.rejected);
  const node = h('section', {},
    title('Drafts'),
    h('p', {}, 'Work on this phone that is not final yet. Forms are kept here as you type, until you submit them.'),
    rejected.length ? [
      h('h2', {}, `Needs correcting (${rejected.length})`),
      h('ul', { class: 'cards drafts', 'aria-label': 'Needs correcting' }, rejected.map((d) => draftItem(ctx, d, data))),
    ] : null,
    h('h2', {}, 'Not finished'),
    unfinished.length || savedDrafts.length
      ? h('ul', { class: 'cards drafts', 'aria-label': 'Not finished' },
        unfinished.map((d) => draftItem(ctx, d, data)), savedDrafts.map((r) => savedItem(r, data)))
      : h('p', {}, 'Nothing unfinished.'));
  return { node, title: 'Drafts', live: true };
}

// --- correcting a rejected change that has no form of its own -------------------------
/** An editor for one schema field, or null when it cannot be edited here (ids, lists of objects). */
function editor(name, spec, value) {
  const label = fieldLabel(name);
  const text = (kind, v, attrs = {}) => field(label, { kind, value: v ?? '', ...attrs });
  let c;
  switch (spec.kind) {
    case 'string':
      c = text(spec.max > 200 ? 'textarea' : 'text', value);
      return { ...c, raw: () => c.input.value, set: (v) => { c.input.value = v ?? ''; }, parse: (v) => (v.trim() ? v.trim() : null) };
    case 'enum': {
      const labels = codeLabels(spec.enum);
      const opts = [['', 'Choose…'], ...Object.entries(labels)];
      if (value && !(value in labels)) opts.push([value, value]);
      c = field(label, { kind: 'select', value: value ?? '', options: opts });
      return { ...c, raw: () => c.input.value, set: (v) => { c.input.value = v ?? ''; }, parse: (v) => v || null };
    }
    case 'boolean':
      c = checkbox(label, { checked: !!value });
      return { ...c, raw: () => c.input.checked, set: (v) => { c.input.checked = !!v; }, parse: (v) => !!v };
    case 'integer':
    case 'number':
      c = text('text', value == null ? '' : String(value), { inputmode: 'decimal' });
      return { ...c, raw: () => c.input.value, set: (v) => { c.input.value = v ?? ''; }, parse: (v) => (v.trim() === '' ? null : Number(v)) };
    case 'date':
      c = text('date', value);
      return { ...c, raw: () => c.input.value, set: (v) => { c.input.value = v ?? ''; }, parse: (v) => v || null };
    case 'timestamp':
      c = text('datetime-local', value ? toLocalInput(value) : '');
      return { ...c, raw: () => c.input.value, set: (v) => { c.input.value = v ?? ''; }, parse: (v) => fromLocalInput(v) };
    case 'list':
      if (spec.items.kind !== 'enum') return null;
      {
        const boxes = Object.entries(codeLabels(spec.items.enum)).map(([code, l]) =>
          checkbox(l, { value: code, checked: (value || []).includes(code) }));
        const wrap = h('fieldset', {}, h('legend', {}, label), boxes.map((b) => b.wrap));
        return {
          wrap, input: boxes[0].input,
          raw: () => boxes.filter((b) => b.input.checked).map((b) => b.input.value),
          set: (v) => { for (const b of boxes) b.input.checked = (v || []).includes(b.input.value); },
          parse: (v) => v,
        };
      }
    default:
      return null;
  }
}

export async function renderCorrection(ctx, { type, id }) {
  const key = recordKey(type, id);
  const draft = await loadDraft(ctx.drafts, key);
  const decl = SCHEMA.types[type];
  if (!draft || !draft.rejected || !decl) {
    return {
      node: h('section', {}, title('Nothing to correct'),
        h('p', {}, 'This change is no longer waiting here: it was sent again or discarded.'),
        h('p', {}, h('a', { href: '#/drafts' }, 'Back to drafts'))),
      title: 'Drafts', live: true,
    };
  }
  const existing = await ctx.get(type, id);
  const data = await ctx.load(['case', 'pupil', 'visit', 'conversation', 'transport_stop']);
  const { label } = describe(draft, data);
  const sent = draft.rejected.fields;
  const start = { ...(existing || {}), ...sent };
  const writable = decl.officer_writable;
  const editors = {};
  const fixed = [];
  for (const name of Object.keys(sent)) {
    const spec = decl.fields[name];
    const ed = spec && (writable === null || writable.includes(name)) ? editor(name, spec, start[name]) : null;
    if (ed) editors[name] = ed;
    else fixed.push(name);
  }
  const controls = Object.fromEntries(Object.entries(editors).map(([n, e]) => [n, e.input]));
  const fx = recordForm(ctx, {
    type, id, draft, saved: existing,
    snapshot: () => Object.fromEntries(Object.entries(editors).map(([n, e]) => [n, e.raw()])),
    restore: (values) => { for (const [n, v] of Object.entries(values)) editors[n]?.set(v); },
    meta: () => ({ type, id, route: `#/correct/${type}/${id}`, title: label }),
    controls,
    discard: { what: 'change', saved: () => false, after: () => ctx.go('#/drafts') },
  });

  async function send() {
    const next = { ...sent };
    for (const [n, e] of Object.entries(editors)) next[n] = e.parse(e.raw());
    if (!(await fx.send(next))) return;
    await fx.sent();
    ctx.flash('Sent again. It is saved on this phone and will be sent when there is signal.');
    ctx.go('#/drafts');
  }

  const formEl = fx.form({ onsubmit: send },
    Object.values(editors).map((e) => e.wrap),
    fixed.length ? [h('p', {}, 'Sent as it was:'),
      h('dl', { class: 'facts' }, fixed.map((n) => [h('dt', {}, fieldLabel(n)), h('dd', {}, shown(n, sent[n], type))]))] : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Send again')),
    fx.kept.line,
    fx.discard);

  const node = h('section', {},
    title(`${label}: needs correcting`),
    formEl,
    h('p', {}, h('a', { href: '#/drafts' }, 'Back to drafts')));
  return { node, title: 'Correct a change', live: false };
}
