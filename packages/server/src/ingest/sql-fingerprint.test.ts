import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadSqlParser, normaliseCommand, normaliseGeneric, normaliseStatement } from './sql-fingerprint.ts';

before(() => loadSqlParser());

test('PostgreSQL: literals become $n and IN lists of any length share one fingerprint', () => {
  const a = normaliseStatement('postgresql', "SELECT * FROM users WHERE id = 42 AND name = 'bob'");
  assert.equal(a.statement, 'SELECT * FROM users WHERE id = $1 AND name = $2');
  const b = normaliseStatement('postgresql', "SELECT * FROM users WHERE id = 7 AND name = 'alice'");
  assert.equal(a.fingerprint, b.fingerprint);
  const c = normaliseStatement('postgresql', 'SELECT * FROM t WHERE id IN (1, 2, 3)');
  const d = normaliseStatement('postgresql', 'SELECT * FROM t WHERE id IN (4, 5)');
  assert.equal(c.fingerprint, d.fingerprint);
  assert.notEqual(a.fingerprint, c.fingerprint);
});

test('other SQL: pt-query-digest rules (strings, numbers, IN lists, comments, whitespace)', () => {
  const r = normaliseGeneric(
    "SELECT  a FROM t /* hint */ WHERE x = 'it''s' AND y IN (1, 2,3) AND z = -4.5e3 -- end",
  );
  assert.equal(r.statement, 'SELECT a FROM t WHERE x = ? AND y IN (?+) AND z = ?');
  assert.equal(
    r.fingerprint,
    normaliseGeneric('select a from t where x = "q" and y in (9) and z = 1').fingerprint,
  );
  assert.match(r.fingerprint, /^[0-9a-f]{16}$/);
});

test('identifiers with digits are kept; MySQL statements are normalised without the PostgreSQL parser', () => {
  assert.equal(
    normaliseStatement('mysql', 'SELECT col1 FROM t2 WHERE id=731').statement,
    'SELECT col1 FROM t2 WHERE id=?',
  );
});

test('Redis commands keep the command and hide every argument', () => {
  assert.equal(normaliseCommand('hget cart:42 a790148b-1c2d').statement, 'HGET ? ?');
  assert.equal(
    normaliseStatement('redis', 'GET driver:7').fingerprint,
    normaliseStatement('redis', 'GET driver:9').fingerprint,
  );
});

test('hostile statements: an escaped-quote flood normalises in one pass, NUL bytes and huge texts are not misparsed', () => {
  const flood = `SELECT '${"\\'".repeat(5_000)}' FROM t`;
  assert.equal(normaliseStatement('mysql', flood).statement, 'SELECT ? FROM t');
  assert.equal(normaliseStatement('mysql', `SELECT '${"\\'".repeat(50_000)}`).statement, 'SELECT ? …');
  const nul = normaliseStatement('postgresql', 'SELECT 1\u0000; DROP TABLE spans');
  assert.notEqual(nul.fingerprint, normaliseStatement('postgresql', 'SELECT 1').fingerprint);
  const deep = `SELECT ${'('.repeat(100_000)}1${')'.repeat(100_000)}`;
  const r = normaliseStatement('postgresql', deep);
  assert.match(r.fingerprint, /^[0-9a-f]{16}$/);
  assert.ok(r.statement.endsWith(' …'), 'statements past 16 KiB are cut and marked');
  assert.ok(r.statement.length < 17_000);
});
