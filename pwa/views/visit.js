// Record a home visit: time and GPS captured when allowed (never blocking),
// outcome, child seen, safeguarding concern, barriers, notes. Draft or submit;
// a submitted visit is read-only and corrected by notes. What the form holds is
// kept on the phone as it is typed (drafts.js); a visit the server rejected
// opens here with the server's messages beside the fields.
import {
  h, title, field, checkbox, OUTCOMES, BARRIERS, personName, fmtDateTime, toLocalInput, fromLocalInput,
  nowIso, pendingMark,
} from './ui.js';
import { fieldLabel as L, fieldHelp } from '../validate.js';
import { recordKey, loadDraft } from '../drafts.js';
import { loadCase, missingCase, noteForm } from './case.js';
import { keptChange } from './drafts.js';
import { recordForm, barrierPicker } from './form.js';
import { createSections, answerText, codesText } from './sections.js';
import { followsText } from './followups.js';

export async function renderVisit(ctx, { caseId, id, followUpOf = null }) {
  const loaded = await loadCase(ctx, caseId);
  const existing = await ctx.get('visit', id);
  const draft = await loadDraft(ctx.drafts, recordKey('visit', id));
  if (!loaded && !existing && !draft) return missingCase();
  const who = loaded ? personName(loaded.pupil) : 'this pupil';
  if (existing && existing.status === 'submitted') return readOnly(ctx, caseId, existing, who, draft);
  // the reviewed record this visit follows up (an office review asked for it), however it was opened
  const follows = existing?.follow_up_of || draft?.rejected?.fields.follow_up_of || draft?.values?.follow_up_of || followUpOf;
  return form(ctx, caseId, id, { existing, draft, loaded, who, follows, followsText: await followsText(ctx, follows) });
}

async function readOnly(ctx, caseId, v, who, draft) {
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
    draft && draft.rejected ? keptChange(ctx, draft) : null,
    v.safeguarding_concern ? h('div', { class: 'concern-box' }, h('h2', {}, L('safeguarding_concern')), h('p', {}, v.concern_details || '')) : null,
    h('dl', { class: 'facts' }, rows.map(([k, val]) => [h('dt', {}, k), h('dd', {}, val)])),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go(`#/case/${caseId}/visit/${v.id}/conversation/${crypto.randomUUID()}`) },
        'Record conversation on this visit')),
    await noteForm(ctx, 'visit', v.id, 'Correction note', { caseId }),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Visit', live: true };
}

function form(ctx, caseId, id, { existing, draft, loaded, who, follows, followsText: followsWords }) {
  const rejected = draft && draft.rejected;
  // what the form opens with: the record, and what the server rejected laid over it
  const start = { ...(existing || {}), ...(rejected ? rejected.fields : {}) };
  const followsLine = follows ? h('p', { class: 'info follows' }, followsWords) : null;
  let position = start.lat != null ? { lat: start.lat, lon: start.lon, accuracy: start.accuracy_m } : null;
  const where = h('p', { class: 'muted', 'aria-live': 'polite' },
    position ? 'Location captured.' : 'Getting your location… (the visit saves without it)');
  const started = field(L('started_at'), { kind: 'datetime-local', value: toLocalInput(start.started_at) });
  const outcome = field(L('outcome'), {
    kind: 'select', value: start.outcome || '',
    options: [['', 'Choose the outcome…'], ...Object.entries(OUTCOMES)],
  });
  const childSeen = checkbox(L('child_seen'), { checked: !!start.child_seen });
  const concern = checkbox(L('safeguarding_concern'), { checked: !!start.safeguarding_concern });
  const details = field(L('concern_details'), {
    kind: 'textarea', value: start.concern_details || '', hint: fieldHelp('concern_details'),
  });
  const detailsWrap = h('div', { class: 'concern-details', hidden: !start.safeguarding_concern }, details.wrap);
  concern.input.addEventListener('change', () => {
    detailsWrap.hidden = !concern.input.checked;
    if (concern.input.checked) details.input.focus();
  });
  const barriers = Object.entries(BARRIERS).map(([value, label]) =>
    checkbox(label, { value, checked: (start.barriers || []).includes(value) }));
  const notes = field(L('notes'), { kind: 'textarea', value: start.notes || '', rows: 5 });
  const savedMsg = h('p', { class: 'saved', 'aria-live': 'polite' });
  const whereWords = () => (position
    ? `${position.lat.toFixed(5)}, ${position.lon.toFixed(5)}${position.accuracy != null ? ` (±${Math.round(position.accuracy)} m)` : ''}`
    : 'Not captured');
  // in sections (sections.js), then every answer in words before "Submit"
  const steps = createSections({
    sections: [
      { name: 'The visit', nodes: [followsLine, started.wrap, where, outcome.wrap, childSeen.wrap] },
      { name: 'Safeguarding', nodes: [h('div', { class: 'concern-box' }, concern.wrap, detailsWrap)] },
      { name: 'Barriers and notes', nodes: [barrierPicker(L('barriers'), barriers), notes.wrap] },
    ],
    summary: () => [
      { label: L('started_at'), value: started.input.value ? fmtDateTime(fromLocalInput(started.input.value)) : 'Not recorded', control: started.input },
      { label: 'Location', value: whereWords() },
      { label: L('outcome'), value: OUTCOMES[outcome.input.value] || 'Not chosen', control: outcome.input },
      { label: L('child_seen'), value: answerText(childSeen.input.checked), control: childSeen.input },
      { label: L('safeguarding_concern'), value: answerText(concern.input.checked), control: concern.input },
      concern.input.checked ? { label: L('concern_details'), value: answerText(details.input.value), control: details.input } : null,
      { label: L('barriers'), value: codesText(barriers.filter((b) => b.input.checked).map((b) => b.input.value), BARRIERS), control: barriers[0].input },
      { label: L('notes'), value: answerText(notes.input.value, { empty: 'None' }), control: notes.input },
    ].filter(Boolean),
    final: 'Once you submit, this visit is final: it goes to the office when there is signal, and it can no longer be '
      + 'changed on this phone or any other. To correct it afterwards, add a correction note to it. '
      + 'Until then, "Save draft" keeps it open to change.',
  });

  const fx = recordForm(ctx, {
    type: 'visit', id, draft, saved: existing, sections: steps,
    // The form's raw state, as typed (kept as the draft), and back.
    snapshot: () => ({
      started_at: started.input.value, outcome: outcome.input.value,
      child_seen: childSeen.input.checked, safeguarding_concern: concern.input.checked,
      concern_details: details.input.value,
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value),
      notes: notes.input.value, position, follow_up_of: follows || '',
    }),
    restore: (s) => {
      started.input.value = s.started_at ?? '';
      outcome.input.value = s.outcome ?? '';
      childSeen.input.checked = !!s.child_seen;
      concern.input.checked = !!s.safeguarding_concern;
      detailsWrap.hidden = !concern.input.checked;
      details.input.value = s.concern_details ?? '';
      for (const b of barriers) b.input.checked = (s.barriers || []).includes(b.input.value);
      notes.input.value = s.notes ?? '';
      if (s.position) { position = s.position; where.textContent = 'Location captured.'; }
    },
    ignore: ['position'],
    meta: () => ({ type: 'visit', id, case_id: caseId, route: `#/case/${caseId}/visit/${id}`, title: `Home visit: ${who}` }),
    // where each field's problems show (schema.js rules, pwa/validate.js; the server's)
    controls: {
      started_at: started.input, outcome: outcome.input, child_seen: childSeen.input,
      safeguarding_concern: concern.input, concern_details: details.input, notes: notes.input,
      barriers: barriers[0].input,
    },
    discard: { what: 'visit', after: (wasSaved) => (wasSaved ? ctx.rerender() : ctx.go(`#/case/${caseId}`)) },
  });
  if (!position) {
    ctx.currentPosition().then((p) => {
      if (position) return;
      if (p) { position = p; where.textContent = `Location captured (±${Math.round(p.accuracy || 0)} m).`; }
      else where.textContent = 'Location not available. The visit saves without it.';
    });
  }

  function values(status) {
    const v = {
      case_id: caseId,
      household_id: loaded?.household?.id || start.household_id || null,
      started_at: fromLocalInput(started.input.value),
      outcome: outcome.input.value || null,
      child_seen: childSeen.input.checked,
      safeguarding_concern: concern.input.checked,
      concern_details: concern.input.checked ? details.input.value.trim() || null : null,
      barriers: barriers.filter((b) => b.input.checked).map((b) => b.input.value),
      notes: notes.input.value.trim() || null,
      status,
    };
    if (follows) v.follow_up_of = follows;
    if (position) Object.assign(v, { lat: position.lat, lon: position.lon, accuracy_m: position.accuracy ?? null });
    if (status === 'submitted') v.ended_at = nowIso();
    return v;
  }

  async function save(status) {
    if (!(await fx.send(values(status)))) return;
    if (status === 'submitted') {
      fx.sent();
      ctx.flash('Visit submitted. It is saved on this phone and will be sent when there is signal.');
      ctx.rerender();
    } else {
      await fx.keptOpen();
      savedMsg.textContent = 'Draft saved on this phone.';
    }
  }

  const formEl = fx.form({ onsubmit: () => save('submitted') }, steps.panels, fx.footer(save, savedMsg));

  const heading = rejected ? `Visit to ${who}: needs correcting` : existing ? `Visit to ${who} (draft)` : `Record visit: ${who}`;
  const node = h('section', { class: 'visit' },
    title(heading),
    loaded?.household ? h('p', { class: 'muted' }, loaded.household.address) : null,
    formEl,
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: 'Record visit', live: false };
}
