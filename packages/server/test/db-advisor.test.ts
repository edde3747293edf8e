/**
 * The plan advisor on the machine's real PostgreSQL (database test): a 100,000-row table without an index
 * on the column a query filters by, a foreign key without an index, and a duplicate index.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  adviseStatement,
  catalogFindings,
  hypopgAvailable,
  withAdvisorSession,
} from '../src/db/pg-advisor.ts';
import { filterColumns } from '../src/db/plan-rules.ts';

const PG = process.env.SIPERF_TEST_PG ?? 'postgresql://postgres@127.0.0.1:5432/test';

test('filter columns: equality first, then one range column; parameters and casts ignored', () => {
  assert.deepEqual(filterColumns("((created_by = $1) AND (label = 'cat'::text))"), {
    equality: ['created_by', 'label'],
    range: [],
  });
  assert.deepEqual(filterColumns('((amount > $2) AND ((status)::text = $1))'), {
    equality: ['status'],
    range: ['amount'],
  });
});

describe('PostgreSQL plans', () => {
  const pool = new pg.Pool({ connectionString: PG, max: 2 });
  before(async () => {
    await pool.query(`DROP TABLE IF EXISTS siperf_adv_items, siperf_adv_orders`);
    await pool.query(
      `CREATE TABLE siperf_adv_orders (id int PRIMARY KEY, customer_id int NOT NULL, total numeric NOT NULL)`,
    );
    await pool.query(
      `INSERT INTO siperf_adv_orders SELECT g, g % 1000, g % 97 FROM generate_series(1, 100000) g`,
    );
    await pool.query(
      `CREATE TABLE siperf_adv_items (id int PRIMARY KEY, order_id int NOT NULL REFERENCES siperf_adv_orders(id), sku text)`,
    );
    await pool.query(`CREATE INDEX siperf_adv_orders_total_idx ON siperf_adv_orders (total)`);
    await pool.query(`CREATE INDEX siperf_adv_orders_total_dup_idx ON siperf_adv_orders (total)`);
    await pool.query('ANALYZE siperf_adv_orders');
    // The advisor uses HypoPG only where the extension was created (it never creates it itself).
    await pool.query('CREATE EXTENSION IF NOT EXISTS hypopg').catch(() => {});
  });
  after(async () => {
    await pool.query(`DROP TABLE IF EXISTS siperf_adv_items, siperf_adv_orders`);
    await pool.end();
  });

  test('a selective filter on a 100,000-row table without an index: CREATE INDEX, verified with HypoPG', async (t) => {
    const client = await pool.connect();
    try {
      const hypopg = (await hypopgAvailable(client)) === 'created';
      const advice = await withAdvisorSession(client, () =>
        adviseStatement(client, 'SELECT * FROM siperf_adv_orders WHERE customer_id = $1', { hypopg }),
      );
      assert.equal(advice.plan['Node Type'], 'Seq Scan');
      const f = advice.findings[0]!;
      assert.equal(f.rule, 'seq_scan_selective_filter');
      assert.deepEqual(f.columns, ['customer_id']);
      assert.equal(
        f.fix,
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS siperf_adv_orders_customer_id_idx ON siperf_adv_orders (customer_id)',
      );
      // The planner expects 100,000 / 1,000 distinct values = 100 rows: 0.1% of the table.
      assert.equal(f.evidence.planRows, 100);
      if (!hypopg) {
        t.diagnostic('HypoPG is not installed (postgresql-15-hypopg): the gain is an estimate');
        assert.equal(f.verifiedWith, 'estimate');
        return;
      }
      assert.equal(f.verifiedWith, 'hypopg');
      assert.ok(f.costAfter! < f.costBefore! / 5, `cost ${f.costBefore} → ${f.costAfter}`);
    } finally {
      client.release();
    }
  });

  test('catalog: the foreign key without an index and the duplicate index', async () => {
    const client = await pool.connect();
    try {
      const found = (await catalogFindings(client)).filter((f) => f.table.startsWith('siperf_adv'));
      const fk = found.find((f) => f.rule === 'fk_without_index')!;
      assert.equal(fk.table, 'siperf_adv_items');
      assert.deepEqual(fk.evidence.columns, ['order_id']);
      assert.equal(
        fk.fix,
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS siperf_adv_items_order_id_idx ON siperf_adv_items (order_id)',
      );
      const dup = found.filter((f) => f.rule === 'duplicate_index');
      assert.equal(dup.length, 1);
      assert.equal(dup[0]!.fix, 'DROP INDEX CONCURRENTLY siperf_adv_orders_total_dup_idx');
    } finally {
      client.release();
    }
  });
});

describe('MariaDB plans', () => {
  test('a full scan with a condition, and a filesort: index suggestions from EXPLAIN FORMAT=JSON', async () => {
    const { createMysqlPool } = await import('@siperf/node/db');
    const { adviseMysqlStatement, conditionColumns } = await import('../src/db/mysql-advisor.ts');
    assert.deepEqual(conditionColumns("`test`.`t1`.`c` = '1' and `test`.`t1`.`d` > 5", 't1'), ['c', 'd']);
    const pool = createMysqlPool('adv', {
      uri: process.env.SIPERF_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306/test',
      connectionLimit: 1,
    });
    try {
      await pool.query('DROP TABLE IF EXISTS siperf_adv_events');
      await pool.query(
        'CREATE TABLE siperf_adv_events (id int PRIMARY KEY, account int NOT NULL, kind varchar(20))',
      );
      // 20,000 rows: 100 accounts, 20 kinds.
      const values = Array.from({ length: 20_000 }, (_, i) => `(${i + 1}, ${i % 100}, 'k${i % 20}')`);
      await pool.query(`INSERT INTO siperf_adv_events VALUES ${values.join(',')}`);
      await pool.query('ANALYZE TABLE siperf_adv_events');
      const advice = await adviseMysqlStatement(
        pool,
        'SELECT * FROM siperf_adv_events WHERE account = ? ORDER BY kind LIMIT ?',
      );
      const scan = advice.findings.find((f) => f.rule === 'full_table_scan')!;
      assert.deepEqual(scan.columns, ['account']);
      assert.equal(
        scan.fix,
        'CREATE INDEX `siperf_adv_events_account_idx` ON `siperf_adv_events` (`account`)',
      );
      assert.ok(Number(scan.evidence.rows) >= 19_000, String(scan.evidence.rows));
      assert.ok(advice.findings.some((f) => f.rule === 'filesort'));
    } finally {
      await pool.query('DROP TABLE IF EXISTS siperf_adv_events').catch(() => {});
      await pool.end();
    }
  });
});
