import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dbCallOf } from './semconv.ts';
import { loadSqlParser } from './sql-fingerprint.ts';

test('database calls: statements, operations and names stand in; pool connects are not calls', async () => {
  await loadSqlParser();
  const pg = { 'db.system': 'postgresql', 'db.name': 'shop' };
  assert.equal(dbCallOf('pg-pool.connect', pg), undefined);
  assert.equal(dbCallOf('connect', { 'db.system': 'mysql' }), undefined);
  assert.equal(
    dbCallOf('pg.query:SELECT shop', { ...pg, 'db.statement': 'SELECT 1 FROM t WHERE id = 7' })?.statement,
    'SELECT $1 FROM t WHERE id = $2',
  );
  assert.equal(dbCallOf('GET', { 'db.system': 'redis', 'db.operation': 'GET' })?.statement, 'GET');
  assert.equal(dbCallOf('render', {}), undefined);
});
