import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countAtMost, newSketch, quantile, sketchFromBytes, sketchToBytes } from './latency-sketch.ts';

test('percentiles of 1..1000 ms are within 1% of the exact nearest-rank values, also after a byte round trip', () => {
  const s = newSketch();
  for (let v = 1; v <= 1000; v++) s.accept(v);
  const back = sketchFromBytes(sketchToBytes(s));
  assert.equal(back.count, 1000);
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

test('agrees with the reference DDSketch (@datadog/sketches-js, same α) on log-normal latencies (ranks q·20000 are whole)', async () => {
  const { DDSketch } = await import('@datadog/sketches-js');
  const ours = newSketch();
  const peer = new DDSketch({ relativeAccuracy: 0.01 });
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 20_001; i++) {
    const z = Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    const v = Math.exp(3 + 1.2 * z);
    ours.accept(v);
    peer.accept(v);
  }
  for (const q of [0.01, 0.5, 0.9, 0.95, 0.99, 0.999]) {
    const a = quantile(ours, q);
    const b = peer.getValueAtQuantile(q);
    assert.ok(Math.abs(a - b) / b < 1e-9, `q${q}: ${a} vs peer ${b}`);
  }
});

test('binary form: mergeBytes equals merge, and malformed bytes are refused', () => {
  const a = newSketch();
  const b = newSketch();
  for (let v = 0; v < 300; v++) a.accept(v * 1.7);
  for (let v = 0; v < 300; v++) b.accept(1000 + v);
  const viaBytes = newSketch();
  viaBytes.mergeBytes(sketchToBytes(a));
  viaBytes.mergeBytes(sketchToBytes(b));
  a.merge(b);
  assert.equal(viaBytes.count, 600);
  assert.equal(viaBytes.zeroCount, 1);
  for (const q of [0.1, 0.5, 0.99]) assert.equal(quantile(viaBytes, q), quantile(a, q));
  assert.throws(() => sketchFromBytes(new Uint8Array([9, 0, 0])), /not a siperf latency sketch/);
  assert.throws(() => sketchFromBytes(sketchToBytes(a).subarray(0, 20)), /truncated/);
  const big = newSketch();
  big.accept(5, 3_000_000_000);
  assert.equal(sketchFromBytes(sketchToBytes(big)).count, 3_000_000_000, 'counts beyond 32 bits survive');
});

test('between ranks the quantile interpolates like quantile_cont (type 7)', () => {
  const s = newSketch();
  for (const v of [10, 20, 30, 40]) s.accept(v);
  // r = 0.5 · 3 = 1.5: halfway between 20 and 30, each within 1%.
  const p50 = quantile(s, 0.5);
  assert.ok(Math.abs(p50 - 25) / 25 <= 0.01, `${p50}`);
  const p90 = quantile(s, 0.9); // r = 2.7 → 30 + 0.7 · 10 = 37
  assert.ok(Math.abs(p90 - 37) / 37 <= 0.01, `${p90}`);
});

test('memory stays proportional to the range of values: a slowly falling minimum does not double the array', () => {
  const s = newSketch();
  // 10 ms down to 0.001 ms in 0.5% steps: each value a new minimum, ~920 distinct keys (γ = 1.0202).
  for (let v = 10; v > 0.001; v *= 0.995) s.accept(v);
  const keys = Math.ceil(Math.log(10 / 0.001) / Math.log((1 + 0.01) / (1 - 0.01))) + 1;
  assert.ok(s.capacity <= 1.25 * keys + 64, `capacity ${s.capacity} for ${keys} keys`);
  // And the same rising.
  const r = newSketch();
  for (let v = 0.001; v < 10; v *= 1.005) r.accept(v);
  assert.ok(r.capacity <= 1.25 * keys + 64, `capacity ${r.capacity} for ${keys} keys`);
  const before = r.count;
  r.accept(Number.POSITIVE_INFINITY);
  assert.equal(r.count, before);
  // Geometric steps: the median is the geometric middle of the range, 0.1 ms, within α.
  assert.ok(Math.abs(quantile(s, 0.5) - 0.1) / 0.1 < 0.02, String(quantile(s, 0.5)));
  assert.ok(Math.abs(quantile(r, 0.5) - 0.1) / 0.1 < 0.02, String(quantile(r, 0.5)));
});
