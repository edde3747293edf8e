/**
 * A cached query's hit path against running the same query on real PostgreSQL, in the same run:
 * - library: `cache.getOrLoad(key, () => pool.query(sql, params))` hit vs `pool.query(sql, params)`;
 * - HTTP: `POST /api/v1/cache-db/cached-query` hit vs the same endpoint on a miss each time (a fresh key),
 *   over loopback with keep-alive.
 * Two queries on a 100,000-row table: an indexed lookup (cheap for PostgreSQL) and a filter on an
 * unindexed column (a sequential scan). The seed claimed 2,160× for the hit path; this reports what it is.
 *
 * Usage: npm run bench:cached-query -- [--iterations=2000]. Writes bench/results/cached-query.json.
 */
import pg from 'pg';
import { createCache } from '../../packages/node/src/cache/index.ts';
import { loadConfig, startServer } from '../../packages/server/src/index.ts';
import { gitCommit, option, writeResults } from '../lib/run-info.ts';

const N = Number(option('iterations', 'BENCH_ITERATIONS', '2000'));
const PG = option('pg', 'BENCH_PG', 'postgresql://postgres@127.0.0.1:5432/test');
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

const pool = new pg.Pool({ connectionString: PG, max: 4 });
await pool.query('DROP TABLE IF EXISTS siperf_bench_orders');
await pool.query(
  'CREATE TABLE siperf_bench_orders (id int PRIMARY KEY, customer_id int NOT NULL, total int NOT NULL)',
);
await pool.query(
  'INSERT INTO siperf_bench_orders SELECT g, g % 1000, g % 97 FROM generate_series(1, 100000) g',
);
await pool.query('ANALYZE siperf_bench_orders');

const QUERIES = [
  {
    name: 'indexed lookup (primary key)',
    sql: 'SELECT id, customer_id, total FROM siperf_bench_orders WHERE id = $1',
    params: [4242],
  },
  {
    name: 'unindexed filter (seq scan of 100k rows)',
    sql: 'SELECT count(*)::int AS n FROM siperf_bench_orders WHERE customer_id = $1',
    params: [42],
  },
];

async function perCall(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return ((performance.now() - t0) * 1000) / n; // µs
}

const rows: Record<string, unknown>[] = [];
const cache = createCache<unknown>('bench-query', { maxEntries: 10_000, exportMetrics: false });
const server = await startServer(
  loadConfig({
    flags: {
      port: 0,
      dataDir: ':memory:',
      logLevel: 'silent',
      pools: `main=${PG}`,
      resourceSampleIntervalMs: 0,
      alertEvaluationIntervalMs: 0,
    },
  }),
);
await fetch(`${server.url}/api/v1/cache-db/caches`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'q', maxEntries: 100_000 }),
});
const post = (body: object) =>
  fetch(`${server.url}/api/v1/cache-db/cached-query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.json());

for (const q of QUERIES) {
  const direct = await perCall(N, () => pool.query(q.sql, q.params));
  const hit = await perCall(N * 20, () =>
    cache.getOrLoad(`k:${q.name}`, async () => (await pool.query(q.sql, q.params)).rows),
  );
  const httpHit = await perCall(N, () =>
    post({ cacheName: 'q', poolName: 'main', query: q.sql, params: q.params }),
  );
  const httpMiss = await perCall(Math.min(N, 500), (i) =>
    post({
      cacheName: 'q',
      poolName: 'main',
      query: q.sql,
      params: q.params,
      cacheKey: `miss:${q.name}:${i}:${Math.random()}`,
    }),
  );
  rows.push({ query: q.name, directUs: direct, cacheHitUs: hit, httpHitUs: httpHit, httpMissUs: httpMiss });
}

out(`# Cached query: hit path against PostgreSQL (commit ${gitCommit()}, ${N} calls each)`);
out();
out(
  '| query | pool.query µs | getOrLoad hit µs | library speed-up | HTTP hit µs | HTTP miss µs | HTTP speed-up |',
);
out('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows as {
  query: string;
  directUs: number;
  cacheHitUs: number;
  httpHitUs: number;
  httpMissUs: number;
}[]) {
  out(
    `| ${r.query} | ${r.directUs.toFixed(1)} | ${r.cacheHitUs.toFixed(2)} | ${(r.directUs / r.cacheHitUs).toFixed(0)}× | ${r.httpHitUs.toFixed(1)} | ${r.httpMissUs.toFixed(1)} | ${(r.httpMissUs / r.httpHitUs).toFixed(1)}× |`,
  );
}
writeResults('cached-query.json', { commit: gitCommit(), iterations: N, rows });
await server.stop();
await pool.query('DROP TABLE IF EXISTS siperf_bench_orders');
await pool.end();
