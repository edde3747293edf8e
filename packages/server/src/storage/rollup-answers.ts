/**
 * Rollup families merged over a window (per key, or per key and step), as the `RollupReader` answers
 * them: the same mapping for every adapter, whatever tables and states hold the rows.
 * @module
 */
import type { SpanKind } from '../model/index.ts';
import type { LatencySketch } from '../util/latency-sketch.ts';
import type { DbAggregate, EndpointAggregate, EndpointSeriesQuery, EndpointStepAggregate } from './store.ts';

/**
 * One key of a rollup family merged over a window or a step. Endpoint rollups: key [service, endpoint,
 * kind], sums [requests, errors, sumMs]. Database rollups: key [service, system, database, fingerprint],
 * carried [statement], sums [calls, sumMs].
 */
export interface MergedRollup {
  key: (string | number)[];
  carried: string[];
  sums: number[];
  minMs: number;
  maxMs: number;
  sketch: LatencySketch;
  errorSketch: LatencySketch;
  /** Start of the first minute with data in the window or step. */
  firstBucketNs: bigint;
}

/** An endpoint rollup merged over the window, as `endpointAggregates` answers it. */
export function endpointAggregateOf(r: MergedRollup): EndpointAggregate {
  return {
    service: String(r.key[0]),
    endpoint: String(r.key[1]),
    kind: r.key[2] as SpanKind,
    requests: r.sums[0]!,
    errors: r.sums[1]!,
    sumMs: r.sums[2]!,
    minMs: r.minMs,
    maxMs: r.maxMs,
    sketch: r.sketch,
    errorSketch: r.errorSketch,
  };
}

/** A database rollup merged over the window, as `dbAggregates` answers it. */
export function dbAggregateOf(r: MergedRollup): DbAggregate {
  return {
    service: String(r.key[0]),
    system: String(r.key[1]),
    database: String(r.key[2]),
    fingerprint: String(r.key[3]),
    statement: r.carried[0] ?? '',
    calls: r.sums[0]!,
    sumMs: r.sums[1]!,
    minMs: r.minMs,
    maxMs: r.maxMs,
    sketch: r.sketch,
  };
}

/**
 * Endpoint rollups merged per step, as `endpointAggregateSeries` answers them: those of the query's
 * endpoint and kind (when given), each at the start of its step, in step order.
 */
export function endpointSteps(
  rows: readonly MergedRollup[],
  q: EndpointSeriesQuery,
): EndpointStepAggregate[] {
  const out: EndpointStepAggregate[] = [];
  for (const r of rows) {
    if (q.endpoint !== undefined && r.key[1] !== q.endpoint) continue;
    if (q.kind !== undefined && r.key[2] !== q.kind) continue;
    out.push({ ...endpointAggregateOf(r), stepStartNs: (r.firstBucketNs / q.stepNs) * q.stepNs });
  }
  out.sort((a, b) => (a.stepStartNs < b.stepStartNs ? -1 : a.stepStartNs > b.stepStartNs ? 1 : 0));
  return out;
}
