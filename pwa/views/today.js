// Today: the tasks and follow-ups due today or overdue, across the caseload,
// overdue first, each with its case and the way to the household (find.js).
import { h, title, personName, fmtDate, fmtDistance, today } from './ui.js';
import { caseRows } from './caseload.js';
import { todayItems, directionsHref } from '../find.js';

export async function renderToday(ctx) {
  const { rows, due } = await caseRows(ctx);
  const day = today();
  const byCase = new Map(rows.map((r) => [r.c.id, r]));
  const items = todayItems(due, day).filter((it) => byCase.has(it.caseId));
  const node = h('section', { class: 'today' },
    title('Today'),
    h('p', { class: 'muted' }, `${fmtDate(day)}: tasks and follow-ups due today or overdue.`),
    items.length
      ? h('ul', { class: 'today-list', 'aria-label': 'Due today or overdue' }, items.map((it) => todayItem(it, byCase.get(it.caseId))))
      : h('p', { class: 'empty' }, 'Nothing due today.'),
    h('p', {}, h('a', { href: '#/' }, 'Back to caseload')));
  return { node, title: 'Today', live: true };
}

function todayItem(it, row) {
  const what = it.kind === 'task' ? `Task: ${it.record.title}` : 'Follow-up contact agreed';
  const go = directionsHref(row.household);
  return h('li', { class: it.overdue ? 'overdue' : '' },
    h('a', { class: 'today-case', href: `#/case/${it.caseId}` }, personName(row.pupil)),
    h('p', {}, what),
    h('p', { class: 'badges' },
      h('span', { class: `badge ${it.overdue ? 'overdue' : 'due'}` }, it.overdue ? `Overdue since ${fmtDate(it.date)}` : 'Due today'),
      row.distance != null ? h('span', { class: 'muted' }, fmtDistance(row.distance)) : null),
    go ? h('a', { class: 'directions', href: go, rel: 'noopener' }, 'Directions', h('span', { class: 'visually-hidden' }, ` to ${personName(row.pupil)}'s household`)) : null);
}
