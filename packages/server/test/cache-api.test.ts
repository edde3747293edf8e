import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createCache, exportCacheMetrics } from '@siperf/node/cache';
import { get, post, startTestApp } from './helpers.ts';

const json = (v: unknown) => JSON.stringify(v);

test('server caches: create, entries through HTTP, statistics; errors name the field', async () => {
  const t = await startTestApp();
  try {
    const created = await post(
      t.app,
      '/api/v1/cache-db/caches',
      json({ name: 'sessions', maxEntries: 100, defaultTtlMs: 60_000 }),
      'application/json',
    );
    assert.equal(created.status, 201);
    assert.equal(created.json.policy, 'w-tinylfu');
    const again = await post(
      t.app,
      '/api/v1/cache-db/caches',
      json({ name: 'sessions' }),
      'application/json',
    );
    assert.equal(again.status, 409);
    assert.equal(again.json.code, 'ERR_CACHE_CONFLICT');
    const bad = await post(
      t.app,
      '/api/v1/cache-db/caches',
      json({ name: 'x', maxEntries: 0 }),
      'application/json',
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.json.detail, 'maxEntries: expected an integer 1..1000000, got 0');
    assert.deepEqual([bad.json.field, bad.json.limit], ['maxEntries', '1..1000000']);
    const unknown = await post(
      t.app,
      '/api/v1/cache-db/caches',
      json({ name: 'x', ttl: 5 }),
      'application/json',
    );
    assert.match(unknown.json.detail, /^ttl: unknown field/);

    const put = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/cache-db/caches/sessions/entries/user%3A1?ttlMs=5000',
      payload: json({ cart: [1, 2] }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(put.statusCode, 204);
    const hit = await get(t.app, '/api/v1/cache-db/caches/sessions/entries/user%3A1');
    assert.equal(hit.status, 200);
    assert.deepEqual(hit.json, { cart: [1, 2] });
    const miss = await get(t.app, '/api/v1/cache-db/caches/sessions/entries/user%3A2');
    assert.equal(miss.status, 404);
    assert.equal(miss.json.code, 'ERR_CACHE_MISS');
    const none = await get(t.app, '/api/v1/cache-db/caches/nope/statistics');
    assert.equal(none.json.code, 'ERR_CACHE_NOT_FOUND');
    const stats = await get(t.app, '/api/v1/cache-db/caches/sessions/statistics');
    assert.equal(stats.json.hits, 1);
    assert.equal(stats.json.misses, 1);
    assert.equal(stats.json.hitRatio, 0.5);
    assert.equal(stats.json.entries, 1);
    assert.deepEqual(
      stats.json.groups.map((g: { name: string; hits: number }) => [g.name, g.hits]),
      [['user', 1]],
    );
    // Hostile input: nested names, adaptive bounds the library refuses, bodies it could not serve back.
    const nested = await post(
      t.app,
      '/api/v1/cache-db/caches',
      json({ name: 'sessions:secret' }),
      'application/json',
    );
    assert.equal(
      nested.json.detail,
      'name: expected 1..128 characters of A-Z a-z 0-9 _ . -, got "sessions:secret"',
    );
    const bounds = await post(
      t.app,
      '/api/v1/cache-db/caches',
      json({ name: 'm2', adaptiveTtl: { maxTtlMs: 500 } }),
      'application/json',
    );
    assert.equal(bounds.status, 400);
    assert.match(bounds.json.detail, /adaptiveTtl\.maxTtlMs: must be ≥ minTtlMs/);
    const putEntry = (
      url: string,
      payload: string,
      headers: Record<string, string> = { 'content-type': 'application/json' },
    ) => t.app.inject({ method: 'PUT', url: `/api/v1/cache-db/caches/${url}`, payload, headers });
    const deep = await putEntry('sessions/entries/deep', `${'['.repeat(5000)}${']'.repeat(5000)}`);
    assert.equal(deep.statusCode, 400);
    assert.equal(deep.json().code, 'ERR_API_BODY');
    const noType = await putEntry('sessions/entries/x', '1', {});
    assert.equal(noType.statusCode, 415);
    assert.match(noType.json().detail, /send application\/json$/);
    assert.equal((await putEntry('sessions/entries/x', '')).json().code, 'ERR_API_BODY');
    const longKey = await get(t.app, `/api/v1/cache-db/caches/sessions/entries/${'k'.repeat(1000)}`);
    assert.equal(longKey.json.code, 'ERR_CACHE_MISS', 'keys up to 1,024 characters reach the route');
    assert.equal(
      (await putEntry('sessions/entries/nothing', 'null')).statusCode,
      204,
      'null is a JSON value',
    );
    await post(t.app, '/api/v1/cache-db/caches', json({ name: 'tiny', maxBytes: 1024 }), 'application/json');
    const big = await putEntry('tiny/entries/big', json('x'.repeat(5000)));
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().code, 'ERR_CACHE_NOT_STORED');

    const del = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/cache-db/caches/sessions/entries/user%3A1',
    });
    assert.equal(del.statusCode, 204);
    assert.equal(
      (await t.app.inject({ method: 'DELETE', url: '/api/v1/cache-db/caches/sessions' })).statusCode,
      204,
    );
    assert.deepEqual(
      (await get(t.app, '/api/v1/cache-db/caches')).json.caches.map((c: { name: string }) => c.name),
      ['tiny'],
    );
  } finally {
    await t.close();
  }
});

test('a cache made without bounds holds at most 64 MiB: 120 values of 900 KB do not all stay', async () => {
  const t = await startTestApp();
  try {
    const created = await post(t.app, '/api/v1/cache-db/caches', json({ name: 'plain' }), 'application/json');
    assert.equal(created.status, 201);
    assert.deepEqual([created.json.maxBytes, created.json.maxEntries], [64 * 1024 * 1024, undefined]);
    // With the former default (10,000 entries, no byte bound) all 120 were kept: ~216 MB estimated. Now,
    // once the cache is full, a new value evicts old ones or loses W-TinyLFU's admission (413).
    let stored = 0;
    for (let i = 0; i < 120; i++) {
      const put = await t.app.inject({
        method: 'PUT',
        url: `/api/v1/cache-db/caches/plain/entries/k${i}`,
        payload: json('x'.repeat(900_000)),
        headers: { 'content-type': 'application/json' },
      });
      if (put.statusCode === 204) stored++;
      else assert.equal(put.json().code, 'ERR_CACHE_NOT_STORED');
    }
    assert.ok(stored >= 30, `only ${stored} values stored`);
    const stats = await get(t.app, '/api/v1/cache-db/caches/plain/statistics');
    assert.equal(stats.json.maxBytes, 64 * 1024 * 1024);
    assert.ok(stats.json.bytes <= 64 * 1024 * 1024, `${stats.json.bytes} bytes held`);
    assert.ok(stats.json.entries < 120 && stats.json.entries > 0, `${stats.json.entries} entries held`);
  } finally {
    await t.close();
  }
});

test('advice: a loop of 150 keys through 100 entries gets "grow to 200" with the curve\'s hit ratio', async () => {
  const t = await startTestApp();
  try {
    await post(
      t.app,
      '/api/v1/cache-db/caches',
      json({ name: 'loop', maxEntries: 100, policy: 'lru' }),
      'application/json',
    );
    // 20 rounds over keys 0..149: LRU at 100 entries never hits; at 200 every round after the first
    // hits (2,850 of 3,000 = 95%).
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 150; k++) {
        const url = `/api/v1/cache-db/caches/loop/entries/k${k}`;
        const r = await t.app.inject({ method: 'GET', url });
        if (r.statusCode === 404) {
          await t.app.inject({
            method: 'PUT',
            url,
            payload: '1',
            headers: { 'content-type': 'application/json' },
          });
        }
      }
    }
    const stats = await get(t.app, '/api/v1/cache-db/caches/loop/statistics');
    assert.equal(stats.json.hits, 0);
    const at = (size: number) =>
      stats.json.missRatioCurve.find((p: { size: number }) => p.size === size).hitRatio;
    assert.equal(at(100), 0);
    assert.equal(at(200), 2850 / 3000);
    const rec = await get(t.app, '/api/v1/cache-db/optimization/recommendations');
    const grow = rec.json.recommendations.find((r: { id: string }) => r.id === 'cache-size:loop');
    assert.ok(grow, JSON.stringify(rec.json.recommendations));
    assert.equal(grow.change, 'maxEntries: 200');
    assert.match(grow.title, /gives 0\.0% → 95\.0% \(hit ratio now 0\.0%\)/);
    const low = rec.json.recommendations.find((r: { id: string }) => r.id === 'cache-low-hit-ratio:loop');
    assert.match(low.title, /too small/);
    const all = await get(t.app, '/api/v1/cache-db/statistics/comprehensive');
    assert.equal(all.json.caches.count, 1);
    assert.equal(all.json.recommendations.length, rec.json.recommendations.length);
  } finally {
    await t.close();
  }
});

test("an application's cache, reported over OTLP, is listed beside the server's", async () => {
  const t = await startTestApp();
  let provider: MeterProvider | undefined;
  try {
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
      exportIntervalMillis: 3_600_000,
    });
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'catalog' }),
      readers: [reader],
    });
    const cache = createCache<number>('products', { maxEntries: 50, exportMetrics: false });
    const stop = exportCacheMetrics(cache, provider.getMeter('test'));
    for (let i = 0; i < 30; i++) await cache.getOrLoad(`p:${i % 10}`, () => i);
    await provider.forceFlush();
    stop();
    const list = await get(t.app, '/api/v1/cache-db/caches?window=15m');
    const app = list.json.caches.find((c: { name: string }) => c.name === 'products');
    assert.deepEqual(
      { source: app.source, service: app.service, maxEntries: app.maxEntries, hitRatio: app.hitRatio },
      // 30 reads of 10 keys: 10 misses, 20 hits.
      { source: 'application', service: 'catalog', maxEntries: 50, hitRatio: 20 / 30 },
    );
    const all = await get(t.app, '/api/v1/cache-db/statistics/comprehensive?window=15m');
    const item = all.json.caches.items.find((c: { name: string }) => c.name === 'products');
    assert.equal(item.hits, 20);
    assert.equal(item.loads, 10);
    assert.equal(
      item.missRatioCurve.find((p: { sizeFactor: number }) => p.sizeFactor === 1).hitRatio,
      20 / 30,
    );
  } finally {
    await provider?.shutdown();
    await t.close();
  }
});
