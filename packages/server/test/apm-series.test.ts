/**
 * `GET /api/v1/apm/metrics/series`: per service (or endpoint) the window's totals — the same as
 * `metrics/api` for the same window — and per step counts and percentiles, checked against spans whose
 * times and durations are chosen by hand.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { get, post, startTestApp } from './helpers.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const str = (v: string) => ({ stringValue: v });
const MIN_MS = 60_000;

/** One SERVER span of `service` at `startMs` lasting `ms`, with an HTTP route and status. */
function serverSpan(startMs: number, ms: number, route: string, status = 200) {
  const ns = (t: number) => String(BigInt(Math.round(t * 1000)) * 1000n);
  return {
    traceId: hex(16),
    spanId: hex(8),
    name: `GET ${route}`,
    kind: 2,
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(startMs + ms),
    attributes: [
      { key: 'http.request.method', value: str('GET') },
      { key: 'http.route', value: str(route) },
      { key: 'http.response.status_code', value: { intValue: String(status) } },
    ],
    status: status >= 500 ? { code: 2 } : {},
  };
}

const body = (service: string, spans: unknown[]) =>
  JSON.stringify({
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: str(service) }] }, scopeSpans: [{ spans }] },
    ],
  });

test('series: steps hold the spans of their minutes; totals equal metrics/api for the window', async () => {
  const t = await startTestApp();
  try {
    // A 10-minute window on whole minutes, ending 20 minutes ago (a 1-minute step: 10 points).
    const to = Math.floor(Date.now() / MIN_MS) * MIN_MS - 20 * MIN_MS;
    const from = to - 10 * MIN_MS;
    const checkout = [
      serverSpan(from + 5_000, 10, '/cart'),
      serverSpan(from + 6_000, 30, '/cart'),
      serverSpan(from + 3 * MIN_MS + 1_000, 100, '/pay', 500),
      serverSpan(from + 3 * MIN_MS + 2_000, 50, '/cart'),
      serverSpan(to + 1_000, 999, '/cart'), // after the window
    ];
    assert.equal(
      (await post(t.app, '/v1/traces', body('checkout', checkout), 'application/json')).status,
      200,
    );
    const web = [serverSpan(from + 9 * MIN_MS, 8, '/')];
    assert.equal((await post(t.app, '/v1/traces', body('web', web), 'application/json')).status, 200);
    const q = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const series = await get(t.app, `/api/v1/apm/metrics/series?${q}&maxPoints=10`);
    assert.equal(series.status, 200);
    assert.equal(series.json.stepMs, MIN_MS);
    const [c, w] = series.json.groups;
    assert.equal(c.service, 'checkout', 'busiest first');
    assert.equal(c.endpoint, null);
    assert.equal(c.requests, 4);
    assert.equal(c.errors, 1);
    assert.equal(c.errorRate, 0.25);
    assert.equal(c.throughputRps, 4 / 600);
    assert.equal(c.points.length, 10);
    assert.deepEqual(
      c.points.map((p: { requests: number }) => p.requests),
      [2, 0, 0, 2, 0, 0, 0, 0, 0, 0],
    );
    assert.equal(c.points[0].time, new Date(from).toISOString());
    assert.equal(c.points[0].throughputRps, 2 / 60);
    assert.equal(c.points[1].p95Ms, null, 'an empty step has no percentile');
    assert.equal(c.points[3].errorRate, 0.5);
    // Within the sketch's 1%: p50 of 10 and 30 is 20; p99 of 50 and 100 is the top value, 100.
    assert.ok(Math.abs(c.points[0].p50Ms - 20) <= 0.2, `p50 ${c.points[0].p50Ms}`);
    assert.ok(Math.abs(c.points[3].p99Ms - 100) <= 1, `p99 ${c.points[3].p99Ms}`);
    assert.equal(w.service, 'web');
    assert.deepEqual(
      w.points.map((p: { requests: number }) => p.requests),
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    );
    // Totals: metrics/api's endpoints of checkout together.
    const api = await get(t.app, `/api/v1/apm/metrics/api?${q}&service=checkout&kind=server`);
    const requests = api.json.endpoints.reduce((n: number, e: { requests: number }) => n + e.requests, 0);
    assert.equal(requests, c.requests);
    const byEndpoint = await get(t.app, `/api/v1/apm/metrics/series?${q}&service=checkout&groupBy=endpoint`);
    const cart = byEndpoint.json.groups.find((g: { endpoint: string }) => g.endpoint === 'GET /cart');
    const apiCart = api.json.endpoints.find((e: { endpoint: string }) => e.endpoint === 'GET /cart');
    assert.equal(cart.requests, 3);
    assert.equal(cart.p95Ms, apiCart.p95Ms, 'the same sketch, the same p95 as metrics/api');
    assert.equal(cart.apdex, apiCart.apdex);
    const one = await get(t.app, `/api/v1/apm/metrics/series?${q}&service=checkout&endpoint=GET%20/pay`);
    assert.equal(one.json.groups.length, 1);
    assert.equal(one.json.groups[0].requests, 1);
  } finally {
    await t.close();
  }
});

test('series: the step is the smallest nice step giving at most maxPoints', async () => {
  const t = await startTestApp();
  try {
    const at = async (window: string, maxPoints?: number) =>
      (
        await get(
          t.app,
          `/api/v1/apm/metrics/series?window=${window}${maxPoints ? `&maxPoints=${maxPoints}` : ''}`,
        )
      ).json.stepMs / MIN_MS;
    assert.equal(await at('1h'), 1, '60 one-minute steps');
    assert.equal(await at('6h'), 10, '360 min / 60 = 6 → 10');
    assert.equal(await at('24h'), 30);
    assert.equal(await at('7d'), 180, '10,080 min / 60 = 168 → 180');
    assert.equal(await at('1h', 10), 10);
    const bad = await get(t.app, '/api/v1/apm/metrics/series?maxPoints=5');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'maxPoints');
  } finally {
    await t.close();
  }
});
