// The caseload: open cases, severe first, then nearest when location is allowed.
import { conversationTime } from './case.js';
import {
  h, title, bandBadge, personName, fmtPct, fmtDate, distanceM, fmtDistance, BAND_RANK, pendingMark,
} from './ui.js';
import { signOutButton } from './signout.js';

export async function renderCaseload(ctx) {
  const data = await ctx.load(['case', 'pupil', 'school', 'household', 'visit', 'conversation']);
  const me = ctx.session.user;
  const byId = (list) => new Map(list.map((r) => [r.id, r]));
  const pupils = byId(data.pupil);
  const schools = byId(data.school);
  const households = byId(data.household);
  const lastContact = new Map();
  const contacts = [
    ...data.visit.filter((v) => v.status !== 'draft' || v._pending).map((v) => [v.case_id, v.started_at || v.created_at || v._changed_at]),
    ...data.conversation.map((c) => [c.case_id, conversationTime(c, data.visit)]),
  ];
  for (const [caseId, at] of contacts) {
    const r = { case_id: caseId };
    if (at && at <= new Date().toISOString() && (!lastContact.has(r.case_id) || lastContact.get(r.case_id) < at)) lastContact.set(r.case_id, at);
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
      };
    });
  rows.sort((a, b) => (BAND_RANK[a.pupil?.band] ?? 9) - (BAND_RANK[b.pupil?.band] ?? 9)
    || (a.distance ?? Infinity) - (b.distance ?? Infinity)
    || (a.pupil?.attendance_pct ?? 100) - (b.pupil?.attendance_pct ?? 100)
    || personName(a.pupil).localeCompare(personName(b.pupil)));

  const synced = await ctx.getMeta('last_synced_at');
  const notices = await ctx.notices();
  const node = h('section', { class: 'caseload' },
    title(me.role === 'officer' ? 'My caseload' : 'Open cases'),
    notices.length ? h('p', { class: 'warn' },
      h('a', { href: '#/problems' }, `${notices.length} ${notices.length === 1 ? 'change needs' : 'changes need'} your attention`)) : null,
    locationControl(ctx, position),
    rows.length
      ? h('ul', { class: 'cards', 'aria-label': 'Open cases' }, rows.map((r) => caseCard(r, lastContact.get(r.c.id))))
      : h('p', { class: 'empty' }, synced ? 'No open cases on this device.' : 'Your caseload appears after the first sync.'),
    h('div', { class: 'account' },
      h('p', {}, `Signed in as ${me.display_name || me.username}.`),
      h('p', { class: 'actions' },
        h('a', { href: '#/settings', class: 'button-link' }, 'This phone'),
        signOutButton(ctx))));
  return { node, title: 'Caseload', live: true };
}

function caseCard({ c, pupil, school, distance }, contact) {
  return h('li', {},
    h('a', { class: 'card', href: `#/case/${c.id}` },
      h('span', { class: 'card-title' }, personName(pupil)),
      h('span', { class: 'card-line' }, school ? school.name : 'School not known'),
      h('span', { class: 'card-line badges' },
        bandBadge(pupil?.band),
        h('span', { class: 'pct' }, `Attendance ${fmtPct(pupil?.attendance_pct)}`),
        pupil?.penalty_threshold_met ? h('span', { class: 'badge threshold' }, 'Penalty notice threshold met') : null,
        pendingMark(c)),
      h('span', { class: 'card-line muted' },
        contact ? `Last contact ${fmtDate(contact)}` : 'No contact recorded',
        distance != null ? ` · ${fmtDistance(distance)}` : '')));
}

function locationControl(ctx, position) {
  if (position) return h('p', { class: 'muted' }, 'Sorted by band, then by distance from you.');
  if (!('geolocation' in navigator)) return h('p', { class: 'muted' }, 'Sorted by band.');
  return h('p', { class: 'muted' }, 'Sorted by band. ',
    h('button', { type: 'button', class: 'link', onclick: () => ctx.locate(true) }, 'Sort nearest first'));
}
