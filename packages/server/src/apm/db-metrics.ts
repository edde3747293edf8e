/**
 * Database query metrics per fingerprint over a window, from per-minute rollups, with the endpoints
 * whose requests made the calls. A slow call is one above the slow-query threshold (counted from the
 * sketch, so within 1% of the threshold a call may fall either side).
 * @module
 */
import type { RollupReader, SpanReader, TimeWindow } from '../storage/index.ts';
import { countAtMost } from '../util/latency-sketch.ts';
import { clampedQuantile } from './red-metrics.ts';

/** One row of `GET /api/v1/apm/metrics/database`. Durations in ms. */
export interface QueryMetrics {
  service: string;
  system: string;
  database: string;
  fingerprint: string;
  /** Normalised statement (literals replaced). */
  statement: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  slowCalls: number;
  /** Endpoints whose requests issued the query (innermost enclosing SERVER span of the same trace). */
  endpoints: string[];
}

/** Options of {@link databaseMetrics}. */
export interface DatabaseMetricsOptions {
  window: TimeWindow;
  service?: string | undefined;
  slowQueryThresholdMs: number;
}

/** Metrics of every query fingerprint in the window, by total time, largest first. */
export async function databaseMetrics(
  store: RollupReader & SpanReader,
  o: DatabaseMetricsOptions,
): Promise<QueryMetrics[]> {
  const q = { window: o.window, service: o.service };
  const [aggregates, callers] = await Promise.all([store.dbAggregates(q), store.dbCallerEndpoints(q)]);
  const rows = aggregates.map((a) => ({
    service: a.service,
    system: a.system,
    database: a.database,
    fingerprint: a.fingerprint,
    statement: a.statement,
    calls: a.calls,
    totalMs: a.sumMs,
    meanMs: a.calls > 0 ? a.sumMs / a.calls : 0,
    p50Ms: clampedQuantile(a.sketch, 0.5, a.minMs, a.maxMs),
    p95Ms: clampedQuantile(a.sketch, 0.95, a.minMs, a.maxMs),
    p99Ms: clampedQuantile(a.sketch, 0.99, a.minMs, a.maxMs),
    minMs: a.minMs,
    maxMs: a.maxMs,
    slowCalls: a.calls - countAtMost(a.sketch, o.slowQueryThresholdMs),
    endpoints: callers.get(a.fingerprint) ?? [],
  }));
  rows.sort((x, y) => y.totalMs - x.totalMs);
  return rows;
}
