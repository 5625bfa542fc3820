// pwa/views/form.js actionRowProblems: a problem with an agreed action is shown beside that
// row's control (a conversation's agreed_actions, a support plan's actions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionRowProblems } from '../views/form.js';

const row = (n) => ({ action: { input: `action${n}` }, owner: { input: `owner${n}` }, due: { input: `due${n}` } });

test('a row problem goes beside that filled row\'s part; others beside their field', () => {
  const rows = [row(0), row(1)];
  const { control, message } = actionRowProblems(() => rows, { notes: 'notes-control' });
  assert.equal(control({ field: 'actions', path: 'actions.1.owner' }), 'owner1');
  assert.equal(control({ field: 'actions', path: 'actions.0.due_on' }), 'due0');
  assert.equal(control({ field: 'actions', path: 'actions.1' }), 'action1'); // the row as a whole
  assert.equal(control({ field: 'notes', path: 'notes' }), 'notes-control');
  assert.equal(control({ field: 'actions', path: 'actions.5.owner' }), null); // no such row, no control
  assert.equal(message({ code: 'missing', path: 'actions.0.action', message: 'x' }), 'Describe the action, or remove it.');
  assert.equal(message({ code: 'invalid', path: 'actions.0.owner', message: 'Owner must be…' }), 'Owner must be…');
});
