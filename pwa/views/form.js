// What every form that edits one record shares — a visit, a conversation, the
// household's contacts and access notes, a change to correct (views/drafts.js):
// the draft kept on this phone as it is typed (drafts.js), the checks against the
// schema the server declares before anything is queued (validate.js), the
// server's messages of a rejected change beside the fields, and "Discard" that
// asks first. The forms draw their fields; this wires them.
import {
  h, showErrors, serverProblems, autosaveLine, changedFields, confirmDialog, choiceDialog, nextId,
} from './ui.js';
import { validateRecord, consistency } from '../validate.js';
import { recordKey, createAutosave, rejectedErrors } from '../drafts.js';

export const REJECTED_INTRO = 'The server did not accept this. Correct it and send it again, or discard it:';

/**
 * The form's "Discard" button: asks first, then throws the draft away. `saved()`
 * says whether the record is already saved on the phone (then only the changes
 * since go); `after()` shows what is left.
 */
export function discardButton(ctx, { auto, saved, what, after }) {
  const label = () => (saved() ? 'Discard changes' : 'Discard draft');
  const btn = h('button', {
    type: 'button',
    class: 'secondary danger',
    onclick: async () => {
      const keep = saved();
      const ok = await confirmDialog({
        heading: keep ? 'Discard your changes?' : 'Discard this draft?',
        text: keep
          ? `What you changed in this ${what} since you last saved it will be deleted from this phone. What you saved stays.`
          : `This ${what} will be deleted from this phone. It has not been sent, and it cannot be brought back.`,
        yes: label(),
        anchor: btn,
      });
      if (!ok) return;
      await auto.discard();
      ctx.flash(keep ? 'Changes discarded.' : 'Draft discarded.');
      after();
    },
  }, label());
  const wrap = h('div', { class: 'actions discard' }, btn);
  wrap.refresh = () => { btn.textContent = label(); };
  return wrap;
}

/**
 * Wire a form editing one record:
 * - `type`, `id`: the record; `draft`: its draft (drafts.loadDraft) or null;
 *   `saved`: the record as last written to this phone, or null (a new record);
 * - `snapshot()`: the form's raw values (what a draft keeps); `restore(values)`
 *   puts them back. The form as drawn when this is called is the baseline, and
 *   the draft's values are laid over it here;
 * - `meta()`: what the Drafts list shows (type, id, case_id, route, title);
 *   `ignore`: snapshot keys that alone make no draft (a GPS fix);
 * - `controls`: `{field: control}`, where messages show; `control(problem)` and
 *   `message(problem)` may place and word this phone's own problems otherwise;
 * - `discard`: `{what, after(wasSaved), saved?}` for a Discard button, or null
 *   (`saved()`: is there a saved version the discard leaves? by default `saved`);
 * - `sections`: a long form's sections (sections.js createSections), or null. The
 *   section on screen is kept in the draft too; a problem brings its section back.
 *
 * `form(attrs, …children)` makes the <form> (its `onsubmit` gets no event to
 * cancel; in sections, Enter before the last step goes to the next one);
 * `send(values)` checks the record as it would be and queues the changed fields,
 * or shows the problems and resolves false; then `sent()` (the work is final:
 * the draft goes) or `keptOpen()` (saved, still being edited).
 */
export function recordForm(ctx, {
  type, id, draft = null, saved = null, snapshot, restore, meta, ignore = [], controls,
  control = (p) => controls[p.field] || null, message = (p) => p.message, discard = null, sections = null,
}) {
  if (sections) {
    const [own, put] = [snapshot, restore];
    snapshot = () => ({ ...own(), section: sections.index });
    restore = (s) => { put(s); sections.go(s.section, { focus: false }); };
    ignore = [...ignore, 'section'];
  }
  const reveal = (el) => { if (sections && el) sections.reveal(el); };
  let last = saved;
  const pristine = snapshot();
  if (draft && draft.values) restore(draft.values);
  const errors = h('div', { class: 'error', role: 'alert', hidden: true });
  const kept = autosaveLine(draft);
  let formEl = null;
  const auto = createAutosave({
    store: ctx.drafts, key: recordKey(type, id), snapshot, pristine, ignore, meta,
    alive: () => !!formEl && formEl.isConnected, onSaved: kept.say,
  });
  if (sections) sections.onMove = () => { auto.changed(); auto.flush(); }; // (a move is rare: kept at once)
  const discardEl = discard
    ? discardButton(ctx, { auto, saved: discard.saved || (() => !!last), what: discard.what, after: () => discard.after(!!last) })
    : null;

  return {
    errors,
    kept,
    discard: discardEl,
    get saved() { return last; },
    changed: () => auto.changed(),
    /** Checked before it is queued: a problem blocks sending, never typing (the draft keeps it). */
    async send(values) {
      const problems = validateRecord(type, { ...(last || {}), ...values }, { creating: !last })
        .map((p) => [control(p), message(p)]);
      reveal(problems.find(([input]) => input)?.[0]); // the first field in error, in its section
      showErrors(errors, problems);
      if (problems.length) { auto.flush(); return false; }
      const warnings = consistency(type, { ...(last || {}), ...values }, 'warning');
      if (!(await confirmWarnings(warnings, (p) => { const el = control(p); reveal(el); return el; }, formEl))) {
        auto.flush();
        return false;
      }
      const fields = changedFields(last, values);
      if (Object.keys(fields).length) await ctx.save(type, id, fields);
      last = { ...(last || {}), ...values };
      return true;
    },
    /** Final (submitted, sent again): the draft has done its job (the next screen reads drafts after this). */
    sent: () => auto.discard(),
    /** Saved on the phone and still open (a draft record): the form as it is becomes the baseline. */
    async keptOpen() {
      await auto.saved();
      kept.say(null);
      if (discardEl) discardEl.refresh();
    },
    /** The end of a form that is saved as a draft or submitted, with "Save draft" and "Submit"
     * (`save(status)`), the saved line, the autosave line and "Discard". */
    footer(save, savedMsg) {
      const draftBtn = h('button', { type: 'button', class: 'secondary', onclick: () => save('draft') }, 'Save draft');
      const submitBtn = h('button', { type: 'submit', class: 'primary', id: nextId('b') }, 'Submit');
      return [
        sections ? sections.dock(draftBtn, submitBtn) : h('div', { class: 'actions dock' }, draftBtn, submitBtn),
        savedMsg, kept.line, discardEl,
      ];
    },
    form({ onsubmit, ...attrs }, ...children) {
      formEl = h('form', {
        ...attrs,
        onsubmit: (e) => {
          e.preventDefault();
          if (sections && !sections.atSummary) sections.next();
          else onsubmit();
        },
        oninput: () => auto.changed(),
        onchange: () => auto.changed(),
      }, errors, sections ? sections.nav : null, children);
      if (sections) {
        // a link in the summary of problems first brings its field's section back
        errors.addEventListener('click', (e) => {
          const link = e.target.closest && e.target.closest('a[href^="#"]');
          if (link) reveal(formEl.querySelector(`#${CSS.escape(link.hash.slice(1))}`));
        }, true);
      }
      if (draft && draft.rejected) {
        const problems = serverProblems(rejectedErrors(draft), controls);
        reveal(problems.find(([input]) => input)?.[0]); // opens at the first field the server refused
        showErrors(errors, problems, { focus: false, intro: REJECTED_INTRO });
      }
      return formEl;
    },
  };
}

/**
 * The consistency warnings (validate.js): a combination that can be true but is usually
 * a slip. The officer confirms it ("Submit as it is") or goes back to the first field
 * concerned. Resolves true to carry on.
 */
async function confirmWarnings(warnings, control, anchor) {
  if (!warnings.length) return true;
  const ok = await choiceDialog({
    heading: warnings.length === 1 ? 'Check this before it is sent' : 'Check these before they are sent',
    body: [h('ul', { class: 'warnings' }, warnings.map((w) => h('li', {}, w.message)))],
    choices: [{ value: true, label: 'Submit as it is', class: 'primary' }],
    no: 'Go back and check',
    anchor,
  });
  if (ok === true) return true;
  const input = control(warnings[0]);
  if (input) { input.focus(); input.scrollIntoView({ block: 'center' }); }
  return false;
}

/**
 * The barriers, behind a disclosure whose summary names the ones chosen (15 checkboxes
 * would otherwise fill two screens). `boxes`: checkbox() results. Opens by itself when
 * a problem is shown in it (ui.js showErrors).
 */
export function barrierPicker(label, boxes) {
  const summary = h('summary', {});
  const say = () => {
    const chosen = boxes.filter((b) => b.input.checked).map((b) => b.input.parentElement.textContent.trim());
    summary.textContent = `${label}: ${chosen.length ? chosen.join(', ') : 'none chosen'}`;
  };
  say();
  return h('details', { class: 'barriers', onchange: say },
    summary, h('fieldset', {}, h('legend', { class: 'visually-hidden' }, label), boxes.map((b) => b.wrap)));
}

/**
 * Where a form with rows of agreed actions (a conversation, a support plan) shows the server's
 * or the schema's problems: one with `<list>.<i>.<part>` beside that row's control (the i-th
 * filled row), any other beside its field; a row without its action is asked for one.
 */
export function actionRowProblems(filledRows, controls) {
  return {
    control: (problem) => {
      const [, i, part] = (problem.path || '').split('.');
      const row = i !== undefined && filledRows()[Number(i)];
      if (!row) return controls[problem.field] || null;
      return { action: row.action.input, owner: row.owner.input, due_on: row.due.input }[part] || row.action.input;
    },
    message: (p) => (p.code === 'missing' && (p.path || '').endsWith('.action') ? 'Describe the action, or remove it.' : p.message),
  };
}
