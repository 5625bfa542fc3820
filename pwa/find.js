// Find and go (issue 17): the caseload's search and filters, what is due (open
// tasks, the next contact a conversation agreed), the "Today" list and a
// directions link to a household. Pure functions over the records on this phone:
// everything works offline. views/caseload.js and views/today.js draw them.

/** Lower case, accents and spaces gone ("SW1A 1aa" → "sw1a1aa"): how search compares. */
export function fold(text) {
  return String(text ?? '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\s+/g, '');
}

/** Does a caseload row ({pupil, household, school}) match what was typed? Every word must match somewhere. */
export function matches(row, query) {
  const words = String(query || '').trim().split(/\s+/).filter(Boolean).map(fold);
  if (!words.length) return true;
  const p = row.pupil || {};
  const hh = row.household || {};
  const hay = [p.first_name, p.last_name, p.upn, hh.address, hh.postcode].map(fold).join('|');
  const postcode = fold(hh.postcode);
  const whole = fold(query);
  // a postcode typed with or without its space matches as a whole too
  return (postcode && whole && postcode.startsWith(whole)) || words.every((w) => hay.includes(w));
}

/**
 * What is due on each case, by case id: {tasks: [task], followUps: [conversation],
 * first: the earliest date due, or null}. A task is due until done; a follow-up is
 * the next contact the latest conversation on a case agreed, due until a visit or
 * a conversation on or after that date. `contactAt(record, isConversation)` gives a contact's time.
 */
export function dueByCase(data, contactAt) {
  const out = new Map();
  const slot = (id) => {
    if (!out.has(id)) out.set(id, { tasks: [], followUps: [], first: null });
    return out.get(id);
  };
  for (const t of data.task || []) {
    if (t.done || !t.due_on) continue;
    slot(t.case_id).tasks.push(t);
  }
  const contacts = new Map();
  const kinds = [[data.visit || [], false], [data.conversation || [], true]];
  for (const [records, conv] of kinds) {
    for (const r of records) {
      if (r.status === 'draft') continue; // a draft is no contact yet
      const at = String(contactAt(r, conv) || '').slice(0, 10);
      if (!contacts.has(r.case_id)) contacts.set(r.case_id, []);
      contacts.get(r.case_id).push({ r, at, conv });
    }
  }
  for (const [caseId, list] of contacts) {
    const convs = list.filter((x) => x.conv && x.r.next_contact_on);
    if (!convs.length) continue;
    convs.sort((a, b) => (a.at < b.at ? 1 : -1));
    const latest = convs[0];
    const next = latest.r.next_contact_on;
    const since = list.some((x) => x.r !== latest.r && x.at >= next && x.at >= latest.at);
    if (!since) slot(caseId).followUps.push(latest.r);
  }
  for (const d of out.values()) {
    const dates = [...d.tasks.map((t) => t.due_on), ...d.followUps.map((c) => c.next_contact_on)].sort();
    d.first = dates[0] || null;
  }
  return out;
}

/** 'overdue', 'today', 'soon' (within a week) or null, for the earliest date due. */
export function dueState(first, todayIso) {
  if (!first) return null;
  if (first < todayIso) return 'overdue';
  if (first === todayIso) return 'today';
  const week = new Date(`${todayIso}T12:00:00Z`);
  week.setUTCDate(week.getUTCDate() + 7);
  return first <= week.toISOString().slice(0, 10) ? 'soon' : null;
}

/** The filters the caseload offers; `f`: {band, school, threshold, due, improving} ('' or false: any). */
export function passes(row, f, todayIso) {
  if (f.band && row.pupil?.band !== f.band) return false;
  if (f.school && row.pupil?.school_id !== f.school) return false;
  if (f.threshold && !row.pupil?.penalty_threshold_met) return false;
  if (f.improving && !row.pupil?.improving) return false;
  if (f.due && !['overdue', 'today'].includes(dueState(row.due?.first, todayIso))) return false;
  return true;
}

/** How many filters are set (shown on the disclosure). */
export const filterCount = (f) => ['band', 'school', 'threshold', 'due', 'improving'].filter((k) => f[k]).length;

/**
 * Today's list: every task and follow-up due today or before, overdue first (oldest
 * first), as [{kind: 'task'|'follow_up', date, overdue, caseId, record}].
 */
export function todayItems(due, todayIso) {
  const items = [];
  for (const [caseId, d] of due) {
    for (const t of d.tasks) if (t.due_on <= todayIso) items.push({ kind: 'task', date: t.due_on, caseId, record: t });
    for (const c of d.followUps) {
      if (c.next_contact_on <= todayIso) items.push({ kind: 'follow_up', date: c.next_contact_on, caseId, record: c });
    }
  }
  for (const it of items) it.overdue = it.date < todayIso;
  return items.sort((a, b) => a.date.localeCompare(b.date) || a.kind.localeCompare(b.kind));
}

/**
 * A link that opens directions to a household: a `geo:` URI where the phone has maps
 * that take one (Android), else a web map's directions. Null without a place to go.
 */
export function directionsHref(hh, userAgent = globalThis.navigator?.userAgent || '') {
  if (!hh) return null;
  const label = [hh.address, hh.postcode].filter(Boolean).join(', ');
  const hasPoint = typeof hh.lat === 'number' && typeof hh.lon === 'number';
  if (!hasPoint && !label) return null;
  if (/Android/i.test(userAgent)) {
    return hasPoint
      ? `geo:${hh.lat},${hh.lon}?q=${hh.lat},${hh.lon}(${encodeURIComponent(label || 'Household')})`
      : `geo:0,0?q=${encodeURIComponent(label)}`;
  }
  const to = hasPoint ? `${hh.lat},${hh.lon}` : label;
  return `https://www.google.com/maps/dir/?api=1&destination=${encodeURIComponent(to)}`;
}
