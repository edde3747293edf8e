import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlanAdvice } from '../db/index.ts';
import type { RequestSample } from './endpoint-samples.ts';
import { sampledEffect } from './endpoint-samples.ts';
import { recommendationId } from './ids.ts';
import { indexRecommendation } from './index-join.ts';

const HOUR = { fromMs: Date.UTC(2026, 0, 1, 10), toMs: Date.UTC(2026, 0, 1, 11) };
const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const F = 'SELECT * FROM orders WHERE customer_id = $1';
const FIX = 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id)';

/** The advisor's index advice: HypoPG cost 1,000 → 50 (95% saved) unless `verified` is false. */
function advice(statements: PlanAdvice['statements'], verified = true): PlanAdvice {
  return {
    id: `index:main:${FIX}`,
    area: 'database',
    severity: 'warning',
    title: 'main: a sequential scan reads all 100000 rows of orders',
    evidence: {
      costBefore: 1000,
      costAfter: verified ? 50 : null,
      verifiedWith: verified ? 'hypopg' : 'estimate',
    },
    action: `Run ${FIX}`,
    change: FIX,
    expectedGain: { timeSavedMsPerHour: 0, description: '' },
    pool: 'main',
    rule: 'seq_scan_selective_filter',
    table: 'orders',
    statements,
    shareSaved: verified ? 0.95 : null,
    verifiedWith: verified ? 'hypopg' : 'estimate',
    planExcerpt: 'Seq Scan on orders  (total cost=1000.00 rows=100)\n  Filter: (customer_id = $1)',
  };
}

/** GET /orders: 19 requests of 100 ms with an 80 ms F call, one of 300 ms with 250 ms; 5 ms of G each. */
function samples(): RequestSample[] {
  return Array.from({ length: 20 }, (_, i) => ({
    traceId: `t${i}`,
    durationMs: i === 7 ? 300 : 100,
    statements: new Map([
      ['f', { ms: i === 7 ? 250 : 80, calls: 1 }],
      ['g', { ms: 5, calls: 1 }],
    ]),
  }));
}

test('join (a) by hand: GET /orders p95 110 → 25.9 ms, 1.68 s of database time saved per hour', () => {
  const share = 0.95;
  const a = advice([
    { statement: F, fingerprint: 'f', service: 'shop', source: 'traces', callsPerHour: 20, meanMs: 88.5 },
  ]);
  const effect = sampledEffect(samples(), 'f', (x) => x.ms * share)!;
  const r = indexRecommendation(a, HOUR, [
    {
      figures: { service: 'shop', endpoint: 'GET /orders', requests: 20, p95Ms: 110 },
      fingerprint: 'f',
      effect,
    },
  ]);
  assert.equal(r.kind, 'index');
  assert.equal(r.key, a.id);
  assert.equal(r.id, recommendationId('index', a.id));
  assert.equal(r.id, indexRecommendation(a, HOUR, []).id, 'the same finding keeps its id');
  assert.deepEqual(r.target, {
    service: 'shop',
    endpoint: 'GET /orders',
    fingerprint: 'f',
    statement: F,
    cache: null,
    host: null,
    pool: 'main',
    table: 'orders',
  });
  // 20 calls per hour × 88.5 ms × 95% = 1,681.5 ms per hour.
  assert.ok(near(r.gain.databaseSecondsPerHour!, 1.6815));
  assert.ok(near(r.gain.timeSavedSecondsPerHour!, 1.6815));
  const e = r.gain.endpoints[0]!;
  assert.equal(e.requestsPerHour, 20);
  // 1,770 ms of F in 20 requests × 95% ÷ 20 = 84.075 ms per request; × 20 per hour = the same 1.68 s.
  assert.ok(near(e.msPerRequest, 84.075));
  assert.ok(near(r.gain.msPerRequest!, 84.075));
  assert.ok(near(e.statementShare, 1770 / 2200));
  assert.equal(e.dominant, true);
  // Sample p95 110 → 110 − 88.5 × 0.95 = 25.925 ms: the window's 110 ms scaled by 25.925 ÷ 110.
  assert.ok(near(e.expectedP95Ms, 25.925));
  assert.equal(
    r.title,
    'Index orders (customer_id): GET /orders p95 110 → 25.9 ms, 1.68 s of database time saved per hour',
  );
  assert.equal(r.gain.confidence, 'high');
  assert.equal(r.evidence.planExcerpt, a.planExcerpt);
  assert.equal(r.evidence.traceIds[0], 't7');
  assert.deepEqual(r.apply, { kind: 'sql', how: `Run ${FIX}`, change: FIX });
  assert.deepEqual(r.gain.arithmetic.slice(0, 2), [
    "plan cost 1000 → 50 with a hypothetical index (HypoPG): 1 − 50 ÷ 1000 = 95.0% of the statement's time saved",
    `${F} (traces): 20 calls per hour × 88.5 ms × 95.0% = 1.68 s of database time per hour`,
  ]);
});

test('join (a): one index serving two statements sums their time; without HypoPG 90% is an estimate', () => {
  const a = advice(
    [
      { statement: F, fingerprint: 'f', service: 'shop', source: 'traces', callsPerHour: 20, meanMs: 88.5 },
      {
        statement: `${F} LIMIT $2`,
        fingerprint: 'f2',
        service: null,
        source: 'logs',
        callsPerHour: 30,
        meanMs: 40,
      },
    ],
    false,
  );
  const r = indexRecommendation(a, HOUR, []);
  // (20 × 88.5 + 30 × 40) × 0.9 = 2,673 ms per hour.
  assert.ok(near(r.gain.databaseSecondsPerHour!, 2.673));
  assert.equal(r.gain.confidence, 'low');
  assert.deepEqual(r.gain.endpoints, []);
  // No endpoint sampled: the time per call saved stands for the request.
  assert.ok(near(r.gain.msPerRequest!, 88.5 * 0.9));
  assert.equal(r.title, 'Index orders (customer_id): 2.67 s of database time saved per hour');
});
