/**
 * Summary statistics of a resource series over a window: mean, min, max, p50/p95/p99 (type 7) and the
 * trend as an ordinary-least-squares slope per hour.
 * @module
 */
import { linearFit, quantileSorted } from '../util/stats.ts';
import type { Series } from './resource-series.ts';

/** Statistics of one series. Values in the series' unit; `trendPerHour` in that unit per hour. */
export interface SeriesStatistics {
  labels: Record<string, string>;
  unit: string;
  samples: number;
  from: string | null;
  to: string | null;
  mean: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  trendPerHour: number;
}

/** Statistics of a series; a series without points gives zeros and `null` times. */
export function seriesStatistics(s: Series): SeriesStatistics {
  const n = s.values.length;
  const sorted = [...s.values].sort((a, b) => a - b);
  const mean = n === 0 ? 0 : s.values.reduce((a, b) => a + b, 0) / n;
  const hours = s.times.map((t) => (t - (s.times[0] ?? 0)) / 3_600_000);
  return {
    labels: s.labels,
    unit: s.unit,
    samples: n,
    from: n === 0 ? null : new Date(s.times[0]!).toISOString(),
    to: n === 0 ? null : new Date(s.times[n - 1]!).toISOString(),
    mean,
    min: sorted[0] ?? 0,
    max: sorted[n - 1] ?? 0,
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    trendPerHour: n < 2 ? 0 : linearFit(hours, s.values).slope,
  };
}
