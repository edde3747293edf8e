import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { type Span, SpanKind, StatusCode } from '../../model/index.ts';
import { quantile } from '../../util/latency-sketch.ts';
import { createDuckDbStore } from './duckdb-store.ts';

const MIN = 60_000_000_000n;
const T0 = 1_790_000_000_000_000_000n - (1_790_000_000_000_000_000n % MIN);

function span(startNs: bigint, ms: number, over: Partial<Span> = {}): Span {
  const dur = BigInt(Math.round(ms * 1e6));
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: '',
    service: 'api',
    name: 'GET /a',
    endpoint: 'GET /a',
    kind: SpanKind.SERVER,
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + dur,
    durationNano: dur,
    statusCode: StatusCode.UNSET,
    statusMessage: '',
    httpStatusCode: 200,
    isError: false,
    db: { system: 'postgresql', database: 'shop', statement: 'SELECT $1', fingerprint: 'f1' },
    clockFlagged: false,
    resourceAttributes: {},
    attributes: {},
    events: [],
    links: [],
    scope: '',
    ...over,
  };
}

test('compaction merges the rows of several flushes into one per key and minute, and answers stay the same', async () => {
  let now = T0 + 10n * MIN;
  const store = await createDuckDbStore({ path: ':memory:', now: () => now });
  try {
    for (let flush = 0; flush < 4; flush++) {
      await store.writeSpans(
        [1, 2, 3].map((i) => span(T0 + BigInt(i) * 1_000_000_000n, 10 * (flush + 1) * i)),
      );
      await store.flushRollups();
      now += 1_000_000_000n;
    }
    const window = { fromNs: T0, toNs: T0 + MIN };
    const before = await store.endpointAggregates({ window });
    const res = await store.compactRollups(T0 + 5n * MIN);
    assert.deepEqual(res, { merged: 2, removed: 6 }, 'one endpoint and one db group, 4 rows each → 1');
    const after = await store.endpointAggregates({ window });
    assert.equal(after[0]!.requests, 12);
    assert.equal(after[0]!.requests, before[0]!.requests);
    assert.equal(after[0]!.maxMs, 120);
    assert.equal(quantile(after[0]!.sketch, 0.5), quantile(before[0]!.sketch, 0.5));
    const db = await store.dbAggregates({ window });
    assert.equal(db[0]!.calls, 12);
    assert.equal(db[0]!.statement, 'SELECT $1');
    assert.deepEqual(
      await store.compactRollups(T0 + 5n * MIN),
      { merged: 0, removed: 0 },
      'nothing new to compact',
    );
  } finally {
    await store.close();
  }
});

test('retention is measured from ingest time: old imported spans are kept until they age on the server', async () => {
  let now = T0;
  const store = await createDuckDbStore({ path: ':memory:', now: () => now });
  try {
    const old = span(T0 - 400n * 24n * 60n * MIN, 5); // a span from 400 days ago, imported now
    await store.writeSpans([old]);
    await store.flushRollups();
    const policy = {
      rawSpansNs: 7n * 24n * 60n * MIN,
      rollupsNs: 90n * 24n * 60n * MIN,
      metricPointsNs: 30n * 24n * 60n * MIN,
    };
    const kept = await store.applyRetention(policy, now + 24n * 60n * MIN);
    assert.deepEqual(kept, { spans: 0, endpoint_rollups: 0, db_rollups: 0, metric_points: 0 });
    assert.equal((await store.traceSpans(old.traceId)).length, 1);
    now += 8n * 24n * 60n * MIN;
    const gone = await store.applyRetention(policy, now);
    assert.equal(gone.spans, 1, 'deleted 8 days after ingest');
    assert.equal(gone.endpoint_rollups, 0, 'rollups stay for 90 days');
  } finally {
    await store.close();
  }
});
