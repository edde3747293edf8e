/**
 * A pool's figures as OpenTelemetry metrics with the semantic-convention names for connection pools
 * (`db.client.connection.*`, attribute `db.client.connection.pool.name`): `count` (with
 * `db.client.connection.state` = idle | used), `max`, `pending_requests` (gauges), `timeouts` (counter),
 * and `create_time`, `wait_time`, `use_time` (histograms, seconds).
 * @module
 */
import { type BatchObservableCallback, type Meter, metrics } from '@opentelemetry/api';
import type { PoolRecorder, PoolStats } from './pool-recorder.ts';

/** A pool with stats and a recorder. */
export interface MeasuredPool {
  readonly recorder: PoolRecorder;
  stats(): PoolStats;
}

/**
 * Reports a pool on `meter` (default: the global meter of `@siperf/node`).
 * @returns a function that stops reporting it.
 */
export function exportPoolMetrics(
  pool: MeasuredPool,
  meter: Meter = metrics.getMeter('@siperf/node'),
): () => void {
  const name = pool.stats().name;
  const attrs = { 'db.client.connection.pool.name': name };
  const count = meter.createObservableUpDownCounter('db.client.connection.count', { unit: '{connection}' });
  const max = meter.createObservableUpDownCounter('db.client.connection.max', { unit: '{connection}' });
  const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
    unit: '{request}',
  });
  const timeouts = meter.createObservableCounter('db.client.connection.timeouts', { unit: '{timeout}' });
  const histograms = {
    create: meter.createHistogram('db.client.connection.create_time', { unit: 's' }),
    wait: meter.createHistogram('db.client.connection.wait_time', { unit: 's' }),
    hold: meter.createHistogram('db.client.connection.use_time', { unit: 's' }),
  };
  const listeners = {
    create: (ms: number) => histograms.create.record(ms / 1000, attrs),
    wait: (ms: number) => histograms.wait.record(ms / 1000, attrs),
    hold: (ms: number) => histograms.hold.record(ms / 1000, attrs),
  };
  for (const k of ['create', 'wait', 'hold'] as const) pool.recorder.listeners[k].push(listeners[k]);
  const callback: BatchObservableCallback = (r) => {
    const s = pool.stats();
    r.observe(count, s.idle, { ...attrs, 'db.client.connection.state': 'idle' });
    r.observe(count, s.active, { ...attrs, 'db.client.connection.state': 'used' });
    r.observe(max, s.max, attrs);
    r.observe(pending, s.pending, attrs);
    r.observe(timeouts, s.timeouts, attrs);
  };
  const observables = [count, max, pending, timeouts];
  meter.addBatchObservableCallback(callback, observables);
  return () => {
    meter.removeBatchObservableCallback(callback, observables);
    for (const k of ['create', 'wait', 'hold'] as const) {
      const list = pool.recorder.listeners[k];
      list.splice(list.indexOf(listeners[k]), 1);
    }
  };
}
