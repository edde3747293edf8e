/**
 * RED metrics over time: per service (or per endpoint) the window's totals and, per time step, requests,
 * errors, throughput and p50/p95/p99 — what the dashboard draws. Built from the same per-minute rollups as
 * {@link endpointMetrics} (DDSketch, α = 1%, merged per step and per group [1]), so a group's totals equal
 * what `metrics/api` answers for its endpoints together.
 *
 * [1] C. Masson, J. E. Rim, H. K. Lee. DDSketch: a fast and fully-mergeable quantile sketch with
 *     relative-error guarantees. VLDB 2019. https://arxiv.org/abs/1908.10693
 * @module
 */
import { SPAN_KIND_NAMES, SpanKind } from '../model/index.ts';
import type { RollupReader, TimeWindow } from '../storage/index.ts';
import { type LatencySketch, newSketch } from '../util/latency-sketch.ts';
import { apdexOfSketch, clampedQuantile } from './red-metrics.ts';

const MINUTE_NS = 60_000_000_000n;

/** One time step of a group. Durations in ms; `null` where the step had no request. */
export interface SeriesPoint {
  /** Start of the step, ISO-8601. */
  time: string;
  requests: number;
  errors: number;
  throughputRps: number;
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** A service (or one endpoint of it) over the window. */
export interface SeriesGroup {
  service: string;
  /** The endpoint, or `null` when grouped by service. */
  endpoint: string | null;
  requests: number;
  throughputRps: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  apdex: number;
  points: SeriesPoint[];
}

/** Options of {@link endpointSeries}. */
export interface EndpointSeriesOptions {
  window: TimeWindow;
  service?: string | undefined;
  endpoint?: string | undefined;
  /** Span kind counted (default `server`: the requests a service answers). */
  kind?: string | undefined;
  groupBy: 'service' | 'endpoint';
  /** Most steps; the step is the window over this, rounded up to whole minutes (rollups are per minute). */
  maxPoints: number;
  apdexThresholdMs: number;
}

/** Steps a series may take, minutes: epoch-aligned, and each a multiple of the rollup tiers below it. */
const NICE_STEPS_MIN = [1, 2, 5, 10, 20, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080] as const;

/** The step of a window: the smallest nice step (1, 2, 5, 10 … minutes) giving at most `maxPoints` steps. ns. */
export function seriesStepNs(window: TimeWindow, maxPoints: number): bigint {
  const span = window.toNs - window.fromNs;
  for (const m of NICE_STEPS_MIN) {
    const step = BigInt(m) * MINUTE_NS;
    if ((span + step - 1n) / step <= BigInt(maxPoints)) return step;
  }
  return BigInt(NICE_STEPS_MIN[NICE_STEPS_MIN.length - 1]!) * MINUTE_NS;
}

/**
 * Per group, the window's RED metrics and their steps, busiest group first.
 * @returns the step (ns) and the groups; a step without requests has zero counts and `null` latencies.
 */
export async function endpointSeries(
  reader: RollupReader,
  o: EndpointSeriesOptions,
): Promise<{ stepNs: bigint; groups: SeriesGroup[] }> {
  const stepNs = seriesStepNs(o.window, o.maxPoints);
  // Steps are aligned on multiples of the step (as Prometheus aligns query_range); the first and last may
  // reach outside the window. The totals are those of the window itself, as metrics/api answers them.
  const firstNs = o.window.fromNs - (((o.window.fromNs % stepNs) + stepNs) % stepNs);
  const steps = Number((o.window.toNs - firstNs + stepNs - 1n) / stepNs);
  const kindIndex = SPAN_KIND_NAMES.indexOf((o.kind ?? 'server') as (typeof SPAN_KIND_NAMES)[number]);
  const kind = (kindIndex < 0 ? SpanKind.SERVER : kindIndex) as SpanKind;
  const [rows, totals] = await Promise.all([
    reader.endpointAggregateSeries({
      window: { fromNs: firstNs, toNs: firstNs + BigInt(steps) * stepNs },
      service: o.service,
      endpoint: o.endpoint,
      kind,
      stepNs,
    }),
    reader.endpointAggregates({ window: o.window, service: o.service }),
  ]);
  const keyOf = (service: string, endpoint: string) =>
    `${service}\u0000${o.groupBy === 'endpoint' ? endpoint : ''}`;
  interface Step {
    requests: number;
    errors: number;
    minMs: number;
    maxMs: number;
    sketch: LatencySketch;
  }
  interface Acc {
    service: string;
    endpoint: string | null;
    total: Step & { errorSketch: LatencySketch };
    steps: Map<number, Step>;
  }
  const empty = (): Step => ({
    requests: 0,
    errors: 0,
    minMs: Number.POSITIVE_INFINITY,
    maxMs: 0,
    sketch: newSketch(),
  });
  const add = (
    s: Step,
    r: { requests: number; errors: number; minMs: number; maxMs: number; sketch: LatencySketch },
  ) => {
    s.requests += r.requests;
    s.errors += r.errors;
    s.minMs = Math.min(s.minMs, r.minMs);
    s.maxMs = Math.max(s.maxMs, r.maxMs);
    s.sketch.merge(r.sketch);
  };
  const groups = new Map<string, Acc>();
  const groupOf = (service: string, endpoint: string): Acc => {
    const key = keyOf(service, endpoint);
    let g = groups.get(key);
    if (!g) {
      g = {
        service,
        endpoint: o.groupBy === 'endpoint' ? endpoint : null,
        total: { ...empty(), errorSketch: newSketch() },
        steps: new Map(),
      };
      groups.set(key, g);
    }
    return g;
  };
  for (const t of totals) {
    if (t.kind !== kind || (o.endpoint !== undefined && t.endpoint !== o.endpoint)) continue;
    const g = groupOf(t.service, t.endpoint);
    add(g.total, t);
    g.total.errorSketch.merge(t.errorSketch);
  }
  for (const r of rows) {
    const g = groupOf(r.service, r.endpoint);
    const i = Number((r.stepStartNs - firstNs) / stepNs);
    let s = g.steps.get(i);
    if (!s) {
      s = empty();
      g.steps.set(i, s);
    }
    add(s, r);
  }
  const windowSeconds = Number(o.window.toNs - o.window.fromNs) / 1e9;
  const stepSeconds = Number(stepNs) / 1e9;
  const out: SeriesGroup[] = [];
  for (const g of groups.values()) {
    const points: SeriesPoint[] = [];
    for (let i = 0; i < steps; i++) {
      const s = g.steps.get(i);
      const time = new Date(Number((firstNs + BigInt(i) * stepNs) / 1_000_000n)).toISOString();
      if (!s || s.requests === 0) {
        points.push({
          time,
          requests: 0,
          errors: 0,
          throughputRps: 0,
          errorRate: null,
          p50Ms: null,
          p95Ms: null,
          p99Ms: null,
        });
        continue;
      }
      points.push({
        time,
        requests: s.requests,
        errors: s.errors,
        throughputRps: s.requests / stepSeconds,
        errorRate: s.errors / s.requests,
        p50Ms: clampedQuantile(s.sketch, 0.5, s.minMs, s.maxMs),
        p95Ms: clampedQuantile(s.sketch, 0.95, s.minMs, s.maxMs),
        p99Ms: clampedQuantile(s.sketch, 0.99, s.minMs, s.maxMs),
      });
    }
    const t = g.total;
    const any = t.requests > 0;
    out.push({
      service: g.service,
      endpoint: g.endpoint,
      requests: t.requests,
      throughputRps: windowSeconds > 0 ? t.requests / windowSeconds : 0,
      errors: t.errors,
      errorRate: any ? t.errors / t.requests : 0,
      p50Ms: any ? clampedQuantile(t.sketch, 0.5, t.minMs, t.maxMs) : 0,
      p95Ms: any ? clampedQuantile(t.sketch, 0.95, t.minMs, t.maxMs) : 0,
      p99Ms: any ? clampedQuantile(t.sketch, 0.99, t.minMs, t.maxMs) : 0,
      apdex: apdexOfSketch(t.sketch, o.apdexThresholdMs, t.errorSketch),
      points,
    });
  }
  out.sort((a, b) => b.requests - a.requests || a.service.localeCompare(b.service));
  return { stepNs, groups: out };
}
