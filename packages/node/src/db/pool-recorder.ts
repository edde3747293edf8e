/**
 * What an instrumented pool records (the figures HikariCP reports): connections total, idle, active and
 * pending, acquire wait, hold (usage) and connection-creation times, timeouts and errors.
 * Durations in ms.
 * @module
 */
import { LatencyHistogram } from '../util/latency-histogram.ts';

/** Percentiles of one duration, ms. */
export interface DurationSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** A pool's state and history since it was made. */
export interface PoolStats {
  name: string;
  driver: 'postgresql' | 'mysql';
  /** Most connections the pool opens. */
  max: number;
  total: number;
  idle: number;
  active: number;
  /** Callers waiting for a connection. */
  pending: number;
  acquired: number;
  /** Acquisitions that gave up after `acquireTimeoutMs`. */
  timeouts: number;
  /** Connections that failed to open, and errors on open connections (idle or checked out). */
  errors: number;
  acquireWait: DurationSummary;
  hold: DurationSummary;
  create: DurationSummary;
  statementTimeoutMs: number;
  acquireTimeoutMs: number;
  /** When the pool was made (ISO-8601). */
  since: string;
  /** Acquisitions per second since then. */
  acquisitionsPerSecond: number;
}

/** Records a pool's events. */
export class PoolRecorder {
  readonly wait = new LatencyHistogram();
  readonly hold = new LatencyHistogram();
  readonly create = new LatencyHistogram();
  acquired = 0;
  timeouts = 0;
  errors = 0;
  pending = 0;
  private waitSum = 0;
  private holdSum = 0;
  private createSum = 0;
  private readonly startedMs = Date.now();
  /** Called with each duration as it is recorded (for metric exporters), ms. */
  readonly listeners: {
    wait: ((ms: number) => void)[];
    hold: ((ms: number) => void)[];
    create: ((ms: number) => void)[];
  } = {
    wait: [],
    hold: [],
    create: [],
  };

  recordWait(ms: number): void {
    for (const l of this.listeners.wait) l(ms);
    this.wait.record(ms);
    this.waitSum += ms;
    this.acquired += 1;
  }

  recordHold(ms: number): void {
    for (const l of this.listeners.hold) l(ms);
    this.hold.record(ms);
    this.holdSum += ms;
  }

  recordCreate(ms: number): void {
    for (const l of this.listeners.create) l(ms);
    this.create.record(ms);
    this.createSum += ms;
  }

  private summary(h: LatencyHistogram, sum: number): DurationSummary {
    return {
      count: h.count,
      meanMs: h.count > 0 ? sum / h.count : 0,
      p50Ms: h.quantile(0.5),
      p95Ms: h.quantile(0.95),
      maxMs: h.quantile(1),
    };
  }

  /** The stats, given the pool's live counts. */
  stats(
    live: {
      name: string;
      driver: PoolStats['driver'];
      max: number;
      total: number;
      idle: number;
      active: number;
    },
    limits: { statementTimeoutMs: number; acquireTimeoutMs: number },
  ): PoolStats {
    const seconds = Math.max(1, (Date.now() - this.startedMs) / 1000);
    return {
      ...live,
      pending: this.pending,
      acquired: this.acquired,
      timeouts: this.timeouts,
      errors: this.errors,
      acquireWait: this.summary(this.wait, this.waitSum),
      hold: this.summary(this.hold, this.holdSum),
      create: this.summary(this.create, this.createSum),
      ...limits,
      since: new Date(this.startedMs).toISOString(),
      acquisitionsPerSecond: this.acquired / seconds,
    };
  }
}
