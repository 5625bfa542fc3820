// Follow-ups the office asked for (docs/protocol.md §7.7): office reviews of visits and
// conversations in this officer's cases marked "needs follow-up", with the office's comment.
// One clears once answered — a note on the reviewed record, a conversation held on the
// reviewed visit, or a submitted visit or conversation that follows it up — on this phone as
// soon as the answer is saved, and for the office when it syncs.
import { h, title, fmtDate, fmtDateTime, humanType, personName, nextId, pendingMark } from './ui.js';
import { noteForm as makeNoteForm } from './case.js';
import { SCHEMA } from '../schema.js';

// Which records answer a review: declared once, in sync/rules.py FOLLOW_UP_ANSWERS (the server
// reads the same rule), looked through type by type in its order.
const ANSWERS = SCHEMA.follow_up_answers;
const ANSWER_TYPES = [...new Set(ANSWERS.map((a) => a.type))];

// Only an answer made at or after the review counts: the phone holds records older than it (the
// server's equivalent is answering only with a push's own changes, and only reviews still open).
const after = (rec, reviewedAt) => {
  const at = rec.created_at || rec._changed_at;
  return !reviewedAt || (at && at >= reviewedAt);
};

const answers = (rule, rec, r) => (!rule.of || rule.of === r.subject_type) && rec[rule.field] === r.subject_id
  && Object.entries(rule.when).every(([k, v]) => rec[k] === v);

/** The answer on this phone to one review, {type, rec}, or null; data holds the records by type. */
export function localAnswer(r, data) {
  for (const type of ANSWER_TYPES) {
    const rules = ANSWERS.filter((a) => a.type === type);
    const rec = (data[type] || []).find((x) => rules.some((a) => answers(a, x, r)) && after(x, r.reviewed_at));
    if (rec) return { type, rec };
  }
  return null;
}

/** {open, waiting}: reviews needing follow-up, and those answered here but not yet synced. */
export async function followUpList(ctx) {
  const reviews = (await ctx.load(['review'])).review || [];
  if (!reviews.some((r) => r.state === 'needs_follow_up' && !r.answered_id)) return { open: [], waiting: [] };
  const data = { review: reviews, ...(await ctx.load(ANSWER_TYPES)) };
  const open = [];
  const waiting = [];
  for (const r of data.review) {
    if (r.state !== 'needs_follow_up' || r.answered_id) continue;
    const answer = localAnswer(r, data);
    if (!answer) open.push(r);
    else if (answer.rec._pending) waiting.push({ review: r, answer });
  }
  const newest = (a, b) => String(b.reviewed_at || '').localeCompare(String(a.reviewed_at || ''));
  open.sort(newest);
  waiting.sort((a, b) => newest(a.review, b.review));
  return { open, waiting };
}

/** How many follow-ups the navigation shows. */
export async function countFollowUps(ctx) {
  return (await followUpList(ctx)).open.length;
}

export async function renderFollowUps(ctx) {
  const { open, waiting } = await followUpList(ctx);
  const names = await pupilNames(ctx, [...open, ...waiting.map((w) => w.review)]);
  const node = h('section', { class: 'followups' },
    title('Follow-ups'),
    h('p', {}, 'Visits and conversations the office reviewed and asked you to follow up. Each clears when you record a follow-up visit or conversation for it, or add a note.'),
    open.length
      ? h('ul', { class: 'notices' }, await Promise.all(open.map((r) => item(ctx, r, names))))
      : h('p', { class: 'empty' }, 'No follow-ups. Nothing the office asked for is waiting.'),
    waiting.length ? [
      h('h2', {}, 'Answered, waiting to sync'),
      h('ul', { class: 'notices' }, waiting.map(({ review, answer }) => h('li', {},
        h('p', {}, `${humanType(review.subject_type)}: ${names.get(review.case_id) || 'a pupil'}`),
        h('p', { class: 'muted' }, `Answered with a ${answer.type === 'visit' ? 'home visit' : answer.type}.`),
        pendingMark(answer.rec))))] : null);
  return { node, title: 'Follow-ups', live: true };
}

/**
 * What a follow-up form says about the record it follows up: "Follows up the home
 * visit of 23 Nov 2026, which the office asked you to follow up. …" Null without one.
 */
export async function followsText(ctx, id) {
  if (!id) return null;
  const visit = await ctx.get('visit', id);
  const rec = visit || await ctx.get('conversation', id);
  const kind = visit ? 'home visit' : rec ? 'conversation' : 'record';
  const when = rec && (rec.started_at || rec.planned_for || rec.created_at);
  return `Follows up the ${kind}${when ? ` of ${fmtDate(when)}` : ''}, which the office asked you to follow up. Once submitted, it answers the office's review.`;
}

async function pupilNames(ctx, reviews) {
  const out = new Map();
  for (const caseId of new Set(reviews.map((r) => r.case_id).filter(Boolean))) {
    const c = await ctx.get('case', caseId);
    const pupil = c && await ctx.get('pupil', c.pupil_id);
    if (pupil) out.set(caseId, personName(pupil));
  }
  return out;
}

async function item(ctx, r, names) {
  const subject = r.subject_type === 'visit' || r.subject_type === 'conversation'
    ? await ctx.get(r.subject_type, r.subject_id) : null;
  const kind = humanType(r.subject_type);
  const when = subject ? (subject.started_at || subject.planned_for || subject.created_at) : null;
  const href = subject && r.case_id ? `#/case/${r.case_id}/${r.subject_type}/${r.subject_id}` : null;
  const headingId = nextId('fu');
  // the same note form (and draft) as on the reviewed record's own page: kept as typed, checked first
  const noteForm = await makeNoteForm(ctx, r.subject_type, r.subject_id, `Follow-up note on this ${kind.toLowerCase()}`, {
    caseId: r.case_id, route: href || '#/followups', button: 'Save follow-up note',
    done: () => {
      ctx.flash('Follow-up note saved on this phone. The office sees it when it syncs.');
      ctx.rerender();
    },
  });
  const typed = !!noteForm.querySelector('textarea').value; // a kept draft: open, as it was left
  noteForm.hidden = !typed;
  return h('li', { class: 'followup', dataset: { review: r.id }, 'aria-labelledby': headingId },
    h('h2', { id: headingId }, `${kind}: ${names.get(r.case_id) || 'a pupil'}`),
    h('p', {}, href ? h('a', { href }, `Open the ${kind.toLowerCase()}${when ? ` of ${fmtDate(when)}` : ''}`)
      : h('span', { class: 'muted' }, `The ${kind.toLowerCase()} is not on this phone.`)),
    h('p', {}, h('strong', {}, 'Needs follow-up'),
      `, asked by ${r.reviewed_by_name || 'the office'}${r.reviewed_at ? `, ${fmtDateTime(r.reviewed_at)}` : ''}:`),
    r.comment ? h('blockquote', { class: 'comment' }, r.comment) : null,
    h('div', { class: 'actions' },
      // the forms open with the link to the reviewed record set (follow_up_of): sending one answers the review
      r.case_id ? h('button', {
        type: 'button', class: 'primary', 'aria-describedby': headingId,
        onclick: () => ctx.go(`#/case/${r.case_id}/visit/${crypto.randomUUID()}/follows/${r.subject_id}`),
      }, 'Record follow-up visit') : null,
      r.case_id ? h('button', {
        type: 'button', class: 'secondary', 'aria-describedby': headingId,
        onclick: () => ctx.go(`#/case/${r.case_id}/conversation/${crypto.randomUUID()}/follows/${r.subject_id}`),
      }, 'Record follow-up conversation') : null,
      h('button', {
        type: 'button', class: 'secondary', 'aria-expanded': String(typed), 'aria-describedby': headingId,
        onclick: (ev) => {
          noteForm.hidden = !noteForm.hidden;
          ev.currentTarget.setAttribute('aria-expanded', String(!noteForm.hidden));
          if (!noteForm.hidden) noteForm.querySelector('textarea').focus();
        },
      }, 'Add a note')),
    noteForm);
}
