/**
 * Pool sizing from what a pool observed, by Little's law (L = λ·W: the connections busy on average equal
 * the rate of acquisitions times the mean hold time). The recommendation covers the p95 hold time with
 * 20% headroom, and stays within the database's `max_connections` shared by every instance (keeping 10%
 * for administration and other clients). The wait share (time spent waiting for a connection against
 * time holding one) says whether callers queue today. Source: Little (1961); HikariCP's pool-sizing notes
 * for keeping pools small (connections ≈ the work the database can do at once).
 * @module
 */
import type { PoolStats } from './pool-recorder.ts';

/** The advice, with its arithmetic. */
export interface PoolSizingAdvice {
  pool: string;
  current: number;
  recommended: number;
  action: 'increase' | 'decrease' | 'keep';
  reasoning: string[];
  evidence: {
    acquisitionsPerSecond: number;
    meanHoldMs: number;
    p95HoldMs: number;
    /** λ·W with the mean hold: connections busy on average. */
    meanConcurrency: number;
    /** λ·W with the p95 hold. */
    peakConcurrency: number;
    /** Acquire wait over (wait + hold), 0..1. */
    waitShare: number;
    timeouts: number;
    dbMaxConnections: number | null;
    instances: number;
  };
}

/**
 * The sizing advice for a pool.
 * @param dbMaxConnections - the database's `max_connections`, when known.
 * @param instances - processes sharing the database with the same pool size (default 1).
 * @throws RangeError naming `instances` or `dbMaxConnections` when out of range.
 */
export function poolSizing(
  stats: PoolStats,
  dbMaxConnections: number | null = null,
  instances = 1,
): PoolSizingAdvice {
  if (!Number.isInteger(instances) || instances < 1)
    throw new RangeError(`instances: expected an integer ≥ 1, got ${instances}`);
  if (dbMaxConnections !== null && (!Number.isInteger(dbMaxConnections) || dbMaxConnections < 1)) {
    throw new RangeError(`dbMaxConnections: expected an integer ≥ 1 or null, got ${dbMaxConnections}`);
  }
  const lambda = stats.acquisitionsPerSecond;
  const meanHold = stats.hold.meanMs;
  const p95Hold = stats.hold.p95Ms;
  const meanConcurrency = (lambda * meanHold) / 1000;
  const peakConcurrency = (lambda * p95Hold) / 1000;
  const waited = stats.acquireWait.meanMs * stats.acquireWait.count;
  const held = meanHold * stats.hold.count;
  const waitShare = waited + held > 0 ? waited / (waited + held) : 0;
  const reasoning = [
    `λ = ${lambda.toFixed(2)} acquisitions/s; mean hold ${meanHold.toFixed(1)} ms, p95 ${p95Hold.toFixed(1)} ms.`,
    `Little's law: L = λ·W = ${meanConcurrency.toFixed(2)} connections busy on average, ${peakConcurrency.toFixed(2)} at the p95 hold.`,
    `Callers spent ${(100 * waitShare).toFixed(1)}% of their connection time waiting for one; ${stats.timeouts} acquisitions timed out.`,
  ];
  let recommended = Math.max(2, Math.ceil(peakConcurrency * 1.2));
  if (waitShare > 0.1 || stats.timeouts > 0) recommended = Math.max(recommended, stats.max + 1);
  if (dbMaxConnections !== null) {
    const cap = Math.max(1, Math.floor((0.9 * dbMaxConnections) / Math.max(1, instances)));
    reasoning.push(
      `The database allows ${dbMaxConnections} connections; ${instances} instance(s) leave at most ${cap} each (10% kept free).`,
    );
    if (recommended > cap) {
      reasoning.push(
        `Capped at ${cap}: beyond it the database refuses connections; shorten the hold time (faster queries, no work while holding) instead.`,
      );
      recommended = cap;
    }
  }
  const enough = stats.acquired >= 100;
  if (!enough)
    reasoning.push(
      `Only ${stats.acquired} acquisitions so far (the first ones include opening connections): too few to judge; at least 100 are needed.`,
    );
  const action = !enough
    ? 'keep'
    : recommended > stats.max && (waitShare > 0.05 || stats.timeouts > 0)
      ? 'increase'
      : recommended < stats.max / 2 && stats.hold.count >= 100
        ? 'decrease'
        : 'keep';
  if (action === 'keep') recommended = stats.max;
  reasoning.push(
    action === 'increase'
      ? `Raise max from ${stats.max} to ${recommended}: the p95 demand with 20% headroom needs it, and callers are waiting.`
      : action === 'decrease'
        ? `Lower max from ${stats.max} to ${recommended}: the p95 demand with 20% headroom needs no more, and idle connections cost the database memory.`
        : `Keep max at ${stats.max}.`,
  );
  return {
    pool: stats.name,
    current: stats.max,
    recommended,
    action,
    reasoning,
    evidence: {
      acquisitionsPerSecond: lambda,
      meanHoldMs: meanHold,
      p95HoldMs: p95Hold,
      meanConcurrency,
      peakConcurrency,
      waitShare,
      timeouts: stats.timeouts,
      dbMaxConnections,
      instances,
    },
  };
}
