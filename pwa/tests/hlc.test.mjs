import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hlc from '../hlc.js';

const NODE = '3f1c2a8e-0000-4000-8000-000000000001';

test('a stamp has 15 + 6 digits and the node, and parses back', () => {
  const s = hlc.send(null, 1763799300000, NODE);
  assert.equal(s, `001763799300000-000000-${NODE}`);
  assert.deepEqual(hlc.parse(s), { ms: 1763799300000, counter: 0, node: NODE });
  assert.ok(hlc.isStamp(s));
  assert.ok(!hlc.isStamp('1763799300000-0-x'));
  assert.throws(() => hlc.parse('nonsense'));
});

test('send is max(now, last), counter + 1 on a tie', () => {
  const a = hlc.send(null, 1000, NODE);
  const b = hlc.send(a, 1000, NODE); // same ms
  const c = hlc.send(b, 900, NODE); // wall clock went backwards
  const d = hlc.send(c, 2000, NODE); // wall clock moved on
  assert.equal(hlc.parse(b).counter, 1);
  assert.deepEqual([hlc.parse(c).ms, hlc.parse(c).counter], [1000, 2]);
  assert.deepEqual([hlc.parse(d).ms, hlc.parse(d).counter], [2000, 0]);
  assert.ok(a < b && b < c && c < d, 'stamps order as plain strings');
});

test('the counter overflows into the next millisecond', () => {
  const last = hlc.format({ ms: 5000, counter: hlc.MAX_COUNTER, node: NODE });
  const next = hlc.send(last, 5000, NODE);
  assert.deepEqual([hlc.parse(next).ms, hlc.parse(next).counter], [5001, 0]);
  assert.ok(next > last);
});

test('receive advances past a remote stamp; the next send is later than it', () => {
  const remote = hlc.format({ ms: 9_000_000, counter: 7, node: 'server' });
  const last = hlc.receive(hlc.send(null, 1000, NODE), remote, NODE);
  const next = hlc.send(last, 1000, NODE);
  assert.ok(next > remote, `${next} > ${remote}`);
  assert.equal(hlc.parse(next).node, NODE);
  // An older remote stamp changes nothing.
  assert.equal(hlc.receive(next, hlc.format({ ms: 10, counter: 0, node: 'server' }), NODE), next);
});

test('string order is time order across digit boundaries', () => {
  const stamps = [999, 1000, 99_999, 100_000, 1763799300000].map((ms) => hlc.format({ ms, counter: 0, node: NODE }));
  assert.deepEqual([...stamps].sort(), stamps);
  assert.equal(hlc.compare(stamps[0], stamps[1]), -1);
});

test('many sends from one clock are strictly increasing', () => {
  let last = null;
  const seen = [];
  for (let i = 0; i < 2000; i += 1) {
    last = hlc.send(last, 1000 + Math.floor(i / 700), NODE);
    seen.push(last);
  }
  for (let i = 1; i < seen.length; i += 1) assert.ok(seen[i - 1] < seen[i]);
});
