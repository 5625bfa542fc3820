// Forms in sections (views/sections.js): the progress words, a kept section number made safe,
// and the answers in words on the "Check and submit" step. The sections themselves (Back/Next,
// jumps, the draft kept across them) are tested in Chromium: tests/browser/test_pwa_sections.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressText, clampSection, answerText, codesText, SUMMARY_NAME } from '../views/sections.js';
import { codeLabels } from '../validate.js';

test('progress is "Section n of total", counting from 1', () => {
  assert.equal(progressText(0, 4), 'Section 1 of 4');
  assert.equal(progressText(1, 4), 'Section 2 of 4');
  assert.equal(SUMMARY_NAME, 'Check and submit');
});

test('a section number kept in a draft is used only when it is one of the form\'s', () => {
  assert.equal(clampSection(2, 4), 2);
  assert.equal(clampSection('3', 4), 3);
  for (const bad of [4, -1, 1.5, 'x', null, undefined]) assert.equal(clampSection(bad, 4), 0, String(bad));
});

test('answers in words: yes/no, blank as not recorded, text trimmed', () => {
  assert.equal(answerText(true), 'Yes');
  assert.equal(answerText(false), 'No');
  assert.equal(answerText(''), 'Not recorded');
  assert.equal(answerText('   '), 'Not recorded');
  assert.equal(answerText(null, { empty: 'None' }), 'None');
  assert.equal(answerText('  Mum  '), 'Mum');
});

test('codes in the vocabulary\'s words, in the order chosen', () => {
  const barriers = codeLabels('barrier');
  assert.equal(codesText(['bullying', 'housing'], barriers), `${barriers.bullying}, ${barriers.housing}`);
  assert.equal(codesText([], barriers), 'None recorded');
  assert.equal(codesText(undefined, barriers), 'None recorded');
  assert.equal(codesText(['not_a_code'], barriers), 'not_a_code');
});
