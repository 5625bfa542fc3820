// The caseload: open cases, severe first, then nearest when location is allowed.
// Compact cards (at least five on the first screen at 360 × 640), a search by
// name, UPN, address or postcode and filters (find.js), and the link to Today.
import { conversationTime } from './case.js';
import {
  h, title, bandBadge, personName, fmtPct, distanceM, fmtDistance, BAND_RANK, BANDS, pendingMark, today, nextId,
} from './ui.js';
import { signOutButton } from './signout.js';
import {
  matches, passes, dueByCase, dueState, filterCount, todayItems,
} from '../find.js';

// What was typed and chosen: kept while the app is open (a sync's redraw keeps it).
const EMPTY = { query: '', band: null, school: null, threshold: false, due: false, improving: false, open: false };
const find = { ...EMPTY, user: null };

/** Open cases of this officer (all open cases for the office) with their pupil, household, school and what is due. */
export async function caseRows(ctx) {
  const data = await ctx.load(['case', 'pupil', 'school', 'household', 'visit', 'conversation', 'task']);
  const me = ctx.session.user;
  const byId = (list) => new Map(list.map((r) => [r.id, r]));
  const pupils = byId(data.pupil);
  const schools = byId(data.school);
  const households = byId(data.household);
  const due = dueByCase(data, (r, conv) => (conv ? conversationTime(r, data.visit) : r.started_at || r.created_at || r._changed_at));
  const lastContact = new Map();
  const contacts = [
    ...data.visit.filter((v) => v.status !== 'draft' || v._pending).map((v) => [v.case_id, v.started_at || v.created_at || v._changed_at]),
    ...data.conversation.map((c) => [c.case_id, conversationTime(c, data.visit)]),
  ];
  const now = new Date().toISOString();
  for (const [caseId, at] of contacts) {
    if (at && at <= now && (!lastContact.has(caseId) || lastContact.get(caseId) < at)) lastContact.set(caseId, at);
  }
  const position = ctx.position();
  const rows = data.case
    .filter((c) => c.status !== 'closed' && (me.role !== 'officer' || c.assigned_officer_id === me.id))
    .map((c) => {
      const pupil = pupils.get(c.pupil_id);
      const household = pupil && households.get(pupil.household_id);
      return {
        c, pupil, household,
        school: pupil && schools.get(pupil.school_id),
        distance: position && household ? distanceM(position, household) : null,
        due: due.get(c.id) || null,
        contact: lastContact.get(c.id) || null,
      };
    });
  rows.sort((a, b) => (BAND_RANK[a.pupil?.band] ?? 9) - (BAND_RANK[b.pupil?.band] ?? 9)
    || (a.distance ?? Infinity) - (b.distance ?? Infinity)
    || (a.pupil?.attendance_pct ?? 100) - (b.pupil?.attendance_pct ?? 100)
    || personName(a.pupil).localeCompare(personName(b.pupil)));
  return { rows, due, position };
}

export async function renderCaseload(ctx) {
  const me = ctx.session.user;
  if (find.user !== me.id) Object.assign(find, EMPTY, { user: me.id }); // another officer: a clean search
  const { rows, due, position } = await caseRows(ctx);
  const day = today();
  const synced = await ctx.getMeta('last_synced_at');
  const notices = await ctx.notices();
  const dueToday = todayItems(due, day).length;

  const list = h('ul', { class: 'cards', 'aria-label': 'Open cases' });
  const count = h('p', { class: 'muted count', 'aria-live': 'polite' });
  const filterSummary = h('span', {});
  const draw = () => {
    const shown = rows.filter((r) => matches(r, find.query) && passes(r, find, day));
    list.replaceChildren(...shown.map((r) => caseCard(r, day)));
    const n = filterCount(find);
    filterSummary.textContent = n ? `Filters (${n})` : 'Filters';
    const narrowed = find.query.trim() || n;
    count.textContent = narrowed ? `${shown.length} of ${rows.length} cases shown.` : ''; // empty: no height, still live
  };
  const filterPanel = filters(rows, filterSummary, draw);
  const searchId = nextId('search');
  const search = h('input', {
    type: 'search', id: searchId, value: find.query, autocomplete: 'off', enterkeyhint: 'search',
    placeholder: 'Search',
    oninput: (ev) => { find.query = ev.target.value; draw(); },
  });
  const node = h('section', { class: 'caseload' },
    title(me.role === 'officer' ? 'My caseload' : 'Open cases'),
    notices.length ? h('p', { class: 'warn' },
      h('a', { href: '#/problems' }, `${notices.length} ${notices.length === 1 ? 'change needs' : 'changes need'} your attention`)) : null,
    rows.length ? [
      h('div', { class: 'find', role: 'search' },
        h('label', { for: searchId, class: 'visually-hidden' }, 'Search cases by name, UPN, address or postcode'), search,
        filterPanel.toggle,
        h('a', { class: 'button-link today-link', href: '#/today' }, dueToday ? `Today (${dueToday})` : 'Today')),
      filterPanel.panel,
      count,
      list,
      locationControl(ctx, position),
    ] : h('p', { class: 'empty' }, synced ? 'No open cases on this device.' : 'Your caseload appears after the first sync.'),
    h('div', { class: 'account' },
      h('p', {}, `Signed in as ${me.display_name || me.username}.`),
      h('p', { class: 'actions' },
        h('a', { href: '#/settings', class: 'button-link' }, 'This phone'),
        signOutButton(ctx))));
  draw();
  return { node, title: 'Caseload', live: true };
}

function filters(rows, summaryText, draw) {
  const schools = new Map(rows.filter((r) => r.school).map((r) => [r.school.id, r.school.name]));
  const select = (label, key, options) => {
    const id = nextId('filter');
    return h('div', { class: 'field' }, h('label', { for: id }, label),
      h('select', { id, onchange: (ev) => { find[key] = ev.target.value; draw(); } },
        h('option', { value: '' }, 'Any'),
        options.map(([v, text]) => h('option', { value: v, selected: find[key] === v }, text))));
  };
  const check = (label, key) => {
    const id = nextId('filter');
    return h('div', { class: 'check' },
      h('input', { type: 'checkbox', id, checked: find[key], onchange: (ev) => { find[key] = ev.target.checked; draw(); } }),
      h('label', { for: id }, label));
  };
  const panelId = nextId('filters');
  const panel = h('div', { class: 'filters panel', id: panelId, hidden: !find.open },
    select('Band', 'band', Object.keys(BAND_RANK).map((b) => [b, BANDS[b] || b])),
    select('School', 'school', [...schools].sort((a, b) => a[1].localeCompare(b[1]))),
    check('Penalty notice threshold met', 'threshold'),
    check('Task or follow-up due or overdue', 'due'),
    check('Improving attendance', 'improving'));
  const toggle = h('button', {
    type: 'button', class: 'secondary filter-toggle', 'aria-expanded': String(find.open), 'aria-controls': panelId,
    onclick: () => {
      find.open = !find.open;
      panel.hidden = !find.open;
      toggle.setAttribute('aria-expanded', String(find.open));
    },
  }, summaryText);
  return { toggle, panel };
}

/** "6 Nov" (this year) or "6 Nov 2025". */
function shortDate(iso) {
  const d = new Date(iso.length === 10 ? `${iso}T12:00:00` : iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) });
}

const DUE_WORDS = { overdue: 'Overdue', today: 'Due today', soon: 'Due soon' };

function caseCard({ c, pupil, school, distance, due, contact }, day) {
  const state = dueState(due?.first, day);
  return h('li', {},
    h('a', { class: 'card', href: `#/case/${c.id}` },
      h('span', { class: 'card-head' },
        h('span', { class: 'card-title' }, personName(pupil)),
        bandBadge(pupil?.band)),
      h('span', { class: 'card-line one' },
        [`${fmtPct(pupil?.attendance_pct)} attendance`, pupil?.year_group != null ? `Year ${pupil.year_group}` : null,
          school ? school.name : 'School not known'].filter(Boolean).join(' · ')),
      h('span', { class: 'card-line badges small' },
        state ? h('span', { class: `badge ${state === 'overdue' ? 'overdue' : 'due'}` },
          `${DUE_WORDS[state]}${state === 'soon' ? ` ${shortDate(due.first)}` : ''}`) : null,
        pupil?.penalty_threshold_met ? h('span', { class: 'badge threshold' }, 'Threshold met') : null,
        pupil?.improving ? h('span', { class: 'badge improving' }, 'Improving') : null,
        pendingMark(c),
        h('span', { class: 'muted' }, contact ? `Last contact ${shortDate(contact)}` : 'No contact yet',
          distance != null ? ` · ${fmtDistance(distance)}` : ''))));
}

function locationControl(ctx, position) {
  if (position) return h('p', { class: 'muted' }, 'Sorted by band, then by distance from you.');
  if (!('geolocation' in navigator)) return h('p', { class: 'muted' }, 'Sorted by band.');
  return h('p', { class: 'muted' }, 'Sorted by band. ',
    h('button', { type: 'button', class: 'link', onclick: () => ctx.locate(true) }, 'Sort nearest first'));
}
