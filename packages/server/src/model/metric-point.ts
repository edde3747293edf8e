/**
 * A metric data point as siperf stores it (from OTLP metrics: gauge, sum, histogram, exponential histogram).
 * @module
 */
import type { Attributes } from './span.ts';

/** The OTLP metric data types siperf stores. */
export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

/** One data point. `timeUnixNano` in ns since the epoch. */
export interface MetricPoint {
  name: string;
  service: string;
  unit: string;
  type: MetricType;
  /** `true` for a monotonic sum (a counter). */
  monotonic: boolean;
  /** 1 delta, 2 cumulative, 0 unspecified (OTLP `AggregationTemporality`). */
  temporality: number;
  timeUnixNano: bigint;
  startTimeUnixNano: bigint;
  /** Gauge/sum value; for histograms the sum divided by count (the mean), or NaN with no count. */
  value: number;
  /** Histogram count and sum (0 for gauges and sums). */
  count: number;
  sum: number;
  min: number | undefined;
  max: number | undefined;
  /** Explicit histogram bounds and counts, or exponential histogram `{ scale, zeroCount, positive, negative }`. */
  buckets: unknown;
  attributes: Attributes;
  resourceAttributes: Attributes;
}

/** Fields of {@link scalarPoint}. */
export interface ScalarPointInit {
  name: string;
  service: string;
  unit: string;
  /** `gauge`, or `sum` for a monotonic cumulative counter. */
  type: 'gauge' | 'sum';
  value: number;
  timeUnixNano: bigint;
  /** Start of a cumulative sum; default `timeUnixNano`. */
  startTimeUnixNano?: bigint;
  attributes?: Attributes;
  resourceAttributes: Attributes;
}

/**
 * A gauge or monotonic cumulative sum point (no histogram fields), as the host sampler, the
 * node_exporter scrape and CSV imports write them.
 */
export function scalarPoint(p: ScalarPointInit): MetricPoint {
  const sum = p.type === 'sum';
  return {
    name: p.name,
    service: p.service,
    unit: p.unit,
    type: p.type,
    monotonic: sum,
    temporality: sum ? 2 : 0,
    timeUnixNano: p.timeUnixNano,
    startTimeUnixNano: p.startTimeUnixNano ?? p.timeUnixNano,
    value: p.value,
    count: 0,
    sum: 0,
    min: undefined,
    max: undefined,
    buckets: undefined,
    attributes: p.attributes ?? {},
    resourceAttributes: p.resourceAttributes,
  };
}
