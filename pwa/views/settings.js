// This phone: the name it was given at sign-in (the office's device list shows the same
// name, so an officer's two phones can be told apart), who is signed in, the app version,
// the last sync and what is waiting. Every sync reports the last three to the server.
import { h, title, fmtDateTime } from './ui.js';
import { signOutButton } from './signout.js';

export async function renderSettings(ctx) {
  const s = ctx.session || {};
  const [status, last] = await Promise.all([ctx.deviceStatus(), ctx.getMeta('last_synced_at')]);
  const user = s.user || {};
  const unsent = status.unsent || 0;
  const node = h('section', { 'data-screen': 'settings' },
    title('This phone'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Phone name'), h('dd', { 'data-field': 'device-name' }, s.device_name || 'Not named'),
      h('dt', {}, 'Signed in as'), h('dd', {}, user.display_name ? `${user.display_name} (${user.username})` : user.username || '—'),
      h('dt', {}, 'Device id'), h('dd', {}, s.device_id ? s.device_id.slice(0, 8) : '—'),
      h('dt', {}, 'App version'), h('dd', { 'data-field': 'app-version' }, status.appVersion || 'Not known'),
      h('dt', {}, 'Last synced'), h('dd', {}, last ? fmtDateTime(last) : 'Not yet'),
      h('dt', {}, 'Waiting to send'), h('dd', { 'data-field': 'unsent' }, unsent ? `${unsent} ${unsent === 1 ? 'change' : 'changes'}` : 'Nothing')),
    h('p', {}, 'The office sees this phone by its name, with its last sync, what is waiting to be sent and the app version. To rename it, sign out and sign in again.'),
    h('div', { class: 'actions' }, signOutButton(ctx)));
  return { node, title: 'This phone', live: true };
}
