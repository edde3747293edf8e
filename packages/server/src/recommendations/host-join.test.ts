import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CostReport, ScalingRecommendation } from '../resources/index.ts';
import { hostRecommendations } from './host-join.ts';

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const W = { fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 0, 8) };
const GIB = 2 ** 30;
const PRICES = { currency: 'USD', vcpuHour: 0.0316, memoryGibHour: 0.0029, diskGibMonth: 0.1 };

function scaling(over: Partial<ScalingRecommendation>): ScalingRecommendation {
  return {
    resource: 'cpu',
    scope: 'host',
    current: 8,
    recommended: 2.3,
    lowerBound: 1.5,
    upperBound: 3,
    scalingFactor: 2.3 / 8,
    action: 'scale-down',
    historyDays: 7,
    samples: 10_080,
    performance: { utilizationNow: 0.2, utilizationAfter: 0.7 },
    risk: 0.02,
    why: 'p90 of 10080 samples over 7 days (24 h half-life) is 2.00 cores; +15% margin',
    ...over,
  };
}

test('join (d) by hand: an 8-core host that needs 2.3 frees 20,520 CPU-seconds an hour and 131.49 USD a month', () => {
  const cpu = scaling({});
  const memory = scaling({
    resource: 'memory',
    scope: 'container',
    current: 4 * GIB,
    recommended: 6 * GIB,
    lowerBound: 5 * GIB,
    upperBound: 7 * GIB,
    action: 'scale-up',
    historyDays: 3,
    risk: 0.2,
    why: 'p90 of 3 daily peaks',
  });
  const keep = scaling({ resource: 'cpu', scope: 'container', action: 'keep' });
  // As costReport prices them: (current − recommended) × unit price × 730 h.
  const cost: CostReport = {
    currency: 'USD',
    prices: PRICES,
    monthlyCost: { cpu: 0, memory: 0, disk: 0, total: 0 },
    items: [
      {
        resource: 'cpu',
        kind: 'over-provisioned',
        current: '8.00 cores',
        proposed: '2.30 cores',
        monthlySavings: (8 - 2.3) * 0.0316 * 730,
        evidence: cpu.why,
      },
      {
        resource: 'memory',
        kind: 'under-provisioned',
        current: '4.00 GiB',
        proposed: '6.00 GiB',
        monthlySavings: (4 - 6) * 0.0029 * 730,
        evidence: memory.why,
      },
    ],
    potentialMonthlySavings: 0,
  };
  const [c, m, ...rest] = hostRecommendations('db-1', [cpu, memory, keep], cost, W);
  assert.equal(rest.length, 0, '`keep` asks nothing');
  assert.equal(c!.kind, 'right-size');
  assert.equal(c!.area, 'host');
  assert.equal(c!.target.host, 'db-1');
  // (8 − 2.3) × 3600.
  assert.ok(near(c!.gain.cpuSecondsPerHour!, 20_520));
  // 5.7 × 0.0316 × 730 = 131.4876.
  assert.ok(near(c!.gain.moneyPerMonth!, 131.4876));
  assert.equal(c!.gain.timeSavedSecondsPerHour, null);
  assert.equal(c!.gain.confidence, 'high');
  assert.equal(c!.severity, 'info');
  assert.equal(c!.title, 'Shrink host db-1 CPU 8 cores → 2.3 cores: 131 USD per month saved');
  assert.ok(c!.gain.arithmetic.includes('(8 − 2.3) cores × 3600 s = 20520 CPU-seconds per hour freed'));
  // Memory: 2 GiB more, −2 × 0.0029 × 730 = −4.234 USD; a fifth of the peaks above even 6 GiB: a warning.
  assert.equal(m!.gain.memoryBytes, 2 * GIB);
  assert.ok(near(m!.gain.moneyPerMonth!, -4.234));
  assert.equal(m!.severity, 'warning');
  assert.equal(m!.gain.confidence, 'medium');
  assert.equal(m!.apply.change, 'resources.limits.memory: 6144Mi');
});

test('join (d) corrected by the other recommendations’ savings on the host, by hand', () => {
  const cost = (items: CostReport['items']): CostReport => ({
    currency: 'USD',
    prices: PRICES,
    monthlyCost: { cpu: 0, memory: 0, disk: 0, total: 0 },
    items,
    potentialMonthlySavings: 0,
  });
  const saving = (id: string, databaseSecondsPerHour: number) => ({ id, title: id, databaseSecondsPerHour });
  // 8 cores, 2.3 recommended; two indexes save 1,200 + 600 s an hour = 0.5 cores.
  const [c] = hostRecommendations('db-1', [scaling({})], cost([]), W, [
    saving('index.aaaaaaaaaaaaaaaa', 1200),
    saving('index.bbbbbbbbbbbbbbbb', 600),
  ]);
  // 2.3 − 1.15 × 0.5 = 1.725 cores; (8 − 1.725) × 3600 = 22,590 CPU-seconds; 6.275 × 0.0316 × 730 = 144.75.
  assert.ok(near(c!.evidence.measured.recommended as number, 1.725));
  assert.equal(c!.evidence.measured.recommendedBeforeCorrection, 2.3);
  assert.ok(near(c!.gain.cpuSecondsPerHour!, 22_590));
  assert.ok(near(c!.gain.moneyPerMonth!, 6.275 * 0.0316 * 730));
  assert.deepEqual(c!.related, ['index.aaaaaaaaaaaaaaaa', 'index.bbbbbbbbbbbbbbbb']);
  assert.ok(
    c!.gain.arithmetic.includes('2.3 − 1.15 × 0.5 = 1.72 cores once they are applied'),
    c!.gain.arithmetic.join('\n'),
  );
  assert.equal(c!.title, 'Shrink host db-1 CPU 8 cores → 1.72 cores: 145 USD per month saved');

  // A 4-core host that fits (3.5 recommended, 0.875: keep) shrinks once an index saves a core: 3.5 − 1.15 = 2.35.
  const keep = scaling({ current: 4, recommended: 3.5, lowerBound: 3, upperBound: 4, action: 'keep' });
  assert.deepEqual(hostRecommendations('db-1', [keep], cost([]), W), [], 'keep asks nothing');
  const [k] = hostRecommendations('db-1', [keep], cost([]), W, [saving('index.cccccccccccccccc', 3600)]);
  assert.ok(near(k!.evidence.measured.recommended as number, 2.35));
  assert.ok(near(k!.gain.cpuSecondsPerHour!, (4 - 2.35) * 3600));

  // A 2-core host asking for 2.5 needs no more once a core is saved: 2.5 − 1.15 = 1.35, a scale-down.
  const up = scaling({ current: 2, recommended: 2.5, action: 'scale-up', risk: 0.3 });
  const [u] = hostRecommendations('db-1', [up], cost([]), W, [saving('index.dddddddddddddddd', 3600)]);
  assert.ok(near(u!.evidence.measured.recommended as number, 1.35));
  assert.match(u!.title, /^Shrink host db-1 CPU 2 cores → 1\.35 cores/);

  // Not enough history (`wait`) stays unjudged, and memory is not corrected.
  const wait = scaling({ action: 'wait', historyDays: 0.5 });
  assert.deepEqual(
    hostRecommendations('db-1', [wait], cost([]), W, [saving('index.eeeeeeeeeeeeeeee', 3600)]),
    [],
  );
});
