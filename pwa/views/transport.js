// Transport runs for the driver: today's runs, stops in order, one-tap events
// stamped with the time and the last known position. A tap is saved at once (there
// is nothing half-typed to keep) through the outbox; an event the server rejected is
// kept under Drafts and linked from its stop, to correct or discard. A waiting stop
// offers its three statuses; a recorded one shows its status and "Undo" (back to
// Waiting) until the run is done, so a second tap never changes it. "Arrived at
// school" with stops still waiting asks about each: no show, or still to pick up
// (the run then stays open).
import { h, title, personName, fmtDate, fmtTime, today, nowIso, STOP_STATUS, RUN_STATUS, pendingMark, choiceDialog, nextId } from './ui.js';
import { validateRecord } from '../validate.js';
import { recordKey, rejectedErrors } from '../drafts.js';

export async function renderRuns(ctx) {
  const data = await ctx.load(['transport_run', 'transport_stop', 'school']);
  const me = ctx.session.user;
  const schools = new Map(data.school.map((s) => [s.id, s]));
  const mine = data.transport_run.filter((r) => me.role !== 'officer' || r.driver_id === me.id)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const day = today();
  const todays = mine.filter((r) => r.date === day);
  const others = mine.filter((r) => r.date !== day && r.date >= day);
  const item = (r) => {
    const stops = data.transport_stop.filter((s) => s.run_id === r.id).length;
    return h('li', {}, h('a', { class: 'card', href: `#/run/${r.id}` },
      h('span', { class: 'card-title' }, `To ${schools.get(r.school_id)?.name || 'school'}`),
      h('span', { class: 'card-line' }, `${fmtDate(r.date)} · ${stops} ${stops === 1 ? 'stop' : 'stops'} · ${runStatus(r)}`)));
  };
  const node = h('section', {},
    title("Today's runs"),
    todays.length ? h('ul', { class: 'cards', 'aria-label': "Today's runs" }, todays.map(item)) : h('p', {}, 'No runs for you today.'),
    others.length ? [h('h2', {}, 'Coming up'), h('ul', { class: 'cards', 'aria-label': 'Coming up' }, others.map(item))] : null);
  return { node, title: 'Transport', live: true };
}

function runStatus(r) {
  if (r.arrived_at) return `Arrived ${fmtTime(r.arrived_at)}`;
  return RUN_STATUS[r.status] || r.status || RUN_STATUS.planned;
}

export async function renderRun(ctx, { id }) {
  const run = await ctx.get('transport_run', id);
  if (!run) {
    return { node: h('section', {}, title('Run not on this device'), h('p', {}, h('a', { href: '#/runs' }, 'Back to runs'))), title: 'Run', live: true };
  }
  const data = await ctx.load(['transport_stop', 'pupil', 'household', 'school']);
  const pupils = new Map(data.pupil.map((p) => [p.id, p]));
  const households = new Map(data.household.map((x) => [x.id, x]));
  const school = data.school.find((s) => s.id === run.school_id);
  const stops = data.transport_stop.filter((s) => s.run_id === id).sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  const gps = h('p', { class: 'muted', 'aria-live': 'polite' },
    ctx.lastPosition() ? 'Location on.' : 'Waiting for location. Events save without it.');
  ctx.watchPosition((fix) => { gps.textContent = `Location on (±${Math.round(fix.accuracy || 0)} m).`; });
  const problem = h('div', { class: 'error', role: 'alert', hidden: true });
  const drafts = new Map((await ctx.drafts.listDrafts()).filter((d) => d.rejected).map((d) => [d.key, d]));

  /** The stop's new status, stamped (time, position); false when the server's limits refuse it. */
  async function record(stop, status) {
    const p = ctx.lastPosition();
    const fields = { status, event_at: nowIso() };
    if (p) Object.assign(fields, { event_lat: p.lat, event_lon: p.lon });
    // the server's limits (schema.js) before it is queued
    const problems = validateRecord('transport_stop', fields);
    if (problems.length) {
      problem.hidden = false;
      problem.replaceChildren(h('p', {}, problems.map((x) => x.message).join(' ')));
      return false;
    }
    await ctx.save('transport_stop', stop.id, fields);
    return true;
  }

  async function stamp(stop, status) {
    if (!(await record(stop, status))) return;
    if (run.status === 'planned') await ctx.save('transport_run', id, { status: 'in_progress', departed_at: nowIso() });
    ctx.rerender();
  }

  // Back to Waiting: a status is only ever tapped from Waiting, so that is the one before.
  async function undo(stop) {
    await ctx.save('transport_stop', stop.id, { status: 'pending', event_at: null, event_lat: null, event_lon: null });
    ctx.rerender();
  }

  const done = run.status === 'done' || !!run.arrived_at;

  async function arrive(anchor) {
    const waiting = stops.filter((s) => !s.status || s.status === 'pending');
    if (waiting.length) {
      const groups = waiting.map((s) => {
        const name = personName(pupils.get(s.pupil_id));
        const group = nextId('w');
        const option = (value, label, checked) => {
          const rid = nextId('r');
          return h('div', { class: 'check' },
            h('input', { id: rid, type: 'radio', name: group, value, checked }), h('label', { for: rid }, label));
        };
        return { stop: s, name, node: h('fieldset', { class: 'waiting-stop' }, h('legend', {}, name),
          option('no_show', STOP_STATUS.no_show, false), option('pending', 'Still to pick up', true)) };
      });
      const answer = await choiceDialog({
        heading: `${waiting.length} ${waiting.length === 1 ? 'stop is' : 'stops are'} still waiting`,
        body: [h('p', {}, 'For each: a no show, or still to pick up (the run then stays open).'), groups.map((g) => g.node)],
        choices: [{ value: 'save', label: 'Save and continue', class: 'primary' }],
        no: 'Go back', anchor,
      });
      if (answer !== 'save') return;
      const left = [];
      for (const g of groups) {
        const chosen = g.node.querySelector('input:checked')?.value || 'pending';
        if (chosen === 'no_show') {
          if (!(await record(g.stop, 'no_show'))) return;
        } else left.push(g.name);
      }
      if (left.length) {
        ctx.flash(`Still to pick up: ${left.join(', ')}. The run is not finished.`);
        ctx.rerender();
        return;
      }
    }
    await ctx.save('transport_run', id, { status: 'done', arrived_at: nowIso() });
    ctx.rerender();
  }

  const node = h('section', { class: 'run' },
    title(`Run to ${school?.name || 'school'}`),
    h('p', { class: 'muted' }, [fmtDate(run.date), run.vehicle, run.seats ? `${run.seats} seats` : null,
      school?.day_starts ? `school starts ${school.day_starts}` : null].filter(Boolean).join(' · ')),
    h('p', {}, `Status: ${runStatus(run)}`, pendingMark(run)),
    rejectedLine(drafts.get(recordKey('transport_run', id)), `#/correct/transport_run/${id}`, 'Correct the run'),
    gps, problem,
    h('ol', { class: 'stops' }, stops.map((s, i) => {
      const pupil = pupils.get(s.pupil_id);
      const hh = households.get(s.household_id || pupil?.household_id);
      const lat = s.lat ?? hh?.lat;
      const lon = s.lon ?? hh?.lon;
      const name = personName(pupil);
      return h('li', { class: `stop stop-${s.status || 'pending'}` },
        h('h2', { id: `stop-${s.id}` }, `${i + 1}. ${name}`),
        h('p', {}, hh ? `${hh.address}${hh.postcode ? `, ${hh.postcode}` : ''}` : 'Address not known'),
        h('p', {}, s.eta ? `ETA ${fmtTime(s.eta)}` : 'No ETA',
          ' · ', h('strong', {}, STOP_STATUS[s.status] || 'Waiting'),
          s.event_at ? ` at ${fmtTime(s.event_at)}` : '', pendingMark(s)),
        rejectedLine(drafts.get(recordKey('transport_stop', s.id)), `#/correct/transport_stop/${s.id}`, `Correct the stop for ${name}`),
        lat != null && lon != null
          ? h('p', {}, h('a', {
            class: 'button-link', target: '_blank', rel: 'noopener',
            href: `https://www.google.com/maps/dir/?api=1&destination=${lat},${lon}`,
          }, `Navigate to ${name}`))
          : null,
        stopActions(s, name, done, stamp, undo));
    })),
    h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'primary', disabled: !!run.arrived_at,
        onclick: (e) => arrive(e.currentTarget),
      }, run.arrived_at ? `Arrived at school ${fmtTime(run.arrived_at)}` : 'Arrived at school')),
    h('p', {}, h('a', { href: '#/runs' }, 'Back to runs')));
  return { node, title: 'Run', live: true };
}

/** A waiting stop's three statuses; a recorded one's "Undo" while the run is not done. */
function stopActions(s, name, done, stamp, undo) {
  if (s.status && s.status !== 'pending') {
    if (done) return null;
    return h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Undo ${STOP_STATUS[s.status] || s.status} for ${name}`, onclick: () => undo(s) }, 'Undo'));
  }
  if (done) return null;
  return h('div', { class: 'actions three' },
    h('button', { type: 'button', class: 'primary', onclick: () => stamp(s, 'picked_up') }, STOP_STATUS.picked_up),
    h('button', { type: 'button', class: 'secondary', onclick: () => stamp(s, 'no_show') }, STOP_STATUS.no_show),
    h('button', { type: 'button', class: 'secondary', onclick: () => stamp(s, 'refused') }, STOP_STATUS.refused));
}

/** A rejected event on this run or stop: the server's reason and where to correct it. */
function rejectedLine(draft, href, label) {
  if (!draft) return null;
  return h('p', { class: 'needs-correcting' },
    h('span', { class: 'badge needs-correcting' }, 'Needs correcting'), ' ',
    rejectedErrors(draft).map((e) => e.message).join('; '), ' ',
    h('a', { href }, label));
}
