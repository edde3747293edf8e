/**
 * Cache advice that agrees with itself: one direction of size per cache, misses that Redis answered
 * priced as Redis reads (never as loads from the source), and "fewer misses per hour" from the observed
 * misses with its arithmetic in the evidence. Hand-built caches for the arithmetic; a tiered cache of
 * `@siperf/node` on the real Redis, reported over OTLP by the real exporter, for the path a client takes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createCache, exportCacheMetrics } from '@siperf/node/cache';
import { cacheAdvice } from '../src/cache/index.ts';
import type { CacheSummary } from '../src/cache/summary.ts';
import { get, startTestApp } from './helpers.ts';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

/** A full memory-tier cache of 1,000 entries: the fields every case shares. */
function summary(over: Partial<CacheSummary>): CacheSummary {
  return {
    name: 'products',
    source: 'application',
    service: 'catalog',
    backend: 'memory',
    policy: 'w-tinylfu',
    hits: 0,
    misses: 0,
    hitRatio: 0,
    memoryHits: 0,
    remoteHits: 0,
    periodHours: 1,
    requestsPerHour: 0,
    entries: 1000,
    bytes: 1000 * 512,
    maxEntries: 1000,
    evictions: 0,
    expirations: 0,
    loads: 0,
    loadFailures: 0,
    loadP95Ms: 0,
    missRatioCurve: [],
    groups: [],
    defaultTtlMs: null,
    ...over,
  };
}

const curve = (points: [number, number][]) =>
  points.map(([f, h]) => ({ sizeFactor: f, size: Math.round(f * 1000), hitRatio: h }));

test('a curve flat below the size and rising above it: grow only, never grow and shrink together', () => {
  // 10,000 requests in 2 h, 7,000 hits (W-TinyLFU beats the LRU curve's 60% at this size).
  // Grow: at 2× the curve adds 30 points (≥ 80% of the 32 that 8× adds) → 2,000 entries.
  // The old shrink rule also held (½× loses 0.2 points < 0.5), which told the same cache to halve.
  // Observed misses: 3,000 in 2 h = 1,500 per hour. LRU miss ratio 40% → 10%: 10/40 = 0.25 remain,
  // 1,500 × (1 − 0.25) = 1,125 fewer misses per hour (not 5,000 × 0.30 = 1,500: every miss there is).
  // Each is a load: 1,125 × 20 ms = 22,500 ms per hour.
  const c = summary({
    hits: 7000,
    misses: 3000,
    hitRatio: 0.7,
    memoryHits: 7000,
    remoteHits: 0,
    periodHours: 2,
    requestsPerHour: 5000,
    loads: 3000,
    loadP95Ms: 20,
    missRatioCurve: curve([
      [0.25, 0.4],
      [0.5, 0.598],
      [1, 0.6],
      [2, 0.9],
      [4, 0.92],
      [8, 0.92],
    ]),
  });
  const recs = cacheAdvice(c);
  assert.deepEqual(
    recs.map((r) => r.id),
    ['cache-size:catalog/products'],
  );
  const grow = recs[0]!;
  assert.equal(grow.change, 'maxEntries: 2000');
  assert.ok(close(grow.evidence.memoryMissesPerHour as number, 1500));
  assert.ok(close(grow.evidence.fewerMemoryMissesPerHour as number, 1125));
  assert.ok(close(grow.evidence.fewerSourceLoadsPerHour as number, 1125));
  assert.equal(grow.evidence.fewerRedisReadsPerHour, null);
  assert.ok(close(grow.expectedGain.timeSavedMsPerHour!, 22_500));
  assert.deepEqual(grow.evidence.arithmetic, [
    'memory-tier misses observed: 10000 requests − 7000 memory hits = 3000 in 2.00 h = 1500 per hour',
    'LRU curve miss ratio 40.0% at this size → 10.0% at 2×: 10.0% ÷ 40.0% = 0.250 of the misses remain',
    '1500 × (1 − 0.250) = 1125 fewer memory-tier misses per hour',
    'each is a load from the source: 1125 × load p95 20.0 ms = 22500 ms per hour (p95, not the mean: an upper estimate)',
  ]);
  assert.match(grow.expectedGain.description, /^1125 fewer misses per hour/);
});

test('a flat curve: shrink, and the low hit ratio does not send the reader to a size advice', () => {
  // Full, 45% hits where the LRU curve gives 55% at every size from ½× to 8×: no grow (no 2-point gain),
  // shrink (½× loses nothing). The old low-hit-ratio text said "too small for its working set: see the
  // size recommendation" beside the advice to halve it; size is not the cause.
  const c = summary({
    hits: 450,
    misses: 550,
    hitRatio: 0.45,
    memoryHits: 450,
    evictions: 500,
    missRatioCurve: curve([
      [0.5, 0.55],
      [1, 0.55],
      [2, 0.55],
      [8, 0.55],
    ]),
  });
  const recs = cacheAdvice(c);
  assert.deepEqual(
    recs.map((r) => r.id),
    ['cache-shrink:catalog/products', 'cache-low-hit-ratio:catalog/products'],
  );
  const low = recs[1]!;
  assert.match(
    low.title,
    /hits only 45\.0% of 1000 requests: size is not the cause: the miss-ratio curve gives 55\.0% at this size and 55\.0% at 8×/,
  );
  assert.doesNotMatch(low.action, /size recommendation|cache-size|too small/);
});

test('tiered: memory-tier misses that Redis answered are Redis reads, not loads from the source', () => {
  // 3,000 requests in 1.5 h: 600 memory hits, 2,250 Redis hits, 150 misses (the loads).
  // Memory-tier misses 2,400 → 1,600 per hour. LRU miss ratio 80% → 10% at 2×: 0.125 remain,
  // 1,600 × 0.875 = 1,400 fewer memory-tier misses per hour. Redis answered 1,500 per hour, so all
  // 1,400 are Redis reads saved; the source still loads 150 / 1.5 = 100 per hour. No load time is
  // saved (the old advice said 2,000 × 0.70 × 50 ms = 70 s of load time per hour).
  const c = summary({
    backend: 'tiered',
    hits: 2850,
    misses: 150,
    hitRatio: 0.95,
    memoryHits: 600,
    remoteHits: 2250,
    periodHours: 1.5,
    requestsPerHour: 2000,
    loads: 150,
    loadP95Ms: 50,
    missRatioCurve: curve([
      [0.5, 0.2],
      [1, 0.2],
      [2, 0.9],
      [4, 0.9],
      [8, 0.9],
    ]),
  });
  const recs = cacheAdvice(c);
  assert.deepEqual(
    recs.map((r) => r.id),
    ['cache-size:catalog/products'],
  );
  const grow = recs[0]!;
  assert.ok(close(grow.evidence.memoryMissesPerHour as number, 1600));
  assert.ok(close(grow.evidence.fewerMemoryMissesPerHour as number, 1400));
  assert.ok(close(grow.evidence.fewerRedisReadsPerHour as number, 1400));
  assert.equal(grow.evidence.fewerSourceLoadsPerHour, 0);
  assert.equal(grow.expectedGain.timeSavedMsPerHour, null);
  assert.equal(grow.severity, 'info');
  assert.deepEqual(grow.evidence.arithmetic, [
    'memory-tier misses observed: 3000 requests − 600 memory hits = 2400 in 1.50 h = 1600 per hour',
    'LRU curve miss ratio 80.0% at this size → 10.0% at 2×: 10.0% ÷ 80.0% = 0.125 of the misses remain',
    '1600 × (1 − 0.125) = 1400 fewer memory-tier misses per hour',
    'of the memory-tier misses Redis answered 2250 (1500 per hour) and the source 150 (100 per hour)',
    'Redis keeps what the memory tier drops: 1400 fewer Redis reads per hour, and the loads from the source stay 100 per hour',
    'the time of a Redis read is not measured, so the time saved is unknown',
  ]);
  assert.match(
    grow.expectedGain.description,
    /^1400 fewer Redis reads per hour .* no fewer loads from the source/,
  );
});

test('a tiered cache of @siperf/node on Redis, over OTLP: the split of hits reaches the advice', async () => {
  const t = await startTestApp();
  const name = `loop-${randomBytes(4).toString('hex')}`;
  let provider: MeterProvider | undefined;
  let cache: ReturnType<typeof createCache<number>> | undefined;
  try {
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    // Created after listen(), which compiles every route's schemas (1.2 s on an idle machine): a loop blocked longer than the
    // connect timeout (2 s) while the connection opens leaves the cache without Redis.
    cache = createCache<number>(name, {
      backend: 'tiered',
      maxEntries: 100,
      policy: 'lru',
      exportMetrics: false,
      // The counts below are exact: a Redis call slowed past the default 250 ms by a busy machine would
      // open the breaker and turn Redis hits into loads.
      redisBreaker: { timeoutMs: 30_000 },
    });
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'catalog' }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
          exportIntervalMillis: 3_600_000,
        }),
      ],
    });
    const stop = exportCacheMetrics(cache, provider.getMeter('test'));
    await cache.whenReady();
    // 20 rounds over 150 keys through 100 LRU entries: memory never hits (each key is evicted before it
    // comes back); round 1 loads 150 keys, rounds 2–20 find all 2,850 in Redis.
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 150; k++) await cache.getOrLoad(`k:${k}`, () => k);
    }
    const s = cache.stats();
    assert.deepEqual(
      { hits: s.hits, misses: s.misses, loads: s.loads, memoryHits: s.memoryHits, remoteHits: s.remoteHits },
      { hits: 2850, misses: 150, loads: 150, memoryHits: 0, remoteHits: 2850 },
    );
    await provider.forceFlush();
    stop();
    const all = await get(t.app, '/api/v1/cache-db/statistics/comprehensive?window=15m');
    const item = all.json.caches.items.find((c: { name: string }) => c.name === name);
    assert.deepEqual(
      { memoryHits: item.memoryHits, remoteHits: item.remoteHits, misses: item.misses },
      { memoryHits: 0, remoteHits: 2850, misses: 150 },
    );
    // The counts span well under a minute: the rates are over the one-minute floor, 1/60 h.
    assert.ok(close(item.periodHours, 1 / 60));
    const rec = all.json.recommendations.find((r: { id: string }) => r.id === `cache-size:catalog/${name}`);
    assert.ok(rec, JSON.stringify(all.json.recommendations.map((r: { id: string }) => r.id)));
    assert.equal(rec.change, 'maxEntries: 200');
    // Memory-tier misses 3,000 × 60 = 180,000 per hour; LRU miss ratio 100% → 5% at 2× (2,850 of 3,000
    // hit at 200 entries): 180,000 × 0.95 = 171,000 fewer; Redis answered 2,850 × 60 = 171,000 per hour,
    // so 171,000 fewer Redis reads, and the 150 × 60 = 9,000 loads per hour stay.
    assert.ok(close(rec.evidence.fewerMemoryMissesPerHour, 171_000));
    assert.ok(close(rec.evidence.fewerRedisReadsPerHour, 171_000));
    assert.equal(rec.evidence.fewerSourceLoadsPerHour, 0);
    assert.equal(rec.expectedGain.timeSavedMsPerHour, null);
    assert.ok(
      rec.evidence.arithmetic.includes(
        'Redis keeps what the memory tier drops: 171000 fewer Redis reads per hour, and the loads from the source stay 9000 per hour',
      ),
      rec.evidence.arithmetic.join('\n'),
    );
    assert.equal(
      all.json.recommendations.some((r: { id: string }) => r.id === `cache-shrink:catalog/${name}`),
      false,
    );
  } finally {
    await provider?.shutdown();
    await cache?.invalidatePrefix('');
    await cache?.close();
    await t.close();
  }
});
