/**
 * PGlite over the wire protocol, with `pg` (the driver of siperf's advisor) as the client: the advisor's
 * own calls (a generic plan through PREPARE and EXPLAIN … EXECUTE, bound parameters, catalog reads), and
 * the one PGlite session shared fairly — a client's transaction keeps the service's queries out until it
 * ends, and a client that leaves inside one has it rolled back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { serveWire } from '../src/pglite-wire.ts';

const extended = (text: string) => ({ text, values: [], queryMode: 'extended' }) as unknown as pg.QueryConfig;

test('pg reaches PGlite over the wire: plans, parameters, and one session shared at transaction bounds', {
  timeout: 120_000,
}, async () => {
  const db = await PGlite.create();
  const wire = await serveWire(db);
  const pool = new pg.Pool({ connectionString: wire.url, max: 2 });
  try {
    // 10,000 rows, 50 values of v: an unindexed filter on v is a sequential scan.
    await db.query('CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)');
    await db.query('INSERT INTO t SELECT g, g % 50 FROM generate_series(1, 10000) g');
    await db.query('ANALYZE t');
    const c = await pool.connect();
    try {
      assert.match((await c.query('SELECT version() AS v')).rows[0].v, /PGlite/);
      // As the advisor does: the generic plan of a statement with a placeholder.
      await c.query("SET plan_cache_mode = force_generic_plan; SET statement_timeout = '10s'");
      await c.query(extended('PREPARE q AS SELECT count(*) FROM t WHERE v = $1'));
      const plan = (await c.query(extended('EXPLAIN (FORMAT JSON) EXECUTE q(NULL)'))).rows[0]['QUERY PLAN'][0]
        .Plan;
      assert.equal(plan.Plans[0]['Node Type'], 'Seq Scan');
      assert.equal(plan.Plans[0]['Relation Name'], 't');
      await c.query('DEALLOCATE ALL; RESET plan_cache_mode; RESET statement_timeout');
      assert.deepEqual((await c.query('SELECT $1::int + 1 AS x', [41])).rows, [{ x: 42 }]);
      // HypoPG is not part of PGlite: the advisor falls back to an estimate.
      const hypo = await c.query("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'");
      assert.equal(hypo.rowCount, 0);

      // A client's transaction: the service's query waits for its end, and sees none of its writes.
      await c.query('BEGIN');
      await c.query('INSERT INTO t VALUES (0, 0)');
      let served: number | undefined;
      const service = wire.lock
        .run(() => db.query<{ n: number }>('SELECT count(*)::int AS n FROM t'))
        .then((r) => {
          served = r.rows[0]!.n;
        });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(served, undefined, 'the service ran inside the client transaction');
      await c.query('ROLLBACK');
      await service;
      assert.equal(served, 10_000);
    } finally {
      c.release();
    }

    // A client that leaves inside a transaction: rolled back, and the session is free again.
    const gone = new pg.Client({ connectionString: wire.url });
    gone.on('error', () => {});
    await gone.connect();
    await gone.query('BEGIN');
    await gone.query('DELETE FROM t');
    (gone as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const after = await wire.lock.run(() => db.query<{ n: number }>('SELECT count(*)::int AS n FROM t'));
    assert.equal(after.rows[0]!.n, 10_000);
    assert.equal(db.isInTransaction(), false);
  } finally {
    await pool.end();
    await wire.close();
    await db.close();
  }
});
