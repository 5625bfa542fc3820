// Sign in. Needs the network once; afterwards the app opens offline (with the
// PIN). `reset`: "Forgot PIN?", signing in again to set a new PIN.
import { h, field, title } from './ui.js';

export function renderSignin(ctx, { message, reset = false } = {}) {
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
  if (reset) {
    const node = h('section', { class: 'signin', 'data-screen': 'forgot-pin' },
      title('Forgot your PIN?'),
      h('p', {}, 'Sign in again with your username and password (this needs a signal), then set a new PIN. Your caseload comes back from the server.'),
      h('p', { class: 'notice' }, 'Changes on this phone that have not been sent cannot be read without the old PIN. You will see which they were, and the office will be told.'),
      form,
      h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => ctx.cancelForgot() }, 'Back to unlock')));
    return { node, title: 'Forgot PIN', live: false };
  }
  const node = h('section', { class: 'signin' },
    title('Sign in to Doorstep'),
    message ? h('p', { class: 'notice', role: 'alert' }, message) : null,
    h('p', {}, 'Sign in once with a signal. After that the app and your caseload open without one.'),
    form);
  return { node, title: 'Sign in', live: false };
}

function signinError(err) {
  if (err && err.code === 'network') return 'No signal. Signing in needs a connection.';
  if (err && (err.status === 401 || err.code === 'unauthenticated')) return 'That username or password is not right.';
  if (err && err.code === 'different_user') return err.message;
  if (err && err.code === 'rate_limited') return 'Too many attempts. Wait a minute and try again.';
  return (err && err.message) || 'Sign in failed.';
}
