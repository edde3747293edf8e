/**
 * Log parsing on small logs written here (each number computed by hand from the lines below) and, with
 * ../shared, on pt-query-digest's and pgBadger's test logs against those tools' own reports.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSqlParser } from '../sql-fingerprint.ts';
import { compilePrefix, digestLogFiles, digestLogText } from './index.ts';

const SHARED = fileURLToPath(new URL('../../../../../../shared/fixtures/', import.meta.url));
const HAS_SHARED = (() => {
  try {
    return readdirSync(SHARED).includes('slowlogs');
  } catch {
    return false;
  }
})();
const NEEDS_SHARED = HAS_SHARED ? false : `../shared is absent (${SHARED}): fixture test skipped`;

before(() => loadSqlParser());

test('MySQL slow log by hand: one query twice, a banner, an unknown line', () => {
  const log = [
    '/usr/sbin/mysqld, Version: 8.0.36 (MySQL). started with:',
    'Tcp port: 3306  Unix socket: /tmp/mysql.sock',
    'Time                 Id Command    Argument',
    'garbage line the parser cannot place',
    '# Time: 2024-03-01T10:00:00.000000Z',
    '# User@Host: app[app] @ web1 [10.0.0.5]  Id:    42',
    '# Query_time: 0.250000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 5000',
    'use shop;',
    'SET timestamp=1709287200;',
    "SELECT * FROM orders WHERE customer = 'ann';",
    '# Time: 2024-03-01T10:00:01.000000Z',
    '# User@Host: app[app] @ web2 [10.0.0.6]  Id:    43',
    '# Query_time: 0.750000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 7000',
    "SELECT * FROM orders WHERE customer = 'bob';",
  ].join('\n');
  const d = digestLogText(log, { format: 'mysql-slow' });
  assert.deepEqual([d.lines, d.unknownLines, d.events, d.queries.length], [14, 1, 2, 1]);
  assert.deepEqual(d.unknownExamples, ['garbage line the parser cannot place']);
  const q = d.queries[0]!;
  assert.equal(q.statement, 'SELECT * FROM orders WHERE customer = ?');
  // 250 + 750 ms; rows examined 5,000 + 7,000; the example is the slower one.
  assert.deepEqual([q.count, q.totalMs, q.minMs, q.maxMs, q.meanMs, q.p95Ms], [2, 1000, 250, 750, 500, 750]);
  assert.equal(q.rowsExamined, 12_000);
  assert.equal(q.example, "SELECT * FROM orders WHERE customer = 'bob'");
  assert.deepEqual(q.databases, { shop: 2 });
  assert.deepEqual(q.users, { app: 2 });
  assert.deepEqual(q.applications, { web1: 1, web2: 1 });
  assert.equal(q.firstSeen, '2024-03-01T10:00:00.000Z');
});

test('PostgreSQL stderr by hand: prefix compiled, statement+duration pairing, execute parameters, auto_explain', () => {
  const log = [
    '2024-03-01 10:00:00.100 UTC [101] user=app,db=shop LOG:  statement: SELECT name FROM users WHERE id = 1',
    '2024-03-01 10:00:00.150 UTC [101] user=app,db=shop LOG:  duration: 50.000 ms',
    '2024-03-01 10:00:01.000 UTC [102] user=app,db=shop LOG:  duration: 30.000 ms  execute s1: SELECT name FROM users',
    '\tWHERE id = $1',
    "2024-03-01 10:00:01.000 UTC [102] user=app,db=shop DETAIL:  parameters: $1 = '7'",
    '2024-03-01 10:00:02.000 UTC [103] user=app,db=shop LOG:  duration: 5.000 ms  parse s2: SELECT 1',
    '2024-03-01 10:00:03.000 UTC [104] user=app,db=shop LOG:  duration: 120.000 ms  plan:',
    '\tQuery Text: SELECT count(*) FROM orders',
    '\tAggregate  (cost=1693.00..1693.01 rows=1 width=8)',
    '\t  ->  Seq Scan on orders  (cost=0.00..1443.00 rows=100000 width=0)',
    '2024-03-01 10:00:04.000 UTC [105] user=app,db=shop LOG:  connection received: host=10.0.0.1 port=5000',
    'a line from another program',
  ].join('\n');
  const d = digestLogText(log, { format: 'pg-stderr', prefix: '%m [%p] user=%u,db=%d ' });
  assert.equal(d.lines, 12);
  assert.equal(d.unknownLines, 1);
  assert.deepEqual(d.unknownExamples, ['a line from another program']);
  // Three events: the paired statement (50 ms), the execute (30 ms; same query), the auto_explain one.
  assert.equal(d.events, 3);
  const users = d.queries.find((q) => q.statement.includes('FROM users'))!;
  assert.equal(users.count, 2);
  assert.equal(users.totalMs, 80);
  assert.equal(users.p95Ms, 50);
  assert.equal(users.example, 'SELECT name FROM users WHERE id = 1');
  const planned = d.queries.find((q) => q.statement.startsWith('SELECT count(*)'))!;
  assert.equal(planned.maxMs, 120);
  assert.match(planned.plan!, /Seq Scan on orders/);
  assert.throws(() => compilePrefix('%Z '), /prefix: unknown escape %Z/);
  // The same log without the prefix: read from each line.
  assert.equal(digestLogText(log, { format: 'pg-stderr' }).events, 3);
  // A time window keeps the events inside it.
  const windowed = digestLogText(log, {
    format: 'pg-stderr',
    sinceMs: Date.parse('2024-03-01T10:00:00.500Z'),
  });
  assert.equal(windowed.events, 2);
  assert.equal(windowed.filteredOut, 1);
});

test('csvlog and jsonlog by hand', () => {
  const csv = [
    '2024-03-01 10:00:00.000 UTC,"app","shop",201,"10.0.0.1:5000",65e1.c9,1,"SELECT",2024-03-01 09:00:00 UTC,3/4,0,LOG,00000,"duration: 12.500 ms  statement: SELECT *',
    'FROM items",,,,,,,,,"psql"',
  ].join('\n');
  const c = digestLogText(csv, { format: 'pg-csv' });
  assert.equal(c.events, 1);
  assert.equal(c.queries[0]!.totalMs, 12.5);
  assert.deepEqual(c.queries[0]!.applications, { psql: 1 });
  const json = JSON.stringify({
    timestamp: '2024-03-01 10:00:00.000 UTC',
    user: 'app',
    dbname: 'shop',
    pid: 301,
    error_severity: 'LOG',
    message: 'duration: 7.000 ms  statement: DELETE FROM carts WHERE id = 9',
    application_name: 'api',
  });
  const j = digestLogText(`${json}\nnot json\n`, { format: 'pg-json' });
  assert.equal(j.events, 1);
  assert.equal(j.unknownLines, 1);
  assert.equal(j.queries[0]!.statement, 'DELETE FROM carts WHERE id = $1');
});

test('hostile input: adjacent free-text escapes refused, a long line matched in linear time, odd JSON lines counted, gzip bombs stopped', async () => {
  assert.throws(() => compilePrefix('%u%u%u'), /prefix: %u must be followed by a literal character/);
  const re = compilePrefix('%u,%u,%u,%u,%u,%u ');
  // 400,000 characters: linear matching takes about a millisecond, quadratic backtracking tens of seconds,
  // so a 2 s bound tells them apart even on a machine busy with other work.
  const t0 = performance.now();
  assert.equal(re.exec(`${','.repeat(200_000)}${'x'.repeat(200_000)}`), null);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `${ms} ms`);
  const d = digestLogText(
    'null\n[1]\n{"message":"duration: 99999999999999999999.5 ms  statement: SELECT 1","error_severity":"LOG"}\n',
    { format: 'pg-json' },
  );
  assert.deepEqual([d.events, d.unknownLines], [0, 3]);
  const { gzipSync } = await import('node:zlib');
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  assert.throws(
    () => digestLogText(bomb, { format: 'pg-stderr', maxInflatedBytes: 1024 * 1024 }),
    /inflates to more than 1048576 bytes/,
  );
});

describe('peer tools on their own test logs', { skip: NEEDS_SHARED }, () => {
  for (const f of [
    'slow001.txt',
    'slow002.txt',
    'slow006.txt',
    'slow013.txt',
    'slow059.txt',
    'mysql5.7.log',
  ]) {
    test(`${f}: events, classes and per-class count/sum/min/max as pt-query-digest 3.5.7`, async () => {
      const d = await digestLogFiles([`${SHARED}slowlogs/logs/${f}`], { format: 'mysql-slow' });
      const peer = JSON.parse(
        readFileSync(`${SHARED}slowlogs/peer-generated/${f}.pt-query-digest.json`, 'utf8'),
      );
      assert.equal(d.events, peer.global.query_count);
      assert.equal(d.queries.length, peer.global.unique_query_count);
      const ours = d.queries
        .map((q) =>
          [
            q.count,
            (q.totalMs / 1000).toFixed(6),
            (q.minMs / 1000).toFixed(6),
            (q.maxMs / 1000).toFixed(6),
          ].join(' '),
        )
        .sort();
      const theirs = peer.classes
        .map((c: any) =>
          [c.query_count, c.metrics.Query_time.sum, c.metrics.Query_time.min, c.metrics.Query_time.max].join(
            ' ',
          ),
        )
        .sort();
      assert.deepEqual(ours, theirs);
      assert.equal(d.unknownLines, 0);
    });
  }
  test('pgBadger: light (629 statements, 7 queries, per-query counts and totals), stmt_type, multiline parameters, Cloud SQL', async () => {
    const light = await digestLogFiles([`${SHARED}pgbadger/logs/light.postgres.log.bz2`], {
      format: 'pg-stderr',
      prefix: '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ',
    });
    const peer = JSON.parse(
      readFileSync(`${SHARED}pgbadger/peer-generated/light.postgres.log.bz2.pgbadger.json`, 'utf8'),
    );
    assert.equal(light.events, 629);
    assert.equal(light.queries.length, 7);
    const theirs = Object.values(
      peer.normalyzed_info.postgres as Record<string, { count: number; duration: number }>,
    )
      .map((v) => `${v.count} ${v.duration.toFixed(3)}`)
      .sort();
    assert.deepEqual(light.queries.map((q) => `${q.count} ${q.totalMs.toFixed(3)}`).sort(), theirs);
    assert.deepEqual(light.queries[0]!.databases, { postgres: 99 });
    const stmt = await digestLogFiles([`${SHARED}pgbadger/logs/stmt_type.log`], {
      format: 'pg-stderr',
      prefix: '%m [%p] ',
    });
    assert.deepEqual([stmt.events, stmt.queries.length], [12, 12]);
    const multi = await digestLogFiles([`${SHARED}pgbadger/logs/multiline_param.log`], {
      format: 'pg-stderr',
    });
    assert.deepEqual([multi.events, multi.queries.length], [5, 4]);
    assert.ok(
      multi.queries.some(
        (q) => q.example.includes("'njvarchar\nbye'") || q.example.includes("'njchar\nhello'"),
      ),
    );
    const cloud = await digestLogFiles([`${SHARED}pgbadger/logs/cloudsql.log.gz`], { format: 'pg-json' });
    assert.deepEqual([cloud.events, cloud.queries.length, cloud.unknownLines], [1, 1, 0]);
  });
});
