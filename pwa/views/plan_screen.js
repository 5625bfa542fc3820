// The screen around a versioned plan's form (a support plan, a wellbeing plan): its heading,
// the form with its sections and footer, Save draft / Submit, and the way back to the case.
import { h, title } from './ui.js';

/**
 * `name`: "Support plan" or "Wellbeing plan"; `fx`: the form wiring (views/form.js); `steps`:
 * the sections (views/sections.js); `values(status)`: the record's fields as typed.
 */
export function planScreen(ctx, fx, steps, { name, caseId, who, rejected, supersedes, existing, values }) {
  const lower = name.toLowerCase();
  const savedMsg = h('p', { class: 'saved', 'aria-live': 'polite' });
  async function save(status) {
    if (!(await fx.send(values(status)))) return;
    if (status === 'submitted') {
      fx.sent();
      ctx.flash(`${name} submitted. It is saved on this phone and will be sent when there is signal.`);
      ctx.go(`#/case/${caseId}`);
    } else {
      await fx.keptOpen();
      savedMsg.textContent = 'Draft saved on this phone.';
    }
  }
  const heading = rejected ? `${name} for ${who}: needs correcting`
    : supersedes ? `Review the ${lower}: ${who}` : existing ? `${name} for ${who} (draft)` : `Record a ${lower}: ${who}`;
  const node = h('section', {},
    title(heading),
    fx.form({ onsubmit: () => save('submitted') }, steps.panels, fx.footer(save, savedMsg)),
    h('p', {}, h('a', { href: `#/case/${caseId}` }, 'Back to case')));
  return { node, title: name, live: false };
}
