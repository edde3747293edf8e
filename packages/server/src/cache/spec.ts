/**
 * What `POST /api/v1/cache-db/caches` takes: a named cache's backend, bounds, TTL and policy, validated
 * once with errors naming the field and its limit. Redis credentials never come through the API: the
 * server's `redisUrl` setting is used.
 * @module
 */
import { SiperfError } from '../errors.ts';

/** A server-side cache as created through the API (and saved in `<dataDir>/caches.json`). */
export interface CacheSpec {
  name: string;
  backend: 'memory' | 'redis' | 'tiered';
  /** `none` for the redis backend. */
  policy: 'w-tinylfu' | 'lru' | 'none';
  maxEntries: number | undefined;
  maxBytes: number | undefined;
  /** 0: no expiry. */
  defaultTtlMs: number;
  adaptiveTtl: boolean | { minTtlMs?: number; maxTtlMs?: number; maxStaleness?: number };
  staleGraceMs: number | undefined;
}

function bad(field: string, message: string): never {
  throw new SiperfError('ERR_API_BODY', `${field}: ${message}`, { field });
}

function int(b: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(field, `expected an integer ${min}..${max}`);
  }
  return v;
}

/**
 * Validates a cache definition.
 * @throws SiperfError `ERR_API_BODY` naming the field.
 */
export function parseCacheSpec(body: unknown): CacheSpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) bad('body', 'expected a JSON object');
  const b = body as Record<string, unknown>;
  const known = [
    'name',
    'backend',
    'policy',
    'maxEntries',
    'maxBytes',
    'defaultTtlMs',
    'adaptiveTtl',
    'staleGraceMs',
  ];
  for (const k of Object.keys(b))
    if (!known.includes(k)) bad(k, `unknown field (known: ${known.join(', ')})`);
  const name = b.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
    bad('name', 'required, 1..128 characters of A-Z a-z 0-9 _ . -');
  }
  const backend = b.backend ?? 'memory';
  if (backend !== 'memory' && backend !== 'redis' && backend !== 'tiered') {
    bad('backend', 'expected one of memory, redis, tiered');
  }
  if (backend === 'redis' && b.policy !== undefined) {
    bad(
      'policy',
      'the redis backend does not evict in the process (Redis maxmemory-policy does); use tiered',
    );
  }
  const policy = b.policy ?? (backend === 'redis' ? 'none' : 'w-tinylfu');
  if (policy !== 'w-tinylfu' && policy !== 'lru' && policy !== 'none')
    bad('policy', 'expected one of w-tinylfu, lru');
  const maxEntries = int(b, 'maxEntries', 1, 1_000_000);
  const maxBytes = int(b, 'maxBytes', 1024, 2 ** 31);
  if (maxEntries !== undefined && maxBytes !== undefined)
    bad('maxBytes', 'give maxEntries or maxBytes, not both');
  if (backend === 'redis' && (maxEntries !== undefined || maxBytes !== undefined)) {
    bad(
      maxEntries !== undefined ? 'maxEntries' : 'maxBytes',
      'the redis backend has no memory tier to bound (use tiered)',
    );
  }
  let adaptiveTtl: CacheSpec['adaptiveTtl'] = false;
  const a = b.adaptiveTtl;
  if (typeof a === 'boolean') adaptiveTtl = a;
  else if (typeof a === 'object' && a !== null && !Array.isArray(a)) {
    const o = a as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['minTtlMs', 'maxTtlMs', 'maxStaleness'].includes(k)) {
        bad(`adaptiveTtl.${k}`, 'unknown field (known: minTtlMs, maxTtlMs, maxStaleness)');
      }
    }
    const minTtlMs = int(o, 'minTtlMs', 1, 2 ** 31);
    const maxTtlMs = int(o, 'maxTtlMs', 1, 2 ** 31);
    const s = o.maxStaleness;
    if (s !== undefined && (typeof s !== 'number' || !(s > 0 && s < 1)))
      bad('adaptiveTtl.maxStaleness', 'expected a number 0 < x < 1');
    if (minTtlMs !== undefined && maxTtlMs !== undefined && maxTtlMs < minTtlMs)
      bad('adaptiveTtl.maxTtlMs', 'must be ≥ minTtlMs');
    adaptiveTtl = {
      ...(minTtlMs !== undefined ? { minTtlMs } : {}),
      ...(maxTtlMs !== undefined ? { maxTtlMs } : {}),
      ...(s !== undefined ? { maxStaleness: s as number } : {}),
    };
  } else if (a !== undefined && a !== null)
    bad('adaptiveTtl', 'expected true, false or { minTtlMs, maxTtlMs, maxStaleness }');
  return {
    name: name as string,
    backend,
    policy,
    maxEntries:
      backend === 'redis' ? undefined : (maxEntries ?? (maxBytes === undefined ? 10_000 : undefined)),
    maxBytes,
    defaultTtlMs: int(b, 'defaultTtlMs', 0, 2 ** 31) ?? (adaptiveTtl ? 60_000 : 0),
    adaptiveTtl,
    staleGraceMs: int(b, 'staleGraceMs', 0, 2 ** 31),
  };
}
