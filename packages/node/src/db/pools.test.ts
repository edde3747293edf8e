/**
 * The instrumented pools against the machine's real PostgreSQL (127.0.0.1:5432, database test) and
 * MariaDB (127.0.0.1:3306, database test), and the sizing arithmetic by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createMysqlPool,
  createPgPool,
  PoolAcquireTimeoutError,
  type PoolStats,
  poolSizing,
} from './index.ts';

const PG = process.env.SIPERF_TEST_PG ?? 'postgresql://postgres@127.0.0.1:5432/test';
const MYSQL = process.env.SIPERF_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306/test';

test('pg pool: statement timeout, acquire timeout, wait/hold/create figures', async () => {
  // The acquire timeout is far above the 100 ms the third caller waits below, so a busy machine that
  // releases late still hands the connection over instead of timing the caller out.
  const pool = createPgPool('pg-test', {
    connectionString: PG,
    max: 2,
    statementTimeoutMs: 200,
    acquireTimeoutMs: 1500,
  });
  try {
    await assert.rejects(pool.query('SELECT pg_sleep(1)'), /statement timeout/);
    // Both connections held; the first is released 100 ms after the third caller queued.
    const a = await pool.connect();
    const b = await pool.connect();
    const third = pool.connect();
    assert.equal(pool.stats().pending, 1, 'the third caller waits');
    await new Promise((r) => setTimeout(r, 100));
    a.release();
    const c = await third;
    const waited = pool.stats().acquireWait.maxMs;
    assert.ok(waited >= 95 && waited < 1500, `the third caller waited ${waited} ms for the first release`);
    // Now both are held: a fourth caller gives up after the acquire timeout.
    await assert.rejects(pool.connect(), /timeout/);
    b.release();
    c.release();
    const s = pool.stats();
    assert.equal(s.timeouts, 1);
    assert.equal(s.max, 2);
    assert.equal(s.total, 2);
    assert.equal(s.idle, 2);
    assert.equal(s.create.count, 2, 'two connections were opened');
    assert.ok(s.hold.maxMs >= 95, `a's hold ${s.hold.maxMs} ms`);
    assert.ok((await pool.serverMaxConnections()) >= 2);
  } finally {
    await pool.end();
  }
});

test('mysql2 pool on MariaDB: statement timeout, acquire timeout, figures', async () => {
  const pool = createMysqlPool('mysql-test', {
    uri: MYSQL,
    connectionLimit: 2,
    statementTimeoutMs: 200,
    // Long enough to open two connections on a loaded machine; the third caller waits it out.
    acquireTimeoutMs: 2000,
  });
  try {
    await assert.rejects(
      pool.query('SELECT SLEEP(1) FROM DUAL WHERE 1 = (SELECT 1)'),
      /max_statement_time|interrupted|maximum statement execution time/i,
    );
    const a = await pool.getConnection();
    const b = await pool.getConnection();
    await assert.rejects(pool.getConnection(), PoolAcquireTimeoutError);
    a.release();
    b.release();
    const s = pool.stats();
    assert.equal(s.timeouts, 1);
    assert.equal(s.max, 2);
    assert.equal(s.active, 0);
    assert.ok(s.create.count >= 1);
    assert.ok((await pool.serverMaxConnections()) >= 2);
  } finally {
    await pool.end();
  }
});

test("sizing by Little's law, computed by hand", () => {
  const d = (count: number, meanMs: number, p95Ms: number) => ({
    count,
    meanMs,
    p50Ms: meanMs,
    p95Ms,
    maxMs: p95Ms,
  });
  const base: PoolStats = {
    name: 'orders',
    driver: 'postgresql',
    max: 10,
    total: 10,
    idle: 8,
    active: 2,
    pending: 0,
    acquired: 36_000,
    timeouts: 0,
    errors: 0,
    acquireWait: d(36_000, 0.1, 0.2),
    hold: d(36_000, 50, 80),
    create: d(10, 5, 8),
    statementTimeoutMs: 30_000,
    acquireTimeoutMs: 10_000,
    since: new Date(0).toISOString(),
    acquisitionsPerSecond: 10,
  };
  // λ = 10/s, W = 50 ms → L = 0.5; p95 80 ms → 0.8; ⌈0.8 × 1.2⌉ = 1 → at least 2: max 10 is 5× too many.
  const calm = poolSizing(base, 100);
  assert.equal(calm.evidence.meanConcurrency, 0.5);
  assert.equal(calm.evidence.peakConcurrency, 0.8);
  assert.equal(calm.action, 'decrease');
  assert.equal(calm.recommended, 2);
  // λ = 400/s with the same holds: L = 20, peak 32 → ⌈38.4⌉ = 39; callers wait (share 0.5 / (0.5 + 50)…
  // made high below); max_connections 100 over 3 instances caps at ⌊90 / 3⌋ = 30.
  const busy = poolSizing({ ...base, acquisitionsPerSecond: 400, acquireWait: d(36_000, 25, 60) }, 100, 3);
  assert.equal(busy.evidence.peakConcurrency, 32);
  assert.ok(Math.abs(busy.evidence.waitShare - 25 / 75) < 1e-9);
  assert.equal(busy.action, 'increase');
  assert.equal(busy.recommended, 30);
  assert.match(busy.reasoning.join(' '), /Capped at 30/);
});

test('pool metrics: db.client.connection.* with the semantic-convention names', async () => {
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } =
    await import('@opentelemetry/sdk-metrics');
  const { exportPoolMetrics } = await import('./index.ts');
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const pool = createPgPool('metrics-test', { connectionString: PG, max: 3 });
  try {
    const stop = exportPoolMetrics(pool, provider.getMeter('test'));
    await pool.query('SELECT 1');
    await pool.query('SELECT 2');
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const byName = new Map(metrics.map((m) => [m.descriptor.name, m]));
    const count = byName.get('db.client.connection.count')!;
    const idle = count.dataPoints.find((p) => p.attributes['db.client.connection.state'] === 'idle')!;
    assert.equal(idle.value, 1, 'one connection opened and idle again');
    assert.equal(idle.attributes['db.client.connection.pool.name'], 'metrics-test');
    assert.equal(byName.get('db.client.connection.max')!.dataPoints[0]!.value, 3);
    const wait = byName.get('db.client.connection.wait_time')!;
    assert.equal(wait.descriptor.unit, 's');
    assert.equal((wait.dataPoints[0]!.value as { count: number }).count, 2);
    stop();
  } finally {
    await pool.end();
    await provider.shutdown();
  }
});

test('pg pool: a backend terminated between two queries of a checked-out client is an error counted, not a crash', async () => {
  const pool = createPgPool('pg-terminated', { connectionString: PG, max: 1 });
  const admin = createPgPool('pg-admin', { connectionString: PG, max: 1 });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const client = await pool.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    // The client is checked out and idle: no query is waiting for the backend's FATAL message. (Waiting
    // on 'end', not 'error': a listener of ours on 'error' would hide the crash this test looks for.)
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await ended;
    await assert.rejects(client.query('SELECT 1'), /not queryable|terminated/i);
    client.release(new Error('terminated'));
    assert.deepEqual(uncaught, [], 'no uncaught exception');
    assert.equal(pool.stats().errors, 1, 'the termination is one error of the pool');
    // The pool replaces the dead connection.
    assert.equal((await pool.query<{ x: number }>('SELECT 1 AS x')).rows[0]!.x, 1);
  } finally {
    process.off('uncaughtException', onUncaught);
    await pool.end();
    await admin.end();
  }
});
