import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MetricPoint, scalarPoint } from '../model/index.ts';
import { createDuckDbStore } from '../storage/index.ts';
import { findBottlenecks } from './bottlenecks.ts';
import { costReport } from './cost.ts';
import { decayed, erlangC, meanQueueDelay, scalingRecommendations, weightedPercentile } from './scaling.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');

function point(name: string, t: number, value: number, attributes: Record<string, string> = {}): MetricPoint {
  const sum = name.endsWith('periods') || name.endsWith('oom_kills');
  return scalarPoint({
    name,
    service: 'siperf-host-sampler',
    unit: '1',
    type: sum ? 'sum' : 'gauge',
    value,
    timeUnixNano: BigInt(t) * 1_000_000n,
    attributes,
    resourceAttributes: { 'host.name': 'h' },
  });
}

test('weighted percentile, 24 h decay and Erlang C by hand', () => {
  // Weights: newest 1, a day older ½.
  const w = decayed([0, DAY], [3, 2]);
  assert.deepEqual(w, [
    { value: 3, weight: 0.5 },
    { value: 2, weight: 1 },
  ]);
  // Sorted 2 (1), 3 (0.5): cumulative 1/1.5 = 0.667 ≥ 0.5 → 2; 0.9 → 3.
  assert.equal(weightedPercentile(w, 0.5), 2);
  assert.equal(weightedPercentile(w, 0.9), 3);
  // M/M/1 at load 0.5: C = ρ = 0.5, Wq = 0.5 / (1 − 0.5) = 1 service time.
  assert.ok(Math.abs(erlangC(1, 0.5) - 0.5) < 1e-12);
  assert.ok(Math.abs(meanQueueDelay(1, 0.5) - 1) < 1e-12);
  // M/M/2 at a = 1: C = 1/3 (textbook), Wq = (1/3)/(2 − 1).
  assert.ok(Math.abs(erlangC(2, 1) - 1 / 3) < 1e-12);
  assert.equal(meanQueueDelay(2, 2), Number.POSITIVE_INFINITY);
});

test('VPA-style recommendation of a 4-core host busy 1 core, memory peaks 2 then 3 GiB', async () => {
  const store = await createDuckDbStore({ path: ':memory:' });
  try {
    const points: MetricPoint[] = [];
    for (let i = 0; i <= 48 * 6; i++) {
      const t = T0 + i * 600_000; // every 10 min for two days
      points.push(point('system.cpu.utilization', t, 0.25, { 'cpu.mode': 'user' }));
      points.push(point('system.cpu.utilization', t, 0.75, { 'cpu.mode': 'idle' }));
      points.push(point('system.cpu.logical.count', t, 4));
      points.push(point('system.memory.limit', t, 16 * 2 ** 30));
      const used = t < T0 + DAY ? 2 * 2 ** 30 : 3 * 2 ** 30;
      points.push(point('system.memory.usage', t, used, { 'system.memory.state': 'used' }));
      points.push(point('system.cpu.load_average.1m', t, 8));
      points.push(point('container.cpu.periods', t, i * 100));
      points.push(point('container.cpu.throttled_periods', t, i * 10));
    }
    await store.writeMetricPoints(points);
    const window = { fromNs: BigInt(T0) * 1_000_000n, toNs: BigInt(T0 + 3 * DAY) * 1_000_000n };
    const recs = await scalingRecommendations(store, 'h', window);
    const cpu = recs.find((r) => r.resource === 'cpu')!;
    // Every sample 1 core → p90 = 1 → 1.15 cores for 4: factor 0.2875, scale down.
    assert.ok(Math.abs(cpu.recommended - 1.15) < 1e-9, String(cpu.recommended));
    assert.ok(Math.abs(cpu.scalingFactor - 0.2875) < 1e-9);
    assert.equal(cpu.action, 'scale-down');
    assert.equal(cpu.risk, 0);
    assert.ok(Math.abs(cpu.performance.utilizationNow - 0.25) < 1e-9);
    // Two days of history: upper bound 1.15 × (1 + 1/2).
    assert.ok(Math.abs(cpu.upperBound - 1.15 * 1.5) < 1e-9, String(cpu.upperBound));
    const mem = recs.find((r) => r.resource === 'memory')!;
    // Daily peaks 2 GiB (weight ½, yesterday; plus the last sample's day) and 3 GiB: p90 = 3 GiB → 3.45 GiB.
    assert.ok(Math.abs(mem.recommended - 3.45 * 2 ** 30) < 1, String(mem.recommended / 2 ** 30));
    assert.equal(mem.action, 'scale-down');
    const cost = await costReport(store, 'h', window, recs, {
      currency: 'USD',
      vcpuHour: 0.02,
      memoryGibHour: 0.003,
      diskGibMonth: 0.1,
    });
    // (4 − 1.15) cores × 0.02 × 730 h and (16 − 3.45) GiB × 0.003 × 730 h.
    const byResource = Object.fromEntries(cost.items.map((i) => [i.resource, i.monthlySavings]));
    assert.ok(Math.abs(byResource.cpu! - 41.61) < 1e-9, String(byResource.cpu));
    assert.ok(Math.abs(byResource.memory! - 27.4845) < 1e-6, String(byResource.memory));
    assert.ok(Math.abs(cost.monthlyCost.cpu - 58.4) < 1e-9);
    assert.ok(Math.abs(cost.potentialMonthlySavings - (41.61 + 27.4845)) < 1e-6);
    const use = await findBottlenecks(store, 'h', window);
    // Load 8 on 4 cores = 2 per core (saturation); 10% of CFS periods throttled.
    assert.deepEqual(
      use.map((b) => [b.resource, b.kind, b.severity, Number(b.value.toFixed(3))]),
      [
        ['cpu', 'saturation', 'warning', 2],
        ['cpu', 'saturation', 'warning', 0.1],
      ],
    );
  } finally {
    await store.close();
  }
});
