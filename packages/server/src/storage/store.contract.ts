/**
 * The contract suite of the storage ports.
 * @module
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { type Span, SpanKind, StatusCode } from '../model/index.ts';
import { quantile } from '../util/latency-sketch.ts';
import type { Store } from './store.ts';

const MIN = 60_000_000_000n;
const T0 = 1_790_000_000_000_000_000n - (1_790_000_000_000_000_000n % MIN);

const RESOURCE = { 'service.name': 'api', 'host.name': 'web-1' };

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
    transaction: undefined,
    clockFlagged: false,
    resourceAttributes: RESOURCE,
    attributes: {},
    events: [],
    links: [],
    scope: '',
    ...over,
  };
}

/**
 * Runs the behaviour every {@link Store} adapter must show (the Hono pattern: one shared suite, one call per
 * adapter). `makeStore` opens a new, empty store whose clock is `now`.
 */
export function runStoreContract(name: string, makeStore: (now: () => bigint) => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    test('writes are durable round trips: every field of a span comes back, a duplicate is skipped', async () => {
      const store = await makeStore(() => T0 + MIN);
      try {
        const s = span(T0 + 1_234_567n, 7.654321, {
          parentSpanId: 'ab'.repeat(8),
          statusCode: StatusCode.ERROR,
          statusMessage: 'boom',
          isError: true,
          attributes: { 'http.route': '/a', n: 3, ok: true, list: [1, 'x'] },
          events: [
            { timeUnixNano: String(T0 + 5n), name: 'exception', attributes: { 'exception.type': 'E' } },
          ],
          links: [{ traceId: 'cd'.repeat(16), spanId: 'ef'.repeat(8), attributes: {} }],
          transaction: { id: 'ab'.repeat(16), name: 'checkout', event: 'step', step: 'pay', success: false },
        });
        assert.deepEqual(await store.writeSpans([s, s]), { written: 1, duplicates: 1 });
        assert.deepEqual(await store.writeSpans([s]), { written: 0, duplicates: 1 });
        const [back] = await store.traceSpans(s.traceId);
        assert.deepEqual(back, s);
      } finally {
        await store.close();
      }
    });

    test('compaction merges the rows of several flushes into one per key and minute, and answers stay the same', async () => {
      let now = T0 + 10n * MIN;
      const store = await makeStore(() => now);
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
        assert.deepEqual(
          res,
          { merged: 2, removed: 6, rebuilt: { hourly: 0, tenminute: 0 } },
          'one endpoint and one db group, 4 rows each → 1',
        );
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
          { merged: 0, removed: 0, rebuilt: { hourly: 0, tenminute: 0 } },
          'nothing new to compact',
        );
      } finally {
        await store.close();
      }
    });

    test('retention is measured from ingest time: old imported spans are kept until they age on the server', async () => {
      let now = T0;
      const store = await makeStore(() => now);
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
        assert.ok(
          Object.values(kept).every((n) => n === 0),
          JSON.stringify(kept),
        );
        const [stored] = await store.traceSpans(old.traceId);
        assert.deepEqual(stored!.resourceAttributes, old.resourceAttributes);
        now += 8n * 24n * 60n * MIN;
        const gone = await store.applyRetention(policy, now);
        assert.equal(gone.spans, 1, 'deleted 8 days after ingest');
        assert.equal(gone.resources, 1, 'its resource row goes with the last span that used it');
        assert.equal(gone.endpoint_rollups, 0, 'rollups stay for 90 days');
      } finally {
        await store.close();
      }
    });

    test('hourly tier: a window over whole hours gives the same answer before and after compaction, late data counted once', async () => {
      const HOUR = 60n * MIN;
      const H0 = T0 - (T0 % HOUR);
      let now = H0 + 5n * HOUR;
      const store = await makeStore(() => now);
      try {
        // Three hours of data, a few spans per minute, flushed in several pieces.
        for (let h = 0n; h < 3n; h++) {
          const spans: Span[] = [];
          for (let m = 0n; m < 60n; m += 7n)
            spans.push(span(H0 + h * HOUR + m * MIN, Number(h + 1n) * 10 + Number(m)));
          await store.writeSpans(spans);
          await store.flushRollups();
        }
        const window = { fromNs: H0 + 30n * MIN, toNs: H0 + 3n * HOUR };
        const answer = async () => {
          const [e] = await store.endpointAggregates({ window });
          const [d] = await store.dbAggregates({ window });
          return {
            requests: e!.requests,
            max: e!.maxMs,
            p50: quantile(e!.sketch, 0.5),
            p99: quantile(e!.sketch, 0.99),
            calls: d!.calls,
          };
        };
        const before = await answer();
        const r = await store.compactRollups(H0 + 3n * HOUR + 5n * MIN);
        assert.deepEqual(
          r.rebuilt,
          { hourly: 6, tenminute: 36 },
          '3 hours and 18 ten-minute blocks × (one endpoint key + one db key)',
        );
        assert.deepEqual(await answer(), before);
        // A late span for hour 1, written after the compaction: read from the minute tier until the next one.
        now += MIN;
        await store.writeSpans([span(H0 + HOUR + 3n * MIN, 999)]);
        await store.flushRollups();
        const withLate = await answer();
        assert.equal(withLate.requests, before.requests + 1);
        assert.equal(withLate.max, 999);
        now += MIN;
        const r2 = await store.compactRollups(H0 + 3n * HOUR + 5n * MIN);
        assert.deepEqual(
          r2.rebuilt,
          { hourly: 2, tenminute: 2 },
          'only the blocks that got late data are rebuilt',
        );
        assert.deepEqual(await answer(), withLate);
      } finally {
        await store.close();
      }
    });
  });
}
