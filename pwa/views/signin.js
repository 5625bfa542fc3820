// Sign in. Needs the network once; afterwards the app opens offline (with the
// PIN). "Forgot PIN?" signs in again to set a new PIN, after saying what that deletes.
import { h, title, confirmDialog } from './ui.js';
import { lossLines, lossSentence } from '../localwork.js';

// The sign-in screen is in index.html, so that a first visit paints it before any script has
// loaded (docs/pwa.md, "Lighthouse and sign-in time"). The first render adopts it where it
// stands, keeping what was typed and the focus; later ones show a clean copy of it.
const BOOT = globalThis.document ? document.getElementById('signin-screen') : null;
const PRISTINE = BOOT ? BOOT.cloneNode(true) : null;
if (PRISTINE) for (const el of PRISTINE.querySelectorAll('input')) el.value = el.defaultValue; // typed before this ran
let adopted = false;

function signinScreen() {
  if (BOOT && !adopted && BOOT.isConnected) {
    adopted = true;
    BOOT.hidden = false; // a page the service worker served has it hidden (sw.js)
    return BOOT;
  }
  const node = PRISTINE.cloneNode(true);
  node.hidden = false;
  return node;
}

/**
 * Wire a sign-in form (index.html's, or a copy) and enable its button. `before()` runs first
 * and may return false to stop (e.g. the officer did not confirm what a forgotten PIN deletes).
 */
function wireSignin(ctx, form, { before = async () => true } = {}) {
  const { username: user, password: pass, device_name: phone } = form.elements;
  // The office sees this name in its device list (two phones of one officer told apart);
  // Settings shows it on the phone.
  if (!phone.value && ctx.defaultDeviceName) phone.value = ctx.defaultDeviceName();
  const error = form.querySelector('[role=alert]');
  const button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!(await before(button))) return;
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      await ctx.signIn(user.value.trim(), pass.value, phone.value.trim());
    } catch (err) {
      error.hidden = false;
      error.textContent = signinError(err);
      button.disabled = false;
      button.textContent = 'Sign in';
      pass.value = '';
      pass.focus();
    }
  });
  button.disabled = false;
  return form;
}

export function renderSignin(ctx, { message } = {}) {
  const node = signinScreen();
  wireSignin(ctx, node.querySelector('form'));
  if (message) node.querySelector('h1').after(h('p', { class: 'notice', role: 'alert' }, message));
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
    wireSignin(ctx, PRISTINE.querySelector('form').cloneNode(true), { before }),
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
