import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countAtMost, newSketch, quantile, sketchFromBytes, sketchToBytes } from './latency-sketch.ts';

test('percentiles of 1..1000 ms are within 1% of the exact nearest-rank values, also after a byte round trip', () => {
  const s = newSketch();
  for (let v = 1; v <= 1000; v++) s.accept(v);
  const back = sketchFromBytes(sketchToBytes(s));
  for (const [q, exact] of [
    [0.5, 500],
    [0.95, 950],
    [0.99, 990],
  ] as const) {
    for (const sk of [s, back]) {
      const v = quantile(sk, q);
      assert.ok(Math.abs(v - exact) / exact <= 0.01, `q${q}: ${v} vs ${exact}`);
    }
  }
});

test('merging two sketches equals sketching the union', () => {
  const a = newSketch();
  const b = newSketch();
  const all = newSketch();
  for (let v = 1; v <= 500; v++) {
    a.accept(v);
    all.accept(v);
  }
  for (let v = 501; v <= 1000; v++) {
    b.accept(v);
    all.accept(v);
  }
  a.merge(b);
  assert.equal(a.count, 1000);
  assert.equal(quantile(a, 0.9), quantile(all, 0.9));
});

test('countAtMost counts values at or under a threshold (zeros included), to bucket precision', () => {
  const s = newSketch();
  for (const v of [0, 0, 5, 10, 100, 499, 2000, 2001, 10000]) s.accept(v);
  assert.equal(countAtMost(s, 0), 2);
  assert.equal(countAtMost(s, 500), 6);
  assert.equal(countAtMost(s, 2000), 8, '2001 falls in the same 1% bucket as 2000, so it counts as ≤ 2000');
  assert.equal(countAtMost(s, 1e9), 9);
  assert.equal(countAtMost(s, -1), 0);
});
