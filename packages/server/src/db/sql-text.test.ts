import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOutsideLiterals, statementCount } from './sql-text.ts';

test('statements are counted outside literals, identifiers and comments', () => {
  assert.equal(statementCount('SELECT 1;', 'postgresql'), 1);
  assert.equal(statementCount("SELECT ';' AS s", 'postgresql'), 1);
  // The reviews' bypasses: a `--` inside a literal, an E'' string with an escaped quote.
  assert.equal(statementCount("SELECT '--'; COMMIT; DELETE FROM t WHERE id=1; --'", 'postgresql'), 3);
  assert.equal(statementCount("SELECT E'\\''; COMMIT; DELETE FROM t; SELECT ''''", 'postgresql'), 4);
  assert.equal(statementCount('SELECT $x$ ; $x$, $$;$$', 'postgresql'), 1);
  assert.equal(statementCount('SELECT 1 /* ; /* nested ; */ ; */', 'postgresql'), 1);
  assert.equal(statementCount('SELECT "a;b" FROM t', 'postgresql'), 1);
  assert.equal(statementCount("SELECT 'a\\'; DROP TABLE t; -- '", 'mysql'), 1);
  assert.equal(statementCount('SELECT 1 # ; comment\n', 'mysql'), 1);
  assert.equal(codeOutsideLiterals("SELECT 'into' FROM t", 'postgresql').includes('into'), false);
});
