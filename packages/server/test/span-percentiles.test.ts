/**
 * `GET /api/v1/apm/traces/{traceId}`: each span's `percentile` against its own operation over the
 * percentile window (default: the hour ending at the trace's end), checked against durations chosen by
 * hand so that no other duration lies within the sketch's 2% bucket of the ranked one.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { get, post, startTestApp } from './helpers.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const str = (v: string) => ({ stringValue: v });
const ns = (t: number) => String(BigInt(Math.round(t * 1000)) * 1000n);
const MIN_MS = 60_000;

interface SpanOpts {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
}

/** A SERVER span `GET /cart` at `startMs` lasting `ms`. */
function cartSpan(startMs: number, ms: number, o: SpanOpts = {}) {
  return {
    traceId: o.traceId ?? hex(16),
    spanId: o.spanId ?? hex(8),
    ...(o.parentSpanId ? { parentSpanId: o.parentSpanId } : {}),
    name: 'GET /cart',
    kind: 2,
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(startMs + ms),
    attributes: [
      { key: 'http.request.method', value: str('GET') },
      { key: 'http.route', value: str('/cart') },
      { key: 'http.response.status_code', value: { intValue: '200' } },
    ],
  };
}

/** A CLIENT span running `SELECT * FROM authors WHERE id = <id>` on PostgreSQL. */
function dbSpan(startMs: number, ms: number, o: SpanOpts = {}) {
  return {
    traceId: o.traceId ?? hex(16),
    spanId: o.spanId ?? hex(8),
    ...(o.parentSpanId ? { parentSpanId: o.parentSpanId } : {}),
    name: 'SELECT shop.authors',
    kind: 3,
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(startMs + ms),
    attributes: [
      { key: 'db.system', value: str('postgresql') },
      { key: 'db.name', value: str('shop') },
      { key: 'db.statement', value: str(`SELECT * FROM authors WHERE id = ${Math.round(startMs) % 1000}`) },
    ],
  };
}

const body = (spans: unknown[]) =>
  JSON.stringify({
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: str('shop') }] }, scopeSpans: [{ spans }] },
    ],
  });

interface Node {
  name: string;
  percentile: number | null;
  children: Node[];
}

test('a span is ranked among its operation in the hour ending at the trace end: the 95th of 100 is at p95', async () => {
  const t = await startTestApp();
  try {
    // The trace ends 30 minutes ago; the other requests come in the 20 minutes before it.
    const traceStart = Math.floor(Date.now() / MIN_MS) * MIN_MS - 30 * MIN_MS - 1_000;
    const others: unknown[] = [];
    // GET /cart: 94 requests of 1..94 ms and 5 of 1,000..1,004 ms; the trace's root takes 500 ms.
    // Ranked among these 100: 94 faster + itself = 95 at most 500 ms → 95.
    for (let i = 1; i <= 94; i++) others.push(cartSpan(traceStart - 20 * MIN_MS + i * 1_000, i));
    for (let i = 0; i < 5; i++) others.push(cartSpan(traceStart - 10 * MIN_MS + i * 1_000, 1_000 + i));
    // Two hours before: outside the default window, inside a 3-hour one.
    others.push(cartSpan(traceStart - 120 * MIN_MS, 2_000));
    // The statement: 9 calls of 1 ms and 10 of 20 ms elsewhere; the trace's call takes 5 ms → 10 of 20 → 50.
    for (let i = 0; i < 9; i++) others.push(dbSpan(traceStart - 15 * MIN_MS + i * 1_000, 1));
    for (let i = 0; i < 10; i++) others.push(dbSpan(traceStart - 14 * MIN_MS + i * 1_000, 20));
    const traceId = hex(16);
    const rootId = hex(8);
    const trace = [
      cartSpan(traceStart, 500, { traceId, spanId: rootId }),
      dbSpan(traceStart + 10, 5, { traceId, parentSpanId: rootId }),
    ];
    const res = await post(t.app, '/v1/traces', body([...others, ...trace]), 'application/json');
    assert.equal(res.status, 200);

    const tree = await get(t.app, `/api/v1/apm/traces/${traceId}`);
    assert.equal(tree.status, 200);
    const root: Node = tree.json.roots[0];
    assert.equal(root.name, 'GET /cart');
    assert.equal(root.percentile, 95, 'the 95th of 100 durations');
    const db = root.children[0]!;
    assert.equal(db.percentile, 50, 'a database call is ranked among the calls of its statement');

    // A 3-hour window also holds the 2,000 ms request: 95 of 101.
    const wide = await get(t.app, `/api/v1/apm/traces/${traceId}?window=3h`);
    assert.equal(wide.status, 200);
    assert.ok(
      Math.abs(wide.json.roots[0].percentile - (95 / 101) * 100) < 1e-9,
      wide.json.roots[0].percentile,
    );

    // A window without any rollup of the operations: null, not 0.
    const before = new Date(traceStart - 300 * MIN_MS).toISOString();
    const empty = await get(t.app, `/api/v1/apm/traces/${traceId}?from=${before}&window=15m`);
    assert.equal(empty.status, 200);
    assert.equal(empty.json.roots[0].percentile, null);
    assert.equal(empty.json.roots[0].children[0].percentile, null);

    const bad = await get(t.app, `/api/v1/apm/traces/${traceId}?window=soon`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'window');
  } finally {
    await t.close();
  }
});

test('the slowest span of its operation is at 100 (its exact maximum); the fastest of 4 is at 25', async () => {
  const t = await startTestApp();
  try {
    const traceStart = Math.floor(Date.now() / MIN_MS) * MIN_MS - 10 * MIN_MS;
    const others = [cartSpan(traceStart - MIN_MS, 100), cartSpan(traceStart - MIN_MS + 5_000, 200)];
    const slow = hex(16);
    const fast = hex(16);
    const spans = [
      ...others,
      cartSpan(traceStart, 300, { traceId: slow }),
      cartSpan(traceStart, 10, { traceId: fast }),
    ];
    assert.equal((await post(t.app, '/v1/traces', body(spans), 'application/json')).status, 200);
    const s = await get(t.app, `/api/v1/apm/traces/${slow}`);
    assert.equal(s.json.roots[0].percentile, 100, 'the exact maximum');
    const f = await get(t.app, `/api/v1/apm/traces/${fast}`);
    // 4 requests: 10, 100, 200, 300 ms; 10 ms is the fastest: 1 of 4 took at most as long.
    assert.equal(f.json.roots[0].percentile, 25);
  } finally {
    await t.close();
  }
});
