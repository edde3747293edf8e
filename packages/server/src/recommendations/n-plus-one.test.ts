import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueryFinding, QueryMetrics } from '../apm/index.ts';
import type { CacheSummary } from '../cache/index.ts';
import { batchedStatement, queryAdvice, queryRecommendation, sizeFromCurve } from './n-plus-one.ts';

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
/** 15 minutes. */
const W = { fromMs: Date.UTC(2026, 0, 1, 10), toMs: Date.UTC(2026, 0, 1, 10, 15) };
const ITEM = 'SELECT * FROM items WHERE id = $1';

/** 100 requests of GET /customers/:id/orders, each 6 serial 2 ms item lookups. */
const finding: QueryFinding = {
  type: 'n_plus_one',
  endpointService: 'shop',
  endpoint: 'GET /customers/:id/orders',
  service: 'shop',
  statement: ITEM,
  system: 'postgresql',
  fingerprint: 'fp1',
  traces: 100,
  callsPerRequest: 6,
  timePerRequestMs: 12,
  totalTimeMs: 1200,
  savingPerRequestMs: 8,
  exampleTraceId: 'a'.repeat(32),
  fix: 'Load the rows in one query',
  evidence: { meanCallMs: 2, maxCallsInOneParent: 6 },
};
const statement = { service: 'shop', fingerprint: 'fp1', calls: 600 } as QueryMetrics;

/** An application cache of shop: 1,000 entries of 1,000 bytes, its LRU curve given. */
function cache(over: Partial<CacheSummary> = {}): CacheSummary {
  return {
    name: 'items',
    source: 'application',
    service: 'shop',
    backend: 'memory',
    policy: 'w-tinylfu',
    hits: 6000,
    misses: 4000,
    hitRatio: 0.6,
    memoryHits: 6000,
    remoteHits: 0,
    periodHours: 1,
    requestsPerHour: 10_000,
    entries: 1000,
    bytes: 1_000_000,
    maxEntries: 1000,
    evictions: 0,
    expirations: 0,
    loads: 4000,
    loadFailures: 0,
    loadP95Ms: 3,
    missRatioCurve: [
      [0.5, 0.4],
      [1, 0.6],
      [2, 0.75],
      [4, 0.8],
      [8, 0.82],
    ].map(([f, h]) => ({ sizeFactor: f!, size: f! * 1000, hitRatio: h! })),
    groups: [],
    defaultTtlMs: null,
    ...over,
  };
}

test('the batched statement: = $1 → = ANY($1); = ? → IN (?, ?, …); anything else none', () => {
  assert.equal(batchedStatement('postgresql', ITEM), 'SELECT * FROM items WHERE id = ANY($1)');
  assert.equal(batchedStatement('postgresql', 'SELECT * FROM items WHERE a = $1 AND b = $2'), null);
  assert.equal(
    batchedStatement('mysql', 'SELECT * FROM items WHERE id = ?'),
    'SELECT * FROM items WHERE id IN (?, ?, …)',
  );
  assert.equal(batchedStatement('mysql', 'SELECT * FROM items WHERE id = ? AND k = ?'), null);
  assert.equal(batchedStatement('postgresql', 'UPDATE items SET n = 1 WHERE id = $1'), null);
});

test('the size from a curve: the smallest of 1×, 2×, 4×, 8× reaching 80% of what 8× adds', () => {
  // 8× adds 22 points; 80% is 17.6: 2× adds 15 (no), 4× adds 20 (yes).
  assert.deepEqual(sizeFromCurve(cache()), { factor: 4, hitRatio: 0.8 });
  assert.equal(sizeFromCurve(cache({ missRatioCurve: [] })), undefined);
});

test('join (b) by hand: the N+1 as a batched query, and as a cache with getOrLoad sized from the curve', () => {
  const [q] = queryAdvice([finding], [statement], W, false);
  // The seed's advice, unchanged: 8 ms × (600 calls ÷ 6 = 100 requests) ÷ 0.25 h = 3,200 ms per hour.
  assert.equal(q!.advice.id, 'n-plus-one:shop/GET /customers/:id/orders:fp1');
  assert.ok(near(q!.advice.expectedGain.timeSavedMsPerHour!, 3200));
  const r = queryRecommendation(q!, W, { caches: [cache()] });
  assert.equal(r.kind, 'n-plus-one');
  assert.equal(r.apply.change, 'SELECT * FROM items WHERE id = ANY($1)');
  assert.ok(near(r.gain.msPerRequest!, 8));
  assert.ok(near(r.gain.timeSavedSecondsPerHour!, 3.2));
  assert.deepEqual(r.gain.arithmetic, [
    '6 calls per request × 2 ms = 12 ms; one batched call costs about 2 calls (4 ms): 8 ms saved per request',
    '600 calls of the statement in the window ÷ 6 per request = 100 requests; ÷ 0.25 h = 400 per hour',
    '8 ms × 400 requests per hour = 3.2 s per hour',
  ]);
  const alt = r.alternatives[0]!;
  // 600 calls ÷ 0.25 h = 2,400 per hour; 80% at 4× answered by the cache: 1,920 × 2 ms = 3.84 s per hour;
  // per request 6 × 80% × 2 ms = 9.6 ms; 3,000 more entries × 1,000 bytes.
  assert.ok(near(alt.gain.timeSavedSecondsPerHour!, 3.84));
  assert.ok(near(alt.gain.msPerRequest!, 9.6));
  assert.ok(near(alt.gain.hitRatioPoints!, 80));
  assert.equal(alt.gain.memoryBytes, 3_000_000);
  assert.equal(alt.gain.confidence, 'low');
  assert.match(alt.apply.change!, /items\.getOrLoad\(`items:\$\{id\}`/);
  assert.match(alt.apply.change!, /maxEntries: 4000/);
  // A cache of another service is not offered.
  assert.deepEqual(queryRecommendation(q!, W, { caches: [cache({ service: 'billing' })] }).alternatives, []);
});

test('join (b): a trace-counted N+1 (no statement metrics) says its requests are a floor', () => {
  const [q] = queryAdvice([{ ...finding, fingerprint: '' }], [], W, true);
  assert.equal(q!.fromCalls, false);
  // 8 ms × 100 traces ÷ 0.25 h.
  assert.ok(near(q!.advice.expectedGain.timeSavedMsPerHour!, 3200));
  assert.match(q!.advice.expectedGain.description, /a sample of the traces: more exist/);
  assert.equal(queryRecommendation(q!, W).gain.confidence, 'low');
});
