import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SiperfError } from '../errors.ts';
import { parseCacheSpec } from './spec.ts';

/** The error `parseCacheSpec` throws for `body`, as the client sees it. */
function refusal(body: unknown): { detail: string; field?: string; limit?: string | number } {
  try {
    parseCacheSpec(body);
  } catch (err) {
    assert.ok(err instanceof SiperfError);
    assert.equal(err.code, 'ERR_API_BODY');
    return {
      detail: err.detail,
      ...(err.field !== undefined ? { field: err.field } : {}),
      ...(err.limit !== undefined ? { limit: err.limit } : {}),
    };
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

test('fills in the defaults: w-tinylfu, 64 MiB, no expiry (60 s with adaptive TTL)', () => {
  assert.deepEqual(parseCacheSpec({ name: 'a' }), {
    name: 'a',
    backend: 'memory',
    policy: 'w-tinylfu',
    maxBytes: 64 * 1024 * 1024,
    defaultTtlMs: 0,
    adaptiveTtl: false,
  });
  assert.equal(parseCacheSpec({ name: 't', backend: 'tiered' }).maxBytes, 64 * 1024 * 1024);
  assert.deepEqual(
    [
      parseCacheSpec({ name: 'n', maxEntries: 5 }).maxEntries,
      parseCacheSpec({ name: 'n', maxEntries: 5 }).maxBytes,
    ],
    [5, undefined],
  );
  assert.equal(parseCacheSpec({ name: 'r', backend: 'redis' }).maxBytes, undefined);
  assert.deepEqual(parseCacheSpec({ name: 'b', maxBytes: 4096, adaptiveTtl: { maxStaleness: 0.1 } }), {
    name: 'b',
    backend: 'memory',
    policy: 'w-tinylfu',
    maxBytes: 4096,
    defaultTtlMs: 60_000,
    adaptiveTtl: { maxStaleness: 0.1 },
  });
});

test('a saved definition of every backend reads back as itself (redis keeps policy none)', () => {
  for (const body of [
    { name: 'm', policy: 'lru', maxEntries: 5, staleGraceMs: 1000 },
    { name: 'r', backend: 'redis', defaultTtlMs: 30_000 },
    { name: 't', backend: 'tiered', adaptiveTtl: true },
  ]) {
    const spec = parseCacheSpec(body);
    assert.deepEqual(parseCacheSpec(JSON.parse(JSON.stringify(spec))), spec);
  }
});

test('refuses a field the schema does not know, naming it and the known ones', () => {
  assert.deepEqual(refusal({ name: 'a', ttl: 5 }), {
    field: 'ttl',
    detail:
      'ttl: unknown field; expected one of name, backend, policy, maxEntries, maxBytes, defaultTtlMs, adaptiveTtl, staleGraceMs',
  });
  assert.equal(refusal({ name: 'a', adaptiveTtl: { minTtl: 5 } }).field, 'adaptiveTtl.minTtl');
});

test('a bad member of adaptiveTtl is named by its whole path, with the bound', () => {
  const r = refusal({ name: 'a', adaptiveTtl: { maxStaleness: 2 } });
  assert.equal(r.field, 'adaptiveTtl.maxStaleness');
  assert.match(r.detail, /^adaptiveTtl\.maxStaleness: expected a number .*, got 2$/);
  assert.deepEqual(refusal({ name: 'a', adaptiveTtl: { minTtlMs: 5000, maxTtlMs: 1000 } }), {
    field: 'adaptiveTtl.maxTtlMs',
    detail: 'adaptiveTtl.maxTtlMs: must be ≥ minTtlMs (5000), got 1000',
    limit: '≥ 5000',
  });
});

test('rules between fields: one bound, nothing to bound or evict on redis, none only on redis', () => {
  assert.equal(
    refusal({ name: 'a', maxEntries: 10, maxBytes: 4096 }).detail,
    'maxBytes: give maxEntries or maxBytes, not both',
  );
  assert.equal(refusal({ name: 'a', backend: 'redis', maxEntries: 10 }).field, 'maxEntries');
  assert.match(
    refusal({ name: 'a', backend: 'redis', policy: 'lru' }).detail,
    /^policy: .*got "lru"; use tiered$/,
  );
  assert.match(refusal({ name: 'a', policy: 'none' }).detail, /^policy: none is the redis backend's/);
});

test('refuses a non-object body, an integer out of bounds (with the limit), a missing name', () => {
  assert.equal(refusal([]).detail, 'body: expected an object, got an array of 0');
  assert.deepEqual(refusal({ name: 'a', maxEntries: 0 }), {
    field: 'maxEntries',
    detail: 'maxEntries: expected an integer 1..1000000, got 0',
    limit: '1..1000000',
  });
  assert.equal(refusal({ name: 'a', defaultTtlMs: 1.5 }).field, 'defaultTtlMs');
  assert.equal(
    refusal({ backend: 'memory' }).detail,
    'name: required, 1..128 characters of A-Z a-z 0-9 _ . -',
  );
});
