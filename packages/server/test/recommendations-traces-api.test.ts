/**
 * `/api/v1/recommendations` from traces alone (no database pool): OTLP/JSON spans of two versions of a
 * service go in over HTTP, and the one list carries the endpoint that regressed in the new version and the
 * span where failing checkouts start to fail, with figures computed here by hand. Filters, stable ids and
 * `GET …/{id}` answer for both kinds; responses are validated against their schemas.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { get, post, startTestApp, type TestApp } from './helpers.ts';

const hex = (n: number) => randomBytes(n).toString('hex');
const str = (v: string) => ({ stringValue: v });
const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: { stringValue: string } }[];
  status?: { code: number; message?: string };
  events?: {
    timeUnixNano: string;
    name: string;
    attributes: { key: string; value: { stringValue: string } }[];
  }[];
}

const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
const http = (method: string, route: string) => [
  { key: 'http.request.method', value: str(method) },
  { key: 'http.route', value: str(route) },
];
const ERROR = { code: 2, message: 'failed' };

/** A GET /search of `durationMs` at `t0`: search.index from 1 ms for `indexMs`, render 2 ms at the end − 3. */
function search(t0: number, durationMs: number, indexMs: number): SpanSpec[] {
  const traceId = hex(16);
  const root = hex(8);
  return [
    {
      traceId,
      spanId: root,
      name: 'GET /search',
      kind: 2,
      startTimeUnixNano: ns(t0),
      endTimeUnixNano: ns(t0 + durationMs),
      attributes: http('GET', '/search'),
    },
    {
      traceId,
      spanId: hex(8),
      parentSpanId: root,
      name: 'search.index',
      kind: 1,
      startTimeUnixNano: ns(t0 + 1),
      endTimeUnixNano: ns(t0 + 1 + indexMs),
    },
    {
      traceId,
      spanId: hex(8),
      parentSpanId: root,
      name: 'render',
      kind: 1,
      startTimeUnixNano: ns(t0 + durationMs - 3),
      endTimeUnixNano: ns(t0 + durationMs - 1),
    },
  ];
}

/**
 * A checkout at `t0`: shop's GET /checkout → its POST /charge client call → payment's POST /charge →
 * stripe.charge. Failed: stripe.charge times out (exception event), and the failure runs up the chain.
 */
function checkout(t0: number, failed: boolean, n: number): { shop: SpanSpec[]; payment: SpanSpec[] } {
  const traceId = hex(16);
  const [root, call, server] = [hex(8), hex(8), hex(8)];
  const status = failed ? { status: ERROR } : {};
  return {
    shop: [
      {
        traceId,
        spanId: root,
        name: 'GET /checkout',
        kind: 2,
        startTimeUnixNano: ns(t0),
        endTimeUnixNano: ns(t0 + 100),
        attributes: http('GET', '/checkout'),
        ...status,
      },
      {
        traceId,
        spanId: call,
        parentSpanId: root,
        name: 'POST /charge',
        kind: 3,
        startTimeUnixNano: ns(t0 + 10),
        endTimeUnixNano: ns(t0 + 90),
        ...status,
      },
    ],
    payment: [
      {
        traceId,
        spanId: server,
        parentSpanId: call,
        name: 'POST /charge',
        kind: 2,
        startTimeUnixNano: ns(t0 + 11),
        endTimeUnixNano: ns(t0 + 89),
        attributes: http('POST', '/charge'),
        ...status,
      },
      {
        traceId,
        spanId: hex(8),
        parentSpanId: server,
        name: 'stripe.charge',
        kind: 3,
        startTimeUnixNano: ns(t0 + 20),
        endTimeUnixNano: ns(t0 + 80),
        ...(failed
          ? {
              status: { code: 2, message: 'timeout' },
              events: [
                {
                  timeUnixNano: ns(t0 + 80),
                  name: 'exception',
                  attributes: [
                    { key: 'exception.type', value: str('StripeTimeout') },
                    { key: 'exception.message', value: str(`timeout after ${3000 + n} ms`) },
                  ],
                },
              ],
            }
          : {}),
      },
    ],
  };
}

const resource = (service: string, version: string, spans: SpanSpec[]) => ({
  resource: {
    attributes: [
      { key: 'service.name', value: str(service) },
      { key: 'service.version', value: str(version) },
    ],
  },
  scopeSpans: [{ spans }],
});

/**
 * The data, in the last hour (window=1h):
 * - GET /search (shop), a request every 30 s from 50 min ago: 40 of 1.4.0 lasting 10 + (i mod 10) ms with a
 *   5 ms search.index, then 40 of 1.5.0 lasting 30 + (i mod 10) ms with a 25 ms one.
 * - GET /checkout (shop 1.5.0 → payment 2.0.0), one a minute from 45 min ago: 4 fail in stripe.charge
 *   (StripeTimeout, `timeout after 300n ms`), 2 succeed.
 */
function traces(): string {
  const start = Date.now() - 50 * 60_000;
  const v14: SpanSpec[] = [];
  const v15: SpanSpec[] = [];
  const payment: SpanSpec[] = [];
  for (let i = 0; i < 40; i++) v14.push(...search(start + i * 30_000, 10 + (i % 10), 5));
  for (let i = 40; i < 80; i++) v15.push(...search(start + i * 30_000, 30 + (i % 10), 25));
  for (let i = 0; i < 6; i++) {
    const c = checkout(start + 5 * 60_000 + i * 60_000, i < 4, i);
    v15.push(...c.shop);
    payment.push(...c.payment);
  }
  return JSON.stringify({
    resourceSpans: [
      resource('shop', '1.4.0', v14),
      resource('shop', '1.5.0', v15),
      resource('payment', '2.0.0', payment),
    ],
  });
}

describe('recommendations API from traces: regression and error-origin', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    const r = await post(t.app, '/v1/traces', traces(), 'application/json');
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });
  after(async () => {
    await t?.close();
  });

  test('regression: GET /search p95 19 → 39 ms in 1.5.0, search.index +20 ms, 1.6 s per hour', async () => {
    const { status, json } = await get(t.app, '/api/v1/recommendations?window=1h&kind=regression');
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(
      json.recommendations.length,
      1,
      JSON.stringify(json.recommendations.map((r: any) => r.title)),
    );
    const r = json.recommendations[0];
    assert.equal(r.kind, 'regression');
    assert.equal(r.area, 'endpoint');
    assert.match(r.id, /^regression\.[0-9a-f]{16}$/);
    assert.equal(r.key, 'regression:shop:GET /search:1.4.0→1.5.0');
    assert.equal(r.target.service, 'shop');
    assert.equal(r.target.endpoint, 'GET /search');
    assert.equal(r.title, 'GET /search (shop) regressed in 1.5.0: p95 19 → 39 ms');
    const m = r.evidence.measured;
    assert.equal(m.versionBefore, '1.4.0');
    assert.equal(m.versionAfter, '1.5.0');
    assert.equal(m.before.requests, 40);
    assert.equal(m.after.requests, 40);
    // 40 durations, 10..19 (then 30..39) four times each: rank 0.95 × 39 = 37.05 between two equal values.
    assert.ok(close(m.before.p95Ms, 19), String(m.before.p95Ms));
    assert.ok(close(m.after.p95Ms, 39), String(m.after.p95Ms));
    assert.ok(close(m.p95ChangeMs, 20));
    assert.equal(m.before.errors, 0);
    assert.equal(m.after.errors, 0);
    assert.equal(m.p95Regressed, true);
    assert.equal(m.errorsRegressed, false);
    // The change: the first 1.5.0 request, 40 × 30 s after the first one.
    const first = Date.parse(m.changedAt) - 40 * 30_000;
    assert.ok(Math.abs(first - (Date.now() - 50 * 60_000)) < 5 * 60_000);
    assert.equal(m.spans.length, 1);
    assert.equal(m.spans[0].name, 'search.index');
    assert.ok(close(m.spans[0].growthMs, 20));
    // (34.5 − 14.5) ms × 80 requests in the hour ÷ 1000.
    assert.ok(close(r.gain.timeSavedSecondsPerHour, 1.6), String(r.gain.timeSavedSecondsPerHour));
    assert.ok(close(r.gain.msPerRequest, 20));
    assert.equal(r.evidence.traceIds.length, 5);
    assert.ok(r.evidence.series[0].query.startsWith('/api/v1/apm/metrics/series?'));
  });

  test('error-origin: stripe.charge (payment) fails first in 4 checkouts, 4 per hour', async () => {
    const { status, json } = await get(t.app, '/api/v1/recommendations?window=1h&kind=error-origin');
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(
      json.recommendations.length,
      1,
      JSON.stringify(json.recommendations.map((r: any) => r.title)),
    );
    const r = json.recommendations[0];
    assert.equal(r.kind, 'error-origin');
    assert.equal(r.key, 'error-origin:payment:stripe.charge:StripeTimeout:timeout after <n> ms');
    assert.equal(r.target.service, 'payment');
    assert.equal(r.target.endpoint, 'POST /charge');
    assert.equal(
      r.title,
      'stripe.charge (payment) StripeTimeout fails first in 4 failing requests (4 per hour): timeout after 3000 ms',
    );
    const m = r.evidence.measured;
    assert.equal(m.failingTraces, 4);
    assert.equal(m.failingRequests, 4);
    assert.ok(close(m.failingRequestsPerHour, 4));
    assert.equal(m.sampleLimited, false);
    assert.deepEqual(m.endpoints, [
      { service: 'payment', endpoint: 'POST /charge', failures: 4 },
      { service: 'shop', endpoint: 'GET /checkout', failures: 4 },
    ]);
    assert.deepEqual(m.exampleChain, [
      'shop: GET /checkout',
      'shop: POST /charge',
      'payment: POST /charge',
      'payment: stripe.charge',
    ]);
    assert.equal(r.evidence.traceIds.length, 4);
    assert.equal(r.apply.kind, 'investigate');
  });

  test('both in the one list with stable ids; the service and state filters and GET …/{id} still work', async () => {
    const a = await get(t.app, '/api/v1/recommendations?window=1h');
    const b = await get(t.app, '/api/v1/recommendations?window=1h');
    const ids = (j: any) => j.recommendations.map((r: any) => r.id);
    assert.deepEqual(ids(a.json), ids(b.json));
    const kinds = a.json.recommendations.map((r: any) => r.kind).sort();
    assert.deepEqual(kinds, ['error-origin', 'regression']);
    // Ranked by time saved: the regression (1.6 s per hour) before the error origin (no time figure).
    assert.equal(a.json.recommendations[0].kind, 'regression');
    assert.ok(close(a.json.totals.timeSavedSecondsPerHour, 1.6));

    const payment = await get(t.app, '/api/v1/recommendations?window=1h&service=payment');
    assert.deepEqual(
      payment.json.recommendations.map((r: any) => r.kind),
      ['error-origin'],
    );
    const shop = await get(t.app, '/api/v1/recommendations?window=1h&service=shop');
    assert.deepEqual(
      shop.json.recommendations.map((r: any) => r.kind),
      ['regression'],
    );
    const open = await get(t.app, '/api/v1/recommendations?window=1h&state=open');
    assert.equal(open.json.recommendations.length, 2);
    const dismissed = await get(t.app, '/api/v1/recommendations?window=1h&state=dismissed');
    assert.equal(dismissed.json.recommendations.length, 0);

    for (const id of ids(a.json)) {
      const one = await get(t.app, `/api/v1/recommendations/${id}?window=1h`);
      assert.equal(one.status, 200, JSON.stringify(one.json));
      assert.equal(one.json.recommendation.id, id);
      assert.equal(one.json.inWindow, true);
    }

    // The seed's advice route does not read traces for them and still answers.
    const seed = await get(t.app, '/api/v1/cache-db/optimization/recommendations?window=1h');
    assert.equal(seed.status, 200, JSON.stringify(seed.json));
  });
});
