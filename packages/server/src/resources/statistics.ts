/**
 * Summary statistics of a resource series over a window: mean, min, max, p50/p95/p99 (type 7) and the
 * trend as an ordinary-least-squares slope per hour, with the span of the samples it was fitted on (a
 * slope per hour from one minute of data is an extrapolation, and says so).
 * @module
 */
import { linearFit, quantileSorted } from '../util/stats.ts';
import { dataSpan, overData } from './data-span.ts';
import type { Series } from './resource-series.ts';

/** Statistics of one series. Values in the series' unit; `trendPerHour` in that unit per hour. */
export interface SeriesStatistics {
  labels: Record<string, string>;
  unit: string;
  samples: number;
  from: string | null;
  to: string | null;
  /** Time from the first to the last sample, ms: the span the figures (and the trend) come from. */
  spanMs: number;
  mean: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  trendPerHour: number;
  /** How much data the trend was fitted on, in words ("fitted on 1 min of data (2 samples)"). */
  trendOver: string;
}

/** Statistics of a series; a series without points gives zeros and `null` times. */
export function seriesStatistics(s: Series): SeriesStatistics {
  const n = s.values.length;
  const sorted = [...s.values].sort((a, b) => a - b);
  const mean = n === 0 ? 0 : s.values.reduce((a, b) => a + b, 0) / n;
  const hours = s.times.map((t) => (t - (s.times[0] ?? 0)) / 3_600_000);
  const span = dataSpan(s.times);
  return {
    labels: s.labels,
    unit: s.unit,
    samples: n,
    from: n === 0 ? null : new Date(s.times[0]!).toISOString(),
    to: n === 0 ? null : new Date(s.times[n - 1]!).toISOString(),
    spanMs: n === 0 ? 0 : s.times[n - 1]! - s.times[0]!,
    mean,
    min: sorted[0] ?? 0,
    max: sorted[n - 1] ?? 0,
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    trendPerHour: n < 2 ? 0 : linearFit(hours, s.values).slope,
    trendOver:
      n < 2 || span === undefined || span.toMs === span.fromMs
        ? `no trend: ${overData(span)}`
        : `fitted ${overData(span)}${span.toMs - span.fromMs < 3_600_000 ? ', extrapolated to an hour' : ''}`,
  };
}
