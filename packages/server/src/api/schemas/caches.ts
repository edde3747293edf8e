/**
 * Schemas of the cache routes under `/api/v1/cache-db/`: the server's named caches (create, list, delete,
 * statistics), their entries for clients that are not Node (a key's JSON value), and the one shape of
 * every cache the server knows (its own and those applications report over OTLP). The cache definition
 * itself is model/cache-spec.ts, shared with cache/spec.ts. Durations in ms, ratios 0..1.
 * @module
 */
import { type Static, Type } from 'typebox';
import {
  CACHE_BACKENDS,
  CACHE_POLICIES,
  CacheName,
  CacheSpec,
  CacheSpecInput,
} from '../../model/cache-spec.ts';
import { Closed, Ms, Nullable, problems, StringEnum, WindowAnswer, WindowQuery } from './common.ts';

/** Longest key of the entries API, characters (path parameters go to 1,100: a longer key is named). */
export const MAX_CACHE_KEY_LENGTH = 1024;

export const CacheParams = Closed({ name: CacheName });
export type CacheParams = Static<typeof CacheParams>;

export const CacheEntryParams = Closed({
  name: CacheName,
  key: Type.String({
    minLength: 1,
    maxLength: MAX_CACHE_KEY_LENGTH,
    description: 'the key, URL-encoded; its prefix before the first `:` is its group in the statistics',
  }),
});
export type CacheEntryParams = Static<typeof CacheEntryParams>;

export const CacheEntryQuery = Closed({
  ttlMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 2_147_483_647,
      description: 'TTL of this value, ms (default: the cache’s defaultTtlMs)',
    }),
  ),
});
export type CacheEntryQuery = Static<typeof CacheEntryQuery>;

/** A server cache as created: its definition with the defaults filled in, and when. */
export const CreatedCache = Closed({
  ...CacheSpec.properties,
  createdAt: Type.String({ description: 'ISO-8601' }),
});
export type CreatedCache = Static<typeof CreatedCache>;

/** What adaptive TTL learned for a key group. */
export const TtlEstimate = Closed({
  ttlMs: Ms('the TTL now used'),
  changesPerHour: Nullable(Type.Number({ description: 'estimated changes per hour of one key’s source' })),
  changesPerHourUpper: Type.Optional(
    Nullable(
      Type.Number({
        description: 'upper confidence bound (Wilson, 95%) of the change rate: the TTL is set from it',
      }),
    ),
  ),
  expectedStaleness: Nullable(Type.Number({ description: 'expected share of stale reads at this TTL' })),
  observations: Type.Number({ description: 'reloads and invalidations observed (decayed count)' }),
});
export type TtlEstimate = Static<typeof TtlEstimate>;

/** Statistics of one key group (a key's prefix before its first `:`). */
export const CacheGroupStats = Closed({
  name: Type.String(),
  hits: Type.Integer(),
  misses: Type.Integer(),
  hitRatio: Type.Number(),
  loads: Type.Integer(),
  loadFailures: Type.Integer(),
  staleServed: Type.Integer(),
  ttlMs: Ms('the TTL of new entries of the group'),
  adaptive: Nullable(TtlEstimate),
});
export type CacheGroupStats = Static<typeof CacheGroupStats>;

/** The estimated hit ratio of an LRU cache of `size` entries (SHARDS). */
export const MissRatioPoint = Closed({ size: Type.Integer(), hitRatio: Type.Number() });
export type MissRatioPoint = Static<typeof MissRatioPoint>;

export const CacheStatistics = Closed({
  name: Type.String(),
  backend: StringEnum(CACHE_BACKENDS),
  policy: StringEnum(CACHE_POLICIES),
  hits: Type.Integer(),
  misses: Type.Integer(),
  hitRatio: Type.Number({ description: 'hits / (hits + misses), 0 before any request' }),
  entries: Type.Integer({ description: 'entries of the memory tier (0 on the redis backend)' }),
  bytes: Type.Number({ description: 'estimated bytes of the memory tier' }),
  maxEntries: Nullable(Type.Integer()),
  maxBytes: Nullable(Type.Integer()),
  evictions: Type.Integer(),
  expirations: Type.Integer(),
  loads: Type.Integer(),
  loadFailures: Type.Integer(),
  loadP95Ms: Ms(),
  staleServed: Type.Integer({ description: 'stale values served during a reload or a loader failure' }),
  earlyRefreshes: Type.Integer({ description: 'early refreshes started by XFetch' }),
  coalescedLoads: Type.Integer({ description: 'loads that joined one already running (single flight)' }),
  uncacheable: Type.Integer({ description: 'loaded values that could not be encoded for Redis' }),
  memoryHits: Type.Integer(),
  remoteHits: Type.Integer(),
  remote: Nullable(
    Closed(
      {
        up: Type.Boolean(),
        errors: Type.Integer(),
        lastError: Nullable(Type.String()),
        lastErrorAt: Nullable(Type.String()),
      },
      { description: 'Redis health (null on the memory backend)' },
    ),
  ),
  groups: Type.Array(CacheGroupStats),
  missRatioCurve: Type.Array(MissRatioPoint, {
    description: 'estimated LRU hit ratio at ¼ to 8× the memory tier’s size',
  }),
  createdAt: Type.String({ description: 'ISO-8601' }),
  defaultTtlMs: Type.Integer({ description: 'ms; 0: no expiry' }),
});
export type CacheStatistics = Static<typeof CacheStatistics>;

/**
 * One shape for every cache the server knows: its own and those applications report as OTLP metrics
 * (their counts are the window's; figures from metrics may be fractional).
 */
export const CacheSummary = Closed({
  name: Type.String(),
  source: StringEnum(['server', 'application'] as const),
  service: Nullable(Type.String({ description: 'the reporting service (application caches)' })),
  backend: Type.String(),
  policy: Type.String(),
  hits: Type.Number(),
  misses: Type.Number({ description: 'requests neither tier answered' }),
  hitRatio: Type.Number(),
  memoryHits: Nullable(
    Type.Number({ description: 'hits the memory tier answered (null: the reporter did not say)' }),
  ),
  remoteHits: Nullable(
    Type.Number({
      description:
        'hits Redis answered: memory-tier misses that cost a Redis read, not a load (null: not said)',
    }),
  ),
  periodHours: Type.Number({
    description: 'hours the counts cover (the span of the reports; at least an hour for server caches)',
  }),
  requestsPerHour: Type.Number({ description: 'requests ÷ periodHours' }),
  entries: Type.Number(),
  bytes: Type.Number(),
  maxEntries: Nullable(Type.Number()),
  evictions: Type.Number(),
  expirations: Type.Number(),
  loads: Type.Number(),
  loadFailures: Type.Number(),
  loadP95Ms: Ms(),
  missRatioCurve: Type.Array(
    Closed({
      sizeFactor: Type.Number({ description: 'size as a multiple of the current one' }),
      size: Type.Number(),
      hitRatio: Type.Number(),
    }),
  ),
  groups: Type.Array(CacheGroupStats, { description: 'per key group (server caches)' }),
  defaultTtlMs: Nullable(Type.Number()),
});
export type CacheSummary = Static<typeof CacheSummary>;

/** The window of the application caches (`service` is not a filter here). */
export const CacheListQuery = Closed({
  from: WindowQuery.from,
  to: WindowQuery.to,
  window: WindowQuery.window,
});
export type CacheListQuery = Static<typeof CacheListQuery>;

export const CacheListAnswer = Closed({
  ...WindowAnswer,
  caches: Type.Array(
    Closed({
      name: Type.String(),
      source: StringEnum(['server', 'application'] as const),
      service: Nullable(Type.String()),
      backend: Type.String(),
      policy: Type.String(),
      hitRatio: Type.Number(),
      entries: Type.Number(),
      maxEntries: Nullable(Type.Number()),
    }),
  ),
});
export type CacheListAnswer = Static<typeof CacheListAnswer>;

const tags = ['cache-db'];
const done = (description: string) => Type.Null({ description });

/** Route schemas of the cache routes. */
export const cacheRouteSchemas = {
  create: {
    summary: 'Create a named cache on the server',
    tags,
    querystring: Closed({}),
    body: CacheSpecInput,
    response: { 201: CreatedCache, ...problems(409, 413, 415) },
  },
  list: {
    summary: "The server's caches and those applications report (the window is for the latter)",
    tags,
    querystring: CacheListQuery,
    response: { 200: CacheListAnswer, ...problems() },
  },
  delete: {
    summary: 'Delete a server cache (its Redis keys stay until they expire)',
    tags,
    params: CacheParams,
    querystring: Closed({}),
    response: { 204: done('Deleted'), ...problems(404) },
  },
  statistics: {
    summary: "A server cache's statistics: hits, misses, hit ratio, groups, miss-ratio curve",
    tags,
    params: CacheParams,
    querystring: Closed({}),
    response: { 200: CacheStatistics, ...problems(404) },
  },
  putEntry: {
    summary: 'Store a JSON value under a key (413 when the cache cannot hold it)',
    tags,
    params: CacheEntryParams,
    querystring: CacheEntryQuery,
    body: Type.Unknown({ description: 'any JSON value, up to 1 MiB' }),
    response: { 204: done('Stored'), ...problems(404, 413, 415) },
  },
  getEntry: {
    summary: 'The JSON value of a key; 404 on a miss',
    tags,
    params: CacheEntryParams,
    querystring: Closed({}),
    response: { 200: Type.Unknown({ description: 'the JSON value stored' }), ...problems(404) },
  },
  deleteEntry: {
    summary: 'Remove a key; 404 when there was none',
    tags,
    params: CacheEntryParams,
    querystring: Closed({}),
    response: { 204: done('Removed'), ...problems(404) },
  },
} as const;
