/**
 * What `POST /api/v1/cache-db/caches` takes: a named cache's backend, bounds, TTL and policy, checked once
 * against the {@link CacheSpecInput} schema (model/cache-spec.ts: each field's type and bounds, unknown
 * fields refused) and then against the rules between fields, with errors naming the field, what was
 * expected, what was given and the limit. Definitions read back from `<dataDir>/caches.json` go through
 * the same check. Redis credentials never come through the API: the server's `redisUrl` setting is used.
 * @module
 */
import { SiperfError } from '../errors.ts';
import { type CacheSpec, CacheSpecInput } from '../model/index.ts';
import { schemaCheck } from '../util/schema-check.ts';

export type { CacheSpec } from '../model/index.ts';

const checkInput = schemaCheck(CacheSpecInput, 'body');

function bad(field: string, message: string, limit?: string): never {
  throw new SiperfError('ERR_API_BODY', `${field}: ${message}`, {
    field,
    ...(limit !== undefined ? { limit } : {}),
  });
}

/**
 * Bytes of the memory tier of a cache defined without maxEntries or maxBytes: 64 MiB of estimated size
 * (each entry counts its key, its value and ~96 bytes of bookkeeping), so about 40,000 entries of 1.5 KiB
 * or 8 of the largest cached-query results. A count alone (the bound before) let 10,000 entries of up to
 * 1 MiB each hold 10 GB.
 */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Validates a cache definition and fills in its defaults: policy w-tinylfu (none on redis), maxBytes
 * {@link DEFAULT_CACHE_MAX_BYTES} unless maxEntries or maxBytes is given, defaultTtlMs 60,000 with adaptive
 * TTL (else 0).
 * @throws SiperfError `ERR_API_BODY` naming the field, what was expected and what was given.
 */
export function parseCacheSpec(body: unknown): CacheSpec {
  const problem = checkInput(body);
  if (problem) {
    throw new SiperfError('ERR_API_BODY', problem.detail, {
      ...(problem.field ? { field: problem.field } : {}),
      ...(problem.limit !== undefined ? { limit: problem.limit } : {}),
    });
  }
  const b = body as CacheSpecInput;
  const backend = b.backend ?? 'memory';
  if (backend === 'redis' && b.policy !== undefined && b.policy !== 'none') {
    bad(
      'policy',
      `the redis backend does not evict in the process (Redis maxmemory-policy does), got "${b.policy}"; use tiered`,
    );
  }
  if (backend !== 'redis' && b.policy === 'none') {
    bad('policy', `none is the redis backend's; the ${backend} backend evicts with w-tinylfu or lru`);
  }
  const policy = b.policy ?? (backend === 'redis' ? 'none' : 'w-tinylfu');
  const { maxEntries, maxBytes } = b;
  if (maxEntries !== undefined && maxBytes !== undefined)
    bad('maxBytes', 'give maxEntries or maxBytes, not both');
  if (backend === 'redis' && (maxEntries !== undefined || maxBytes !== undefined)) {
    bad(
      maxEntries !== undefined ? 'maxEntries' : 'maxBytes',
      'the redis backend has no memory tier to bound (use tiered)',
    );
  }
  const a = b.adaptiveTtl ?? false;
  if (
    typeof a === 'object' &&
    a.minTtlMs !== undefined &&
    a.maxTtlMs !== undefined &&
    a.maxTtlMs < a.minTtlMs
  ) {
    bad('adaptiveTtl.maxTtlMs', `must be ≥ minTtlMs (${a.minTtlMs}), got ${a.maxTtlMs}`, `≥ ${a.minTtlMs}`);
  }
  const adaptiveTtl: CacheSpec['adaptiveTtl'] =
    typeof a === 'boolean'
      ? a
      : {
          ...(a.minTtlMs !== undefined ? { minTtlMs: a.minTtlMs } : {}),
          ...(a.maxTtlMs !== undefined ? { maxTtlMs: a.maxTtlMs } : {}),
          ...(a.maxStaleness !== undefined ? { maxStaleness: a.maxStaleness } : {}),
        };
  // The memory tier is always bounded, by bytes unless a count is asked for.
  const boundedBytes =
    backend === 'redis'
      ? undefined
      : (maxBytes ?? (maxEntries === undefined ? DEFAULT_CACHE_MAX_BYTES : undefined));
  return {
    name: b.name,
    backend,
    policy,
    ...(maxEntries !== undefined ? { maxEntries } : {}),
    ...(boundedBytes !== undefined ? { maxBytes: boundedBytes } : {}),
    defaultTtlMs: b.defaultTtlMs ?? (adaptiveTtl ? 60_000 : 0),
    adaptiveTtl,
    ...(b.staleGraceMs !== undefined ? { staleGraceMs: b.staleGraceMs } : {}),
  };
}
