/**
 * The contract of the cache and optimization routes under `/api/v1/cache-db/` (schemas/caches.ts,
 * schemas/optimization.ts): unknown fields and parameters are refused by name, a bad nested field by its
 * whole path, keys and TTLs by their bounds; the redis and tiered backends, log uploads and the
 * OpenAPI document match the declared schemas (every answer is checked against them in tests).
 * Uses the Redis on 127.0.0.1:6379 (the server's default `redisUrl`); no database.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { LOG_FORMAT_NAMES } from '../src/api/schemas/index.ts';
import { LOG_FORMATS } from '../src/ingest/logs/index.ts';
import { get, post, startTestApp, type TestApp } from './helpers.ts';

const json = (v: unknown) => JSON.stringify(v);

describe('cache-db contract', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    await t?.close();
  });
  const create = (body: unknown) => post(t.app, '/api/v1/cache-db/caches', json(body), 'application/json');
  const cachedQuery = (body: unknown) =>
    post(t.app, '/api/v1/cache-db/cached-query', json(body), 'application/json');
  const upload = (query: string, payload: string, contentType = 'text/plain') =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/cache-db/logs${query}`,
      payload,
      headers: { 'content-type': contentType },
    });

  test('POST caches refuses an unknown body field with ERR_API_BODY naming it and the known ones', async () => {
    const r = await create({ name: 'c1', maxEntrys: 10 });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'ERR_API_BODY');
    assert.equal(r.json.field, 'maxEntrys');
    assert.equal(
      r.json.detail,
      'maxEntrys: unknown field; expected one of name, backend, policy, maxEntries, maxBytes, defaultTtlMs, adaptiveTtl, staleGraceMs',
    );
  });

  test('POST caches names a bad field inside adaptiveTtl by its whole path', async () => {
    const unknown = await create({ name: 'c2', adaptiveTtl: { minTtl: 5 } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.field, 'adaptiveTtl.minTtl');
    assert.match(
      unknown.json.detail,
      /^adaptiveTtl\.minTtl: unknown field; expected one of minTtlMs, maxTtlMs/,
    );
    const bound = await create({ name: 'c2', adaptiveTtl: { maxStaleness: 2 } });
    assert.equal(bound.json.field, 'adaptiveTtl.maxStaleness');
    assert.match(bound.json.detail, /^adaptiveTtl\.maxStaleness: expected a number .*, got 2$/);
    const order = await create({ name: 'c2', adaptiveTtl: { minTtlMs: 5000, maxTtlMs: 1000 } });
    assert.deepEqual(
      [order.status, order.json.field, order.json.limit],
      [400, 'adaptiveTtl.maxTtlMs', '≥ 5000'],
    );
    const both = await create({ name: 'c2', maxEntries: 10, maxBytes: 4096 });
    assert.equal(both.json.detail, 'maxBytes: give maxEntries or maxBytes, not both');
  });

  test('POST cached-query refuses an unknown body field, and names a bad parameter by its index', async () => {
    const base = { cacheName: 'q', poolName: 'main', query: 'SELECT 1' };
    const unknown = await cachedQuery({ ...base, paramz: [1] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.code, 'ERR_API_BODY');
    assert.equal(unknown.json.field, 'paramz');
    assert.match(
      unknown.json.detail,
      /^paramz: unknown field; expected one of cacheName, poolName, query, params/,
    );
    const nested = await cachedQuery({ ...base, params: [1, { id: 2 }] });
    assert.equal(nested.status, 400);
    assert.equal(nested.json.field, 'params[1]');
    assert.match(nested.json.detail, /^params\[1\]: expected .*, got an object$/);
    const missing = await cachedQuery({ cacheName: 'q', poolName: 'main' });
    assert.equal(missing.json.detail, 'query: required, a string of 1..100000 characters');
    const ttl = await cachedQuery({ ...base, ttlMs: -1 });
    assert.deepEqual([ttl.json.field, ttl.json.limit], ['ttlMs', '0..2147483647']);
    // Checked before the pool: a name no pool can have is a 400, a pool that is not configured a 404.
    assert.equal((await cachedQuery({ ...base, poolName: 'a b' })).json.field, 'poolName');
    await create({ name: 'q' });
    assert.equal((await cachedQuery(base)).json.code, 'ERR_POOL_NOT_FOUND');
  });

  test('unknown query parameters are refused with ERR_QUERY_PARAM naming them', async () => {
    for (const [url, field] of [
      ['/api/v1/cache-db/caches?windw=1h', 'windw'],
      ['/api/v1/cache-db/caches?service=shop', 'service'],
      ['/api/v1/cache-db/optimization/recommendations?limit=5', 'limit'],
      ['/api/v1/cache-db/statistics/comprehensive?windows=1h', 'windows'],
      ['/api/v1/cache-db/pools?window=1h', 'window'],
      ['/api/v1/cache-db/caches/q/statistics?verbose=1', 'verbose'],
    ] as const) {
      const r = await get(t.app, url);
      assert.equal(r.status, 400, url);
      assert.equal(r.json.code, 'ERR_QUERY_PARAM', url);
      assert.equal(r.json.field, field, url);
      assert.match(r.json.detail, new RegExp(`^${field}: unknown parameter`), url);
    }
    const put = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/cache-db/caches/q/entries/k?ttl=5',
      payload: '1',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(put.json().field, 'ttl');
  });

  test('entries: keys of 1..1,024 characters, ttlMs a decimal integer, any JSON value', async () => {
    await create({ name: 'e1' });
    const put = (path: string, payload = '1') =>
      t.app.inject({
        method: 'PUT',
        url: `/api/v1/cache-db/caches/e1/entries/${path}`,
        payload,
        headers: { 'content-type': 'application/json' },
      });
    const long = await put('k'.repeat(1050));
    assert.equal(long.statusCode, 400);
    assert.deepEqual(
      [long.json().code, long.json().field, long.json().limit],
      ['ERR_QUERY_PARAM', 'key', '1..1024'],
    );
    assert.equal(long.json().detail, 'key: expected a string of 1..1024 characters, got 1050 characters');
    for (const ttl of ['1.5', '0x10', '-1', 'soon']) {
      const r = await put(`k?ttlMs=${ttl}`);
      assert.equal(r.statusCode, 400, ttl);
      assert.equal(r.json().field, 'ttlMs', ttl);
    }
    assert.equal((await put('k?ttlMs=60000', json({ a: [1, null] }))).statusCode, 204);
    assert.deepEqual((await get(t.app, '/api/v1/cache-db/caches/e1/entries/k')).json, { a: [1, null] });
    assert.equal((await put('n', 'null')).statusCode, 204);
    const nothing = await t.app.inject({ method: 'PUT', url: '/api/v1/cache-db/caches/e1/entries/n' });
    assert.equal(nothing.statusCode, 400);
    assert.match(nothing.json().detail, /^body: expected a JSON value/);
    const bad = await get(t.app, '/api/v1/cache-db/caches/bad:name/statistics');
    assert.deepEqual([bad.status, bad.json.field], [400, 'name']);
  });

  test('redis and tiered caches: answers and statistics (Redis health, groups) match their schemas', async () => {
    const suffix = randomBytes(4).toString('hex');
    const redis = await create({ name: `r-${suffix}`, backend: 'redis', defaultTtlMs: 60_000 });
    assert.equal(redis.status, 201, JSON.stringify(redis.json));
    assert.equal(redis.json.policy, 'none');
    assert.equal(redis.json.maxEntries, undefined);
    const lru = await create({ name: `r2-${suffix}`, backend: 'redis', policy: 'lru' });
    assert.deepEqual([lru.status, lru.json.field], [400, 'policy']);
    const tiered = await create({
      name: `t-${suffix}`,
      backend: 'tiered',
      adaptiveTtl: { maxStaleness: 0.05 },
    });
    assert.equal(tiered.status, 201, JSON.stringify(tiered.json));
    assert.equal(tiered.json.defaultTtlMs, 60_000);
    for (const name of [`r-${suffix}`, `t-${suffix}`]) {
      const url = `/api/v1/cache-db/caches/${name}/entries/user:1`;
      const put = await t.app.inject({
        method: 'PUT',
        url,
        payload: json({ id: 1 }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(put.statusCode, 204);
      assert.deepEqual((await get(t.app, url)).json, { id: 1 });
      const stats = await get(t.app, `/api/v1/cache-db/caches/${name}/statistics`);
      assert.equal(stats.status, 200, JSON.stringify(stats.json));
      assert.equal(stats.json.remote.up, true);
      assert.equal(stats.json.groups[0].name, 'user');
      assert.equal((await t.app.inject({ method: 'DELETE', url })).statusCode, 204);
      assert.equal((await t.app.inject({ method: 'DELETE', url })).statusCode, 404);
      const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/cache-db/caches/${name}` });
      assert.equal(del.statusCode, 204);
    }
  });

  test('log uploads: format required, since/until read as dates, and the digest as declared', async () => {
    const noFormat = await upload('', 'x');
    assert.equal(noFormat.statusCode, 400);
    assert.equal(noFormat.json().detail, 'format: required, one of mysql-slow, pg-stderr, pg-csv, pg-json');
    const badFormat = await upload('?format=oracle', 'x');
    assert.deepEqual([badFormat.json().code, badFormat.json().field], ['ERR_QUERY_PARAM', 'format']);
    for (const since of ['yesterday', '2024-13-45']) {
      const r = await upload(`?format=mysql-slow&since=${since}`, 'x');
      assert.equal(r.statusCode, 400, since);
      assert.equal(r.json().field, 'since', since);
      assert.match(r.json().detail, /^since: expected an ISO-8601 time \(YYYY-MM-DD…\), got "/);
    }
    const order = await upload('?format=mysql-slow&since=2024-03-02&until=2024-03-01', 'x');
    assert.equal(order.json().field, 'since');
    assert.equal((await upload('?format=mysql-slow&sice=2024-03-01', 'x')).json().field, 'sice');
    const empty = await upload('?format=mysql-slow', '');
    assert.deepEqual([empty.statusCode, empty.json().code], [400, 'ERR_API_BODY']);
    const log = [
      'garbage line the parser cannot place',
      '# Time: 2024-03-01T10:00:00.000000Z',
      '# User@Host: app[app] @ web1 [10.0.0.5]  Id:    42',
      '# Query_time: 0.250000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 5000',
      'use shop;',
      'SET timestamp=1709287200;',
      "SELECT * FROM orders WHERE customer = 'ann';",
    ].join('\n');
    const r = await upload('?format=mysql-slow&since=2024-03-01T00:00:00Z', log, 'application/octet-stream');
    assert.equal(r.statusCode, 200, r.body);
    const d = r.json();
    assert.deepEqual([d.format, d.events, d.queries.length], ['mysql-slow', 1, 1]);
    assert.equal(d.queries[0].rowsExamined, 5000);
    assert.equal(typeof d.id, 'number');
  });

  test('pools and the comprehensive statistics without pools answer as declared', async () => {
    assert.deepEqual((await get(t.app, '/api/v1/cache-db/pools')).json, { pools: [] });
    const all = await get(t.app, '/api/v1/cache-db/statistics/comprehensive?window=15m&service=shop');
    assert.equal(all.status, 200, JSON.stringify(all.json));
    assert.deepEqual(all.json.database, { pools: [], queries: [] });
  });

  test('the schema lists the log reader’s formats', () => {
    assert.deepEqual([...LOG_FORMAT_NAMES].sort(), [...LOG_FORMATS].sort());
  });

  test('/docs/json documents the log upload as a raw body and each route’s problem answers', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const logs = doc.paths['/api/v1/cache-db/logs'].post;
    assert.deepEqual(Object.keys(logs.requestBody.content).sort(), [
      'application/gzip',
      'application/octet-stream',
      'text/plain',
    ]);
    assert.ok(
      logs.parameters.some((p: { name: string; required?: boolean }) => p.name === 'format' && p.required),
    );
    const create = doc.paths['/api/v1/cache-db/caches'].post;
    assert.ok(create.responses['409'] && create.responses['201']);
    assert.ok(create.requestBody.content['application/json'].schema.properties.adaptiveTtl);
    const put = doc.paths['/api/v1/cache-db/caches/{name}/entries/{key}'].put;
    assert.ok(put.responses['413'] && put.responses['204']);
    assert.ok(doc.paths['/api/v1/cache-db/cached-query'].post.responses['502']);
  });
});
