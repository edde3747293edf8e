/**
 * One shape for every cache the server knows: its own (from `@siperf/node/cache` stats) and those that
 * applications report as OTLP metrics (`siperf.cache.*`, see `@siperf/node`'s `otel-metrics.ts`).
 * @module
 */
import type { CacheStats } from '@siperf/node/cache';
import type { MetricReader, TimeWindow } from '../storage/index.ts';
import type { CacheRegistry } from './registry.ts';

/** A cache's figures over a period. Durations in ms, ratios 0..1. */
export interface CacheSummary {
  name: string;
  source: 'server' | 'application';
  /** The reporting service (application caches). */
  service: string | null;
  backend: string;
  policy: string;
  hits: number;
  /** Requests neither tier answered (a load from the source, or nothing for `get`). */
  misses: number;
  hitRatio: number;
  /**
   * Hits the memory tier answered and hits Redis answered (a memory-tier miss that cost a Redis read, not
   * a load). Null when the reporter did not say: a tiered cache of an SDK without `siperf.cache.remote_hits`.
   */
  memoryHits: number | null;
  remoteHits: number | null;
  /** Hours the counts cover; every "per hour" figure is a count ÷ this. */
  periodHours: number;
  /** Requests per hour over the period the counts cover. */
  requestsPerHour: number;
  entries: number;
  bytes: number;
  maxEntries: number | null;
  evictions: number;
  expirations: number;
  loads: number;
  loadFailures: number;
  loadP95Ms: number;
  /** Estimated LRU hit ratio at multiples of the size. */
  missRatioCurve: { sizeFactor: number; size: number; hitRatio: number }[];
  /** Per key group (server caches): the TTL in use and what adaptive TTL learned. */
  groups: CacheStats['groups'];
  defaultTtlMs: number | null;
}

/** A server cache's summary from its stats, `ageMs` after it was created. */
export function fromStats(s: CacheStats, ageMs: number, defaultTtlMs: number): CacheSummary {
  const base = s.maxEntries ?? s.entries;
  // Over at least an hour: a burst in a new cache is not extrapolated to a rate.
  const periodHours = Math.max(3_600_000, ageMs) / 3_600_000;
  return {
    name: s.name,
    source: 'server',
    service: null,
    backend: s.backend,
    policy: s.policy,
    hits: s.hits,
    misses: s.misses,
    hitRatio: s.hitRatio,
    memoryHits: s.memoryHits,
    remoteHits: s.remoteHits,
    periodHours,
    requestsPerHour: (s.hits + s.misses) / periodHours,
    entries: s.entries,
    bytes: s.bytes,
    maxEntries: s.maxEntries,
    evictions: s.evictions,
    expirations: s.expirations,
    loads: s.loads,
    loadFailures: s.loadFailures,
    loadP95Ms: s.loadP95Ms,
    missRatioCurve: s.missRatioCurve.map((p) => ({
      sizeFactor: base > 0 ? Math.round((100 * p.size) / base) / 100 : 0,
      size: p.size,
      hitRatio: p.hitRatio,
    })),
    groups: s.groups,
    defaultTtlMs,
  };
}

const METRICS = [
  'siperf.cache.requests',
  'siperf.cache.remote_hits',
  'siperf.cache.evictions',
  'siperf.cache.expirations',
  'siperf.cache.loads',
  'siperf.cache.load_failures',
  'siperf.cache.entries',
  'siperf.cache.bytes',
  'siperf.cache.max_entries',
  'siperf.cache.load.p95',
  'siperf.cache.mrc.hit_ratio',
] as const;

/**
 * The caches applications reported in the window. Counters are cumulative: when the series started in
 * the window its last value is the window's count; otherwise the last value minus the first (the last
 * alone after a restart). Gauges are the last value. The counts cover the time the request counters span
 * — from the series' start (or first point) to its last point, at least a minute — and the rates per hour
 * are over that span, not over the whole window.
 */
export async function applicationCaches(store: MetricReader, window: TimeWindow): Promise<CacheSummary[]> {
  type Acc = {
    first: Map<string, number>;
    last: Map<string, number>;
    /** Whether the cumulative series started inside the window (then its last value is the window's count). */
    startedInside: Map<string, boolean>;
    /** Per series: the start of what its count covers, and its last point, ns. */
    fromNs: Map<string, bigint>;
    toNs: Map<string, bigint>;
    attrs: Record<string, unknown>;
  };
  const caches = new Map<string, Acc>();
  for (const name of METRICS) {
    const points = await store.metricPoints({ name, window, limit: 200_000 });
    for (const p of points) {
      const cacheName = p.attributes['cache.name'];
      if (typeof cacheName !== 'string') continue;
      const key = `${p.service}\u0000${cacheName}`;
      let acc = caches.get(key);
      if (!acc) {
        acc = {
          first: new Map(),
          last: new Map(),
          startedInside: new Map(),
          fromNs: new Map(),
          toNs: new Map(),
          attrs: { ...p.attributes, service: p.service },
        };
        caches.set(key, acc);
      }
      const sub = p.attributes['cache.result'] ?? p.attributes['cache.size_factor'] ?? '';
      const k = `${name}|${String(sub)}`;
      if (!acc.first.has(k)) {
        const inside = p.startTimeUnixNano >= window.fromNs;
        acc.first.set(k, p.value);
        acc.startedInside.set(k, inside);
        acc.fromNs.set(k, inside ? p.startTimeUnixNano : p.timeUnixNano);
      }
      acc.last.set(k, p.value);
      acc.toNs.set(k, p.timeUnixNano);
    }
  }
  return [...caches.values()].map((acc) => {
    const delta = (k: string) => {
      const a = acc.first.get(k) ?? 0;
      const b = acc.last.get(k) ?? 0;
      return b >= a ? b - a : b;
    };
    const last = (k: string) => acc.last.get(k) ?? 0;
    // A single report: the cumulative value since the application started.
    const count = (k: string) => (acc.startedInside.get(k) ? last(k) : delta(k));
    const hits = count('siperf.cache.requests|hit');
    const misses = count('siperf.cache.requests|miss');
    // The span of the request counters (both results), at least a minute.
    const spans = ['siperf.cache.requests|hit', 'siperf.cache.requests|miss']
      .filter((k) => acc.toNs.has(k))
      .map((k) => Number(acc.toNs.get(k)! - acc.fromNs.get(k)!) / 3.6e12);
    const periodHours = Math.max(1 / 60, ...spans);
    const backend = String(acc.attrs['cache.backend'] ?? 'memory');
    // The split between the tiers: reported, or implied by a single-tier backend.
    const remoteHits = acc.last.has('siperf.cache.remote_hits|')
      ? count('siperf.cache.remote_hits|')
      : backend === 'memory'
        ? 0
        : backend === 'redis'
          ? hits
          : null;
    const maxEntries = acc.last.has('siperf.cache.max_entries|') ? last('siperf.cache.max_entries|') : null;
    const base = maxEntries ?? last('siperf.cache.entries|');
    const curve = [...acc.last.entries()]
      .filter(([k]) => k.startsWith('siperf.cache.mrc.hit_ratio|'))
      .map(([k, v]) => {
        const sizeFactor = Number(k.split('|')[1]);
        return { sizeFactor, size: Math.round(sizeFactor * base), hitRatio: v };
      })
      .sort((a, b) => a.sizeFactor - b.sizeFactor);
    return {
      name: String(acc.attrs['cache.name']),
      source: 'application' as const,
      service: String(acc.attrs.service),
      backend,
      policy: String(acc.attrs['cache.policy'] ?? 'w-tinylfu'),
      hits,
      misses,
      hitRatio: hits + misses > 0 ? hits / (hits + misses) : 0,
      memoryHits: remoteHits === null ? null : Math.max(0, hits - remoteHits),
      remoteHits,
      periodHours,
      requestsPerHour: (hits + misses) / periodHours,
      entries: last('siperf.cache.entries|'),
      bytes: last('siperf.cache.bytes|'),
      maxEntries,
      evictions: count('siperf.cache.evictions|'),
      expirations: count('siperf.cache.expirations|'),
      loads: count('siperf.cache.loads|'),
      loadFailures: count('siperf.cache.load_failures|'),
      loadP95Ms: last('siperf.cache.load.p95|'),
      missRatioCurve: curve,
      groups: [],
      defaultTtlMs: null,
    };
  });
}

/** The server's caches and those applications reported in the window. */
export async function cacheSummaries(
  registry: CacheRegistry,
  store: MetricReader,
  window: TimeWindow,
  nowMs: number,
): Promise<CacheSummary[]> {
  const own = registry
    .list()
    .map((c) => fromStats(c.cache.stats(), nowMs - Date.parse(c.createdAt), c.spec.defaultTtlMs));
  return [...own, ...(await applicationCaches(store, window))];
}
