// Small DOM and formatting helpers shared by the screens.
import { codeLabels, typeLabel } from '../validate.js';

let uid = 0;
export const nextId = (prefix = 'f') => `${prefix}-${(uid += 1)}`;

/** h('p', {class: 'x', onclick: fn}, 'text', child, [more]) → element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'multiple'].includes(name)) el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A labelled control: returns {wrap, input}. kind: input type, 'textarea' or 'select'. */
export function field(label, { kind = 'text', value = '', hint, options, ...attrs } = {}) {
  const id = nextId('f');
  const hintId = hint ? `${id}-hint` : undefined;
  let input;
  if (kind === 'textarea') input = h('textarea', { id, rows: 4, 'aria-describedby': hintId, ...attrs }, value ?? '');
  else if (kind === 'select') {
    input = h('select', { id, 'aria-describedby': hintId, ...attrs },
      options.map(([v, text]) => h('option', { value: v, selected: v === (value ?? '') }, text)));
  } else input = h('input', { id, type: kind, value: value ?? '', 'aria-describedby': hintId, ...attrs });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input);
  return { wrap, input };
}

/** A checkbox with its label on the same big row. */
export function checkbox(label, { checked = false, value, ...attrs } = {}) {
  const id = nextId('c');
  const input = h('input', { id, type: 'checkbox', checked, value, ...attrs });
  return { wrap: h('div', { class: 'check' }, input, h('label', { for: id }, label)), input };
}

// Words for the codes: sync/vocabulary.json, through schema.js (the office reads the same file).
export const OUTCOMES = codeLabels('outcome');
export const BARRIERS = codeLabels('barrier');
export const BANDS = codeLabels('band');
export const BAND_RANK = { severe: 0, persistent: 1, at_risk: 2, ok: 3 };

export const STAGES = codeLabels('stage');
export const AGENCIES = codeLabels('agency');
export const STOP_STATUS = codeLabels('stop_status');
export const RUN_STATUS = codeLabels('run_status');

export function bandBadge(band) {
  if (!band) return null;
  return h('span', { class: `badge band-${band}` }, BANDS[band] || band);
}

export function personName(p) {
  return p ? [p.first_name, p.last_name].filter(Boolean).join(' ') || 'Unnamed pupil' : 'Unknown pupil';
}

const pad = (n) => String(n).padStart(2, '0');

export function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso.length === 10 ? `${iso}T12:00:00` : iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fmtDateTime(iso) {
  if (!iso) return '';
  return `${fmtDate(iso)}, ${fmtTime(iso)}`;
}

export function fmtPct(v) {
  return typeof v === 'number' ? `${v.toFixed(1)}%` : 'not known';
}

/** Local date as YYYY-MM-DD. */
export function today(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** ISO UTC → value for <input type="datetime-local"> (local time). */
export function toLocalInput(iso) {
  const d = iso ? new Date(iso) : new Date();
  return `${today(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** <input type="datetime-local"> value → ISO UTC string, or null. */
export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Great-circle distance in metres. */
export function distanceM(a, b) {
  if (!a || !b || a.lat == null || b.lat == null) return null;
  const rad = (x) => (x * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(s));
}

export function fmtDistance(m) {
  if (m == null) return '';
  return m < 1000 ? `${Math.round(m / 10) * 10} m away` : `${(m / 1000).toFixed(1)} km away`;
}

// An empty string, null and a missing value all mean "nothing recorded".
const blank = (v) => (v === '' || v === undefined ? null : v);

/** Fields of `next` that differ from `prev` (everything when prev is null). */
export function changedFields(prev, next) {
  if (!prev) return { ...next };
  const out = {};
  for (const [k, v] of Object.entries(next)) {
    if (JSON.stringify(blank(prev[k])) !== JSON.stringify(blank(v))) out[k] = v;
  }
  return out;
}

/** A page heading that takes focus on navigation. */
export function title(text) {
  return h('h1', { tabindex: '-1' }, text);
}

export function pendingMark(rec) {
  return rec && rec._pending ? h('span', { class: 'badge pending' }, 'Waiting to sync') : null;
}

/** Field errors from the last showErrors: removed (with their aria-describedby) by the next. */
function clearErrors(root = document) {
  for (const el of root.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const note of root.querySelectorAll('.field-error')) {
    const input = note.dataset.for && root.querySelector(`#${CSS.escape(note.dataset.for)}`);
    if (input) {
      const rest = (input.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== note.id);
      if (rest.length) input.setAttribute('aria-describedby', rest.join(' '));
      else input.removeAttribute('aria-describedby');
    }
    note.remove();
  }
}

/**
 * Show field errors: a summary (role=alert) linking to each control, and the message
 * next to the control itself (aria-invalid, and aria-describedby pointing at it).
 * `errors` is [[control or null, message]]; a message without a control (about the
 * whole change) is in the summary only. `intro` replaces "Please fix this:"; `focus:
 * false` leaves the focus where it is (a form being built, not yet on the screen).
 */
export function showErrors(box, errors, { intro, focus = true } = {}) {
  box.replaceChildren();
  clearErrors(box.closest('form') || document);
  if (!errors.length) { box.hidden = true; return; }
  box.hidden = false;
  box.append(h('p', {}, intro || (errors.length === 1 ? 'Please fix this:' : 'Please fix these:')),
    h('ul', {}, errors.map(([input, msg]) => {
      if (!input) return h('li', {}, msg);
      const folded = input.closest('details');
      if (folded) folded.open = true; // a problem inside a disclosure (the barriers) is shown
      input.setAttribute('aria-invalid', 'true');
      const note = h('p', { class: 'field-error', id: nextId('e'), dataset: { for: input.id } }, msg);
      const described = input.getAttribute('aria-describedby');
      input.setAttribute('aria-describedby', described ? `${described} ${note.id}` : note.id);
      if (input.type === 'checkbox') input.parentElement.after(note);
      else input.before(note);
      return h('li', {}, h('a', { href: `#${input.id}`, onclick: (e) => { e.preventDefault(); input.focus(); } }, msg));
    })));
  if (focus) (errors.find(([input]) => input)?.[0] || box).focus();
}

/**
 * Ask before something is thrown away: a modal dialog, "Keep it" focused. Resolves
 * true only when the officer confirms. It closes by itself (false) when `anchor`
 * leaves the screen, e.g. when the app locks.
 */
export async function confirmDialog({ heading, text, yes, no = 'Keep it', anchor = null }) {
  return (await choiceDialog({ heading, body: text, choices: [{ value: true, label: yes }], no, anchor })) === true;
}

/**
 * A modal dialog with a choice: `body` (text, or nodes) says what is at stake;
 * each of `choices` (`{value, label, class}`, class "danger" unless given) is a
 * button resolving to its value; `no` (focused, and Escape) resolves null, as
 * does `anchor` leaving the screen or `alive()` turning false (the app locked).
 */
export function choiceDialog({ heading, body, choices, no = 'Keep it', anchor = null, alive = null }) {
  return new Promise((resolve) => {
    const hid = nextId('d');
    const tid = nextId('d');
    let watch = null;
    const close = (answer) => {
      clearInterval(watch);
      if (dlg.open) dlg.close();
      dlg.remove();
      resolve(answer);
    };
    const keep = h('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, no);
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': hid, 'aria-describedby': tid },
      h('h2', { id: hid }, heading),
      typeof body === 'string' ? h('p', { id: tid }, body) : h('div', { id: tid }, body),
      h('div', { class: 'actions' },
        choices.filter(Boolean).map((c) => h('button', { type: 'button', class: c.class || 'danger', onclick: () => close(c.value) }, c.label)),
        keep));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(null); });
    document.body.append(dlg);
    dlg.showModal();
    keep.focus();
    if (anchor || alive) watch = setInterval(() => { if ((anchor && !anchor.isConnected) || (alive && !alive())) close(null); }, 250);
  });
}

/** The server's errors of a rejected change beside the form's controls: [[control or null, message]]. */
export function serverProblems(errors, controls) {
  return errors.map((e) => [(e.field && controls[e.field]) || null, e.message]);
}

/** A line saying where the draft is, updated by each autosave (not a live region: it changes as you type). */
export function autosaveLine(draft) {
  const line = h('p', { class: 'muted autosave' });
  const say = (d) => {
    line.dataset.savedAt = (d && d.values && d.updated_at) || '';
    // the section the kept draft reopens at (a form in sections; tests wait on it)
    line.dataset.savedSection = d && d.values && d.values.section != null ? String(d.values.section) : '';
    line.textContent = d && d.values && d.updated_at
      ? `Kept on this phone as you type (last at ${fmtTime(d.updated_at)}). Not sent until you save or submit.`
      : 'Kept on this phone as you type. Not sent until you save or submit.';
  };
  say(draft);
  return { line, say };
}

export const humanType = (t) => typeLabel(t);
