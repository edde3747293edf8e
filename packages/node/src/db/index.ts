/**
 * Instrumented database pools and their sizing advice. Import from `@siperf/node/db`.
 * @module
 */

export { MissingPeerDependencyError } from '../util/optional-peer.ts';
export {
  createMysqlPool,
  InstrumentedMysqlPool,
  type MysqlPoolOptions,
  PoolAcquireTimeoutError,
} from './mysql-pool.ts';
export { exportPoolMetrics } from './otel-metrics.ts';
export { createPgPool, InstrumentedPgPool, type PgPoolOptions } from './pg-pool.ts';
export type { DurationSummary, PoolStats } from './pool-recorder.ts';
export { type PoolSizingAdvice, poolSizing } from './pool-sizing.ts';
