// Changes the server merged or rejected, and changes lost with a forgotten PIN
// or a wipe: shown with the reason until dismissed.
import { h, title, fmtDateTime, humanType } from './ui.js';
import { humanField } from '../outbox.js';

const HEADINGS = {
  merged: 'someone else changed it first',
  rejected: 'not accepted',
  unreadable: 'lost, not sent',
};

export async function renderProblems(ctx) {
  const notices = await ctx.notices();
  const node = h('section', {},
    title('Sync problems'),
    notices.length
      ? [h('p', {}, 'These changes did not reach the server as they were. The office can see what happened.'),
        h('ul', { class: 'notices' }, notices.map((n) => h('li', {},
          h('h2', {}, `${humanType(n.type)}: ${HEADINGS[n.status] || HEADINGS.rejected}`),
          h('p', {}, n.reason),
          h('p', { class: 'muted' }, n.status === 'unreadable'
            ? `Recorded ${fmtDateTime(n.recorded_at)}.` : `Your change from ${fmtDateTime(n.at)}:`),
          Object.keys(n.fields || {}).length ? h('dl', { class: 'facts' }, Object.entries(n.fields)
            .filter(([k]) => !n.lost_fields.length || n.lost_fields.includes(k))
            .map(([k, v]) => [h('dt', {}, humanField(k)), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))])) : null,
          h('button', { type: 'button', class: 'secondary', onclick: async () => { await ctx.dismiss(n.id); ctx.rerender(); } },
            `Dismiss ${humanType(n.type).toLowerCase()} problem`))))]
      : h('p', {}, 'Nothing needs your attention.'));
  return { node, title: 'Sync problems', live: true };
}
