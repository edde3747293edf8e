/**
 * Cache advice from a cache's figures: size changes read off its miss-ratio curve with the hit ratio they
 * would give, TTL changes from what adaptive TTL learned, and caches with a low hit ratio with the reason.
 * Each is a {@link Recommendation} whose expected gain is load time avoided per hour:
 * requests/h × Δ hit ratio × load p95 (p95 rather than the mean, which the metrics do not carry: an
 * upper estimate, said so in the text).
 * @module
 */
import type { Recommendation } from '../model/index.ts';
import type { CacheSummary } from './summary.ts';

/** Requests needed before a cache is judged. */
const MIN_REQUESTS = 100;

const pct = (r: number) => `${(100 * r).toFixed(1)}%`;
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

/** The advice for one cache (possibly none). */
export function cacheAdvice(c: CacheSummary): Recommendation[] {
  const out: Recommendation[] = [];
  const requests = c.hits + c.misses;
  if (requests < MIN_REQUESTS) return out;
  const id = label(c);
  const full = c.maxEntries !== null && c.entries >= 0.9 * c.maxEntries;
  const at1 = curveAt(c, 1);
  const bytesPerEntry = c.entries > 0 ? c.bytes / c.entries : 0;

  // Grow: the smallest of 2×, 4×, 8× that gets 80% of what 8× would add, when that is ≥ 2 points.
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
      // Gain in load time: only when loads were timed (a cache filled by set/PUT has none).
      const saved = c.loads > 0 ? c.requestsPerHour * gain * c.loadP95Ms : null;
      out.push({
        id: `cache-size:${id}`,
        area: 'cache',
        severity: gain >= 0.1 ? 'warning' : 'info',
        title: `Grow cache ${id} from ${c.maxEntries} to ${target} entries: the miss-ratio curve gives ${pct(at1)} → ${pct(to)} (hit ratio now ${pct(c.hitRatio)})`,
        evidence: {
          hitRatio: c.hitRatio,
          requestsPerHour: c.requestsPerHour,
          entries: c.entries,
          maxEntries: c.maxEntries,
          missRatioCurve: c.missRatioCurve,
          loadP95Ms: c.loadP95Ms,
        },
        action: `Raise maxEntries to ${target}: about ${bytes((target - c.maxEntries) * bytesPerEntry)} more memory at ${Math.round(bytesPerEntry)} bytes per entry.`,
        change: `maxEntries: ${target}`,
        expectedGain: {
          timeSavedMsPerHour: saved,
          description:
            `${Math.round(c.requestsPerHour * gain)} fewer misses per hour (the LRU curve gains ${pct(gain)} at ${best}× the size)` +
            (saved === null
              ? '; no loads were timed (values come through set/PUT), so the time saved is unknown.'
              : `; at the load p95 of ${c.loadP95Ms.toFixed(1)} ms that is at most ${Math.round(saved / 1000)} s of load time per hour.`),
        },
      });
    }
  }

  // Shrink: half the size loses under half a point.
  const at05 = curveAt(c, 0.5);
  if (at1 !== undefined && at05 !== undefined && c.maxEntries !== null && full && at1 - at05 < 0.005) {
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

  // A low hit ratio, and why.
  if (c.hitRatio < 0.5) {
    const ceiling = curveAt(c, 8);
    let why: string;
    let action: string;
    if (c.expirations > c.evictions && c.expirations > 0.2 * c.misses) {
      why = `entries expire before they are read again (${c.expirations} expirations against ${c.evictions} evictions)`;
      action = 'Lengthen the TTL, or enable adaptiveTtl so it follows how often the source really changes.';
    } else if (ceiling !== undefined && ceiling < 0.5) {
      why = `keys are rarely read twice: even 8× the size would reach only ${pct(ceiling)}`;
      action = 'Cache at a coarser key (the shared part of the result), or stop caching this data.';
    } else {
      why = 'the cache is too small for its working set';
      action = 'See the size recommendation for this cache.';
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

  // TTL: groups whose learned TTL is far from the configured default.
  for (const g of c.groups) {
    const learned = g.adaptive;
    if (!learned || learned.changesPerHour === null || c.defaultTtlMs === null || c.defaultTtlMs === 0)
      continue;
    const ratio = learned.ttlMs / c.defaultTtlMs;
    if (ratio > 0.5 && ratio < 2) continue;
    out.push({
      id: `cache-ttl:${id}:${g.name}`,
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
export function rankCacheAdvice(caches: readonly CacheSummary[]): Recommendation[] {
  return caches
    .flatMap(cacheAdvice)
    .sort((a, b) => (b.expectedGain.timeSavedMsPerHour ?? -1) - (a.expectedGain.timeSavedMsPerHour ?? -1));
}
