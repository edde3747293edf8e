/**
 * Cache advice from a cache's figures: size changes read off its miss-ratio curve with the hit ratio they
 * would give, TTL changes from what adaptive TTL learned, and caches with a low hit ratio with the reason.
 * Each is an {@link Advice} whose expected gain is load time avoided per hour.
 *
 * One answer agrees with itself: a cache is told to grow or to shrink, never both (growing wins: a curve
 * flat below the size but rising above it is a working set just out of reach), and a low hit ratio points
 * to the size advice only when there is one.
 *
 * Gains come from observed rates. The misses per hour are the memory tier's as counted (requests − memory
 * hits, over the hours the counts cover); the LRU miss-ratio curve says only how much of that miss ratio
 * the new size removes (its miss ratio there ÷ its miss ratio now), so a cache whose policy already beats
 * LRU is not promised misses it does not have. On a tiered cache a memory-tier miss that Redis answered is
 * a Redis read, not a load: Redis keeps what the memory tier drops, so a bigger memory tier saves Redis
 * reads and leaves the loads from the source as they are. Each recommendation carries this arithmetic, line
 * by line, in `evidence.arithmetic`. Time saved is loads avoided × load p95 (p95 rather than the mean,
 * which the metrics do not carry: an upper estimate, said so in the text).
 * @module
 */
import type { Advice } from '../model/index.ts';
import type { CacheSummary } from './summary.ts';

/** Requests needed before a cache is judged. */
const MIN_REQUESTS = 100;

const pct = (r: number) => `${(100 * r).toFixed(1)}%`;
/** A count or rate as the arithmetic shows it: whole numbers from 100 up, one decimal below. */
const num = (v: number) => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10));
const hoursText = (h: number) => `${h.toFixed(2)} h`;
const bytes = (n: number) =>
  n >= 1048576
    ? `${(n / 1048576).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${Math.round(n)} bytes`;
const label = (c: CacheSummary) => (c.service ? `${c.service}/${c.name}` : c.name);

function curveAt(c: CacheSummary, factor: number): number | undefined {
  return c.missRatioCurve.find((p) => Math.abs(p.sizeFactor - factor) < 1e-6)?.hitRatio;
}

/** What growing the memory tier `factor` times would change, per hour, with the arithmetic. */
export interface GrowthGain {
  /** Memory-tier misses per hour as counted (null when the split between the tiers is unknown). */
  memoryMissesPerHour: number | null;
  /** The LRU curve's miss ratio now and at the new size. */
  curveMissRatioNow: number;
  curveMissRatioAfter: number;
  fewerMemoryMissesPerHour: number;
  /** Memory-tier misses that Redis answered and would now be memory hits (tiered; null otherwise). */
  fewerRedisReadsPerHour: number | null;
  fewerSourceLoadsPerHour: number;
  timeSavedMsPerHour: number | null;
  arithmetic: string[];
  description: string;
}

/**
 * The gain of growing a cache's memory tier from the size where its curve gives `at1` to the size where
 * it gives `to` (`factor` times), from its observed rates.
 */
export function growthGain(c: CacheSummary, factor: number, at1: number, to: number): GrowthGain {
  const h = c.periodHours;
  const requests = c.hits + c.misses;
  const m1 = 1 - at1;
  const mf = 1 - to;
  const remain = m1 > 0 ? mf / m1 : 1;
  const lines: string[] = [];
  let memoryMissesPerHour: number | null = null;
  let fewer: number;
  if (c.memoryHits !== null) {
    const memoryMisses = requests - c.memoryHits;
    memoryMissesPerHour = memoryMisses / h;
    fewer = memoryMissesPerHour * (1 - remain);
    lines.push(
      `memory-tier misses observed: ${num(requests)} requests − ${num(c.memoryHits)} memory hits = ${num(memoryMisses)} in ${hoursText(h)} = ${num(memoryMissesPerHour)} per hour`,
      `LRU curve miss ratio ${pct(m1)} at this size → ${pct(mf)} at ${factor}×: ${pct(mf)} ÷ ${pct(m1)} = ${remain.toFixed(3)} of the misses remain`,
      `${num(memoryMissesPerHour)} × (1 − ${remain.toFixed(3)}) = ${num(fewer)} fewer memory-tier misses per hour`,
    );
  } else {
    fewer = c.requestsPerHour * (to - at1);
    lines.push(
      `the split of hits between memory and Redis was not reported: from the curve over all requests, ${num(c.requestsPerHour)} requests per hour × (${pct(to)} − ${pct(at1)}) = ${num(fewer)} fewer memory-tier misses per hour`,
    );
  }
  let fewerRedis: number | null = null;
  let fewerSource: number;
  let saved: number | null = null;
  let description: string;
  if (c.backend === 'memory') {
    fewerSource = fewer;
    if (c.loads > 0) {
      saved = fewerSource * c.loadP95Ms;
      lines.push(
        `each is a load from the source: ${num(fewerSource)} × load p95 ${c.loadP95Ms.toFixed(1)} ms = ${num(saved)} ms per hour (p95, not the mean: an upper estimate)`,
      );
    } else lines.push('values come through set/PUT: no loads were timed, so the time saved is unknown');
    description =
      `${num(fewer)} fewer misses per hour (the ${num(memoryMissesPerHour ?? fewer)} observed per hour, less the ${pct(1 - remain)} of them the LRU curve removes at ${factor}× the size)` +
      (saved === null
        ? '; no loads were timed (values come through set/PUT), so the time saved is unknown.'
        : `; at the load p95 of ${c.loadP95Ms.toFixed(1)} ms that is at most ${Math.round(saved / 1000)} s of load time per hour.`);
  } else {
    // Tiered: Redis answers what the memory tier drops, so the source loads do not depend on its size.
    fewerSource = 0;
    const sourcePerHour = c.misses / h;
    if (c.remoteHits !== null) {
      const remotePerHour = c.remoteHits / h;
      fewerRedis = Math.min(fewer, remotePerHour);
      lines.push(
        `of the memory-tier misses Redis answered ${num(c.remoteHits)} (${num(remotePerHour)} per hour) and the source ${num(c.misses)} (${num(sourcePerHour)} per hour)`,
        `Redis keeps what the memory tier drops: ${num(fewerRedis)} fewer Redis reads per hour, and the loads from the source stay ${num(sourcePerHour)} per hour`,
      );
    } else {
      fewerRedis = fewer;
      lines.push(
        `Redis keeps what the memory tier drops: ${num(fewer)} fewer Redis reads per hour, and the loads from the source stay ${num(sourcePerHour)} per hour`,
      );
    }
    lines.push('the time of a Redis read is not measured, so the time saved is unknown');
    description = `${num(fewerRedis)} fewer Redis reads per hour (memory hits instead); no fewer loads from the source (${num(sourcePerHour)} per hour); the time of a Redis read is not measured.`;
  }
  return {
    memoryMissesPerHour,
    curveMissRatioNow: m1,
    curveMissRatioAfter: mf,
    fewerMemoryMissesPerHour: fewer,
    fewerRedisReadsPerHour: fewerRedis,
    fewerSourceLoadsPerHour: fewerSource,
    timeSavedMsPerHour: saved,
    arithmetic: lines,
    description,
  };
}

/** The advice for one cache (possibly none). */
export function cacheAdvice(c: CacheSummary): Advice[] {
  const out: Advice[] = [];
  const requests = c.hits + c.misses;
  if (requests < MIN_REQUESTS) return out;
  const id = label(c);
  const full = c.maxEntries !== null && c.entries >= 0.9 * c.maxEntries;
  const at1 = curveAt(c, 1);
  const bytesPerEntry = c.entries > 0 ? c.bytes / c.entries : 0;

  // Grow: the smallest of 2×, 4×, 8× that gets 80% of what 8× would add, when that is ≥ 2 points.
  let grow: Advice | undefined;
  if (at1 !== undefined && c.maxEntries !== null && full) {
    const top = curveAt(c, 8) ?? at1;
    const best = [2, 4, 8].find((f) => {
      const v = curveAt(c, f);
      return v !== undefined && v - at1 >= 0.02 && v - at1 >= 0.8 * (top - at1);
    });
    if (best !== undefined) {
      const to = curveAt(c, best)!;
      const gain = to - at1;
      const target = Math.round(best * c.maxEntries);
      const g = growthGain(c, best, at1, to);
      grow = {
        id: `cache-size:${id}`,
        area: 'cache',
        severity: gain >= 0.1 && c.backend === 'memory' ? 'warning' : 'info',
        title: `Grow cache ${id} from ${c.maxEntries} to ${target} entries: the miss-ratio curve gives ${pct(at1)} → ${pct(to)} (hit ratio now ${pct(c.hitRatio)})`,
        evidence: {
          hitRatio: c.hitRatio,
          periodHours: c.periodHours,
          requestsPerHour: c.requestsPerHour,
          hits: c.hits,
          misses: c.misses,
          memoryHits: c.memoryHits,
          remoteHits: c.remoteHits,
          entries: c.entries,
          maxEntries: c.maxEntries,
          missRatioCurve: c.missRatioCurve,
          loadP95Ms: c.loadP95Ms,
          memoryMissesPerHour: g.memoryMissesPerHour,
          curveMissRatioNow: g.curveMissRatioNow,
          curveMissRatioAfter: g.curveMissRatioAfter,
          fewerMemoryMissesPerHour: g.fewerMemoryMissesPerHour,
          fewerRedisReadsPerHour: g.fewerRedisReadsPerHour,
          fewerSourceLoadsPerHour: g.fewerSourceLoadsPerHour,
          arithmetic: g.arithmetic,
        },
        action: `Raise maxEntries to ${target}: about ${bytes((target - c.maxEntries) * bytesPerEntry)} more memory at ${Math.round(bytesPerEntry)} bytes per entry.`,
        change: `maxEntries: ${target}`,
        expectedGain: { timeSavedMsPerHour: g.timeSavedMsPerHour, description: g.description },
      };
      out.push(grow);
    }
  }

  // Shrink: half the size loses under half a point — unless the curve says to grow.
  const at05 = curveAt(c, 0.5);
  if (
    !grow &&
    at1 !== undefined &&
    at05 !== undefined &&
    c.maxEntries !== null &&
    full &&
    at1 - at05 < 0.005
  ) {
    out.push({
      id: `cache-shrink:${id}`,
      area: 'cache',
      severity: 'info',
      title: `Cache ${id} could be half its size for ${pct(Math.max(0, at1 - at05))} less hit ratio`,
      evidence: {
        hitRatio: c.hitRatio,
        maxEntries: c.maxEntries,
        bytes: c.bytes,
        missRatioCurve: c.missRatioCurve,
      },
      action: `Lower maxEntries to ${Math.round(c.maxEntries / 2)} and free about ${bytes(c.bytes / 2)}.`,
      change: `maxEntries: ${Math.round(c.maxEntries / 2)}`,
      expectedGain: {
        timeSavedMsPerHour: 0,
        description: `saves about ${bytes(c.bytes / 2)} of memory`,
      },
    });
  }

  // TTL: groups whose learned TTL is far from the configured default.
  const shorterTtl: string[] = [];
  for (const g of c.groups) {
    const learned = g.adaptive;
    if (!learned || learned.changesPerHour === null || c.defaultTtlMs === null || c.defaultTtlMs === 0)
      continue;
    const ratio = learned.ttlMs / c.defaultTtlMs;
    if (ratio > 0.5 && ratio < 2) continue;
    const ttlId = `cache-ttl:${id}:${g.name}`;
    if (ratio < 0.5) shorterTtl.push(ttlId);
    out.push({
      id: ttlId,
      area: 'cache',
      severity: ratio < 0.5 ? 'warning' : 'info',
      title: `Key group ${g.name} of cache ${id}: TTL ${c.defaultTtlMs} ms → ${learned.ttlMs} ms`,
      evidence: {
        changesPerHour: learned.changesPerHour,
        expectedStaleness: learned.expectedStaleness,
        observations: learned.observations,
        hitRatio: g.hitRatio,
      },
      action:
        ratio < 0.5
          ? `The source changes about ${learned.changesPerHour.toFixed(1)} times an hour: at ${c.defaultTtlMs} ms too many reads are stale; use ${learned.ttlMs} ms.`
          : `The source changes about ${learned.changesPerHour.toFixed(2)} times an hour: ${learned.ttlMs} ms keeps stale reads under the target and saves reloads.`,
      change: `ttlMs for keys of ${g.name}: ${learned.ttlMs}`,
      expectedGain: {
        timeSavedMsPerHour: null,
        description: `expected stale reads ${learned.expectedStaleness === null ? 'unknown' : pct(learned.expectedStaleness)}`,
      },
    });
  }

  // A low hit ratio, and why — pointing only at advice this answer gives (never "grow" beside "shrink",
  // nor "lengthen the TTL" beside a learned TTL that is shorter).
  if (c.hitRatio < 0.5) {
    const ceiling = curveAt(c, 8);
    let why: string;
    let action: string;
    if (c.expirations > c.evictions && c.expirations > 0.2 * c.misses) {
      why = `entries expire before they are read again (${c.expirations} expirations against ${c.evictions} evictions)`;
      action =
        shorterTtl.length > 0
          ? `A longer TTL would serve stale values: the source changes faster than keys are read again (see ${shorterTtl.join(', ')}), so caching this data gains little.`
          : 'Lengthen the TTL, or enable adaptiveTtl so it follows how often the source really changes.';
    } else if (grow) {
      why = `the cache is too small for its working set${ceiling !== undefined && ceiling < 0.5 ? ` (even 8× the size would reach only ${pct(ceiling)})` : ''}`;
      action = `See ${grow.id}: ${grow.change}.`;
    } else if (ceiling !== undefined && ceiling < 0.5) {
      why = `keys are rarely read twice: even 8× the size would reach only ${pct(ceiling)}`;
      action = 'Cache at a coarser key (the shared part of the result), or stop caching this data.';
    } else if (ceiling === undefined) {
      why = `there is no miss-ratio curve to tell whether size is the cause (${c.backend === 'redis' ? 'the redis backend has no memory tier' : 'the curve is off'})`;
      action = 'Look at the key design and the TTL: are keys read again, and before they expire?';
    } else if (!full) {
      why = `the cache is not full (${c.entries} of ${c.maxEntries ?? '?'} entries): its misses are first reads of keys, not evictions`;
      action = 'Nothing to resize: the hit ratio rises as keys are read again, if they are.';
    } else {
      why = `size is not the cause: the miss-ratio curve gives ${pct(at1 ?? 0)} at this size and ${pct(ceiling)} at 8×`;
      action =
        'Look at invalidations and the key design: keys are dropped or changed before they are read again.';
    }
    out.push({
      id: `cache-low-hit-ratio:${id}`,
      area: 'cache',
      severity: 'warning',
      title: `Cache ${id} hits only ${pct(c.hitRatio)} of ${requests} requests: ${why}`,
      evidence: {
        hits: c.hits,
        misses: c.misses,
        evictions: c.evictions,
        expirations: c.expirations,
        missRatioCurve: c.missRatioCurve,
      },
      action,
      change: null,
      expectedGain: { timeSavedMsPerHour: null, description: why },
    });
  }

  // Loader failures: stale-while-revalidate would hide them.
  if (c.loads >= 20 && c.loadFailures / c.loads > 0.05) {
    out.push({
      id: `cache-load-failures:${id}`,
      area: 'cache',
      severity: 'warning',
      title: `${pct(c.loadFailures / c.loads)} of the loads of cache ${id} fail`,
      evidence: { loads: c.loads, loadFailures: c.loadFailures },
      action: 'Set staleGraceMs so that a failing loader serves the last value while the source recovers.',
      change: 'staleGraceMs: 300000',
      expectedGain: {
        timeSavedMsPerHour: null,
        description: 'failed loads answered with the stale value instead of an error',
      },
    });
  }
  return out;
}

/** Advice for every cache, ranked by time saved per hour (unknown gains after known ones). */
export function rankCacheAdvice(caches: readonly CacheSummary[]): Advice[] {
  return caches
    .flatMap(cacheAdvice)
    .sort((a, b) => (b.expectedGain.timeSavedMsPerHour ?? -1) - (a.expectedGain.timeSavedMsPerHour ?? -1));
}
