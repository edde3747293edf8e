/**
 * The N+1 and sequential-query detectors on hand-made traces (every number below is computed by hand
 * from the span times written here) and, with ../shared, on Jaeger's fixtures against their manifests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { FIXTURE_WINDOW, fixture, get, NEEDS_SHARED, post, startTestApp } from './helpers.ts';

const hex = (n: number) => randomBytes(n).toString('hex');
const str = (v: string) => ({ stringValue: v });

/** One request: GET /orders/:id → 6 serial `SELECT … WHERE id = $1` (10 ms each, 2 ms apart) with a
 * pool-connect span between two of them, then 3 different queries back to back, then 6 overlapping calls. */
function orderTrace(startMs: number) {
  const traceId = hex(16);
  const root = hex(8);
  const t = (ms: number) => String(BigInt(Math.round((startMs + ms) * 1000)) * 1000n);
  const span = (
    name: string,
    from: number,
    to: number,
    kind: number,
    attrs: Record<string, string> = {},
    parent = root,
  ) => ({
    traceId,
    spanId: hex(8),
    parentSpanId: parent,
    name,
    kind,
    startTimeUnixNano: t(from),
    endTimeUnixNano: t(to),
    attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: str(v) })),
  });
  const db = (sql: string) => ({ 'db.system': 'postgresql', 'db.statement': sql });
  const spans = [
    {
      ...span('GET /orders/:id', 0, 200, 2, { 'http.request.method': 'GET', 'http.route': '/orders/:id' }),
      parentSpanId: '',
      spanId: root,
    },
  ];
  for (let i = 0; i < 6; i++) {
    spans.push(span('SELECT', 10 + 12 * i, 20 + 12 * i, 3, db(`SELECT * FROM items WHERE id = ${100 + i}`)));
    if (i === 2) spans.push(span('pg-pool.connect', 45, 46, 1));
  }
  spans.push(span('SELECT', 90, 95, 3, db('SELECT * FROM customers WHERE id = 7')));
  spans.push(span('SELECT', 96, 104, 3, db('SELECT * FROM addresses WHERE customer_id = 7')));
  spans.push(span('SELECT', 105, 108, 3, db('SELECT count(*) FROM reviews WHERE order_id = 1')));
  for (let i = 0; i < 6; i++) spans.push(span('GET', 110 + 2 * i, 150 + 2 * i, 3));
  return {
    traceId,
    body: {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: str('orders') }] },
          scopeSpans: [{ spans }],
        },
      ],
    },
  };
}

test('N+1 by hand: 6 serial statements despite a pool span between them; an overlapping fan-out is not one', async () => {
  const t = await startTestApp();
  try {
    const now = Date.now();
    for (const offset of [60_000, 30_000]) {
      const r = await post(
        t.app,
        '/v1/traces',
        JSON.stringify(orderTrace(now - offset).body),
        'application/json',
      );
      assert.equal(r.status, 200);
    }
    const { json } = await get(t.app, '/api/v1/apm/bottlenecks?window=15m');
    assert.equal(json.tracesExamined, 2);
    const n1 = json.findings.filter((f: { type: string }) => f.type === 'n_plus_one');
    assert.equal(n1.length, 1);
    const f = n1[0];
    assert.equal(f.endpoint, 'GET /orders/:id');
    assert.equal(f.statement, 'SELECT * FROM items WHERE id = $1');
    assert.equal(f.traces, 2);
    assert.equal(f.callsPerRequest, 6);
    // 6 calls × 10 ms per request; saving = 60 − 2 × 10 = 40 ms.
    assert.ok(Math.abs(f.timePerRequestMs - 60) < 1e-6, String(f.timePerRequestMs));
    assert.ok(Math.abs(f.savingPerRequestMs - 40) < 1e-6, String(f.savingPerRequestMs));
    assert.equal(f.evidence.overlappingPairs, 0);
    // Wall: first start 10 ms, last end 20 + 60 = 80 ms → 70 ms.
    assert.ok(Math.abs(f.evidence.meanWallMs - 70) < 1e-6, String(f.evidence.meanWallMs));
    assert.match(f.fix, /= ANY\(\$1\)/);
    // The 6 GET calls overlap (each starts 2 ms after the previous, lasting 40 ms): 5 of 5 pairs.
    assert.deepEqual(
      json.parallelFanOuts.map((g: { operation: string; count: number; overlappingPairs: number }) => [
        g.operation,
        g.count,
        g.overlappingPairs,
      ]),
      [
        ['GET', 6, 5],
        ['GET', 6, 5],
      ],
    );
    // Sequential: the 3 different statements after the loop (5 + 8 + 3 = 16 ms; saving 16 − 8 = 8 ms).
    const seq = json.findings.find((x: { type: string }) => x.type === 'sequential_queries');
    assert.equal(seq.callsPerRequest, 3);
    assert.ok(Math.abs(seq.savingPerRequestMs - 8) < 1e-6, String(seq.savingPerRequestMs));
  } finally {
    await t.close();
  }
});

describe('Jaeger fixtures: the manifests’ expected answers', { skip: NEEDS_SHARED }, () => {
  test('n_plus_one_positive: 13 GetDriver siblings, 0 overlaps, wall 194.3 ms, sum 192.4 ms', async () => {
    const t = await startTestApp();
    try {
      await post(t.app, '/v1/traces', fixture('otlp/jaeger/n_plus_one_positive.json'), 'application/json');
      const { json } = await get(t.app, `/api/v1/apm/bottlenecks?${FIXTURE_WINDOW}`);
      const f = json.findings.find((x: { type: string }) => x.type === 'n_plus_one');
      assert.equal(f.service, 'redis-manual');
      assert.equal(f.statement, 'GetDriver');
      assert.equal(f.callsPerRequest, 13);
      assert.equal(f.evidence.overlappingPairs, 0);
      assert.equal(f.evidence.exampleParentSpanId, 'be56eec6f3678130');
      assert.equal(f.evidence.meanWallMs.toFixed(1), '194.3');
      assert.equal(f.timePerRequestMs.toFixed(1), '192.4');
      assert.match(f.fix, /MGET/);
      assert.deepEqual(json.parallelFanOuts, []);
    } finally {
      await t.close();
    }
  });

  test('near miss and the whole HotROD trace: the overlapping HTTP fan-outs are rejected, the serial Redis loop found', async () => {
    const t = await startTestApp();
    try {
      await post(t.app, '/v1/traces', fixture('otlp/jaeger/n_plus_one_near_miss.json'), 'application/json');
      await post(
        t.app,
        '/v1/traces',
        fixture('otlp/jaeger/n_plus_one_full_concurrent.json'),
        'application/json',
      );
      const { json } = await get(t.app, `/api/v1/apm/bottlenecks?${FIXTURE_WINDOW}`);
      const fan = json.parallelFanOuts.map(
        (g: {
          operation: string;
          count: number;
          overlappingPairs: number;
          wallMs: number;
          sumMs: number;
        }) => [g.operation, g.count, g.overlappingPairs, g.wallMs.toFixed(1), g.sumMs.toFixed(1)],
      );
      assert.deepEqual(
        fan.sort((a: string[], b: string[]) => Number(a[3]) - Number(b[3])),
        [
          ['HTTP GET', 11, 9, '693.8', '782.6'],
          ['HTTP GET', 11, 8, '1723.3', '1815.7'],
        ],
      );
      const n1 = json.findings.filter((x: { type: string }) => x.type === 'n_plus_one');
      assert.equal(n1.length, 1);
      assert.equal(n1[0].statement, 'GetDriver');
      assert.equal(n1[0].callsPerRequest, 13);
      assert.equal(n1[0].evidence.exampleParentSpanId, '1538e9b90f608783');
      assert.equal(n1[0].timePerRequestMs.toFixed(1), '204.1');
      assert.equal(n1[0].evidence.meanWallMs.toFixed(1), '204.4');
    } finally {
      await t.close();
    }
  });
});
