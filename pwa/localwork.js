// What is on this phone and not at the office, counted before anything deletes
// it — signing out, or "Forgot PIN?" (session.js) — so the officer is told how
// much would go and decides: unsent changes (the outbox, counted by record as
// the status bar counts them), drafts not finished, and changes the server
// rejected that still need correcting (drafts.js). Every count is read from
// what db.js keeps in the clear, so it works while locked too.

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/**
 * `{unsent, drafts, needsCorrecting, total}` from the outbox's and the drafts'
 * summaries: a draft that needs correcting counts there, not as a draft too.
 */
export function workCounts({ unsent = 0, drafts = 0, needsCorrecting = 0 } = {}) {
  const unfinished = Math.max(0, drafts - needsCorrecting);
  return { unsent, drafts: unfinished, needsCorrecting, total: unsent + unfinished + needsCorrecting };
}

/** The counts of a store with db.js's `outboxSummary` and `draftSummary`. */
export async function countLocalWork(store) {
  const [outbox, drafts] = await Promise.all([store.outboxSummary(), store.draftSummary()]);
  return workCounts({ unsent: outbox.records, drafts: drafts.drafts, needsCorrecting: drafts.needsCorrecting });
}

/** One line per kind that is not empty: ["1 change not sent yet", "2 drafts not finished", …]. */
export function lossLines(w) {
  return [
    w.unsent ? plural(w.unsent, 'change not sent yet', 'changes not sent yet') : null,
    w.drafts ? plural(w.drafts, 'draft not finished', 'drafts not finished') : null,
    w.needsCorrecting ? plural(w.needsCorrecting, 'change that needs correcting', 'changes that need correcting') : null,
  ].filter(Boolean);
}

/** The lines in a sentence: "1 change not sent yet, 2 drafts not finished and 1 change that needs correcting". */
export function lossSentence(w) {
  const lines = lossLines(w);
  return lines.length > 1 ? `${lines.slice(0, -1).join(', ')} and ${lines[lines.length - 1]}` : lines[0] || '';
}

/** What the sign-in screen says after signing out, with what went, if anything. */
export function signedOutMessage(w = workCounts(), { told = true } = {}) {
  const base = 'You have signed out. Nothing is left on this phone.';
  if (!w.total) return base;
  return `${base} Deleted as you asked: ${lossSentence(w)}. ${told
    ? 'The office has been told.' : 'The office will be told the next time anyone signs in on this phone.'}`;
}
