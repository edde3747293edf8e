/**
 * RED metrics per endpoint (rate, errors, duration) over a window, from merged per-minute DDSketch rollups.
 * Percentiles are within 1% of the exact value (DDSketch, α = 1%) and clamped to the exact min and max;
 * Apdex is computed from the same sketches (satisfied ≤ T, tolerating ≤ 4T, Apdex = (satisfied +
 * tolerating/2) / total; Apdex Technical Specification v1.1, https://www.apdex.org/), so T can change at
 * query time. A failed request counts as frustrated whatever its duration, as New Relic and Elastic APM
 * count it: its duration is subtracted using the sketch of the failed requests.
 * @module
 */
import { SPAN_KIND_NAMES } from '../model/index.ts';
import type { RollupReader, TimeWindow } from '../storage/index.ts';
import { countAtMost, type LatencySketch, quantile } from '../util/latency-sketch.ts';

/** One row of `GET /api/v1/apm/metrics/api`. Durations in ms, rates 0..1, throughput in requests/s. */
export interface EndpointMetrics {
  service: string;
  endpoint: string;
  kind: string;
  requests: number;
  throughputRps: number;
  errors: number;
  errorRate: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  apdex: number;
}

/**
 * Apdex of the values in a sketch for threshold T.
 * @param sketch - all request durations, ms.
 * @param thresholdMs - T, ms.
 * @param errors - the durations of the failed requests among them, which count as frustrated.
 * @returns 0..1, or 1 for an empty sketch.
 */
export function apdexOfSketch(sketch: LatencySketch, thresholdMs: number, errors?: LatencySketch): number {
  if (sketch.count === 0) return 1;
  let satisfied = countAtMost(sketch, thresholdMs);
  let tolerating = countAtMost(sketch, 4 * thresholdMs) - satisfied;
  if (errors && errors.count > 0) {
    const failedSatisfied = countAtMost(errors, thresholdMs);
    satisfied -= failedSatisfied;
    tolerating -= countAtMost(errors, 4 * thresholdMs) - failedSatisfied;
  }
  return Math.max(0, satisfied + tolerating / 2) / sketch.count;
}

/** A quantile of a sketch clamped to the exact extremes (a sketch bucket may lie up to 1% outside them). */
export function clampedQuantile(sketch: LatencySketch, q: number, minMs: number, maxMs: number): number {
  const v = quantile(sketch, q);
  return v > maxMs ? maxMs : v < minMs ? minMs : v;
}

/** Options of {@link endpointMetrics}. */
export interface EndpointMetricsOptions {
  window: TimeWindow;
  service?: string | undefined;
  /** Only this span kind (`server`, `client`, …). */
  kind?: string | undefined;
  /** Apdex T, ms. */
  apdexThresholdMs: number;
}

/** RED metrics of every endpoint in the window, busiest first. */
export async function endpointMetrics(
  reader: RollupReader,
  o: EndpointMetricsOptions,
): Promise<EndpointMetrics[]> {
  const aggregates = await reader.endpointAggregates({ window: o.window, service: o.service });
  const seconds = Number(o.window.toNs - o.window.fromNs) / 1e9;
  const rows: EndpointMetrics[] = [];
  for (const a of aggregates) {
    const kind = SPAN_KIND_NAMES[a.kind] ?? 'unspecified';
    if (o.kind !== undefined && kind !== o.kind) continue;
    rows.push({
      service: a.service,
      endpoint: a.endpoint,
      kind,
      requests: a.requests,
      throughputRps: seconds > 0 ? a.requests / seconds : 0,
      errors: a.errors,
      errorRate: a.requests > 0 ? a.errors / a.requests : 0,
      meanMs: a.requests > 0 ? a.sumMs / a.requests : 0,
      p50Ms: clampedQuantile(a.sketch, 0.5, a.minMs, a.maxMs),
      p90Ms: clampedQuantile(a.sketch, 0.9, a.minMs, a.maxMs),
      p95Ms: clampedQuantile(a.sketch, 0.95, a.minMs, a.maxMs),
      p99Ms: clampedQuantile(a.sketch, 0.99, a.minMs, a.maxMs),
      minMs: a.minMs,
      maxMs: a.maxMs,
      apdex: apdexOfSketch(a.sketch, o.apdexThresholdMs, a.errorSketch),
    });
  }
  rows.sort((x, y) => y.requests - x.requests || x.endpoint.localeCompare(y.endpoint));
  return rows;
}
