import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Span, SpanKind, StatusCode } from '../model/index.ts';
import { requestSamples, sampledEffect, sampleQuantile, statementShares } from './endpoint-samples.ts';

const MS = 1_000_000n;
const T0 = 1_700_000_000_000n * MS;

/** A span of trace `trace`; `fp` makes it a database call of that fingerprint. */
function span(
  trace: string,
  id: string,
  parent: string,
  durationMs: number,
  o: { service?: string; endpoint?: string; kind?: SpanKind; fp?: string } = {},
): Span {
  const end = T0 + BigInt(Math.round(durationMs * 1000)) * 1000n;
  return {
    traceId: trace.padStart(32, '0'),
    spanId: id.padStart(16, '0'),
    parentSpanId: parent === '' ? '' : parent.padStart(16, '0'),
    service: o.service ?? 'shop',
    name: o.endpoint ?? id,
    endpoint: o.endpoint ?? id,
    kind: o.kind ?? (o.fp ? SpanKind.CLIENT : SpanKind.INTERNAL),
    startTimeUnixNano: T0,
    endTimeUnixNano: end,
    durationNano: end - T0,
    statusCode: StatusCode.UNSET,
    statusMessage: '',
    httpStatusCode: 0,
    isError: false,
    db: o.fp
      ? { system: 'postgresql', database: 'shop', statement: `SELECT ${o.fp}`, fingerprint: o.fp }
      : undefined,
    clockFlagged: false,
    resourceAttributes: {},
    attributes: {},
    events: [],
    links: [],
    scope: '',
  };
}

/** One request of GET /orders (service shop) of `durationMs`, with an F call of `fMs` and a G call of 5 ms. */
function orderRequest(trace: string, durationMs: number, fMs: number): Span[] {
  return [
    span(trace, '1', '', durationMs, { endpoint: 'GET /orders', kind: SpanKind.SERVER }),
    span(trace, '2', '1', 1, { endpoint: 'handler' }),
    span(trace, '3', '2', fMs, { fp: 'f' }),
    span(trace, '4', '1', 5, { fp: 'g' }),
  ];
}

test('a call belongs to the innermost server span above it: the downstream service’s calls are not the caller’s', () => {
  const trace = [
    span('a', '1', '', 200, { service: 'gateway', endpoint: 'GET /checkout', kind: SpanKind.SERVER }),
    span('a', '2', '1', 5, { service: 'gateway', fp: 'h' }),
    span('a', '3', '1', 150, { service: 'gateway', endpoint: 'POST shop', kind: SpanKind.CLIENT }),
    span('a', '4', '3', 100, { endpoint: 'POST /orders', kind: SpanKind.SERVER }),
    span('a', '5', '4', 30, { fp: 'f' }),
    span('a', '6', '4', 20, { fp: 'f' }),
    span('a', '7', '4', 10, { fp: 'g' }),
  ];
  const shop = requestSamples(trace, 'shop', 'POST /orders');
  assert.equal(shop.length, 1);
  assert.equal(shop[0]!.durationMs, 100);
  assert.deepEqual(Object.fromEntries(shop[0]!.statements), {
    f: { ms: 50, calls: 2 },
    g: { ms: 10, calls: 1 },
  });
  const gateway = requestSamples(trace, 'gateway', 'GET /checkout');
  assert.deepEqual(Object.fromEntries(gateway[0]!.statements), { h: { ms: 5, calls: 1 } });
  assert.deepEqual(requestSamples(trace, 'shop', 'GET /other'), []);
  // 50 + 10 of 100 ms.
  assert.deepEqual(statementShares(shop), [
    { fingerprint: 'f', msPerRequest: 50, callsPerRequest: 2, share: 0.5 },
    { fingerprint: 'g', msPerRequest: 10, callsPerRequest: 1, share: 0.1 },
  ]);
});

test('p95 of a sample interpolates between the closest ranks, as the rollups do', () => {
  // r = 0.95 × 19 = 18.05: the 19th value plus 5% of the step to the 20th.
  assert.ok(Math.abs(sampleQuantile([...Array(19).fill(100), 300], 0.95) - 110) < 1e-9);
  assert.equal(sampleQuantile([], 0.95), 0);
});

test('the effect of saving 95% of a statement, request by request (by hand)', () => {
  // 19 requests of 100 ms with an 80 ms F call, one of 300 ms with a 250 ms F call; each a 5 ms G call.
  const samples = Array.from({ length: 20 }, (_, i) =>
    requestSamples(orderRequest(`t${i}`, i === 7 ? 300 : 100, i === 7 ? 250 : 80), 'shop', 'GET /orders'),
  ).flat();
  const e = sampledEffect(samples, 'f', (x) => x.ms * 0.95)!;
  assert.equal(e.sampledRequests, 20);
  assert.equal(e.requestsWithStatement, 20);
  // F: 19 × 80 + 250 = 1,770 of 19 × 100 + 300 = 2,200 ms; G has 100 ms.
  assert.equal(e.share, 1770 / 2200);
  assert.equal(e.dominant, true);
  assert.equal(e.statementMsPerRequest, 88.5);
  // 1,770 × 0.95 ÷ 20.
  assert.ok(Math.abs(e.msSavedPerRequest - 84.075) < 1e-9);
  // Before 110 ms (see above); after, 19 of 100 − 76 = 24 and one of 300 − 237.5 = 62.5:
  // 24 + 0.05 × (62.5 − 24) = 25.925 ms.
  assert.ok(Math.abs(e.sampleP95Ms - 110) < 1e-9);
  assert.ok(Math.abs(e.sampleP95AfterMs - 25.925) < 1e-9);
  // The trace with the most time in F first.
  assert.equal(e.traceIds[0], 't7'.padStart(32, '0'));
  assert.equal(
    sampledEffect(samples, 'nope', (x) => x.ms),
    undefined,
  );
  // G is not the dominant statement; saving more than its time is clamped to its time.
  const g = sampledEffect(samples, 'g', (x) => 10 * x.ms)!;
  assert.equal(g.dominant, false);
  assert.equal(g.msSavedPerRequest, 5);
});
