// The PIN screens: set a PIN after signing in, and the lock screen.
import { h, field, title, humanType, fmtDateTime } from './ui.js';
import { newPinProblem, attemptsLeftMessage, PIN_MIN } from '../lock.js';
import { lossSentence } from '../localwork.js';

function pinField(label, autocomplete, hint) {
  return field(label, {
    kind: 'password', inputmode: 'numeric', pattern: '[0-9]*', autocomplete, hint,
    autocapitalize: 'none', spellcheck: 'false', required: true, maxlength: 16,
  });
}

/** What a forgotten PIN (or ten wrong ones) cost: the unsent changes, one by one, and the drafts deleted. */
function lostList(lost, dropped) {
  const n = (lost && lost.length) || 0;
  const drafts = dropped ? lossSentence({ drafts: dropped.drafts, needsCorrecting: dropped.needsCorrecting }) : '';
  if (!n && !drafts) return null;
  return h('div', { class: 'warn', 'data-testid': 'lost-changes' },
    n ? [
      h('h2', {}, `${n} ${n === 1 ? 'change' : 'changes'} could not be kept`),
      h('p', {}, `${n === 1 ? 'This change was' : 'These changes were'} recorded on this phone but not sent, and cannot be read any more. The office has been told. Record ${n === 1 ? 'it' : 'them'} again if you can.`),
      h('ul', {}, lost.slice(0, 50).map((c) => h('li', {},
        `${humanType(c.type)}${c.op === 'delete' ? ' (deletion)' : ''}, recorded ${fmtDateTime(c.created_at)}`,
        c.sent ? ' (sent once without an answer: it may have reached the office)' : ''))),
      n > 50 ? h('p', {}, `…and ${n - 50} more.`) : null,
    ] : h('h2', {}, 'Drafts could not be kept'),
    drafts ? h('p', { 'data-testid': 'lost-drafts' }, `Also deleted, as they could not be read without the old PIN: ${drafts}.`) : null);
}

export function renderSetPin(ctx, pending) {
  const pin = pinField('PIN', 'off', `At least ${PIN_MIN} digits. Not one digit repeated, not digits in order (like 123456), not a pattern (like 121212).`);
  const confirm = pinField('Confirm PIN', 'off');
  const error = h('div', { role: 'alert', class: 'error', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Set PIN');
  const form = h('form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      const problem = newPinProblem(pin.input.value, confirm.input.value);
      if (problem) {
        error.hidden = false;
        error.textContent = problem;
        pin.input.setAttribute('aria-invalid', 'true');
        confirm.input.value = '';
        pin.input.focus();
        pin.input.select();
        return;
      }
      error.hidden = true;
      button.disabled = true;
      button.textContent = 'Setting PIN…';
      try {
        await ctx.setPin(pin.input.value);
      } catch (err) {
        error.hidden = false;
        error.textContent = (err && err.message) || 'The PIN could not be set.';
        button.disabled = false;
        button.textContent = 'Set PIN';
      }
    },
  }, pin.wrap, confirm.wrap, error, button);
  const who = pending.session && pending.session.user;
  const node = h('section', { class: 'signin', 'data-screen': 'set-pin' },
    title('Set a PIN for this phone'),
    lostList(pending.lost, pending.dropped),
    pending.legacy ? h('p', { class: 'notice' }, 'Doorstep now locks with a PIN. Set one to carry on; everything on this phone is kept.') : null,
    h('p', {}, `${who ? `Signed in as ${who.display_name || who.username}. ` : ''}Doorstep encrypts what it keeps on this phone with your PIN. You will need it to open the app, also without a signal.`),
    h('p', {}, 'Ten wrong PINs in a row wipe Doorstep\'s data on this phone.'),
    form);
  return { node, title: 'Set a PIN', live: false };
}

export function renderLock(ctx, { message } = {}) {
  const pin = pinField('PIN', 'off');
  const error = h('div', { role: 'alert', class: 'error', hidden: !message }, message || '');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Unlock');
  const form = h('form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (!pin.input.value) { pin.input.focus(); return; }
      error.hidden = true;
      button.disabled = true;
      button.textContent = 'Checking…';
      let res;
      try {
        res = await ctx.unlock(pin.input.value);
      } catch (err) {
        res = { error: (err && err.message) || 'Could not unlock.' };
      }
      if (!res) return; // unlocked (or wiped): another screen shows
      error.hidden = false;
      error.textContent = res.error || attemptsLeftMessage(res.left);
      pin.input.value = '';
      pin.input.setAttribute('aria-invalid', 'true');
      button.disabled = false;
      button.textContent = 'Unlock';
      pin.input.focus();
    },
  }, pin.wrap, error, button);
  const node = h('section', { class: 'signin', 'data-screen': 'lock' },
    title('Doorstep is locked'),
    h('p', {}, 'Enter your PIN to carry on. This works without a signal.'),
    form,
    h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => ctx.forgotPin() }, 'Forgot PIN?')));
  return { node, title: 'Locked', live: false };
}
