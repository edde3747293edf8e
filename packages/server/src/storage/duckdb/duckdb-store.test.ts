import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Span } from '../../model/index.ts';
import { span as contractSpan, runStoreContract } from '../store.contract.ts';
import { createDuckDbStore } from './duckdb-store.ts';

runStoreContract('DuckDB (:memory:)', (now) => createDuckDbStore({ path: ':memory:', now }), {
  inMemory: true,
});

const dir = mkdtempSync(join(tmpdir(), 'siperf-store-contract-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
runStoreContract(
  'DuckDB (file)',
  (now) => createDuckDbStore({ path: join(dir, `store-${++files}.duckdb`), now }),
  { inMemory: false },
);

test('a file written before the tiers kept their first and last minute gets them back from its minute rows', async () => {
  const MIN = 60_000_000_000n;
  const HOUR = 60n * MIN;
  const H0 = 1_790_000_000_000_000_000n - (1_790_000_000_000_000_000n % HOUR);
  const path = join(dir, 'before-first-minute.duckdb');
  const now = () => H0 + 3n * HOUR;
  const span = (startNs: bigint, id: number): Span =>
    contractSpan(startNs, 1, {
      traceId: id.toString(16).padStart(32, '0'),
      spanId: id.toString(16).padStart(16, '0'),
      resourceAttributes: { 'service.name': 'api' },
    });
  // Minutes 13 and 47 of hour 0, compacted into the hourly and 10-minute tiers.
  const first = await createDuckDbStore({ path, now });
  await first.writeSpans([span(H0 + 13n * MIN + 5_000_000_000n, 1), span(H0 + 47n * MIN, 2)]);
  await first.flushRollups();
  await first.compactRollups(H0 + 2n * HOUR);
  await first.close();
  // The file as the release before wrote it: no first/last minute columns in any rollup table.
  const raw = await DuckDBInstance.create(path);
  const conn = await raw.connect();
  for (const family of ['endpoint_rollups', 'db_rollups'])
    for (const table of [family, `${family}_hourly`, `${family}_tenminute`])
      for (const column of ['first_minute_ns', 'last_minute_ns'])
        await conn.run(`ALTER TABLE ${table} DROP COLUMN ${column}`);
  conn.closeSync();
  raw.closeSync();
  const store = await createDuckDbStore({ path, now });
  try {
    const [api] = await store.services({ fromNs: H0, toNs: H0 + HOUR });
    assert.deepEqual(
      [api?.requests, api?.firstSeenNs, api?.lastSeenNs],
      [2, H0 + 13n * MIN, H0 + 48n * MIN],
      'read from the hourly block: its first minute 13, its last minute 47 (seen until 48)',
    );
    const [inBlock] = await store.services({ fromNs: H0 + 40n * MIN, toNs: H0 + 50n * MIN });
    assert.deepEqual([inBlock?.firstSeenNs, inBlock?.lastSeenNs], [H0 + 47n * MIN, H0 + 48n * MIN]);
  } finally {
    await store.close();
  }
});

test('a backlog is committed in groups of at most 8,192 spans, each caller answered with its own counts, the rollups complete', async () => {
  const path = join(dir, 'group-cap.duckdb');
  const T0 = 1_790_000_000_000_000_000n;
  const store = await createDuckDbStore({ path, now: () => T0 });
  const span = (id: number): Span =>
    contractSpan(T0, 1, {
      traceId: (id >> 3).toString(16).padStart(32, '0'),
      spanId: id.toString(16).padStart(16, '0'),
    });
  try {
    // 20 batches of 1,000 queued in one turn of the loop; batch 7 repeats batch 6's first 10 spans.
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 1000 }, (_, i) => span(b * 1000 + i)),
    );
    batches[7]!.splice(0, 10, ...batches[6]!.slice(0, 10));
    const counts = await Promise.all(batches.map((b) => store.writeSpans(b)));
    assert.deepEqual(counts[7], { written: 990, duplicates: 10 });
    assert.equal(
      counts.reduce((a, c) => a + c.written, 0),
      19_990,
    );
    await store.close();
    const raw = await DuckDBInstance.create(path);
    const conn = await raw.connect();
    const groups = (
      await conn.runAndReadAll(
        'SELECT batch_id::INTEGER AS batch_id, count(*)::INTEGER AS n FROM spans GROUP BY batch_id ORDER BY batch_id',
      )
    ).getRowObjects();
    conn.closeSync();
    raw.closeSync();
    assert.equal(
      groups.reduce((a, g) => a + (g.n as number), 0),
      19_990,
    );
    assert.ok(
      groups.every((g) => (g.n as number) <= 8192),
      JSON.stringify(groups),
    );
    // Still a group commit: the 20 batches take at most 1 + ceil(19 × 1000 / 8192) + 1 commits.
    assert.ok(groups.length >= 3 && groups.length <= 5, JSON.stringify(groups));
    const reopened = await createDuckDbStore({ path, now: () => T0 });
    try {
      const [api] = await reopened.services({ fromNs: T0 - 60_000_000_000n, toNs: T0 + 60_000_000_000n });
      assert.equal(api?.requests, 19_990, 'every span in the rollups, once');
    } finally {
      await reopened.close();
    }
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
});

/** The rows of a query on a closed store's file, read with DuckDB itself. */
async function fileRows(path: string, sql: string): Promise<unknown[][]> {
  const raw = await DuckDBInstance.create(path);
  const conn = await raw.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows();
  } finally {
    conn.closeSync();
    raw.closeSync();
  }
}

const KEPT_MIN = 60_000_000_000n;
const KEPT_HOUR = 60n * KEPT_MIN;
/** The start of an hour, for the kept-hours tests. */
const KEPT_H0 = 1_790_000_000_000_000_000n - (1_790_000_000_000_000_000n % KEPT_HOUR);
const F1 = { system: 'postgresql', database: 'shop', statement: 'SELECT $1', fingerprint: 'f1' };
/** A CLIENT call of statement f1 under `parent`, at `startNs`. */
const f1Call = (parent: Span, startNs: bigint): Span =>
  contractSpan(startNs, 1, {
    traceId: parent.traceId,
    parentSpanId: parent.spanId,
    kind: 3,
    name: 'SELECT shop',
    endpoint: 'SELECT shop',
    db: F1,
  });

test('caller endpoints of a closed hour are kept across a reopen, and a late span or retention in that hour is seen', async () => {
  const [MIN, HOUR, H0] = [KEPT_MIN, KEPT_HOUR, KEPT_H0];
  const path = join(dir, 'db-callers.duckdb');
  let nowNs = H0 + 3n * HOUR;
  const now = () => nowNs;
  /** A request of `endpoint` at `startNs` whose handler runs statement f1 1 ms in. */
  const request = (startNs: bigint, endpoint: string): Span[] => {
    const server = contractSpan(startNs, 10, { name: endpoint, endpoint });
    return [server, f1Call(server, startNs + 1_000_000n)];
  };
  // Hour 0 is closed (it ended 3 h ago); hour 2 is not whole in the window asked below.
  const window = { fromNs: H0, toNs: H0 + 2n * HOUR + 30n * MIN };
  let store = await createDuckDbStore({ path, now });
  try {
    await store.writeSpans([...request(H0 + 10n * MIN, 'GET /a'), ...request(H0 + 2n * HOUR, 'GET /c')]);
    assert.deepEqual(Object.fromEntries(await store.dbCallerEndpoints({ window })), {
      f1: ['GET /a', 'GET /c'],
    });
  } finally {
    await store.close();
  }
  // Reopened: hour 0's answer was kept (its row is in the table), and is the same.
  assert.deepEqual(await fileRows(path, 'SELECT hour_ns, service, fp, endpoint FROM db_callers_hourly'), [
    [H0, 'api', 'f1', 'GET /a'],
  ]);
  store = await createDuckDbStore({ path, now });
  try {
    assert.deepEqual(Object.fromEntries(await store.dbCallerEndpoints({ window })), {
      f1: ['GET /a', 'GET /c'],
    });
    // A late request into hour 0 is part of the next answer.
    await store.writeSpans(request(H0 + 50n * MIN, 'GET /b'));
    assert.deepEqual(Object.fromEntries(await store.dbCallerEndpoints({ window })), {
      f1: ['GET /a', 'GET /b', 'GET /c'],
    });
    // Retention of every span written before now + 1 ns: nothing calls f1 any more.
    nowNs += 1n;
    await store.applyRetention(
      { rawSpansNs: 0n, rollupsNs: 10n * HOUR, metricPointsNs: 10n * HOUR },
      nowNs + HOUR,
    );
    assert.deepEqual(Object.fromEntries(await store.dbCallerEndpoints({ window })), {});
  } finally {
    await store.close();
  }
});

test('N+1 candidates of a closed hour are kept across a reopen; a late repeat in that hour is found', async () => {
  const [MIN, HOUR, H0] = [KEPT_MIN, KEPT_HOUR, KEPT_H0];
  const path = join(dir, 'repeated-calls.duckdb');
  const now = () => H0 + 4n * HOUR;
  /** A request at `startNs` whose handler runs f1 `n` times, 1 ms apart. */
  const request = (startNs: bigint, n: number): Span[] => {
    const server = contractSpan(startNs, 100);
    return [
      server,
      ...Array.from({ length: n }, (_, i) => f1Call(server, startNs + BigInt(i + 1) * 1_000_000n)),
    ];
  };
  // Hour 1 is whole, closed and its look back (the last 15 min of hour 0) lies in the window.
  const window = { fromNs: H0, toNs: H0 + 3n * HOUR };
  const five = request(H0 + HOUR + 10n * MIN, 5);
  const four = request(H0 + HOUR + 20n * MIN, 4);
  const ids = async (s: Awaited<ReturnType<typeof createDuckDbStore>>) =>
    (await s.repeatedCallTraces({ window, minRepeats: 5, limit: 10 })).map((r) => r.traceId);
  let store = await createDuckDbStore({ path, now });
  try {
    await store.writeSpans([...five, ...four]);
    assert.deepEqual(await ids(store), [five[0]!.traceId]);
  } finally {
    await store.close();
  }
  // Kept: both groups of 3 calls or more, with their counts and last calls.
  assert.deepEqual(
    await fileRows(
      path,
      'SELECT hour_ns, trace_id, repeats, last_ns FROM repeated_calls_hourly ORDER BY repeats',
    ),
    [
      [H0 + HOUR, four[0]!.traceId, 4n, H0 + HOUR + 20n * MIN + 4_000_000n],
      [H0 + HOUR, five[0]!.traceId, 5n, H0 + HOUR + 10n * MIN + 5_000_000n],
    ],
  );
  store = await createDuckDbStore({ path, now });
  try {
    assert.deepEqual(await ids(store), [five[0]!.traceId]);
    // A late fifth call of the second request: it is a candidate now, the newer of the two.
    await store.writeSpans([f1Call(four[0]!, H0 + HOUR + 20n * MIN + 5_000_000n)]);
    assert.deepEqual(await ids(store), [four[0]!.traceId, five[0]!.traceId]);
  } finally {
    await store.close();
  }
});
