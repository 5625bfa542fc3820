// Signing out deletes everything Doorstep keeps on this phone (privacy). What has
// not reached the office is counted first (localwork.js). Unsent changes are never
// deleted by a sign-out: the officer syncs first (or, for a phone that can no longer
// sync, the office revokes it as returned, docs/security.md). Drafts and changes to
// correct can be deleted after a yes (the office is told: session.js).
import { h, choiceDialog } from './ui.js';
import { lossLines } from '../localwork.js';

/** What a sync cannot do for the work at stake. */
function advice(work, online) {
  const out = [];
  if (work.unsent) {
    out.push(online ? 'Sync first to send the unsent changes to the office.'
      : 'This phone is offline, so the unsent changes cannot be sent now. Sign out later, with a signal, to send them first.');
  }
  if (work.drafts || work.needsCorrecting) out.push('A sync does not send drafts or changes to correct: finish them under Drafts first.');
  return out.join(' ');
}

/** Sign out, after saying what it deletes and getting a yes (nothing at stake: at once). */
export async function askToSignOut(ctx) {
  let note = null;
  for (;;) {
    const work = await ctx.localWork();
    if (!work.total) { await ctx.signOut(); return; }
    const online = navigator.onLine;
    const unsent = Boolean(work.unsent);
    const choice = await choiceDialog({
      heading: unsent ? 'Send your changes before signing out' : 'Sign out and delete work not sent?',
      body: [
        h('p', {}, unsent
          ? 'Signing out deletes everything Doorstep keeps on this phone, and this has not reached the office yet:'
          : 'Signing out deletes everything Doorstep keeps on this phone. This has not reached the office and will be lost:'),
        h('ul', { 'data-testid': 'sign-out-loss' }, lossLines(work).map((line) => h('li', {}, line))),
        note ? h('p', { class: 'field-error' }, note) : null,
        h('p', {}, advice(work, online)),
        unsent ? h('p', {}, 'Changes not sent are never deleted by signing out. If this phone can no longer sync, ask the office to revoke it as returned: its changes are sent first.') : null,
      ],
      choices: [
        online && unsent ? { value: 'sync', label: 'Sync, then sign out', class: 'primary' } : null,
        unsent ? null : { value: 'delete', label: 'Sign out and delete' },
      ],
      no: 'Stay signed in',
      alive: () => ctx.signedIn,
    });
    if (choice === 'sync') {
      note = await ctx.syncFirst();
      continue;
    }
    if (choice === 'delete') await ctx.signOut({ discard: true });
    return;
  }
}

export function signOutButton(ctx) {
  return h('button', { type: 'button', class: 'secondary', onclick: () => askToSignOut(ctx) }, 'Sign out');
}
