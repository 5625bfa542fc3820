// pwa/validate.js against the exported schema (pwa/schema.js, generated from sync/schema.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA } from '../schema.js';
import { validateRecord, codeLabels, codeLabel, fieldLabel, typeLabel } from '../validate.js';

const CASE = '0f8fad5b-d9cb-469f-a165-70867728950e';
const visit = (more = {}) => ({ case_id: CASE, status: 'draft', barriers: [], ...more });
const messages = (errs) => errs.map((e) => e.message);

test('a plain draft visit passes; a new one without its case does not', () => {
  assert.deepEqual(validateRecord('visit', visit(), { creating: true }), []);
  const errs = validateRecord('visit', { status: 'draft' }, { creating: true });
  assert.deepEqual(errs.map((e) => [e.field, e.code]), [['case_id', 'missing']]);
});

test('lengths come from the schema: notes may have 10,000 characters, not 10,001', () => {
  assert.equal(SCHEMA.types.visit.fields.notes.max, 10000);
  assert.deepEqual(validateRecord('visit', visit({ notes: 'x'.repeat(10000) })), []);
  const [err] = validateRecord('visit', visit({ notes: 'x'.repeat(10001) }));
  assert.equal(err.field, 'notes');
  assert.equal(err.code, 'invalid');
  assert.match(err.message, /^Notes is too long: at most 10,000 characters/);
  const [name] = validateRecord('conversation', { case_id: CASE, spoke_with: 'y'.repeat(201) });
  assert.equal(name.field, 'spoke_with');
});

test('enums, kinds and ranges', () => {
  assert.equal(validateRecord('visit', visit({ outcome: 'nope' }))[0].field, 'outcome');
  assert.equal(validateRecord('visit', visit({ barriers: ['housing', 'housing'] }))[0].field, 'barriers');
  assert.equal(validateRecord('visit', visit({ barriers: ['housing', 'nope'] }))[0].path, 'barriers.1');
  assert.equal(validateRecord('visit', visit({ lat: 91 }))[0].field, 'lat');
  assert.equal(validateRecord('visit', visit({ child_seen: 'yes' }))[0].field, 'child_seen');
  assert.equal(validateRecord('visit', visit({ started_at: '2026-02-30T08:00:00Z' }))[0].field, 'started_at');
  assert.equal(validateRecord('conversation', { case_id: CASE, next_contact_on: '2026-02-30' })[0].field, 'next_contact_on');
  assert.equal(validateRecord('visit', visit({ status: null }))[0].field, 'status');
  assert.deepEqual(validateRecord('visit', visit({ started_at: '2026-11-22T08:15:00Z', outcome: 'no_answer' })), []);
});

test('submit rules: an outcome, who was spoken to, and the details of a safeguarding concern', () => {
  const errs = validateRecord('visit', visit({ status: 'submitted', safeguarding_concern: true, concern_details: '  ' }));
  assert.deepEqual(errs.map((e) => [e.field, e.code]), [['outcome', 'rule'], ['concern_details', 'rule']]);
  assert.deepEqual(messages(errs), ['Choose the outcome of the visit.', 'Describe the safeguarding concern.']);
  assert.deepEqual(validateRecord('visit', visit({ status: 'submitted', outcome: 'no_answer' })), []);
  assert.deepEqual(validateRecord('visit', visit({ status: 'draft', safeguarding_concern: true })), []);
  const conv = validateRecord('conversation', { case_id: CASE, status: 'submitted', spoke_with: null });
  assert.deepEqual(messages(conv), ['Say who you spoke to.']);
});

test('agreed actions: each needs its action; the path names the row and the part', () => {
  const errs = validateRecord('conversation', {
    case_id: CASE, agreed_actions: [{ action: 'Call school', owner: null, due_on: null }, { action: null, owner: 'Mum', due_on: '2026-12-01' }],
  });
  assert.deepEqual(errs.map((e) => [e.path, e.code]), [['agreed_actions.1.action', 'missing']]);
  const bad = validateRecord('conversation', { case_id: CASE, agreed_actions: [{ action: 'a', due_on: 'soon' }] });
  assert.equal(bad[0].path, 'agreed_actions.0.due_on');
});

test('every enum code and every field has a label, and the phone reads them from the vocabulary', () => {
  for (const [name, codes] of Object.entries(SCHEMA.enums)) {
    for (const code of codes) {
      const label = SCHEMA.vocabulary.enums[name]?.[code]?.label;
      assert.ok(label, `${name}.${code} has no label`);
      assert.equal(codeLabel(name, code), label);
    }
    assert.deepEqual(Object.keys(codeLabels(name)), codes);
  }
  for (const [type, decl] of Object.entries(SCHEMA.types)) {
    assert.ok(SCHEMA.vocabulary.types[type]?.label, `type ${type} has no label`);
    for (const name of Object.keys(decl.fields)) assert.ok(SCHEMA.vocabulary.fields[name]?.label, `${type}.${name} has no label`);
  }
  assert.equal(codeLabel('outcome', 'child_seen'), 'Saw the child only');
  assert.equal(fieldLabel('child_seen'), 'Child seen');
  assert.equal(typeLabel('visit'), 'Home visit');
});

test('text holding a NUL character is refused before it is queued, as the server refuses it', () => {
  const [err] = validateRecord('visit', visit({ notes: 'Card left\u0000' }));
  assert.equal(err.field, 'notes');
  assert.match(err.message, /cannot be stored \(NUL\)/);
  assert.deepEqual(validateRecord('visit', visit({ notes: 'Card left\ncalled back' })), []);
});
