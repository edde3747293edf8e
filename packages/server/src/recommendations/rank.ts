/**
 * The order of the one list: by time saved per hour (the unit every latency, database and cache gain
 * shares), then — for recommendations whose gain is not time, such as right-sizing — by money per month,
 * then by hit-ratio points, then by severity, then by id so that equal gains keep one order.
 * @module
 */
import type { Advice, Recommendation } from '../model/index.ts';

const SEVERITY = { critical: 0, warning: 1, info: 2 } as const;

/** Descending on a nullable number: known values first, larger first. */
function desc(a: number | null, b: number | null): number {
  if (a !== null && b !== null) return b - a;
  return (a === null ? 1 : 0) - (b === null ? 1 : 0);
}

/** The list ranked by gain (a new array). */
export function rankRecommendations<T extends Recommendation>(recs: readonly T[]): T[] {
  return [...recs].sort(
    (a, b) =>
      desc(a.gain.timeSavedSecondsPerHour, b.gain.timeSavedSecondsPerHour) ||
      desc(a.gain.moneyPerMonth, b.gain.moneyPerMonth) ||
      desc(a.gain.hitRatioPoints, b.gain.hitRatioPoints) ||
      SEVERITY[a.severity] - SEVERITY[b.severity] ||
      a.id.localeCompare(b.id),
  );
}

/** The seed's order of its advice: time saved per hour (known gains first), then severity. */
export function rankAdvice(recs: readonly Advice[]): Advice[] {
  return [...recs].sort((a, b) => {
    const ga = a.expectedGain.timeSavedMsPerHour;
    const gb = b.expectedGain.timeSavedMsPerHour;
    if (ga !== null && gb !== null && ga !== gb) return gb - ga;
    if ((ga === null) !== (gb === null)) return ga === null ? 1 : -1;
    return SEVERITY[a.severity] - SEVERITY[b.severity];
  });
}
