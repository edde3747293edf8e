import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { PG_FUNCTIONS, PG_TYPES } from './sql-allow-lists.ts';

const PG = process.env.SIPERF_TEST_PG ?? 'postgresql://postgres@127.0.0.1:5432/test';

test('every allow-listed PostgreSQL function is built in, and every overload of its name is immutable or stable, not SECURITY DEFINER, and no pg_* name', async () => {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    const r = await client.query<{ name: string; volatility: string; secdef: boolean; schemas: string }>(
      `SELECT n.name, coalesce(string_agg(DISTINCT p.provolatile::text, ''), 'missing') AS volatility,
              coalesce(bool_or(p.prosecdef), false) AS secdef, coalesce(string_agg(DISTINCT s.nspname, ','), '') AS schemas
       FROM unnest($1::text[]) AS n(name)
       LEFT JOIN pg_proc p ON p.proname = n.name
       LEFT JOIN pg_namespace s ON s.oid = p.pronamespace AND s.nspname = 'pg_catalog'
       GROUP BY n.name`,
      [[...PG_FUNCTIONS]],
    );
    const bad = r.rows.filter(
      (x) => !/^[is]+$/.test(x.volatility) || x.secdef || !x.schemas.includes('pg_catalog'),
    );
    assert.deepEqual(bad, []);
    assert.deepEqual(
      [...PG_FUNCTIONS].filter((f) => f.startsWith('pg_') || f.startsWith('lo_')),
      [],
    );
    const types = await client.query<{ name: string }>(
      `SELECT n.name FROM unnest($1::text[]) AS n(name)
       WHERE NOT EXISTS (SELECT 1 FROM pg_type t WHERE t.typname = n.name AND t.typnamespace = 'pg_catalog'::regnamespace AND t.typtype IN ('b', 'r'))`,
      [[...PG_TYPES]],
    );
    assert.deepEqual(types.rows, [], 'every allow-listed type is a built-in base or range type');
  } finally {
    await client.end();
  }
});
