/**
 * The shape of a cache's statistics (see `Cache.stats`).
 * @module
 */
import type { TtlEstimate } from './adaptive-ttl.ts';
import type { EvictionPolicy } from './memory-store.ts';
import type { RemoteHealth } from './redis-tier.ts';
import type { MissRatioPoint } from './shards.ts';

/** Where values live. `tiered`: memory in front of Redis, invalidated across processes by pub/sub. */
export type CacheBackend = 'memory' | 'redis' | 'tiered';

/** Statistics of one key group. */
export interface GroupStats {
  name: string;
  hits: number;
  misses: number;
  hitRatio: number;
  loads: number;
  loadFailures: number;
  staleServed: number;
  /** The TTL used for new entries of the group, ms (learned with `adaptiveTtl`). */
  ttlMs: number;
  /** What adaptive TTL learned, or null without it. */
  adaptive: TtlEstimate | null;
}

/** What {@link Cache.stats} returns. Durations in ms. */
export interface CacheStats {
  name: string;
  backend: CacheBackend;
  /** The memory tier's eviction policy; `none` for the redis backend (Redis's maxmemory-policy evicts). */
  policy: EvictionPolicy | 'none';
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 before any request. */
  hitRatio: number;
  /** Entries and estimated bytes of the memory tier (0 for the `redis` backend). */
  entries: number;
  bytes: number;
  maxEntries: number | null;
  maxBytes: number | null;
  evictions: number;
  expirations: number;
  loads: number;
  loadFailures: number;
  loadP95Ms: number;
  /** Stale values served during a reload, a slow loader, or a loader failure. */
  staleServed: number;
  /** Early refreshes started by XFetch. */
  earlyRefreshes: number;
  /** Loads that joined one already running for the same key (single flight). */
  coalescedLoads: number;
  /** Loaded values the codec could not encode for Redis: returned to the caller, not cached. */
  uncacheable: number;
  /** Hits answered by the memory tier and by Redis (tiered). */
  memoryHits: number;
  remoteHits: number;
  /** Redis health (null for the memory backend). */
  remote: RemoteHealth | null;
  groups: GroupStats[];
  /** Estimated hit ratio of an LRU cache at ¼ to 8× the memory tier's size in entries (SHARDS). */
  missRatioCurve: MissRatioPoint[];
}
