/**
 * A server cache's definition as JSON Schema (TypeBox): what `POST /api/v1/cache-db/caches` takes
 * ({@link CacheSpecInput}) and what the server keeps in `<dataDir>/caches.json` and answers
 * ({@link CacheSpec}). The schema says every rule about one field (types, bounds, the name's characters,
 * unknown fields refused); the rules between fields (maxEntries or maxBytes, nothing to bound or evict on
 * the redis backend, maxTtlMs ≥ minTtlMs) are in `cache/spec.ts`, which also fills in the defaults.
 * Durations in ms; 2^31 ms is about 24.8 days.
 * @module
 */
import { type Static, Type } from 'typebox';

/** Where a cache keeps its values. `tiered`: memory in front of Redis. */
export const CACHE_BACKENDS = ['memory', 'redis', 'tiered'] as const;
/** Eviction policy of the memory tier; `none` is the redis backend's (Redis's maxmemory-policy evicts). */
export const CACHE_POLICIES = ['w-tinylfu', 'lru', 'none'] as const;

/** Largest TTL, staleness grace and byte bound, 2^31 (ms or bytes). */
const MAX_31 = 2 ** 31;

const stringEnum = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

/** A cache's name: 1..128 characters of A-Z a-z 0-9 _ . - (also its Redis key prefix). */
export const CacheName = Type.String({
  pattern: '^[A-Za-z0-9_.-]{1,128}$',
  description: '1..128 characters of A-Z a-z 0-9 _ . -',
});

/** Bounds of the TTL that adaptive TTL learns per key group. */
export const AdaptiveTtlBounds = Type.Object(
  {
    minTtlMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_31, description: 'shortest TTL, ms' })),
    maxTtlMs: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_31, description: 'longest TTL, ms; ≥ minTtlMs' }),
    ),
    maxStaleness: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        description: 'share of reads that may see a stale value, 0 < x < 1',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * `true`/`false`, or bounds (which turn it on). The object comes first in the union so that a bad member
 * is reported by its path (`adaptiveTtl.maxStaleness`), the validator reporting a union's first branch.
 */
const AdaptiveTtl = Type.Union([AdaptiveTtlBounds, Type.Boolean()], {
  description: 'learn each key group’s TTL from how often its values change (true, false or bounds)',
});

/** The body of `POST /api/v1/cache-db/caches`. */
export const CacheSpecInput = Type.Object(
  {
    name: CacheName,
    backend: Type.Optional(stringEnum(CACHE_BACKENDS, 'where values live (default memory)')),
    policy: Type.Optional(
      stringEnum(
        CACHE_POLICIES,
        'eviction of the memory tier (default w-tinylfu); the redis backend takes none only (its default)',
      ),
    ),
    maxEntries: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description:
          'most entries of the memory tier; not with maxBytes (without either, maxBytes is 64 MiB)',
      }),
    ),
    maxBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: MAX_31,
        description:
          'most estimated bytes of the memory tier (default 64 MiB unless maxEntries is given); not with maxEntries',
      }),
    ),
    defaultTtlMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_31,
        description:
          'TTL of a value set without one, ms; 0: no expiry (default 60,000 with adaptiveTtl, else 0)',
      }),
    ),
    adaptiveTtl: Type.Optional(AdaptiveTtl),
    staleGraceMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_31,
        description: 'how long an expired value may still be served while it reloads, ms',
      }),
    ),
  },
  { additionalProperties: false, description: 'a named cache: backend, bounds, TTL and policy' },
);
export type CacheSpecInput = Static<typeof CacheSpecInput>;

/** A cache's definition with the defaults filled in, as kept and answered. */
export const CacheSpec = Type.Object(
  {
    name: CacheName,
    backend: stringEnum(CACHE_BACKENDS, 'where values live'),
    policy: stringEnum(CACHE_POLICIES, 'eviction of the memory tier; none on the redis backend'),
    maxEntries: Type.Optional(Type.Integer({ description: 'absent when bounded by maxBytes, or on redis' })),
    maxBytes: Type.Optional(Type.Integer()),
    defaultTtlMs: Type.Integer({ description: 'ms; 0: no expiry' }),
    adaptiveTtl: AdaptiveTtl,
    staleGraceMs: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export type CacheSpec = Static<typeof CacheSpec>;
