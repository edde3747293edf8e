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
