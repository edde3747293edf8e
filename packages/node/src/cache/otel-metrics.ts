/**
 * A cache's statistics as OpenTelemetry metrics, read at each collection (observable instruments), so
 * that siperf's server shows every application's caches next to its own. Names (attributes `cache.name`,
 * `cache.backend`, `cache.policy`):
 * - `siperf.cache.requests` (counter, `cache.result` = hit | miss), `siperf.cache.remote_hits` (the hits
 *   Redis answered: memory-tier misses that cost a Redis read, not a load), `siperf.cache.evictions`,
 *   `siperf.cache.expirations`, `siperf.cache.loads`, `siperf.cache.load_failures` (counters);
 * - `siperf.cache.entries`, `siperf.cache.bytes` (By), `siperf.cache.max_entries`,
 *   `siperf.cache.load.p95` (ms), `siperf.cache.hit_ratio` (1) (gauges);
 * - `siperf.cache.mrc.hit_ratio` (gauge, `cache.size_factor` = 0.25 … 8): the miss-ratio curve.
 * @module
 */
import { type BatchObservableCallback, type Meter, metrics } from '@opentelemetry/api';
import type { CacheStats } from './cache-stats.ts';

/** Something with cache statistics. */
export interface StatsSource {
  stats(): CacheStats;
}

/**
 * Registers the observable instruments of one cache on `meter` (default: the global meter of
 * `@siperf/node`; a no-op until an SDK is registered, e.g. by `init()`).
 * @returns a function that stops reporting this cache.
 */
export function exportCacheMetrics(
  cache: StatsSource,
  meter: Meter = metrics.getMeter('@siperf/node'),
): () => void {
  const requests = meter.createObservableCounter('siperf.cache.requests', { unit: '{request}' });
  const remoteHits = meter.createObservableCounter('siperf.cache.remote_hits', { unit: '{request}' });
  const evictions = meter.createObservableCounter('siperf.cache.evictions', { unit: '{entry}' });
  const expirations = meter.createObservableCounter('siperf.cache.expirations', { unit: '{entry}' });
  const loads = meter.createObservableCounter('siperf.cache.loads', { unit: '{load}' });
  const failures = meter.createObservableCounter('siperf.cache.load_failures', { unit: '{load}' });
  const entries = meter.createObservableGauge('siperf.cache.entries', { unit: '{entry}' });
  const bytes = meter.createObservableGauge('siperf.cache.bytes', { unit: 'By' });
  const maxEntries = meter.createObservableGauge('siperf.cache.max_entries', { unit: '{entry}' });
  const loadP95 = meter.createObservableGauge('siperf.cache.load.p95', { unit: 'ms' });
  const hitRatio = meter.createObservableGauge('siperf.cache.hit_ratio', { unit: '1' });
  const mrc = meter.createObservableGauge('siperf.cache.mrc.hit_ratio', { unit: '1' });
  const all = [
    requests,
    remoteHits,
    evictions,
    expirations,
    loads,
    failures,
    entries,
    bytes,
    maxEntries,
    loadP95,
    hitRatio,
    mrc,
  ];
  const callback: BatchObservableCallback = (r) => {
    const s = cache.stats();
    const a = { 'cache.name': s.name, 'cache.backend': s.backend, 'cache.policy': s.policy };
    r.observe(requests, s.hits, { ...a, 'cache.result': 'hit' });
    r.observe(requests, s.misses, { ...a, 'cache.result': 'miss' });
    r.observe(remoteHits, s.remoteHits, a);
    r.observe(evictions, s.evictions, a);
    r.observe(expirations, s.expirations, a);
    r.observe(loads, s.loads, a);
    r.observe(failures, s.loadFailures, a);
    r.observe(entries, s.entries, a);
    r.observe(bytes, s.bytes, a);
    if (s.maxEntries !== null) r.observe(maxEntries, s.maxEntries, a);
    r.observe(loadP95, s.loadP95Ms, a);
    r.observe(hitRatio, s.hitRatio, a);
    const base = s.maxEntries ?? s.entries;
    for (const p of s.missRatioCurve) {
      if (base > 0)
        r.observe(mrc, p.hitRatio, { ...a, 'cache.size_factor': Math.round((100 * p.size) / base) / 100 });
    }
  };
  meter.addBatchObservableCallback(callback, all);
  return () => meter.removeBatchObservableCallback(callback, all);
}
