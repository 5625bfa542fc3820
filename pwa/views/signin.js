// Sign in. Needs the network once; afterwards the app opens offline (with the
// PIN). "Forgot PIN?" signs in again to set a new PIN, after saying what that deletes.
import { h, field, title, confirmDialog } from './ui.js';
import { lossLines, lossSentence } from '../localwork.js';

/**
 * The sign-in form. `before()` runs first and may return false to stop (e.g. the
 * officer did not confirm what a forgotten PIN deletes).
 */
function signinForm(ctx, { before = async () => true } = {}) {
  const user = field('Username', { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const pass = field('Password', { kind: 'password', autocomplete: 'current-password', required: true });
  // The office sees this name in its device list (two phones of one officer told apart);
  // Settings shows it on the phone.
  const phone = field('Name this phone', {
    value: ctx.defaultDeviceName ? ctx.defaultDeviceName() : '', maxlength: 200, autocomplete: 'off',
    hint: 'The office sees this name in its list of devices, e.g. "Sam\'s work phone".',
  });
  const error = h('div', { role: 'alert', class: 'error', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      if (!(await before(button))) return;
      button.disabled = true;
      button.textContent = 'Signing in…';
      try {
        await ctx.signIn(user.input.value.trim(), pass.input.value, phone.input.value.trim());
      } catch (err) {
        error.hidden = false;
        error.textContent = signinError(err);
        button.disabled = false;
        button.textContent = 'Sign in';
        pass.input.value = '';
        pass.input.focus();
      }
    },
  }, user.wrap, pass.wrap, phone.wrap, error, button);
  return form;
}

export function renderSignin(ctx, { message } = {}) {
  const node = h('section', { class: 'signin' },
    title('Sign in to Doorstep'),
    message ? h('p', { class: 'notice', role: 'alert' }, message) : null,
    h('p', {}, 'Sign in once with a signal. After that the app and your caseload open without one.'),
    signinForm(ctx));
  return { node, title: 'Sign in', live: false };
}

/**
 * "Forgot PIN?": what is on this phone and not at the office is counted (it
 * cannot be read without the PIN, and setting a new one deletes it), the way
 * back to unlock and sync it first is offered, and signing in asks first.
 */
export async function renderForgotPin(ctx) {
  let work = null;
  try { work = await ctx.localWork(); } catch (err) { console.warn('local work', err); }
  const atStake = work && work.total ? work : null;
  // Offline the sign-in fails before anything is deleted: nothing to confirm yet.
  const before = async (anchor) => !atStake || !navigator.onLine || confirmDialog({
    heading: 'Delete what is on this phone?',
    text: `${capital(lossSentence(atStake))} will be deleted from this phone when you set a new PIN. They cannot be read without your old PIN. The office will be told.`,
    yes: 'Sign in and delete them', no: 'Keep them', anchor,
  });
  const back = (label) => h('button', { type: 'button', class: 'link', onclick: () => ctx.cancelForgot() }, label);
  const node = h('section', { class: 'signin', 'data-screen': 'forgot-pin' },
    title('Forgot your PIN?'),
    h('p', {}, 'Sign in again with your username and password (this needs a signal), then set a new PIN. Your caseload comes back from the server.'),
    atStake
      ? h('div', { class: 'warn', 'data-testid': 'at-stake' },
        h('h2', {}, 'Not at the office yet'),
        h('p', {}, 'This phone holds work that has not reached the office:'),
        h('ul', {}, lossLines(atStake).map((line) => h('li', {}, line))),
        h('p', {}, 'It cannot be read without your PIN, and setting a new PIN deletes it. If you can remember your PIN, unlock instead: the changes sync, and you can finish the drafts and send them. Otherwise the office is told what was lost.'),
        back('Unlock and sync first'))
      : h('p', { class: 'notice' }, 'Changes on this phone that have not been sent cannot be read without the old PIN. You will see which they were, and the office will be told.'),
    signinForm(ctx, { before }),
    h('p', {}, back('Back to unlock')));
  return { node, title: 'Forgot PIN', live: false };
}

const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);

function signinError(err) {
  if (err && err.code === 'network') return 'No signal. Signing in needs a connection.';
  if (err && (err.status === 401 || err.code === 'unauthenticated')) return 'That username or password is not right.';
  if (err && err.code === 'different_user') return err.message;
  if (err && err.code === 'rate_limited') return 'Too many attempts. Wait a minute and try again.';
  return (err && err.message) || 'Sign in failed.';
}
