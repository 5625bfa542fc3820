// Changes the server merged or rejected: shown with the reason until dismissed.
import { h, title, fmtDateTime, humanType } from './ui.js';
import { humanField } from '../outbox.js';

export async function renderProblems(ctx) {
  const notices = await ctx.notices();
  const node = h('section', {},
    title('Sync problems'),
    notices.length
      ? [h('p', {}, 'The server did not take these changes as they were. Nothing has been thrown away: the office can see both values.'),
        h('ul', { class: 'notices' }, notices.map((n) => h('li', {},
          h('h2', {}, `${humanType(n.type)}: ${n.status === 'merged' ? 'someone else changed it first' : 'not accepted'}`),
          h('p', {}, n.reason),
          h('p', { class: 'muted' }, `Your change from ${fmtDateTime(n.at)}:`),
          h('dl', { class: 'facts' }, Object.entries(n.fields || {})
            .filter(([k]) => !n.lost_fields.length || n.lost_fields.includes(k))
            .map(([k, v]) => [h('dt', {}, humanField(k)), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))])),
          h('button', { type: 'button', class: 'secondary', onclick: async () => { await ctx.dismiss(n.id); ctx.rerender(); } },
            `Dismiss ${humanType(n.type).toLowerCase()} problem`))))]
      : h('p', {}, 'Nothing needs your attention.'));
  return { node, title: 'Sync problems', live: true };
}
