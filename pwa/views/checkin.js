// Safe lone working (docs/relationships.md, "Safe lone working"). Before a visit the case screen
// shows the household's known risks, read from this phone (its access notes; earlier visits found
// unsafe to proceed or with a safeguarding concern). "Start visit" checks the officer in with an
// expected duration (a `check_in` record, docs/protocol.md §7.11); "I'm safe" checks out, and so
// does submitting a visit of that case; while a check-in runs past its expected end it shows on
// every screen (both `watchCheckIns`, run by the status bar after every save and every 30 s).
// A check-in queues offline like any change: the office learns of it only once it has synced.
import { h, title, field, fmtDate, fmtTime, nowIso, pendingMark } from './ui.js';
import { codeLabel } from '../validate.js';

export const DURATIONS = [20, 30, 45, 60, 90, 120];
export const DEFAULT_MINUTES = 45;

/** When a check-in expects the officer to be done (ms since the epoch). */
export const dueMs = (ci) => Date.parse(ci.started_at) + (ci.expected_minutes || 0) * 60_000;
export const isOpen = (ci) => !ci.closed_at;
export const isOverdue = (ci, now = Date.now()) => isOpen(ci) && now > dueMs(ci);

/** This officer's open check-ins (one not yet synced has no officer yet: it is theirs). */
export function openCheckIns(checkIns, me) {
  return checkIns.filter((ci) => isOpen(ci) && (!ci.officer_id || ci.officer_id === me))
    .sort((a, b) => String(a.started_at).localeCompare(String(b.started_at)));
}

/** The household's known risks on this phone: its access notes and earlier visits found unsafe. */
export function knownRisks(household, visits) {
  const out = [];
  if (household?.access_notes) out.push({ kind: 'access', text: `Access notes: ${household.access_notes}` });
  for (const v of visits) {
    const unsafe = v.outcome === 'unsafe_to_proceed';
    if (!unsafe && !v.safeguarding_concern) continue;
    const when = v.started_at || v.ended_at || v.planned_for;
    const what = [unsafe ? codeLabel('outcome', 'unsafe_to_proceed') : null, v.safeguarding_concern ? 'safeguarding concern recorded' : null]
      .filter(Boolean).join('; ');
    out.push({ kind: 'visit', text: `Visit${when ? ` on ${fmtDate(when)}` : ''}: ${what}` });
  }
  return out;
}

const closing = (how) => ({ closed_at: nowIso(), closed_how: how });

/** The case screen's "Safe lone working": the risks, then "Start visit" or the check-in running. */
export function checkInSection(ctx, { caseId, household, visits, checkIns }) {
  const me = ctx.session?.user?.id;
  const running = openCheckIns(checkIns, me).find((ci) => ci.case_id === caseId || (household && ci.household_id === household.id));
  const mine = visits.filter((v) => v.case_id === caseId || (household && v.household_id === household.id));
  const risks = knownRisks(household, mine);
  const riskList = risks.length
    ? h('ul', { class: 'risks', 'aria-label': 'Known risks' }, risks.map((r) => h('li', { class: `risk-${r.kind}` }, r.text)))
    : h('p', { class: 'muted' }, 'No known risks recorded on this phone.');
  let body;
  if (running) {
    const overdue = isOverdue(running);
    body = [
      h('p', { class: overdue ? 'warn checkin-running' : 'info checkin-running', 'data-check-in': running.id },
        `Checked in at ${fmtTime(running.started_at)}; expected to finish by ${fmtTime(new Date(dueMs(running)).toISOString())}.`,
        overdue ? ' Overdue: check out now if you are safe.' : '', pendingMark(running)),
      h('p', {}, h('button', {
        type: 'button', class: 'primary', onclick: async () => {
          await ctx.save('check_in', running.id, closing('safe'));
          ctx.flash('Checked out: you are safe. The office is told when this phone syncs.');
          ctx.rerender();
        },
      }, "I'm safe")),
      running._pending ? h('p', { class: 'hint' }, 'Not sent yet: the office learns of this check-in only once the phone has synced.') : null,
      h('p', { class: 'hint' }, 'Submitting the visit for this case also checks you out.'),
    ];
  } else {
    const minutes = field('Expected duration', {
      kind: 'select', value: String(DEFAULT_MINUTES), options: DURATIONS.map((m) => [String(m), `${m} minutes`]),
    });
    body = [
      minutes.wrap,
      h('p', {}, h('button', {
        type: 'button', class: 'primary', onclick: async () => {
          const pos = ctx.position();
          const fields = {
            case_id: caseId, started_at: nowIso(), expected_minutes: Number(minutes.input.value),
            ...(household ? { household_id: household.id } : {}),
            ...(pos && typeof pos.lat === 'number' ? { lat: pos.lat, lon: pos.lon } : {}),
          };
          await ctx.save('check_in', crypto.randomUUID(), fields);
          ctx.flash(`Checked in for ${fields.expected_minutes} minutes. Tap "I'm safe" when you leave.`);
          ctx.rerender();
        },
      }, 'Start visit')),
      h('p', { class: 'hint' }, 'Checks you in: if you do not check out in time, the office is alerted once this phone has synced.'),
    ];
  }
  return h('section', { 'aria-labelledby': 'checkin-h', class: 'checkin' },
    h('h2', { id: 'checkin-h' }, 'Safe lone working'),
    h('h3', {}, 'Before you knock'), riskList, ...body);
}

/** `#/checkin/:id`, where the overdue banner leads: the check-in and "I'm safe". */
export async function renderCheckIn(ctx, { id }) {
  const ci = await ctx.get('check_in', id);
  if (!ci) return { node: h('section', {}, title('Check-in not found'), h('p', {}, h('a', { href: '#/' }, 'Caseload'))), title: 'Check-in' };
  const household = ci.household_id ? await ctx.get('household', ci.household_id) : null;
  const node = h('section', {},
    title('Lone-working check-in'),
    h('p', {}, household ? household.address : 'Address not on this phone'),
    h('p', {}, `Started ${fmtTime(ci.started_at)}, expected to finish by ${fmtTime(new Date(dueMs(ci)).toISOString())}.`),
    !ci.closed_at && isOverdue(ci)
      ? h('p', { class: 'warn' }, h('strong', {}, 'Overdue. '),
        'If you are safe, check out now. If not, the office is alerted once this phone has synced.')
      : null,
    ci.closed_at
      ? h('p', {}, `Checked out at ${fmtTime(ci.closed_at)} (${codeLabel('check_in_closed_how', ci.closed_how)}).`)
      : h('p', {}, h('button', {
        type: 'button', class: 'primary', onclick: async () => {
          await ctx.save('check_in', id, closing('safe'));
          ctx.flash('Checked out: you are safe. The office is told when this phone syncs.');
          ctx.go(ci.case_id ? `#/case/${ci.case_id}` : '#/');
        },
      }, "I'm safe")),
    ci.case_id ? h('p', {}, h('a', { href: `#/case/${ci.case_id}` }, 'Back to case')) : null);
  return { node, title: 'Check-in', live: true };
}

/**
 * What the status bar does after every save and every 30 s (statusbar.js): check out the open
 * check-ins of a case whose visit was submitted after they started, at the visit's end (the
 * "submitting checks out" rule, kept here so the visit form need not know), then draw a banner for
 * each one still open past its expected end. `store`: loadTypes, getRecord and addChange (db.js).
 * Resolves to `{closed, banners: [{id, node}]}`; one run at a time.
 */
let watching = null;
export function watchCheckIns(store, me, now = Date.now()) {
  if (!watching) watching = (async () => {
    try {
      const open = openCheckIns((await store.loadTypes(['check_in'])).check_in, me);
      const closed = open.length ? await closeOnSubmittedVisits(store, me, open, now) : new Set();
      return { closed: closed.size, banners: await overdueBanners(store, open.filter((ci) => !closed.has(ci.id) && isOverdue(ci, now))) };
    } finally { watching = null; }
  })();
  return watching;
}

/** A visit of the check-in's case or household, by this officer, submitted between its start and now. */
export function checksOut(ci, v, me, now = Date.now()) {
  const ended = Date.parse(v.ended_at || v._changed_at || 0);
  return v.status === 'submitted' && (v.case_id === ci.case_id || (!!ci.household_id && v.household_id === ci.household_id))
    && (!v.officer_id || v.officer_id === me) && ended >= Date.parse(ci.started_at) && ended <= now;
}

async function closeOnSubmittedVisits(store, me, open, now) {
  const { visit } = await store.loadTypes(['visit']);
  const closed = new Set();
  for (const ci of open) {
    const done = visit.find((v) => checksOut(ci, v, me, now));
    if (!done) continue;
    await store.addChange({ type: 'check_in', id: ci.id, fields: { closed_at: done.ended_at || nowIso(), closed_how: 'visit_submitted' } });
    closed.add(ci.id);
  }
  return closed;
}

/** The banners for this officer's overdue check-ins: shown on every screen while the app is open. */
async function overdueBanners(store, overdue) {
  const out = [];
  for (const ci of overdue) {
    const household = ci.household_id ? await store.getRecord('household', ci.household_id) : null;
    out.push({
      id: ci.id,
      // one compact row in the sticky header (the form below stays usable); the whole story is on
      // the check-in's own screen, where the link leads
      node: h('div', { class: 'warn checkin-overdue', 'data-banner': 'checkin' },
        h('p', {}, h('strong', {}, 'Check-in overdue'),
          ` · ${household ? household.address : 'your visit'} · due ${fmtTime(new Date(dueMs(ci)).toISOString())}`),
        h('a', { class: 'button-link', href: `#/checkin/${ci.id}` }, "I'm safe: check out")),
    });
  }
  return out;
}
