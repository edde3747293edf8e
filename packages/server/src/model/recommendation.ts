/**
 * A recommendation: one finding with its evidence, the action that fixes it, and the gain expected —
 * the unit of `GET /api/v1/cache-db/optimization/recommendations` (caches here; queries and indexes join
 * it from the database advisor).
 * @module
 */

/** One piece of advice. */
export interface Recommendation {
  /** Stable id (same finding, same id), e.g. `cache-size:checkout/products`. */
  id: string;
  area: 'cache' | 'database' | 'query';
  severity: 'info' | 'warning' | 'critical';
  title: string;
  /** What was measured, with units in the field names. */
  evidence: Record<string, unknown>;
  /** What to do, in words; `change` is the exact setting or statement when there is one. */
  action: string;
  change: string | null;
  expectedGain: {
    /** Load time avoided per hour, ms (null when it cannot be estimated). */
    timeSavedMsPerHour: number | null;
    description: string;
  };
}
