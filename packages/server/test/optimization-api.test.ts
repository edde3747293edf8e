/**
 * The optimization API against the machine's real PostgreSQL (database test): traces of a query on an
 * unindexed 100,000-row table and of an N+1 go in; the recommendations name the index (checked with
 * HypoPG) and the N+1 fix; a cached query runs read-only through a cache; the pools report their figures.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { get, post, startTestApp, type TestApp } from './helpers.ts';

const PG = process.env.SIPERF_TEST_PG ?? 'postgresql://postgres@127.0.0.1:5432/test';
const hex = (n: number) => randomBytes(n).toString('hex');
const str = (v: string) => ({ stringValue: v });

/** `requests` GET /customers/:id/orders requests in the last 10 minutes, each: one 20 ms orders query and
 * 6 serial 2 ms item lookups (an N+1). */
function traces(requests: number) {
  const spans: object[] = [];
  const now = Date.now() - 600_000;
  for (let r = 0; r < requests; r++) {
    const traceId = hex(16);
    const root = hex(8);
    const t0 = now + r * 5000;
    const ns = (ms: number) => String(BigInt(t0 + ms) * 1_000_000n);
    spans.push({
      traceId,
      spanId: root,
      name: 'GET /customers/:id/orders',
      kind: 2,
      startTimeUnixNano: ns(0),
      endTimeUnixNano: ns(60),
      attributes: [
        { key: 'http.request.method', value: str('GET') },
        { key: 'http.route', value: str('/customers/:id/orders') },
      ],
    });
    const db = (sql: string, from: number, to: number) => ({
      traceId,
      spanId: hex(8),
      parentSpanId: root,
      name: 'pg.query',
      kind: 3,
      startTimeUnixNano: ns(from),
      endTimeUnixNano: ns(to),
      attributes: [
        { key: 'db.system', value: str('postgresql') },
        { key: 'db.name', value: str('test') },
        { key: 'db.statement', value: str(sql) },
      ],
    });
    spans.push(db(`SELECT * FROM siperf_opt_orders WHERE customer_id = ${r % 1000}`, 1, 21));
    for (let i = 0; i < 6; i++)
      spans.push(db(`SELECT * FROM siperf_opt_items WHERE id = ${i + 1}`, 30 + 3 * i, 32 + 3 * i));
  }
  return JSON.stringify({
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: str('shop') }] }, scopeSpans: [{ spans }] },
    ],
  });
}

describe('optimization API on PostgreSQL', () => {
  const admin = new pg.Pool({ connectionString: PG, max: 1 });
  let t: TestApp;
  before(async () => {
    await admin.query('DROP TABLE IF EXISTS siperf_opt_orders, siperf_opt_items');
    await admin.query(
      'CREATE TABLE siperf_opt_orders (id int PRIMARY KEY, customer_id int NOT NULL, total int NOT NULL)',
    );
    await admin.query(
      'INSERT INTO siperf_opt_orders SELECT g, g % 1000, g % 97 FROM generate_series(1, 100000) g',
    );
    await admin.query('CREATE TABLE siperf_opt_items (id int PRIMARY KEY, name text)');
    await admin.query('ANALYZE siperf_opt_orders');
    await admin.query('CREATE EXTENSION IF NOT EXISTS hypopg').catch(() => {});
    await admin.query('CREATE TABLE IF NOT EXISTS siperf_opt_victim (id int)');
    // The test database's role is the superuser: the operator's explicit opt-in (see sql-sandbox.test.ts for
    // the refusal without it and for a SELECT-only role).
    t = await startTestApp({ pools: `main=${PG}`, allowWritablePools: 1 });
    const r = await post(t.app, '/v1/traces', traces(100), 'application/json');
    assert.equal(r.status, 200);
  });
  after(async () => {
    await t?.close();
    await admin.query('DROP TABLE IF EXISTS siperf_opt_orders, siperf_opt_items, siperf_opt_victim');
    await admin.end();
  });

  test('recommendations: the N+1 and the index, with their gains per hour', async () => {
    const { json } = await get(t.app, '/api/v1/cache-db/optimization/recommendations?window=15m');
    const index = json.recommendations.find((r: { id: string }) => r.id.startsWith('index:main:'));
    assert.ok(index, JSON.stringify(json, null, 1).slice(0, 3000));
    assert.equal(
      index.change,
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS siperf_opt_orders_customer_id_idx ON siperf_opt_orders (customer_id)',
    );
    // 100 calls of 20 ms in 15 minutes: 400 calls/h × 20 ms × the cost share the index removes.
    const e = index.evidence;
    assert.equal(e.callsPerHour, 400);
    assert.equal(e.meanMs, 20);
    if (e.verifiedWith === 'hypopg') {
      const share = 1 - e.costAfter / e.costBefore;
      assert.ok(share > 0.8, `cost ${e.costBefore} → ${e.costAfter}`);
      assert.ok(Math.abs(index.expectedGain.timeSavedMsPerHour - 400 * 20 * share) < 1e-6);
    }
    const n1 = json.recommendations.find((r: { id: string }) => r.id.startsWith('n-plus-one:'));
    assert.match(
      n1.title,
      /N\+1 on GET \/customers\/:id\/orders: SELECT \* FROM siperf_opt_items WHERE id = \$1 runs 6 times per request/,
    );
    // 6 × 2 ms per request; saving 12 − 2 × 2 = 8 ms × 100 requests / 0.25 h = 3,200 ms/h.
    assert.ok(
      Math.abs(n1.expectedGain.timeSavedMsPerHour - 3200) < 1e-6,
      String(n1.expectedGain.timeSavedMsPerHour),
    );
    // Ranked by time saved: the index (≈ 7,000+ ms/h) before the N+1 (3,200 ms/h).
    const ids = json.recommendations.map((r: { id: string }) => r.id);
    assert.ok(ids.indexOf(index.id) < ids.indexOf(n1.id));
  });

  test('a PostgreSQL log upload: digested, and its costly statement explained with the traces', async () => {
    const log = Array.from(
      { length: 30 },
      (_, i) =>
        `2024-03-01 10:${String(i).padStart(2, '0')}:00.000 UTC [${700 + i}] user=app,db=test LOG:  duration: 40.000 ms  statement: SELECT id FROM siperf_opt_orders WHERE total = ${i}`,
    ).join('\n');
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/cache-db/logs?format=pg-stderr&prefix=%25m%20%5B%25p%5D%20user%3D%25u%2Cdb%3D%25d%20',
      payload: log,
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(r.statusCode, 200, r.body);
    const d = r.json();
    assert.deepEqual([d.lines, d.unknownLines, d.events, d.queries.length], [30, 0, 30, 1]);
    assert.equal(d.queries[0].statement, 'SELECT id FROM siperf_opt_orders WHERE total = $1');
    assert.equal(d.queries[0].totalMs, 1200);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/cache-db/logs?format=oracle',
      payload: 'x',
    });
    assert.equal(bad.json().code, 'ERR_QUERY_PARAM');
    const { json } = await get(t.app, '/api/v1/cache-db/optimization/recommendations?window=15m');
    const fromLog = json.recommendations.find((x: { change: string | null }) =>
      x.change?.includes('(total)'),
    );
    assert.ok(fromLog, JSON.stringify(json.notes));
    assert.equal(fromLog.evidence.source, 'logs');
    // 30 calls over the 29 minutes of the log count as 30 per hour (at least an hour).
    assert.equal(fromLog.evidence.callsPerHour, 30);
  });

  test('cached query: rows from PostgreSQL, then from the cache; writes refused', async () => {
    await post(
      t.app,
      '/api/v1/cache-db/caches',
      JSON.stringify({ name: 'queries', maxEntries: 100 }),
      'application/json',
    );
    const body = {
      cacheName: 'queries',
      poolName: 'main',
      query: 'SELECT count(*)::int AS n FROM siperf_opt_orders WHERE customer_id = $1',
      params: [5],
      ttlMs: 60_000,
    };
    const first = await post(
      t.app,
      '/api/v1/cache-db/cached-query',
      JSON.stringify(body),
      'application/json',
    );
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.rows, [{ n: 100 }]);
    assert.equal(first.json.hit, false);
    const second = await post(
      t.app,
      '/api/v1/cache-db/cached-query',
      JSON.stringify(body),
      'application/json',
    );
    assert.equal(second.json.hit, true);
    assert.deepEqual(second.json.rows, [{ n: 100 }]);
    assert.ok(second.json.timeMs < first.json.timeMs);
    for (const query of ['DELETE FROM siperf_opt_orders', 'SELECT 1; DELETE FROM siperf_opt_orders']) {
      const r = await post(
        t.app,
        '/api/v1/cache-db/cached-query',
        JSON.stringify({ ...body, query }),
        'application/json',
      );
      assert.equal(r.status, 400);
      assert.equal(r.json.code, 'ERR_QUERY_NOT_ALLOWED');
    }
    // A SELECT that would write (nextval) is refused on its parse tree: nextval is not on the allow-list.
    await admin.query('CREATE SEQUENCE IF NOT EXISTS siperf_opt_seq');
    const write = await post(
      t.app,
      '/api/v1/cache-db/cached-query',
      JSON.stringify({ ...body, query: "SELECT nextval('siperf_opt_seq')", params: [] }),
      'application/json',
    );
    assert.equal(write.status, 400);
    assert.match(write.json.detail, /nextval\(\) is not on the list/);
    await admin.query('DROP SEQUENCE siperf_opt_seq');
    const noPool = await post(
      t.app,
      '/api/v1/cache-db/cached-query',
      JSON.stringify({ ...body, poolName: 'nope' }),
      'application/json',
    );
    assert.equal(noPool.json.code, 'ERR_POOL_NOT_FOUND');
    const pools = await get(t.app, '/api/v1/cache-db/pools');
    const main = pools.json.pools[0];
    assert.equal(main.name, 'main');
    assert.ok(main.stats.acquired >= 2);
    assert.ok(main.sizing.evidence.dbMaxConnections >= 10);
    assert.equal(JSON.stringify(pools.json).includes('postgres@'), false, 'no credentials in the answer');
  });

  test('hostile statements: refused by cached-query, never executed by the advisor', async () => {
    const run = (query: string, params: unknown[] = []) =>
      post(
        t.app,
        '/api/v1/cache-db/cached-query',
        JSON.stringify({ cacheName: 'queries', poolName: 'main', query, params }),
        'application/json',
      );
    for (const [query, why] of [
      ["SELECT '--'; COMMIT; DELETE FROM siperf_opt_orders WHERE id = 1; --'", /one statement only/],
      ["SELECT E'\\''; COMMIT; DELETE FROM siperf_opt_orders; SELECT ''''", /one statement only/],
      ["SELECT set_config('statement_timeout', '0', false)", /set_config\(\)/],
      ['SELECT pg_terminate_backend(pg_backend_pid())', /pg_terminate_backend\(\)/],
      ["SELECT pg_read_file('/etc/hostname')", /pg_read_file\(\)/],
      ['SELECT pg_advisory_lock(42)', /pg_advisory_lock\(\)/],
      ['SELECT * INTO siperf_copy FROM siperf_opt_orders', /INTO/],
    ] as const) {
      const r = await run(query);
      assert.equal(r.status, 400, query);
      assert.equal(r.json.code, 'ERR_QUERY_NOT_ALLOWED');
      assert.match(r.json.detail, why);
    }
    const big = await run('SELECT g FROM generate_series(1, 20000) g');
    assert.equal(big.status, 422);
    assert.equal(big.json.code, 'ERR_QUERY_RESULT_TOO_LARGE');
    assert.match(big.json.detail, /more than 10000 rows/);
    assert.equal((await admin.query('SELECT count(*)::int AS n FROM siperf_opt_orders')).rows[0].n, 100000);
    // A statement from a span that would drop a table: the advisor refuses it (one statement only).
    const traceId = hex(16);
    const now = BigInt(Date.now() - 60_000) * 1_000_000n;
    const span = (statement: string) => ({
      traceId,
      spanId: hex(8),
      name: 'pg.query',
      kind: 3,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 1_500_000_000n),
      attributes: [
        { key: 'db.system', value: str('postgresql') },
        { key: 'db.name', value: str('test') },
        { key: 'db.statement', value: str(statement) },
      ],
    });
    await post(
      t.app,
      '/v1/traces',
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: str('evil') }] },
            scopeSpans: [
              {
                spans: [
                  span('SELECT 1; DROP TABLE siperf_opt_victim'),
                  span("SELECT 1 FROM siperf_opt_orders WHERE id = 1 /* ; */ AND 'x;' <> ''"),
                ],
              },
            ],
          },
        ],
      }),
      'application/json',
    );
    const { json } = await get(t.app, '/api/v1/cache-db/optimization/recommendations?window=15m');
    assert.ok(
      json.notes.some((n: string) => n.includes('one statement only')),
      JSON.stringify(json.notes),
    );
    assert.equal(
      (await admin.query("SELECT to_regclass('siperf_opt_victim') IS NOT NULL AS there")).rows[0].there,
      true,
    );
  });
});
