/**
 * Issue 17: each class of log the reader got wrong, with a small log written here in the shape the
 * platform writes (Heroku logplex as its Dev Center and users' bug reports show it, RDS's documented
 * `%t:%h:%u@%d:[%p]:`, MariaDB's slow log) and figures computed by hand from the lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { formatProfile } from '../../cli/log-report.ts';
import { loadSqlParser } from '../sql-fingerprint.ts';
import {
  detectLogFormat,
  digestLogFiles,
  digestLogStream,
  digestLogText,
  parseInstant,
  tablesOf,
} from './index.ts';
import { splitCsvRecord } from './pg-log.ts';

before(() => loadSqlParser());
const dir = mkdtempSync(join(tmpdir(), 'siperf-logs-'));

test('PostgreSQL: a severity followed by one space', () => {
  const d = digestLogText(
    [
      '2024-03-01 10:00:00 UTC [201] LOG: duration: 12.500 ms statement: SELECT * FROM users WHERE id = 1',
      '2024-03-01 10:00:01 UTC [202] LOG: duration: 7.500 ms statement: SELECT * FROM users WHERE id = 2',
    ].join('\n'),
    { format: 'pg-stderr' },
  );
  // 12.5 + 7.5 = 20 ms, one fingerprint.
  assert.deepEqual([d.events, d.unknownLines, d.queries.length], [2, 0, 1]);
  assert.deepEqual([d.queries[0]!.count, d.queries[0]!.totalMs, d.queries[0]!.minMs], [2, 20, 7.5]);
});

test('PostgreSQL: Heroku logplex 2019 and 2021, statements reassembled from their [n-m] frames', () => {
  const h2019 = [
    '2019-05-21T13:33:55+00:00 app[postgres.1234]: [DATABASE] [10-1]  sql_error_code = 00000 LOG:  duration: 1500.125 ms  statement: SELECT id, name',
    '2019-05-21T13:33:55+00:00 app[postgres.1235]: [DATABASE] [11-1]  sql_error_code = 00000 LOG:  duration: 250.000 ms  statement: SELECT id, name',
    '2019-05-21T13:33:55+00:00 app[postgres.1234]: [DATABASE] [10-2]       FROM users',
    '2019-05-21T13:33:55+00:00 app[postgres.1235]: [DATABASE] [11-2]       FROM users',
    "2019-05-21T13:33:55+00:00 app[postgres.1234]: [DATABASE] [10-3]       WHERE email = 'a@example.com'",
    "2019-05-21T13:33:56+00:00 app[postgres.1235]: [DATABASE] [11-3]       WHERE email = 'b@example.com'",
    '2019-05-21T13:34:00+00:00 app[postgres.1234]: [DATABASE] [12-1]  sql_error_code = 00000 LOG:  checkpoint starting: time',
  ];
  const a = digestLogText(h2019.join('\n'), { format: 'pg-stderr' });
  // Two executions of one statement (1,500.125 + 250 ms), each whole: the WHERE clause is in the text.
  assert.deepEqual([a.events, a.unknownLines, a.queries.length], [2, 0, 1]);
  const q = a.queries[0]!;
  assert.equal(q.statement, 'SELECT id, name FROM users WHERE email = $1');
  assert.deepEqual([q.count, q.totalMs, q.maxMs], [2, 1750.125, 1500.125]);
  assert.match(q.example, /WHERE email = 'a@example.com'$/);
  assert.equal(q.firstSeen, '2019-05-21T13:33:55.000Z');
  const h2021 = [
    '2021-03-11T18:17:14.000000+00:00 d.0c1f6e8b-2c4a-4f6e-9d0b-6c5b2a7e9f01 app[postgres.29381] [DATABASE] [7-1] sql_error_code = 00000 LOG:  duration: 42.000 ms  statement: UPDATE carts',
    '2021-03-11T18:17:14.000000+00:00 d.0c1f6e8b-2c4a-4f6e-9d0b-6c5b2a7e9f01 app[postgres.29381] [DATABASE] [7-2] \tSET total = 10',
    '2021-03-11T18:17:14.000000+00:00 d.0c1f6e8b-2c4a-4f6e-9d0b-6c5b2a7e9f01 app[postgres.29381] [DATABASE] [7-3] \tWHERE id = 5',
    '2021-03-11T18:17:15.000000+00:00 d.0c1f6e8b-2c4a-4f6e-9d0b-6c5b2a7e9f01 app[postgres.29381] [DATABASE] [8-1] sql_error_code = 00000 LOG:  duration: 8.000 ms  statement: UPDATE carts SET total = 11 WHERE id = 6',
  ];
  const b = digestLogText(h2021.join('\n'), { format: 'pg-stderr' });
  assert.deepEqual([b.events, b.unknownLines, b.queries.length], [2, 0, 1]);
  assert.equal(b.queries[0]!.statement, 'UPDATE carts SET total = $1 WHERE id = $2');
  assert.deepEqual([b.queries[0]!.totalMs, b.queries[0]!.lastSeen], [50, '2021-03-11T18:17:15.000Z']);
});

test('PostgreSQL: RDS prefix %t:%h:%u@%d:[%p]:, a user holding @, and a log written in a local zone', () => {
  const log = [
    '2024-03-01 11:00:00 CET:10.0.0.5(51234):svc@corp@shop:[4242]:LOG:  duration: 30.000 ms  statement: SELECT 1 FROM orders',
    '2024-07-01 12:00:00 CEST:10.0.0.5(51235):app@shop:[4243]:LOG:  duration: 10.000 ms  statement: SELECT 2 FROM orders',
  ].join('\n');
  for (const prefix of ['%t:%h:%u@%d:[%p]:', undefined]) {
    const d = digestLogText(log, { format: 'pg-stderr', prefix, logTimezone: 'Europe/Paris' });
    assert.deepEqual([d.events, d.unknownLines], [2, 0], String(prefix));
    const q = d.queries[0]!;
    assert.deepEqual(q.users, { 'svc@corp': 1, app: 1 }, String(prefix));
    assert.deepEqual(q.databases, { shop: 2 });
    // 11:00 CET is 10:00 UTC (winter, +1); 12:00 CEST is 10:00 UTC (summer, +2).
    assert.deepEqual([q.firstSeen, q.lastSeen], ['2024-03-01T10:00:00.000Z', '2024-07-01T10:00:00.000Z']);
  }
  // Without a zone the times are read as UTC, as before.
  assert.equal(digestLogText(log, { format: 'pg-stderr' }).queries[0]!.firstSeen, '2024-03-01T11:00:00.000Z');
  assert.throws(
    () => digestLogText(log, { format: 'pg-stderr', logTimezone: 'Mars/Olympus' }),
    /logTimezone/,
  );
});

test('PostgreSQL: prefix values holding the separator, %b, %q, and pairing by session', () => {
  const pre = '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ';
  const d = digestLogText(
    '2024-03-01 10:00:00 UTC [77]: [3-1] user=a,b,db=shop,app=rails: worker, 2,client=10.0.0.1 LOG:  duration: 5.000 ms  statement: SELECT 1',
    { format: 'pg-stderr', prefix: pre },
  );
  assert.equal(d.events, 1);
  assert.deepEqual(
    [d.queries[0]!.users, d.queries[0]!.applications],
    [{ 'a,b': 1 }, { 'rails: worker, 2': 1 }],
  );
  const b = digestLogText(
    [
      '2024-03-01 10:00:00.000 UTC [88] client backend LOG:  duration: 4.000 ms  statement: SELECT 1',
      '2024-03-01 10:00:01.000 UTC [89] checkpointer LOG:  checkpoint starting: time',
    ].join('\n'),
    { format: 'pg-stderr', prefix: '%m [%p] %b ' },
  );
  assert.deepEqual([b.events, b.unknownLines], [1, 0]);
  // %q: a non-session process stops there (no user@db), and the line is still read.
  const q = digestLogText(
    [
      '2024-03-01 10:00:00.000 UTC [90] app@shop LOG:  duration: 2.000 ms  statement: SELECT 1',
      '2024-03-01 10:00:01.000 UTC [91] LOG:  checkpoint complete',
    ].join('\n'),
    { format: 'pg-stderr', prefix: '%m [%p] %q%u@%d ' },
  );
  assert.deepEqual([q.events, q.unknownLines, q.queries[0]!.databases], [1, 0, { shop: 1 }]);
  // Two sessions interleaved, no %p: each statement takes its own session's duration (7 and 3 ms).
  const s = digestLogText(
    [
      '2024-03-01 10:00:00.000 UTC 65e1.a1 app@shop LOG:  statement: SELECT * FROM a',
      '2024-03-01 10:00:00.001 UTC 65e1.b2 app@shop LOG:  statement: SELECT * FROM b',
      '2024-03-01 10:00:00.004 UTC 65e1.b2 app@shop LOG:  duration: 3.000 ms',
      '2024-03-01 10:00:00.007 UTC 65e1.a1 app@shop LOG:  duration: 7.000 ms',
    ].join('\n'),
    { format: 'pg-stderr', prefix: '%m %c %u@%d ' },
  );
  const by = Object.fromEntries(s.queries.map((x) => [x.statement, x.totalMs]));
  assert.deepEqual(by, { 'SELECT * FROM a': 7, 'SELECT * FROM b': 3 });
});

test('PostgreSQL: a prepared statement named with ":" stays out of the text; parse and bind apart; parameters kept', () => {
  const d = digestLogText(
    [
      '2024-03-01 10:00:00.000 UTC [5] LOG:  duration: 0.500 ms  parse app:find_user: SELECT * FROM users WHERE id = $1',
      '2024-03-01 10:00:00.001 UTC [5] LOG:  duration: 0.250 ms  bind app:find_user: SELECT * FROM users WHERE id = $1',
      "2024-03-01 10:00:00.001 UTC [5] DETAIL:  parameters: $1 = '42'",
      '2024-03-01 10:00:00.009 UTC [5] LOG:  duration: 8.000 ms  execute app:find_user: SELECT * FROM users WHERE id = $1',
      "2024-03-01 10:00:00.009 UTC [5] DETAIL:  parameters: $1 = '42'",
    ].join('\n'),
    { format: 'pg-stderr', prefix: '%m [%p] ' },
  );
  // One execution of 8 ms: parse (0.5) and bind (0.25) are not added to it nor counted.
  assert.deepEqual([d.events, d.queries.length, d.queries[0]!.totalMs], [1, 1, 8]);
  assert.equal(d.queries[0]!.statement, 'SELECT * FROM users WHERE id = $1');
  assert.equal(d.queries[0]!.example, "SELECT * FROM users WHERE id = '42'");
});

test('PostgreSQL: auto_explain and log_min_duration_statement for one execution count once; the plan time is apart', () => {
  const d = digestLogText(
    [
      '2024-03-01 10:00:00.000 UTC [6] LOG:  duration: 118.000 ms  plan:',
      '\tQuery Text: SELECT count(*) FROM orders',
      '\tAggregate  (cost=1693.00..1693.01 rows=1 width=8)',
      '\t  ->  Seq Scan on orders  (cost=0.00..1443.00 rows=100000 width=0)',
      '2024-03-01 10:00:00.000 UTC [6] LOG:  duration: 120.500 ms  statement: SELECT count(*) FROM orders',
      // auto_explain alone (below log_min_duration_statement's threshold is not possible here, but a plan of
      // another statement with no duration line counts with its plan time).
      '2024-03-01 10:00:01.000 UTC [7] LOG:  duration: 50.000 ms  plan:',
      '\tQuery Text: SELECT * FROM carts',
      '\tSeq Scan on carts  (cost=0.00..10.00 rows=100 width=8)',
    ].join('\n'),
    { format: 'pg-stderr', prefix: '%m [%p] ' },
  );
  assert.equal(d.events, 2);
  const orders = d.queries.find((q) => q.statement.includes('orders'))!;
  // pgBadger counts 2 calls and 238.5 ms here (pgbadger#848); one call of 120.5 ms, plan time 118 ms.
  assert.deepEqual([orders.count, orders.totalMs, orders.planMs], [1, 120.5, 118]);
  assert.match(orders.plan!, /Seq Scan on orders/);
  const carts = d.queries.find((q) => q.statement.includes('carts'))!;
  assert.deepEqual([carts.count, carts.totalMs, carts.planMs], [1, 50, 50]);
});

test('PostgreSQL: statement rows without a duration are calls with no duration (stderr and csvlog)', () => {
  const stderr = digestLogText(
    [
      '2024-03-01 10:00:00.000 UTC [8] LOG:  statement: SELECT * FROM a WHERE id = 1',
      '2024-03-01 10:00:00.100 UTC [8] LOG:  statement: SELECT * FROM a WHERE id = 2',
      '2024-03-01 10:00:00.200 UTC [8] LOG:  duration: 9.000 ms  statement: SELECT * FROM b',
    ].join('\n'),
    { format: 'pg-stderr' },
  );
  const a = stderr.queries.find((q) => q.statement.includes('FROM a'))!;
  // Two calls, neither timed: not 0 ms calls, and not the 9 ms of the next row.
  assert.deepEqual([a.count, a.untimed, a.totalMs, a.maxMs], [2, 2, 0, 0]);
  assert.equal(stderr.queries.find((q) => q.statement.includes('FROM b'))!.totalMs, 9);
  assert.match(stderr.notes.join(' '), /2 statements were logged without a duration/);
  const csv = [
    '"2024-03-01 10:00:00.000 UTC","app","shop",301,"10.0.0.1:5000",65e1.c9,1,"SELECT","2024-03-01 09:00:00 UTC",3/4,0,LOG,00000,"statement: SELECT * FROM c",,,,,,,,,"psql"',
    '"2024-03-01 10:00:00.500 UTC","app","shop",301,"10.0.0.1:5000",65e1.c9,2,"SELECT","2024-03-01 09:00:00 UTC",3/5,0,LOG,00000,"duration: 4.000 ms  statement: SELECT * FROM d",,,,,,,,,"psql"',
  ];
  // The record reader: quotes, doubled quotes, commas and newlines inside, empty fields, malformed rows.
  assert.deepEqual(splitCsvRecord('a,"b,""c""\nd",,e'), ['a', 'b,"c"\nd', '', 'e']);
  assert.deepEqual(splitCsvRecord('x,'), ['x', '']);
  assert.equal(splitCsvRecord('"open'), null);
  assert.equal(splitCsvRecord('"a"b'), null);
  // csvlog found by its content, the timestamp quoted.
  assert.equal(detectLogFormat(csv), 'pg-csv');
  const c = digestLogText(csv.join('\n'), { format: 'pg-csv' });
  const cq = c.queries.find((q) => q.statement.includes('FROM c'))!;
  assert.deepEqual([c.events, cq.count, cq.untimed, cq.totalMs], [2, 1, 1, 0]);
  assert.equal(c.queries.find((q) => q.statement.includes('FROM d'))!.totalMs, 4);
});

test('MySQL/MariaDB: empty Schema before QC_hit, old-style times with long fractions, entries without time', () => {
  const log = [
    '# Time: 240301 10:00:00.123456789',
    '# User@Host: app[app] @ web1 [10.0.0.5]',
    '# Thread_id: 5  Schema:   QC_hit: No',
    '# Query_time: 0.000123  Lock_time: 0.000010  Rows_sent: 1  Rows_examined: 10',
    'use shop;',
    'SELECT * FROM t WHERE id = 1;',
    '# User@Host: app[app] @ web1 [10.0.0.5]',
    '# Thread_id: 5  Schema: shop  QC_hit: No',
    '# Query_time: 0.001000  Lock_time: 0.000010  Rows_sent: 1  Rows_examined: 10',
    'SELECT * FROM t WHERE id = 2;',
    '# User@Host: app[app] @ web1 [10.0.0.5]',
    '# Query_time: 0.002000  Lock_time: 0.000010  Rows_sent: 1  Rows_examined: 10',
    'SET timestamp=1709290800;',
    'SELECT * FROM t WHERE id = 3;',
  ].join('\n');
  const d = digestLogText(log, { format: 'mysql-slow' });
  assert.deepEqual([d.events, d.unknownLines, d.queries.length], [3, 0, 1]);
  const q = d.queries[0]!;
  // No database named "QC_hit:": the first entry's is the `use` one.
  assert.deepEqual(q.databases, { shop: 3 });
  // µs kept: 0.123 + 1 + 2 ms.
  assert.deepEqual([q.minMs, q.totalMs], [0.123, 3.123]);
  // 10:00:00.123 from the header; the second inherits it; the third takes SET timestamp (11:00:00).
  assert.deepEqual([q.firstSeen, q.lastSeen], ['2024-03-01T10:00:00.123Z', '2024-03-01T11:00:00.000Z']);
  // An event with no time at all is kept and said, not silently passed by `since`.
  const untimed = digestLogText(
    '# Query_time: 0.5  Lock_time: 0  Rows_sent: 0  Rows_examined: 0\nSELECT 1;\n',
    { format: 'mysql-slow', sinceMs: Date.UTC(2024, 0, 1) },
  );
  assert.deepEqual([untimed.events, untimed.noTime], [1, 1]);
  assert.match(untimed.notes.join(' '), /1 events carry no time: kept/);
});

test('MySQL: an entry with only SET timestamp and use is one "/* No query */" call, as pt-query-digest counts it', () => {
  const d = digestLogText(
    [
      '# Time: 240301 10:00:00',
      '# User@Host: app[app] @ web1 [10.0.0.5]  Id:    42',
      '# Query_time: 0.250000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 5000',
      'use shop;',
      'SET timestamp=1709287200;',
      '# Time: 240301 10:00:01',
      '# User@Host: app[app] @ web1 [10.0.0.5]  Id:    42',
      '# Query_time: 0.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 5000',
      'SELECT 1 FROM t;',
    ].join('\n'),
    { format: 'mysql-slow' },
  );
  // pt-query-digest 3.2.1 on these lines: 2 events, classes "/* No query */" (0.25 s) and "select ? from t".
  assert.deepEqual([d.events, d.queries.length], [2, 2]);
  assert.ok(d.queries.some((q) => q.example === '/* No query */' && q.totalMs === 250));
  assert.match(d.notes.join(' '), /1 entries held only use\/SET lines/);
});

test('MySQL: header numbers are checked', () => {
  const d = digestLogText(
    [
      '# Query_time: abc  Lock_time: 0  Rows_sent: 0  Rows_examined: 0',
      'SELECT 1;',
      '# Query_time: -5  Lock_time: 0  Rows_sent: 0  Rows_examined: 0',
      'SELECT 2;',
      '# Query_time: 0.100000  Lock_time: 0  Rows_sent: 0  Rows_examined: x1',
      'SELECT 3;',
      '# Query_time: 0.200000  Lock_time: 0  Rows_sent: 0  Rows_examined: 4',
      'SELECT 4;',
    ].join('\n'),
    { format: 'mysql-slow' },
  );
  // Only the last entry is an event; each bad header is an unknown line with its reason.
  assert.deepEqual([d.events, d.unknownLines, d.queries[0]!.minMs], [1, 3, 200]);
  assert.match(d.unknownExamples[0]!, /Query_time: "abc" is not a non-negative number/);
  assert.match(d.unknownExamples[1]!, /Query_time: "-5"/);
});

test('MySQL: a long IN list keeps the fingerprint of a short one; tables per fingerprint (distill)', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => 100_000 + i).join(', ');
  const long = `SELECT * FROM items WHERE id IN (${ids(5000)}) AND shop = 3`;
  assert.ok(long.length > 16_384);
  const d = digestLogText(
    [
      '# Query_time: 0.1  Lock_time: 0  Rows_sent: 0  Rows_examined: 0',
      `SELECT * FROM items WHERE id IN (${ids(3)}) AND shop = 3;`,
      '# Query_time: 0.3  Lock_time: 0  Rows_sent: 0  Rows_examined: 0',
      `${long};`,
    ].join('\n'),
    { format: 'mysql-slow' },
  );
  assert.deepEqual([d.events, d.queries.length, d.queries[0]!.totalMs], [2, 1, 400]);
  assert.deepEqual(d.queries[0]!.tables, ['items']);
  assert.deepEqual(
    tablesOf("LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE shop.t1 FIELDS TERMINATED BY ','"),
    ['shop.t1'],
  );
  assert.deepEqual(tablesOf('INSERT t2 VALUES (1)'), ['t2']);
  assert.deepEqual(tablesOf("REPLACE LOW_PRIORITY `t3` SET a = 'FROM x'"), ['t3']);
  assert.deepEqual(tablesOf('SELECT * FROM a, b x JOIN c ON c.id = x.c_id WHERE 1'), ['a', 'b', 'c']);
});

test('every format: since/until without an offset are UTC whatever the machine zone', () => {
  const tz = process.env.TZ;
  process.env.TZ = 'America/New_York';
  try {
    assert.equal(parseInstant('2024-03-01 10:00'), Date.UTC(2024, 2, 1, 10));
    assert.equal(parseInstant('2024-03-01T10:00:00.5'), Date.UTC(2024, 2, 1, 10, 0, 0, 500));
    assert.equal(parseInstant('2024-03-01'), Date.UTC(2024, 2, 1));
    assert.equal(parseInstant('2024-03-01T10:00:00+02:00'), Date.UTC(2024, 2, 1, 8));
    assert.equal(parseInstant('yesterday'), null);
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test('every format: bzip2 corrupt, truncated or without its program is an error with a message', async (t) => {
  if (spawnSync('bzip2', ['--help']).error) return t.skip('bzip2 is not installed here');
  const good = join(dir, 'good.log.bz2');
  const text = Array.from(
    { length: 2000 },
    (_, i) => `2024-03-01 10:00:00 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT ${i}`,
  ).join('\n');
  writeFileSync(good, spawnSync('bzip2', ['-c'], { input: text }).stdout);
  assert.equal((await digestLogFiles([good], { format: 'pg-stderr' })).events, 2000);
  const bytes = spawnSync('bzip2', ['-c'], { input: text }).stdout as Buffer;
  writeFileSync(join(dir, 'truncated.bz2'), bytes.subarray(0, bytes.length >> 1));
  await assert.rejects(
    digestLogFiles([join(dir, 'truncated.bz2')], { format: 'pg-stderr' }),
    /not a readable bzip2 file \(bzip2: .+\)/,
  );
  writeFileSync(join(dir, 'corrupt.bz2'), Buffer.concat([Buffer.from('BZh9'), Buffer.alloc(200, 7)]));
  await assert.rejects(
    digestLogFiles([join(dir, 'corrupt.bz2')], { format: 'pg-stderr' }),
    /not a readable bzip2 file/,
  );
  const path = process.env.PATH;
  process.env.PATH = join(dir, 'nothing-here');
  try {
    await assert.rejects(
      digestLogFiles([good], { format: 'pg-stderr' }),
      /the bzip2 program is not installed/,
    );
  } finally {
    process.env.PATH = path;
  }
});

test('every format: a 16 MB line in a .gz file reads in linear time', async () => {
  const line = `2024-03-01 10:00:00 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT '${'x'.repeat(16 * 1024 * 1024)}'`;
  const file = join(dir, 'long.log.gz');
  writeFileSync(file, gzipSync(`${line}\n`));
  const t0 = performance.now();
  const d = await digestLogFiles([file], { format: 'pg-stderr' });
  const ms = performance.now() - t0;
  assert.equal(d.events, 1);
  // Quadratic joining took ~9 s here (58 s for 40 MB); linear takes well under a second.
  assert.ok(ms < 4000, `${ms} ms`);
});

test('every format: an upload is digested as it arrives, the event loop served meanwhile', async () => {
  const rows = Array.from(
    { length: 200_000 },
    (_, i) =>
      `2024-03-01 10:00:00 UTC [${i % 50}] LOG:  duration: 1.000 ms  statement: SELECT * FROM t WHERE id = ${i % 100}\n`,
  ).join('');
  const body = gzipSync(rows);
  const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) =>
    body.subarray(i * 65536, (i + 1) * 65536),
  );
  // A timer of 1 ms keeps firing while the log is digested (a synchronous digest lets it fire 0 times);
  // the longest wait is reported, not bounded: on a loaded machine the OS decides it too.
  let last = performance.now();
  let worst = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    ticks += 1;
  }, 1);
  const t0 = performance.now();
  const d = await digestLogStream(Readable.from(chunks), { format: 'pg-stderr' });
  const ms = performance.now() - t0;
  clearInterval(timer);
  assert.deepEqual([d.events, d.queries.length], [200_000, 1]);
  assert.ok(ticks >= Math.min(20, ms / 50), `${ticks} timer ticks in ${ms} ms (longest wait ${worst} ms)`);
  await assert.rejects(
    digestLogStream(Readable.from([body]), { format: 'pg-stderr', maxInflatedBytes: 1024 * 1024 }),
    /inflates to more than 1048576 bytes/,
  );
});

test('reports: statements are whole unless a width is asked for', () => {
  const stmt = `SELECT ${Array.from({ length: 30 }, (_, i) => `c${i}`).join(', ')} FROM wide`;
  const d = digestLogText(`2024-03-01 10:00:00 UTC [1] LOG:  duration: 1.000 ms  statement: ${stmt}`, {
    format: 'pg-stderr',
  });
  assert.ok(formatProfile(d).includes(stmt));
  assert.ok(formatProfile(d, 20, 40).includes(`${stmt.slice(0, 39)}…`));
});
