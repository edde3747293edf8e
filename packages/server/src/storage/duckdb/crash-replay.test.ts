/**
 * De-duplication across a restart: the span keys reloaded when a file store opens cover the whole window
 * of ingest time, however many spans it holds (it used to be the newest 200,000 only).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Span, SpanKind, StatusCode } from '../../model/index.ts';
import { createDuckDbStore } from './duckdb-store.ts';
import { snapshotPath } from './span-keys-snapshot.ts';

const dir = mkdtempSync(join(tmpdir(), 'siperf-dedup-restart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MS = 1_000_000n;
const MIN = 60_000n * MS;
const T0 = 1_790_000_000_000_000_000n;

function span(id: number): Span {
  return {
    traceId: (id >> 4).toString(16).padStart(32, '0'),
    spanId: id.toString(16).padStart(16, '0'),
    parentSpanId: '',
    service: 'api',
    name: 'GET /a',
    endpoint: 'GET /a',
    kind: SpanKind.SERVER,
    startTimeUnixNano: T0 - 10n * MS,
    endTimeUnixNano: T0 - 9n * MS,
    durationNano: MS,
    statusCode: StatusCode.UNSET,
    statusMessage: '',
    httpStatusCode: 200,
    isError: false,
    db: undefined,
    transaction: undefined,
    clockFlagged: false,
    resourceAttributes: { 'service.name': 'api' },
    attributes: {},
    events: [],
    links: [],
    scope: '',
  };
}

const batchOf = (first: number, n: number): Span[] => Array.from({ length: n }, (_, i) => span(first + i));

test('after a restart, a retry of any batch acknowledged within the last 10 minutes counts once, however many spans came after it', async () => {
  const path = join(dir, 'restart.duckdb');
  let nowNs = T0;
  // minKeys is small so that only the 10-minute window keeps the keys (the default also keeps a million).
  const open = () => createDuckDbStore({ path, now: () => nowNs, dedup: { minKeys: 1000 } });
  const requests = async (store: Awaited<ReturnType<typeof open>>) =>
    (await store.endpointAggregates({ window: { fromNs: T0 - MIN, toNs: T0 + MIN } })).reduce(
      (n, e) => n + e.requests,
      0,
    );
  const BATCH = 5_000;
  const BATCHES = 50;
  const ancient = batchOf(10_000_000, BATCH);
  const first = batchOf(0, BATCH);
  let store = await open();
  try {
    // 11 minutes before the rest: outside the window (and outside minKeys).
    nowNs = T0 - 11n * MIN;
    assert.deepEqual(await store.writeSpans(ancient), { written: BATCH, duplicates: 0 });
    // 250,000 spans within 50 s of ingest time, the oldest batch first.
    nowNs = T0;
    assert.deepEqual(await store.writeSpans(first), { written: BATCH, duplicates: 0 });
    for (let b = 1; b < BATCHES; b++) {
      nowNs = T0 + BigInt(b) * 1000n * MS;
      await store.writeSpans(batchOf(b * BATCH, BATCH));
    }
    await store.flushRollups();
    await store.close();
    // As after a crash: no snapshot of the keys, so they are read back from the spans.
    assert.ok(existsSync(snapshotPath(path)), 'close saved the keys');
    rmSync(snapshotPath(path));

    nowNs = T0 + 60_000n * MS;
    store = await open();
    assert.equal(await requests(store), BATCH * (BATCHES + 1));
    assert.deepEqual(
      await store.writeSpans(first),
      { written: 0, duplicates: BATCH },
      'the oldest of 250,000 spans acknowledged 1 min ago was counted again after the restart',
    );
    assert.deepEqual(await store.writeSpans(batchOf(BATCH * 17 + 13, 100)), { written: 0, duplicates: 100 });
    assert.equal(await requests(store), BATCH * (BATCHES + 1), 'the retry changed the counts');
    // The window is measured in ingest time: 11 minutes before the newest span is outside it.
    assert.deepEqual(await store.writeSpans(ancient.slice(0, 10)), { written: 10, duplicates: 0 });
  } finally {
    await store.close();
  }
});

test('the keys saved at close are taken at the next open only while they describe the file as it is', async () => {
  const path = join(dir, 'snapshot.duckdb');
  let nowNs = T0;
  const logged: string[] = [];
  const log = { info: (_o: unknown, msg: string) => logged.push(msg) } as never;
  const open = () => createDuckDbStore({ path, now: () => nowNs, dedup: { minKeys: 10 }, log });
  const a = batchOf(0, 100);
  const b = batchOf(100, 100);
  let store = await open();
  try {
    await store.writeSpans(a);
  } finally {
    await store.close();
  }
  const saved = `${path}.saved`;
  copyFileSync(snapshotPath(path), saved);
  // Reopened with the snapshot: the retry of a counts once; then b is written and the store closed again.
  nowNs = T0 + MIN;
  store = await open();
  try {
    assert.ok(
      logged.some((m) => m.includes('from the snapshot saved at close')),
      logged.join(' | '),
    );
    assert.deepEqual(await store.writeSpans(a.slice(0, 10)), { written: 0, duplicates: 10 });
    assert.deepEqual(await store.writeSpans(b), { written: 100, duplicates: 0 });
  } finally {
    await store.close();
  }
  // The older snapshot (without b) is put back, as if the last close had not saved one: its stamp no longer
  // matches, so the keys are read from the spans, and a retry of b counts once too.
  renameSync(saved, snapshotPath(path));
  logged.length = 0;
  store = await open();
  try {
    assert.ok(!logged.some((m) => m.includes('from the snapshot')), logged.join(' | '));
    assert.ok(!existsSync(snapshotPath(path)), 'the stale snapshot is deleted');
    assert.deepEqual(await store.writeSpans(b.slice(0, 10)), { written: 0, duplicates: 10 });
    assert.deepEqual(await store.writeSpans(a.slice(0, 10)), { written: 0, duplicates: 10 });
  } finally {
    await store.close();
  }
});
