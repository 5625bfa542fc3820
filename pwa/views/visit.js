// Record a home visit: time and GPS captured when allowed (never blocking),
// outcome, child seen, safeguarding concern, barriers, notes. Draft or submit;
// a submitted visit is read-only and corrected by notes.
import {
  h, title, field, checkbox, OUTCOMES, BARRIERS, personName, fmtDateTime, toLocalInput, fromLocalInput,
  changedFields, showErrors, nowIso, pendingMark, nextId,
} from './ui.js';
import { validateRecord, fieldLabel as L, fieldHelp } from '../validate.js';
import { loadCase, missingCase, noteForm } from './case.js';

export async function renderVisit(ctx, { caseId, id }) {
  const loaded = await loadCase(ctx, caseId);
  const existing = await ctx.get('visit', id);
  if (!loaded && !existing) return missingCase();
  const who = loaded ? personName(loaded.pupil) : 'this pupil';
  if (existing && existing.status === 'submitted') return readOnly(ctx, caseId, existing, who);
  return form(ctx, caseId, id, existing, loaded, who);
}

function readOnly(ctx, caseId, v, who) {
  const rows = [
    [L('started_at'), v.started_at ? fmtDateTime(v.started_at) : 'not recorded'],
    [L('outcome'), OUTCOMES[v.outcome] || v.outcome || 'not recorded'],
    [L('child_seen'), v.child_seen ? 'Yes' : 'No'],
    [L('barriers'), (v.barriers || []).map((b) => BARRIERS[b] || b).join(', ') || 'None recorded'],
    ['Location', v.lat != null ? `${v.lat.toFixed(5)}, ${v.lon.toFixed(5)}${v.accuracy_m != null ? ` (±${Math.round(v.accuracy_m)} m)` : ''}` : 'not captured'],
    [L('notes'), v.notes || 'None'],
  ];
  const node = h('section', { class: 'visit' },
    title(`Visit to ${who}`),
    h('p', { class: 'muted' }, 'Submitted: read-only. Add a note below to correct it.'), pendingMark(v),
    v.safeguarding_concern ? h('div', { class: 'concern-box' }, h('h2', {}, L('safeguarding_concern')), h('p', {}, v.concern_details || '')) : null,
    h('dl', { class: 'facts' }, rows.map(([k, val]) => [h('dt', {}, k), h('dd', {}, val)])),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go(`#/case/${caseId}/visit/${v.id}/conversation/${crypto.randomUUID()}`) },
        'Record conversation on this visit')),
    noteForm(ctx, 'visit', v.id, 'Correction note'),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Visit', live: true };
}

function form(ctx, caseId, id, existing, loaded, who) {
  let saved = existing; // the state last written to this phone
  const gps = existing && existing.lat != null
    ? { lat: existing.lat, lon: existing.lon, accuracy: existing.accuracy_m } : null;
  let position = gps;
  const where = h('p', { class: 'muted', 'aria-live': 'polite' },
    position ? 'Location captured.' : 'Getting your location… (the visit saves without it)');
  if (!position) {
    ctx.currentPosition().then((p) => {
      if (p) { position = p; where.textContent = `Location captured (±${Math.round(p.accuracy || 0)} m).`; }
      else where.textContent = 'Location not available. The visit saves without it.';
    });
  }
  const started = field(L('started_at'), { kind: 'datetime-local', value: toLocalInput(existing?.started_at) });
  const outcome = field(L('outcome'), {
    kind: 'select', value: existing?.outcome || '',
    options: [['', 'Choose the outcome…'], ...Object.entries(OUTCOMES)],
  });
  const childSeen = checkbox(L('child_seen'), { checked: !!existing?.child_seen });
  const concern = checkbox(L('safeguarding_concern'), { checked: !!existing?.safeguarding_concern });
  const details = field(L('concern_details'), {
    kind: 'textarea', value: existing?.concern_details || '', hint: fieldHelp('concern_details'),
  });
  const detailsWrap = h('div', { class: 'concern-details', hidden: !existing?.safeguarding_concern }, details.wrap);
  concern.input.addEventListener('change', () => {
    detailsWrap.hidden = !concern.input.checked;
    if (concern.input.checked) details.input.focus();
  });
  const barriers = Object.entries(BARRIERS).map(([value, label]) =>
    checkbox(label, { value, checked: (existing?.barriers || []).includes(value) }));
  const notes = field(L('notes'), { kind: 'textarea', value: existing?.notes || '', rows: 5 });
  const errors = h('div', { class: 'error', role: 'alert', hidden: true });
  const savedMsg = h('p', { class: 'saved', 'aria-live': 'polite' });

  function values(status) {
    const v = {
      case_id: caseId,
      household_id: loaded?.household?.id || existing?.household_id || null,
      started_at: fromLocalInput(started.input.value),
      outcome: outcome.input.value || null,
      child_seen: childSeen.input.checked,
      safeguarding_concern: concern.input.checked,
      concern_details: concern.input.checked ? details.input.value.trim() || null : null,
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value),
      notes: notes.input.value.trim() || null,
      status,
    };
    if (position) Object.assign(v, { lat: position.lat, lon: position.lon, accuracy_m: position.accuracy ?? null });
    if (status === 'submitted') v.ended_at = nowIso();
    return v;
  }

  const submit = h('button', { type: 'submit', class: 'primary', id: nextId('b') }, 'Submit');
  // the control each field's problems are shown next to (schema.js rules, pwa/validate.js)
  const controls = {
    started_at: started.input, outcome: outcome.input, child_seen: childSeen.input,
    safeguarding_concern: concern.input, concern_details: details.input, notes: notes.input,
    barriers: barriers[0].input,
  };

  async function save(status) {
    const next = values(status);
    const problems = validateRecord('visit', { ...(saved || {}), ...next }, { creating: !saved })
      .map((p) => [controls[p.field] || submit, p.message]);
    showErrors(errors, problems);
    if (problems.length) return;
    const fields = changedFields(saved, next);
    if (!saved) fields.case_id = caseId;
    if (Object.keys(fields).length) await ctx.save('visit', id, fields);
    saved = { ...(saved || {}), ...next };
    if (status === 'submitted') {
      ctx.flash('Visit submitted. It is saved on this phone and will be sent when there is signal.');
      ctx.rerender();
    } else {
      savedMsg.textContent = 'Draft saved on this phone.';
    }
  }

  const node = h('section', { class: 'visit' },
    title(existing ? `Visit to ${who} (draft)` : `Record visit: ${who}`),
    loaded?.household ? h('p', { class: 'muted' }, loaded.household.address) : null,
    h('form', { onsubmit: (e) => { e.preventDefault(); save('submitted'); } },
      errors,
      started.wrap, where,
      outcome.wrap,
      childSeen.wrap,
      h('div', { class: 'concern-box' }, concern.wrap, detailsWrap),
      h('fieldset', {}, h('legend', {}, L('barriers')), barriers.map((b) => b.wrap)),
      notes.wrap,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => save('draft') }, 'Save draft'),
        submit),
      savedMsg),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Record visit', live: false };
}
