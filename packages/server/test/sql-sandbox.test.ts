/**
 * The SQL sandbox against the machine's real PostgreSQL and MariaDB: the attack corpus
 * (`fixtures/sql-attacks.json`, each case with its class and expected outcome) runs as cached queries on a
 * superuser pool and on a SELECT-only pool, and through the advisor (EXPLAIN, and ANALYZE where allowed),
 * each in a database of its own (created here, dropped after). Before and after: the canary table's rows,
 * the sequences, the tables, no file written where the attacks write, the secret file's content in no
 * answer, no advisory/named/table lock left, the bystander connections alive. Then the HTTP answers
 * (400/403/422/502) and the MariaDB session reset (user variables and named locks gone from a pooled
 * connection).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMysqlPool } from '@siperf/node/db';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { adviseMysqlStatement } from '../src/db/mysql-advisor.ts';
import { adviseStatement, withAdvisorSession } from '../src/db/pg-advisor.ts';
import { DbPools } from '../src/db/pools.ts';
import { resetMysqlSession, runReadOnly } from '../src/db/read-only.ts';
import { SiperfError } from '../src/errors.ts';
import { post, startTestApp } from './helpers.ts';

const PG_HOST = 'postgresql://postgres@127.0.0.1:5432';
const MY_HOST = 'mysql://root@127.0.0.1:3306';

interface AttackCase {
  id: string;
  dialect: 'postgresql' | 'mysql';
  class: string;
  sql: string;
  params?: unknown[];
  expect: 'refused' | 'ok' | 'too-large' | 'stopped' | 'db-error' | 'bounded';
}
const corpus = JSON.parse(readFileSync(new URL('./fixtures/sql-attacks.json', import.meta.url), 'utf8')) as {
  cases: AttackCase[];
};

const tag = randomBytes(4).toString('hex');
const DB = `siperf_sandbox_${tag}`;
const RO = `siperf_ro_${tag}`;
const FILE = join(tmpdir(), `siperf-sandbox-${tag}-out`);
const SECRET = join(tmpdir(), `siperf-sandbox-${tag}-secret`);
const TOKEN = `secret-${randomBytes(8).toString('hex')}`;
/**
 * A huge row stopped before it is sent: by the byte cap, or, on a busy machine, by the statement timeout
 * while the database still builds it (both leave the server's memory alone).
 */
function assertStopped(json: { code: string; detail: string }): void {
  if (json.code === 'ERR_DB_STATEMENT') {
    assert.match(json.detail, /statement timeout|max_statement_time|interrupted/i, json.detail);
    return;
  }
  assert.equal(json.code, 'ERR_QUERY_RESULT_TOO_LARGE', JSON.stringify(json));
}

const fill = (sql: string) => sql.replaceAll('{{FILE}}', FILE).replaceAll('{{SECRET}}', SECRET);

const CODES: Record<AttackCase['expect'], string[]> = {
  refused: ['ERR_QUERY_NOT_ALLOWED'],
  ok: [],
  'too-large': ['ERR_QUERY_RESULT_TOO_LARGE'],
  // A byte bomb is stopped by the byte cap, or, on a machine too busy to build 100 MB in time, by the
  // statement timeout first: either way nothing large is sent.
  stopped: ['ERR_QUERY_RESULT_TOO_LARGE', 'ERR_DB_STATEMENT'],
  'db-error': ['ERR_DB_STATEMENT'],
  bounded: ['ERR_QUERY_NOT_ALLOWED', 'ERR_QUERY_RESULT_TOO_LARGE', 'ERR_DB_STATEMENT'],
};

describe('SQL sandbox: the attack corpus on real PostgreSQL and MariaDB', () => {
  const pgAdmin = new pg.Pool({ connectionString: `${PG_HOST}/postgres`, max: 1 });
  let pgDb: pg.Pool;
  let pgBystander: pg.Client;
  let myAdmin: mysql.Connection;
  let myBystander: mysql.Connection;
  let pools: DbPools;

  /** Everything the attacks must leave as it was. */
  const state = async () => {
    const canaryPg = (await pgDb.query('SELECT id, v FROM canary ORDER BY id')).rows;
    const seqPg = (await pgDb.query('SELECT last_value::text, is_called FROM canary_seq')).rows[0];
    const tablesPg = (
      await pgDb.query("SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace")
    ).rows[0].n;
    const [canaryMy] = await myAdmin.query('SELECT id, v FROM canary ORDER BY id');
    const [seqMy] = await myAdmin.query('SELECT next_not_cached_value FROM canary_seq');
    const [[tablesMy]] = (await myAdmin.query(
      'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ?',
      [DB],
    )) as unknown as [{ n: number }[]];
    return { canaryPg, seqPg, tablesPg, canaryMy, seqMy, tablesMy: tablesMy!.n };
  };
  const assertNothingHeld = async () => {
    assert.equal(existsSync(FILE), false, `${FILE} was written`);
    const locks = await pgDb.query(
      `SELECT l.locktype, l.mode, l.pid FROM pg_locks l
       WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND l.pid <> pg_backend_pid() AND (l.locktype = 'advisory' OR l.relation = 'canary'::regclass)`,
    );
    assert.deepEqual(locks.rows, [], 'no advisory or table lock left on PostgreSQL');
    const [[free]] = (await myAdmin.query("SELECT IS_FREE_LOCK('siperf_attack') AS f")) as unknown as [
      { f: number }[],
    ];
    assert.equal(free!.f, 1, 'the named lock is free on MariaDB');
    // No table lock left either: the admin takes and drops the write lock within a second.
    await myAdmin.query('SET SESSION lock_wait_timeout = 2');
    await myAdmin.query('LOCK TABLES canary WRITE');
    await myAdmin.query('UNLOCK TABLES');
    // No backend killed: the bystanders still answer.
    assert.equal((await pgBystander.query('SELECT 1 AS x')).rows[0].x, 1);
    const [[b]] = (await myBystander.query('SELECT 1 AS x')) as unknown as [{ x: number }[]];
    assert.equal(b!.x, 1);
  };

  before(async () => {
    writeFileSync(SECRET, `${TOKEN}\n`, { mode: 0o644 });
    await pgAdmin.query(`CREATE DATABASE ${DB}`);
    await pgAdmin.query(`CREATE ROLE ${RO} LOGIN PASSWORD 'pw'`);
    pgDb = new pg.Pool({ connectionString: `${PG_HOST}/${DB}`, max: 2 });
    // pg-pool's end() resolves before its sockets have closed, so DROP DATABASE … WITH (FORCE) in after()
    // can terminate a backend that has not read its Terminate message yet: an 'error' on an ended pool.
    pgDb.on('error', () => {});
    await pgDb.query(`CREATE TABLE canary (id int PRIMARY KEY, v text NOT NULL);
      INSERT INTO canary VALUES (1, 'one'), (2, 'two'), (3, 'three');
      CREATE SEQUENCE canary_seq;
      GRANT SELECT ON canary TO ${RO};`);
    pgBystander = new pg.Client({ connectionString: `${PG_HOST}/${DB}` });
    pgBystander.on('error', () => {});
    await pgBystander.connect();
    myAdmin = await mysql.createConnection({ uri: `${MY_HOST}/test`, multipleStatements: false });
    await myAdmin.query(`CREATE DATABASE ${DB}`);
    await myAdmin.query(`USE ${DB}`);
    await myAdmin.query('CREATE TABLE canary (id int PRIMARY KEY, v varchar(20) NOT NULL)');
    await myAdmin.query("INSERT INTO canary VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    await myAdmin.query('CREATE SEQUENCE canary_seq');
    for (const host of ['%', '127.0.0.1', 'localhost']) {
      await myAdmin.query(`CREATE USER '${RO}'@'${host}' IDENTIFIED BY 'pw'`);
      await myAdmin.query(`GRANT SELECT ON ${DB}.* TO '${RO}'@'${host}'`);
    }
    myBystander = await mysql.createConnection({ uri: `${MY_HOST}/${DB}` });
    pools = new DbPools(
      [
        { name: 'pg_super', driver: 'postgresql', url: `${PG_HOST}/${DB}` },
        { name: 'pg_ro', driver: 'postgresql', url: `postgresql://${RO}:pw@127.0.0.1:5432/${DB}` },
        { name: 'my_super', driver: 'mysql', url: `${MY_HOST}/${DB}` },
        { name: 'my_ro', driver: 'mysql', url: `mysql://${RO}:pw@127.0.0.1:3306/${DB}` },
      ],
      { max: 2, statementTimeoutMs: 2000 },
    );
  });

  after(async () => {
    await pools?.close();
    await pgBystander?.end().catch(() => {});
    await pgDb?.end().catch(() => {});
    await pgAdmin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => {});
    await pgAdmin.query(`DROP ROLE IF EXISTS ${RO}`).catch(() => {});
    await pgAdmin.end();
    await myBystander?.end().catch(() => {});
    if (myAdmin) {
      await myAdmin.query(`DROP DATABASE IF EXISTS ${DB}`).catch(() => {});
      for (const host of ['%', '127.0.0.1', 'localhost'])
        await myAdmin.query(`DROP USER IF EXISTS '${RO}'@'${host}'`).catch(() => {});
      await myAdmin.end();
    }
    rmSync(SECRET, { force: true });
    rmSync(FILE, { force: true });
  });

  test('the corpus holds at least 100 attacks, each with a class and an expected outcome', () => {
    assert.ok(corpus.cases.length >= 100, String(corpus.cases.length));
    const ids = new Set(corpus.cases.map((c) => c.id));
    assert.equal(ids.size, corpus.cases.length, 'unique ids');
    for (const c of corpus.cases) {
      assert.ok(
        c.class && c.expect in CODES && ['postgresql', 'mysql'].includes(c.dialect),
        JSON.stringify(c),
      );
    }
  });

  for (const dialect of ['postgresql', 'mysql'] as const) {
    test(`cached queries (${dialect}): every attack gets its expected outcome on a superuser and a SELECT-only pool; nothing written, read, locked or killed`, async () => {
      const before = await state();
      const wrong: string[] = [];
      for (const c of corpus.cases.filter((x) => x.dialect === dialect)) {
        for (const poolName of dialect === 'postgresql' ? ['pg_super', 'pg_ro'] : ['my_super', 'my_ro']) {
          const t0 = performance.now();
          let outcome: string;
          let body = '';
          try {
            const rows = await runReadOnly(pools.get(poolName), fill(c.sql), c.params ?? [], {
              maxBytes: 1024 * 1024,
              allowWritablePools: true,
            });
            outcome = 'ok';
            body = JSON.stringify(rows);
          } catch (err) {
            outcome = err instanceof SiperfError ? err.code : `thrown ${(err as Error).message}`;
            body = (err as Error).message;
          }
          const ms = performance.now() - t0;
          const fine =
            c.expect === 'ok'
              ? outcome === 'ok'
              : c.expect === 'bounded'
                ? outcome === 'ok' || CODES.bounded.includes(outcome)
                : CODES[c.expect].includes(outcome);
          if (!fine)
            wrong.push(
              `${c.id} ${poolName} [${c.class}] ${c.sql.slice(0, 70)}: expected ${c.expect}, got ${outcome}: ${body.slice(0, 200)}`,
            );
          if (body.includes(TOKEN))
            wrong.push(`${c.id} ${poolName}: the secret file's content is in the answer`);
          if (ms > 8000) wrong.push(`${c.id} ${poolName}: took ${Math.round(ms)} ms`);
        }
      }
      assert.deepEqual(wrong, []);
      assert.deepEqual(await state(), before, 'canary rows, sequences and tables unchanged');
      await assertNothingHeld();
    });
  }

  test('the advisor (EXPLAIN, and ANALYZE where allowed) turns no attack into an effect', async () => {
    const before = await state();
    const client = await pgDb.connect();
    const myPool = createMysqlPool('advisor', {
      uri: `${MY_HOST}/${DB}`,
      connectionLimit: 1,
      statementTimeoutMs: 2000,
    });
    const explained: string[] = [];
    try {
      for (const c of corpus.cases) {
        const sql = fill(c.sql);
        try {
          if (c.dialect === 'postgresql')
            await withAdvisorSession(
              client,
              () => adviseStatement(client, sql, { hypopg: false, analyze: true }),
              2000,
            );
          else await adviseMysqlStatement(myPool, sql);
          explained.push(c.id);
        } catch {
          // refused, or the server's error: either way nothing ran
        }
      }
    } finally {
      client.release();
      await myPool.end();
    }
    // Only harmless statements got a plan; none of the refused classes did, except that PostgreSQL plans a
    // top-level INSERT/UPDATE/DELETE (EXPLAIN without ANALYZE: planned, never run; the canary shows it).
    const refused = new Set(
      corpus.cases
        .filter((c) => c.expect === 'refused')
        .filter((c) => !(c.dialect === 'postgresql' && /^(INSERT|UPDATE|DELETE) /.test(c.sql)))
        .map((c) => c.id),
    );
    assert.deepEqual(
      explained.filter((id) => refused.has(id)),
      [],
    );
    assert.ok(explained.length >= 10, `some harmless statements were explained: ${explained.join(' ')}`);
    assert.deepEqual(await state(), before);
    await assertNothingHeld();
  });

  test('HTTP: a refused statement is 400, a database refusal or a cap 422, a writable pool 403, a pool that is down 502', async () => {
    const t = await startTestApp({
      pools: [
        `pg_super=${PG_HOST}/${DB}`,
        `pg_ro=postgresql://${RO}:pw@127.0.0.1:5432/${DB}`,
        `my_super=${MY_HOST}/${DB}`,
        `my_ro=mysql://${RO}:pw@127.0.0.1:3306/${DB}`,
        'down=postgresql://nobody@127.0.0.1:1/none',
      ].join(','),
    });
    try {
      const cache = await post(
        t.app,
        '/api/v1/cache-db/caches',
        JSON.stringify({ name: 'q', maxEntries: 10 }),
        'application/json',
      );
      assert.equal(cache.status, 201, JSON.stringify(cache.json));
      const run = (poolName: string, query: string, params: unknown[] = []) =>
        post(
          t.app,
          '/api/v1/cache-db/cached-query',
          JSON.stringify({
            cacheName: 'q',
            poolName,
            query,
            params,
            cacheKey: randomBytes(4).toString('hex'),
          }),
          'application/json',
        );
      const ok = await run('pg_ro', 'SELECT count(*)::int AS n FROM canary');
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.deepEqual(ok.json.rows, [{ n: 3 }]);
      const myOk = await run('my_ro', 'SELECT id FROM canary WHERE v = ?', ['two']);
      assert.deepEqual([myOk.status, myOk.json.rows], [200, [{ id: 2 }]]);
      for (const [pool, query, status, code] of [
        ['pg_super', 'SELECT 1', 403, 'ERR_POOL_WRITABLE'],
        ['my_super', 'SELECT 1', 403, 'ERR_POOL_WRITABLE'],
        ['pg_ro', 'SELECT pg_sleep(1)', 400, 'ERR_QUERY_NOT_ALLOWED'],
        ['my_ro', `SELECT 1 --1, LOAD_FILE('${SECRET}')`, 400, 'ERR_QUERY_NOT_ALLOWED'],
        ['pg_ro', 'SELECT * FROM no_such_table', 422, 'ERR_DB_STATEMENT'],
        ['pg_ro', 'SELECT 1/0', 422, 'ERR_DB_STATEMENT'],
        ['my_ro', 'SELECT * FROM no_such_table', 422, 'ERR_DB_STATEMENT'],
        ['pg_ro', 'SELECT g FROM generate_series(1, 20000) g', 422, 'ERR_QUERY_RESULT_TOO_LARGE'],
        ['my_ro', 'SELECT seq FROM seq_1_to_100000', 422, 'ERR_QUERY_RESULT_TOO_LARGE'],
        ['down', 'SELECT 1', 502, 'ERR_DB_QUERY'],
      ] as const) {
        const r = await run(pool, query);
        assert.equal(r.status, status, `${pool} ${query}: ${JSON.stringify(r.json)}`);
        assert.equal(r.json.code, code);
      }
      const writable = await run('pg_super', 'SELECT 1');
      assert.match(writable.json.detail, /is a superuser.*allowWritablePools=1/);
      // A 100 MB row is stopped by the server (it is never sent), so the server's memory does not grow by it.
      const rss0 = process.memoryUsage().rss;
      const big = await run('pg_ro', "SELECT repeat('x', 100000000) AS x");
      assertStopped(big.json);
      assert.ok(process.memoryUsage().rss - rss0 < 64 * 1024 * 1024, 'RSS grew by less than 64 MB');
      const myBig = await run('my_ro', "SELECT REPEAT('x', 15000000) AS x");
      assertStopped(myBig.json);
      assert.ok(process.memoryUsage().rss - rss0 < 96 * 1024 * 1024, 'RSS grew by less than 96 MB');
    } finally {
      await t.close();
    }
  });

  test('MariaDB: a pooled connection keeps no user variable, named lock or session setting after the sandbox', async () => {
    const pool = createMysqlPool('reset', {
      uri: `${MY_HOST}/${DB}`,
      connectionLimit: 1,
      statementTimeoutMs: 3000,
    });
    try {
      const conn = await pool.getConnection();
      const id = conn.threadId;
      await conn.query("SET @siperf_x = 'left over', SESSION sql_select_limit = 1");
      await conn.query("SELECT GET_LOCK('siperf_attack', 0)");
      await resetMysqlSession(conn, { role: 'root', powers: [], mariadb: true }, 3000);
      const again = await pool.getConnection();
      try {
        assert.equal(again.threadId, id, 'the same pooled connection');
        const [[row]] = (await again.query(
          "SELECT @siperf_x AS x, IS_USED_LOCK('siperf_attack') AS lock_holder, @@session.sql_select_limit AS lim, @@session.max_statement_time AS mst",
        )) as unknown as [Record<string, unknown>[]];
        assert.equal(row!.x, null);
        assert.equal(row!.lock_holder, null);
        assert.notEqual(Number(row!.lim), 1);
        assert.equal(Number(row!.mst), 3, "the pool's statement timeout is set again");
      } finally {
        again.release();
      }
    } finally {
      await pool.end();
    }
  });
});
