/**
 * Join (c): a cache too small for its working set (its miss-ratio curve rises above its size,
 * `cache/advice.ts`) → the memory the bigger size costs, against the database (loader) time it saves.
 *
 * Arithmetic: the cache advice's own lines (fewer misses per hour from the observed memory-tier misses and
 * the LRU curve; loads avoided × load p95), then the memory — (entries after − entries now) × bytes per
 * entry — its price per month at the configured memory price (GiB-hours × 730), and the ratio: seconds of
 * database time saved per hour per MiB of memory.
 *
 * The other cache advice (shrink, TTL, low hit ratio, loader failures) becomes a recommendation as it is,
 * with its cache as the target and, for a shrink, the memory it frees.
 * @module
 */
import type { CacheSummary } from '../cache/index.ts';
import type { Advice } from '../model/index.ts';
import type { PriceTable } from '../resources/index.ts';
import { type Draft, figure, fromAdvice, type WindowMs } from './shape.ts';

const HOURS_PER_MONTH = 730;
const GIB = 2 ** 30;
const MIB = 2 ** 20;
const r2 = figure;

/** The cache an advice is about (`cache-size:<service>/<name>` or `cache-size:<name>`). */
export function cacheOfAdvice(a: Advice, caches: readonly CacheSummary[]): CacheSummary | undefined {
  const label = a.id.split(':')[1];
  return caches.find((c) => (c.service ? `${c.service}/${c.name}` : c.name) === label);
}

/** Entries in `maxEntries: N`. */
const entriesOf = (change: string | null) => {
  const m = /maxEntries:\s*(\d+)/.exec(change ?? '');
  return m ? Number(m[1]) : undefined;
};

/**
 * A piece of cache advice as a recommendation; a size change carries its memory, the memory's price, the
 * hit-ratio points and the database time it saves.
 * @param c - the cache the advice is about (its figures).
 * @param prices - the price of a GiB-hour of memory, in `currency`.
 */
export function cacheRecommendation(
  a: Advice,
  c: CacheSummary | undefined,
  w: WindowMs,
  prices: Pick<PriceTable, 'currency' | 'memoryGibHour'>,
): Draft {
  const cacheTarget = { cache: c?.name ?? a.id.split(':')[1] ?? null, service: c?.service ?? null };
  const after = entriesOf(a.change);
  if (!c || after === undefined || c.maxEntries === null || !/^cache-(size|shrink):/.test(a.id)) {
    return fromAdvice(a, w, { target: cacheTarget });
  }
  const bytesPerEntry = c.entries > 0 ? c.bytes / c.entries : 0;
  const memoryBytes = (after - c.maxEntries) * bytesPerEntry;
  const money = -(memoryBytes / GIB) * prices.memoryGibHour * HOURS_PER_MONTH;
  const curveAt = (f: number) => c.missRatioCurve.find((p) => Math.abs(p.sizeFactor - f) < 1e-6)?.hitRatio;
  const factor = after / c.maxEntries;
  const now = curveAt(1);
  const then = curveAt(factor);
  const points = now !== undefined && then !== undefined ? 100 * (then - now) : null;
  const savedMs = a.expectedGain.timeSavedMsPerHour;
  // Loads avoided are database (loader) time; on a tiered cache the memory tier saves Redis reads only.
  const fewerLoads =
    typeof a.evidence.fewerSourceLoadsPerHour === 'number' ? a.evidence.fewerSourceLoadsPerHour : 0;
  const dbSeconds = a.id.startsWith('cache-size:') ? (fewerLoads * c.loadP95Ms) / 1000 : 0;
  const base = Array.isArray(a.evidence.arithmetic) ? (a.evidence.arithmetic as unknown[]).map(String) : [];
  const lines = [
    ...base,
    `(${after} − ${c.maxEntries}) entries × ${Math.round(bytesPerEntry)} bytes per entry (${c.bytes} bytes ÷ ${c.entries} entries) = ${r2(memoryBytes / MIB)} MiB ${memoryBytes >= 0 ? 'more' : 'less'} memory`,
    `${r2(Math.abs(memoryBytes) / GIB)} GiB × ${prices.memoryGibHour} ${prices.currency} per GiB-hour × ${HOURS_PER_MONTH} h = ${r2(Math.abs(money))} ${prices.currency} per month ${money <= 0 ? 'spent' : 'saved'}`,
  ];
  if (a.id.startsWith('cache-size:') && memoryBytes > 0) {
    lines.push(
      dbSeconds > 0
        ? `${r2(dbSeconds)} s of database time saved per hour ÷ ${r2(memoryBytes / MIB)} MiB = ${r2(dbSeconds / (memoryBytes / MIB))} s per hour per MiB`
        : 'no load from the source is avoided (a tiered cache: Redis keeps what the memory tier drops), so no database time is saved',
    );
  }
  return fromAdvice(a, w, {
    target: cacheTarget,
    evidence: {
      series: [
        {
          name: `statistics of cache ${c.name}`,
          query: `/api/v1/cache-db/caches/${encodeURIComponent(c.name)}/statistics`,
        },
      ],
    },
    gain: {
      timeSavedSecondsPerHour: savedMs === null ? null : savedMs / 1000,
      databaseSecondsPerHour: a.id.startsWith('cache-size:') ? dbSeconds : null,
      hitRatioPoints: points,
      memoryBytes,
      moneyPerMonth: money,
      currency: prices.currency,
      arithmetic: lines,
      confidence: 'medium',
      confidenceReason:
        'observed miss rates and the LRU miss-ratio curve (an estimate of the policy in use); load time at its p95, an upper estimate',
    },
  });
}
