import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CacheSummary, cacheAdvice } from '../cache/index.ts';
import { cacheOfAdvice, cacheRecommendation } from './cache-join.ts';

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const W = { fromMs: Date.UTC(2026, 0, 1, 10), toMs: Date.UTC(2026, 0, 1, 12) };
const PRICES = { currency: 'USD', memoryGibHour: 0.0029 };

/**
 * The cache of the cache-advice test: 1,000 entries of 512 bytes, full; 10,000 requests in 2 h, 7,000 hits;
 * the LRU curve 60% at its size, 90% at 2×; 3,000 loads, p95 20 ms.
 */
function products(over: Partial<CacheSummary> = {}): CacheSummary {
  return {
    name: 'products',
    source: 'application',
    service: 'catalog',
    backend: 'memory',
    policy: 'w-tinylfu',
    hits: 7000,
    misses: 3000,
    hitRatio: 0.7,
    memoryHits: 7000,
    remoteHits: 0,
    periodHours: 2,
    requestsPerHour: 5000,
    entries: 1000,
    bytes: 1000 * 512,
    maxEntries: 1000,
    evictions: 0,
    expirations: 0,
    loads: 3000,
    loadFailures: 0,
    loadP95Ms: 20,
    missRatioCurve: [
      [0.25, 0.4],
      [0.5, 0.598],
      [1, 0.6],
      [2, 0.9],
      [4, 0.92],
      [8, 0.92],
    ].map(([f, h]) => ({ sizeFactor: f!, size: f! * 1000, hitRatio: h! })),
    groups: [],
    defaultTtlMs: null,
    ...over,
  };
}

test('join (c) by hand: 0.488 MiB more memory against 22.5 s of database time per hour', () => {
  const c = products();
  const [grow] = cacheAdvice(c);
  assert.equal(grow!.change, 'maxEntries: 2000');
  assert.equal(cacheOfAdvice(grow!, [c]), c);
  const r = cacheRecommendation(grow!, c, W, PRICES);
  assert.equal(r.kind, 'cache-size');
  assert.equal(r.key, 'cache-size:catalog/products');
  assert.deepEqual([r.target.cache, r.target.service], ['products', 'catalog']);
  // 1,125 fewer loads per hour (the cache advice's arithmetic) × 20 ms = 22.5 s per hour.
  assert.ok(near(r.gain.databaseSecondsPerHour!, 22.5));
  assert.ok(near(r.gain.timeSavedSecondsPerHour!, 22.5));
  // 60% → 90% on the curve.
  assert.ok(near(r.gain.hitRatioPoints!, 30));
  // (2,000 − 1,000) entries × 512 bytes = 512,000 bytes; × 0.0029 USD per GiB-hour × 730 h, spent.
  assert.equal(r.gain.memoryBytes, 512_000);
  assert.ok(near(r.gain.moneyPerMonth!, -(512_000 / 2 ** 30) * 0.0029 * 730));
  assert.equal(r.gain.currency, 'USD');
  assert.deepEqual(r.gain.arithmetic.slice(-3), [
    '(2000 − 1000) entries × 512 bytes per entry (512000 bytes ÷ 1000 entries) = 0.488 MiB more memory',
    '0.000477 GiB × 0.0029 USD per GiB-hour × 730 h = 0.00101 USD per month spent',
    // 22.5 s ÷ 0.48828125 MiB.
    '22.5 s of database time saved per hour ÷ 0.488 MiB = 46.1 s per hour per MiB',
  ]);
  assert.equal(r.apply.kind, 'config');
  assert.equal(r.apply.change, 'maxEntries: 2000');
});

test('join (c): on a tiered cache a bigger memory tier saves Redis reads, no database time', () => {
  const c = products({ backend: 'tiered', memoryHits: 4000, remoteHits: 3000 });
  const grow = cacheAdvice(c).find((a) => a.id.startsWith('cache-size:'))!;
  const r = cacheRecommendation(grow, c, W, PRICES);
  assert.equal(r.gain.databaseSecondsPerHour, 0);
  assert.equal(r.gain.timeSavedSecondsPerHour, null);
  assert.match(r.gain.arithmetic.at(-1)!, /no load from the source is avoided/);
});
