// What the phone reports to the audit log (docs/protocol.md §9.7) when work is lost with its
// data — a forgotten PIN, ten wrong PINs, a sign-out the officer confirmed — and the words
// the officer sees about it. session.js decides when.
import { ApiError } from './api.js';
import { signedOutMessage } from './localwork.js';

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** The audit event for changes that were never sent and cannot be read any more. */
export function lostReport(event, lost, extra = {}) {
  const ids = [...new Set(lost.map((c) => c.id))].slice(0, 1000);
  return {
    event,
    details: {
      ...extra,
      count: lost.length,
      // `sent`: pushed once without an answer, so it may have reached the server after all
      changes: lost.slice(0, 1000).map(({ type, op, created_at, sent }) => ({ type, op, created_at, sent: !!sent })),
    },
    entity_ids: ids,
  };
}

/** Notices that keep the officer told about lost changes until dismissed. */
export function lostNotices(lost, reason, at = new Date().toISOString()) {
  return lost.map((c) => ({
    id: `lost-${c.change_id}`, change_id: c.change_id, status: 'unreadable', type: c.type, entity_id: c.id,
    op: c.op, fields: {}, lost_fields: [], errors: [], reason, recorded_at: c.created_at, at,
  }));
}

export const FORGOT_REASON = 'It was recorded on this phone but not sent before the PIN was reset, and it cannot be read without the old PIN. The office has been told. Record it again if you can.';
export const WIPE_REASON = 'It was recorded on this phone but not sent before ten wrong PINs wiped the phone. The office has been told. Record it again if you can.';

/** The audit event of a wipe report: ten wrong PINs (`pin_wipe`), or a sign-out that deleted work offline. */
export function wipeReportEvent(report) {
  if (report.event === 'device_wiped') return lostReport('device_wiped', report.lost || [], report.details || {});
  return lostReport('pin_wipe', report.lost || [], {
    wiped_at: report.at, attempts: report.attempts,
    previous_device_id: report.previous_device_id, previous_user_id: report.previous_user_id,
  });
}

/** Unsent changes a wipe report lists, which the officer sees after signing in (not for a sign-out: asked first). */
export const reportedLost = (report) => (report && report.event !== 'device_wiped' && report.lost) || [];

export function wipeMessage(report) {
  if (report && report.event === 'device_wiped') {
    const d = report.details || {};
    return signedOutMessage({
      unsent: d.unsent || 0, drafts: d.drafts || 0, needsCorrecting: d.needs_correcting || 0,
      total: (d.unsent || 0) + (d.drafts || 0) + (d.needs_correcting || 0),
    }, { told: false });
  }
  const n = (report && report.lost && report.lost.length) || 0;
  return `Ten wrong PINs were entered, so Doorstep's data on this phone was wiped.${n
    ? ` ${plural(n, 'change', 'changes')} that had not been sent could not be kept; you will see which after you sign in.` : ''} Sign in to carry on.`;
}

/**
 * Send one report (`session` signs it when it is not stored yet). A report the server refuses
 * for good is not kept to be sent after every sync forever: refused as naming records this
 * user may not see (403, e.g. another officer signs in after a wipe), it goes again without
 * the record ids; any other refusal of its content (4xx but 401/408/429) is dropped with a
 * warning. Network failures and 5xx throw, so the caller keeps it for later.
 */
export async function sendReport(api, body, session) {
  try {
    return await api.reportEvent(body, session);
  } catch (err) {
    const forGood = err instanceof ApiError && err.status >= 400 && err.status < 500 && ![401, 408, 429].includes(err.status);
    if (!forGood) throw err; // offline, timed out (status 0), the server failing or busy: later
    if (err.status === 403 && body.entity_ids && body.entity_ids.length) {
      const trimmed = { ...body, entity_ids: [], details: { ...body.details, entity_ids_withheld: body.entity_ids.length } };
      return sendReport(api, trimmed, session);
    }
    console.warn('audit report refused for good, dropped', err.code, body.event);
    return null;
  }
}
