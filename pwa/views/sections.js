// A long form in sections, one on the screen at a time (issue 17, item 2): "Section 2 of 4"
// with the section's name, numbered buttons to jump to any section, Back and Next in the
// bottom bar beside "Save draft", and a last step, "Check and submit", that shows every
// answer in words and says what becomes final before "Submit" is offered. Everything stays
// in one <form>: a hidden section keeps its values, the draft (views/form.js) keeps them all,
// and a problem found on submit brings its section back (`reveal`). The visit and the
// conversation use it (views/visit.js, views/conversation.js); docs/pwa.md, "Form sections".
import { h, nextId } from './ui.js';

export const SUMMARY_NAME = 'Check and submit';

/** "Section 2 of 4" (`index` counts from 0). */
export function progressText(index, total) {
  return `Section ${index + 1} of ${total}`;
}

/** A section number kept in a draft, made safe: a whole number within the form's sections. */
export function clampSection(value, total) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n < total ? n : 0;
}

/** An answer in words for the summary: blank is "Not recorded". */
export function answerText(value, { empty = 'Not recorded' } = {}) {
  if (value === true) return 'Yes';
  if (value === false) return 'No';
  if (value === null || value === undefined || String(value).trim() === '') return empty;
  return String(value).trim();
}

/** Codes in words (`labels`: the vocabulary's), "None recorded" when there are none. */
export function codesText(codes, labels) {
  const list = (codes || []).map((c) => labels[c] || c);
  return list.length ? list.join(', ') : 'None recorded';
}

/**
 * `sections`: [{name, nodes}] in order (the summary step comes after them);
 * `summary()`: [{label, value, control}] read from the form when the summary opens
 * (`control` is where "Change" goes); `final`: what submitting makes final, in words.
 * Returns the navigation, the panels and the controller the form wires (views/form.js).
 */
export function createSections({ sections, summary, final }) {
  const names = [...sections.map((s) => s.name), SUMMARY_NAME];
  const total = names.length;
  const last = total - 1;
  let index = 0;
  let onMove = () => {};
  const summaryList = h('dl', { class: 'facts answers' });
  const headings = names.map((name, i) => h('h2', { id: nextId('s'), tabindex: '-1', class: 'section-head' },
    h('span', { class: 'section-count' }, `${progressText(i, total)}:`), ' ', name));
  const bodies = [...sections.map((s) => s.nodes), [
    summaryList,
    h('div', { class: 'final', role: 'note' }, h('p', {}, h('strong', {}, 'What becomes final')), h('p', {}, final)),
  ]];
  const panels = bodies.map((nodes, i) => h('div', {
    class: 'form-section', role: 'group', 'aria-labelledby': headings[i].id, dataset: { section: String(i) },
  }, headings[i], nodes));
  const jumps = names.map((name, i) => h('button', {
    type: 'button', class: 'step', onclick: () => go(i),
  }, String(i + 1), h('span', { class: 'visually-hidden' }, ` ${name}`)));
  // (a <div>: the app's own <nav> is the bottom tab bar, styled as such in app.css)
  const nav = h('div', { role: 'navigation', class: 'form-steps', 'aria-label': 'Form sections' },
    h('ol', {}, jumps.map((b) => h('li', {}, b))));
  const back = h('button', { type: 'button', class: 'secondary', onclick: () => go(index - 1) }, 'Back');
  const next = h('button', { type: 'button', class: 'primary', onclick: () => go(index + 1) }, 'Next');
  let submit = null;

  function fillSummary() {
    summaryList.replaceChildren(...summary().flatMap(({ label, value, control }) => [
      h('dt', {}, label),
      h('dd', {}, h('span', { class: 'answer' }, value), control ? h('button', {
        type: 'button', class: 'link change', onclick: () => change(control),
      }, 'Change', h('span', { class: 'visually-hidden' }, ` ${label}`)) : null),
    ]));
  }

  /** "Change": back to the section holding the answer, its control focused (a folded list opened). */
  function change(control) {
    reveal(control);
    const folded = control.closest('details');
    if (folded) folded.open = true;
    control.focus();
  }

  function show(i) {
    index = clampSection(i, total);
    panels.forEach((p, n) => { p.hidden = n !== index; });
    jumps.forEach((b, n) => {
      if (n === index) b.setAttribute('aria-current', 'step');
      else b.removeAttribute('aria-current');
    });
    back.hidden = index === 0;
    next.hidden = index === last;
    if (submit) submit.hidden = index !== last;
    if (index === last) fillSummary();
  }

  /** Show section `i`; `focus` moves the focus to its heading (a move the officer made). */
  function go(i, { focus = true } = {}) {
    const before = index;
    show(i);
    if (focus) {
      const top = panels[0].closest('form') || panels[0];
      if (top.getBoundingClientRect().top < 0) top.scrollIntoView({ block: 'start' });
      headings[index].focus({ preventScroll: true });
    }
    if (index !== before) onMove();
  }

  /** The section holding `el` comes on screen (a problem, a warning, "Change"), focus left alone. */
  function reveal(el) {
    const panel = el && el.closest && el.closest('[data-section]');
    if (panel && Number(panel.dataset.section) !== index) go(Number(panel.dataset.section), { focus: false });
  }

  show(0);
  return {
    nav,
    panels,
    get index() { return index; },
    get atSummary() { return index === last; },
    set onMove(fn) { onMove = fn; },
    go,
    next: () => go(index + 1),
    reveal,
    /** The bottom bar: Back, "Save draft", Next, and Submit on the summary step only. */
    dock(saveDraft, submitButton) {
      submit = submitButton;
      show(index);
      return h('div', { class: 'actions dock stepped' }, back, saveDraft, next, submitButton);
    },
  };
}
