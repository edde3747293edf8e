/**
 * Custom metrics: thin helpers over the OpenTelemetry metrics API, exported to siperf's `/v1/metrics`
 * by {@link init}. Names follow the OpenTelemetry conventions (dot-separated, unit in `unit`, UCUM).
 * @module
 */
import { type Counter, type Gauge, type Histogram, metrics } from '@opentelemetry/api';

const METER = '@siperf/node';

/** Unit and description of a custom metric. */
export interface MetricOptions {
  /** UCUM unit: `ms`, `By`, `{order}`, `1`. */
  unit?: string;
  description?: string;
}

/** A monotonic counter (`add(n, attributes)`), e.g. `orders.placed`. */
export function counter(name: string, options: MetricOptions = {}): Counter {
  return metrics.getMeter(METER).createCounter(name, options);
}

/** A histogram (`record(value, attributes)`), e.g. `checkout.duration` in ms. */
export function histogram(name: string, options: MetricOptions = {}): Histogram {
  return metrics.getMeter(METER).createHistogram(name, options);
}

/** A gauge of the latest value (`record(value, attributes)`), e.g. `queue.depth`. */
export function gauge(name: string, options: MetricOptions = {}): Gauge {
  return metrics.getMeter(METER).createGauge(name, options);
}
