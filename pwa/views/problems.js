// What the officer must know about their work, each shown until dismissed:
// - values of theirs set aside in a conflict: `notice` records the server writes
//   (docs/protocol.md §7.6), whether their change lost at their own push or was
//   replaced afterwards by a change made without seeing it — with what replaced
//   it, by whom, on which device and when, and their own text to copy;
// - changes the server merged or rejected, and changes lost with a forgotten PIN
//   or a wipe (notices this phone keeps itself, db.js); a rejected change still
//   kept to correct links to its correction (#/correct/…: its form, or the
//   screen for the fields sent).
import { h, title, fmtDate, fmtDateTime, humanType } from './ui.js';
import { humanField } from '../outbox.js';
import { codeLabel } from '../validate.js';
import { recordKey, flushAll } from '../drafts.js';
import { caseOfHousehold } from './case.js';

const HEADINGS = {
  merged: 'someone else changed it first',
  rejected: 'not accepted',
  unreadable: 'lost, not sent',
};
/** "someone else changed it first" / "your value was replaced" (sync/vocabulary.json). */
const kindWords = (kind) => {
  const label = codeLabel('notice_kind', kind || 'lost_at_push');
  return label[0].toLowerCase() + label.slice(1);
};

const pad = (n) => String(n).padStart(2, '0');
/** A time to the second: "23 Nov 2026, 08:15:02". */
export function fmtSeconds(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${fmtDate(iso)}, ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * The problems to show: synced notices not dismissed (newest first), and this phone's own
 * notices — less a merged change's, once a synced notice tells the same change with more.
 */
export async function problemsList(ctx) {
  const [local, data] = await Promise.all([ctx.notices(), ctx.load(['notice'])]);
  const me = ctx.session?.user?.id;
  const synced = (data.notice || [])
    .filter((n) => !n.dismissed && (!me || n.recipient_id === me))
    .sort((a, b) => String(b.replaced_at || b.created_at || '').localeCompare(String(a.replaced_at || a.created_at || '')));
  const told = new Set(synced.map((n) => n.change_id).filter(Boolean));
  return { synced, local: local.filter((n) => !(n.status === 'merged' && told.has(n.change_id))), told };
}

/** How many problems the navigation shows. */
export async function countProblems(ctx) {
  const { synced, local } = await problemsList(ctx);
  return synced.length + local.length;
}

export async function renderProblems(ctx) {
  const { synced, local } = await problemsList(ctx);
  const all = await ctx.notices();
  // rejected changes still kept to correct (drafts.js): each problem links to its correction
  await flushAll();
  const toCorrect = new Set((await ctx.drafts.listDrafts()).filter((d) => d.rejected).map((d) => d.key));
  const node = h('section', {},
    title('Sync problems'),
    synced.length || local.length
      ? [h('p', {}, 'These changes did not reach the server as they were. The office can see what happened.'),
        h('ul', { class: 'notices' },
          await Promise.all(synced.map((n) => syncedItem(ctx, n, all))),
          local.map((n) => localItem(ctx, n, toCorrect)))]
      : h('p', {}, 'Nothing needs your attention.'));
  return { node, title: 'Sync problems', live: true };
}

function localItem(ctx, n, toCorrect) {
  const correct = n.status !== 'merged' && n.status !== 'unreadable' && toCorrect.has(recordKey(n.type, n.entity_id));
  return h('li', { dataset: { change: n.change_id || '' } },
    h('h2', {}, `${humanType(n.type)}: ${HEADINGS[n.status] || HEADINGS.rejected}`),
    h('p', {}, n.reason),
    correct ? h('p', {}, h('a', { class: 'button-link', href: `#/correct/${n.type}/${n.entity_id}` },
      `Correct this ${humanType(n.type).toLowerCase()}`)) : null,
    h('p', { class: 'muted' }, n.status === 'unreadable'
      ? `Recorded ${fmtDateTime(n.recorded_at)}.` : `Your change from ${fmtDateTime(n.at)}:`),
    Object.keys(n.fields || {}).length ? h('dl', { class: 'facts' }, Object.entries(n.fields)
      .filter(([k]) => !n.lost_fields.length || n.lost_fields.includes(k))
      .map(([k, v]) => [h('dt', {}, humanField(k)), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))])) : null,
    h('button', { type: 'button', class: 'secondary', onclick: async () => { await ctx.dismiss(n.id); ctx.rerender(); } },
      `Dismiss ${humanType(n.type).toLowerCase()} problem`));
}

async function syncedItem(ctx, n, localNotices) {
  const what = n.field ? humanField(n.field) : 'this record';
  const who = n.replaced_by_name || 'Someone';
  const on = n.replaced_on ? ` on ${n.replaced_on}` : '';
  const at = n.replaced_at ? ` (${fmtSeconds(n.replaced_at)})` : '';
  const story = n.kind === 'replaced'
    ? `${who} changed ${what}${on}${at} without seeing your change, which had already synced. Theirs replaced yours.`
    : `${who} had changed ${what}${on}${at} before your change reached the server, so yours was set aside.`;
  const ownId = `own-${n.id}`;
  const copied = h('p', { class: 'saved', 'aria-live': 'polite' });
  const own = h('p', { class: 'own-text', id: ownId }, n.your_text ?? '');
  const link = await recordLink(ctx, n);
  return h('li', { class: 'synced-notice', dataset: { notice: n.id } },
    h('h2', {}, `${humanType(n.record_type)}: ${kindWords(n.kind)}`),
    n.about || link ? h('p', {}, link || n.about) : null,
    h('p', {}, story),
    h('h3', {}, n.field ? `Your ${what}` : 'Your change'),
    h('p', { class: 'muted' }, [
      n.your_at ? `Written ${fmtSeconds(n.your_at)}` : 'Written',
      n.your_device ? ` on ${n.your_device}` : '', '. Copy it if you need it back.'].join('')),
    n.your_text ? own : h('p', { class: 'muted', id: ownId }, '(empty)'),
    n.your_text ? h('button', {
      type: 'button', class: 'secondary', 'aria-describedby': ownId,
      onclick: () => copyText(n.your_text, own, copied),
    }, 'Copy your text') : null,
    copied,
    h('h3', {}, 'What replaced it'),
    n.their_text ? h('p', { class: 'their-text' }, n.their_text) : h('p', { class: 'muted' }, '(empty)'),
    h('p', { class: 'muted' }, 'The office sees both values and can combine them.'),
    h('button', {
      type: 'button', class: 'secondary',
      onclick: async () => {
        await ctx.save('notice', n.id, { dismissed: true });
        // this phone's own notice of the same change goes with it
        for (const twin of localNotices) if (n.change_id && twin.change_id === n.change_id) await ctx.dismiss(twin.id);
        ctx.rerender();
      },
    }, `Dismiss ${humanType(n.record_type).toLowerCase()} problem`));
}

/** The record a notice is about, as a link when it is on this phone. */
async function recordLink(ctx, n) {
  const label = n.about || humanType(n.record_type);
  let href = null;
  if (n.record_type === 'household') {
    const caseId = await caseOfHousehold(ctx, n.record_id);
    if (caseId) href = `#/case/${caseId}/household`;
  } else if (n.case_id && await ctx.get('case', n.case_id)) {
    if (n.record_type === 'visit' || n.record_type === 'conversation') {
      if (await ctx.get(n.record_type, n.record_id)) href = `#/case/${n.case_id}/${n.record_type}/${n.record_id}`;
    }
    href = href || `#/case/${n.case_id}`;
  }
  return href ? h('a', { href }, label) : null;
}

async function copyText(text, node, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } catch {
    // no clipboard permission: select it, for the phone's own Copy
    const range = document.createRange();
    range.selectNodeContents(node);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    status.textContent = 'Selected: use your phone\'s Copy.';
  }
}
