/**
 * Caches that tune themselves: `createCache` over memory (W-TinyLFU), Redis, or both.
 * Import from `@siperf/node/cache`.
 * @module
 */

export { MissingPeerDependencyError } from '../util/optional-peer.ts';
export type { AdaptiveTtlOptions, TtlEstimate } from './adaptive-ttl.ts';
export { AdaptiveTtl, solveStaleShare, staleShare } from './adaptive-ttl.ts';
export type { CacheBackend, CacheOptions, CacheStats, EntryOptions, GroupStats, KeyGroup } from './cache.ts';
export { Cache, CacheLoadTimeoutError, createCache } from './cache.ts';
export type { Codec } from './codec.ts';
export { jsonCodec } from './codec.ts';
export { type CacheKey, hashKey } from './hash.ts';
export type { EvictionPolicy, MemoryStoreOptions, RemovalCause } from './memory-store.ts';
export { MemoryStore } from './memory-store.ts';
export { exportCacheMetrics } from './otel-metrics.ts';
export type { MissRatioPoint } from './shards.ts';
export { ShardsMrc } from './shards.ts';
