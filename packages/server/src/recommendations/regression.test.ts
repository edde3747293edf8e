import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Span, SpanKind, StatusCode } from '../model/index.ts';
import { findRegression, regressionRecommendation, twoProportionZ, versionedRequests } from './regression.ts';

const MS = 1_000_000n;
const T0MS = 1_700_000_000_000;
const W = { fromMs: T0MS - 60_000, toMs: T0MS + 3_600_000 };
const near = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol;

/** A span starting `fromMs` after `t0Ms`, lasting `durationMs`. */
function span(
  trace: string,
  id: string,
  parent: string,
  t0Ms: number,
  fromMs: number,
  durationMs: number,
  o: { name?: string; kind?: SpanKind; version?: string; error?: boolean } = {},
): Span {
  const start = BigInt(t0Ms + fromMs) * MS;
  const end = start + BigInt(Math.round(durationMs * 1000)) * 1000n;
  return {
    traceId: trace,
    spanId: id.padStart(16, '0'),
    parentSpanId: parent === '' ? '' : parent.padStart(16, '0'),
    service: 'shop',
    name: o.name ?? id,
    endpoint: o.name ?? id,
    kind: o.kind ?? SpanKind.INTERNAL,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    durationNano: end - start,
    statusCode: o.error ? StatusCode.ERROR : StatusCode.UNSET,
    statusMessage: '',
    httpStatusCode: o.error ? 500 : 0,
    isError: o.error ?? false,
    db: undefined,
    clockFlagged: false,
    resourceAttributes:
      o.version === undefined ? {} : { 'service.name': 'shop', 'service.version': o.version },
    attributes: {},
    events: [],
    links: [],
    scope: '',
  };
}

const traceId = (i: number) => String(100 + i).padStart(32, '0');

/**
 * Request `i` of GET /search: a server span of `durationMs` at T0 + i s, with `search.index` (from 1 ms,
 * `indexMs` long) and `render` (2 ms, ending 1 ms before the request).
 */
function request(i: number, version: string | undefined, durationMs: number, indexMs: number, error = false) {
  const t = traceId(i);
  const t0 = T0MS + i * 1000;
  return [
    span(t, '1', '', t0, 0, durationMs, { name: 'GET /search', kind: SpanKind.SERVER, version, error }),
    span(t, '2', '1', t0, 1, indexMs, { name: 'search.index', version }),
    span(t, '3', '1', t0, durationMs - 3, 2, { name: 'render', version }),
  ];
}

const requests = (spans: Span[][]) => spans.flatMap((s) => versionedRequests(s, 'shop', 'GET /search'));

test('regression by hand: 1.4.0 → 1.5.0, p95 19 → 39 ms, search.index +20 ms per request', () => {
  const traces: Span[][] = [];
  // Before: 40 requests of 10 + (i mod 10) ms with a 5 ms index search; after: 40 of 30 + (i mod 10) ms
  // with a 25 ms one. Render 2 ms on both sides; the server span's own time 10 + (i mod 10) − 7 on both.
  for (let i = 0; i < 40; i++) traces.push(request(i, '1.4.0', 10 + (i % 10), 5));
  for (let i = 40; i < 80; i++) traces.push(request(i, '1.5.0', 30 + (i % 10), 25));
  // A request without service.version is left out.
  traces.push(request(80, undefined, 500, 1));
  const rs = requests(traces);
  assert.equal(rs.length, 80);
  const r = findRegression(rs, 'shop', 'GET /search');
  assert.ok(r);
  assert.equal(r.before.version, '1.4.0');
  assert.equal(r.after.version, '1.5.0');
  assert.equal(r.changedAtMs, T0MS + 40_000);
  assert.equal(r.before.requests, 40);
  assert.equal(r.after.requests, 40);
  // 40 values, 10..19 four times each: rank 0.95 × 39 = 37.05 lies between two 19s.
  assert.ok(near(r.before.p95Ms, 19));
  assert.ok(near(r.after.p95Ms, 39));
  assert.ok(near(r.before.meanMs, 14.5));
  assert.ok(near(r.after.meanMs, 34.5));
  assert.equal(r.p95Regressed, true);
  assert.equal(r.errorsRegressed, false);
  // All 40 after are slower than 19 ms: z = (1 − 0.05) ÷ √(0.0475 ÷ 40) = 27.568.
  assert.equal(r.slowerThanBefore, 40);
  assert.ok(near(r.p95Z, 0.95 / Math.sqrt(0.0475 / 40)));
  assert.ok(near(r.p95Z, 27.568, 1e-3));
  // Only search.index grew (5 → 25 ms); render and the server span's own time did not.
  assert.equal(r.spans.length, 1);
  assert.equal(r.spans[0]!.name, 'search.index');
  assert.ok(near(r.spans[0]!.beforeMsPerRequest, 5));
  assert.ok(near(r.spans[0]!.afterMsPerRequest, 25));
  // The slowest after: the four 39 ms requests (i = 49, 59, 69, 79), then the first 38 ms one by id (48).
  assert.deepEqual(r.traceIds, [49, 59, 69, 79, 48].map(traceId));

  const d = regressionRecommendation(r, W, 80);
  assert.equal(d.kind, 'regression');
  assert.equal(d.area, 'endpoint');
  assert.match(d.id, /^regression\.[0-9a-f]{16}$/);
  assert.equal(d.key, 'regression:shop:GET /search:1.4.0→1.5.0');
  assert.equal(d.title, 'GET /search (shop) regressed in 1.5.0: p95 19 → 39 ms');
  // 39 ≥ 2 × 19: critical.
  assert.equal(d.severity, 'critical');
  assert.deepEqual(d.target.service, 'shop');
  assert.deepEqual(d.target.endpoint, 'GET /search');
  // (34.5 − 14.5) ms × 80 requests per hour ÷ 1000 = 1.6 s per hour.
  assert.ok(near(d.gain.timeSavedSecondsPerHour!, 1.6));
  assert.ok(near(d.gain.msPerRequest!, 20));
  assert.ok(d.gain.arithmetic.includes('(34.5 − 14.5) ms × 80 requests per hour ÷ 1000 = 1.6 s per hour'));
  assert.ok(d.gain.arithmetic.includes('search.index (shop) self time 5 → 25 ms per request (+20 ms)'));
  assert.equal(d.evidence.measured.changedAt, new Date(T0MS + 40_000).toISOString());
  assert.equal(d.evidence.traceIds.length, 5);
  assert.equal(d.apply.kind, 'investigate');
});

test('error regression by hand: 0/40 → 4/40 failed is 10 points at z = 2.052; 3/40 is not enough', () => {
  const build = (failing: number) => {
    const traces: Span[][] = [];
    for (let i = 0; i < 40; i++) traces.push(request(i, '2.0', 10, 5));
    for (let i = 40; i < 80; i++) traces.push(request(i, '2.1', 10, 5, i >= 80 - failing));
    return requests(traces);
  };
  // p = 4/80 = 0.05; z = 0.1 ÷ √(0.05 × 0.95 × (1/40 + 1/40)) = 0.1 ÷ 0.048734 = 2.0520.
  assert.ok(near(twoProportionZ(0, 40, 4, 40), 0.1 / Math.sqrt(0.05 * 0.95 * 0.05)));
  assert.ok(near(twoProportionZ(0, 40, 4, 40), 2.052, 1e-3));
  const r = findRegression(build(4), 'shop', 'GET /search');
  assert.ok(r);
  assert.equal(r.p95Regressed, false);
  assert.equal(r.errorsRegressed, true);
  assert.equal(r.after.errors, 4);
  assert.ok(near(r.after.errorRate, 0.1));
  // The failed requests first (76..79, equal durations: by id), then the first other one.
  assert.deepEqual(r.traceIds, [76, 77, 78, 79, 40].map(traceId));
  const d = regressionRecommendation(r, W, 80);
  assert.equal(d.title, 'GET /search (shop) regressed in 2.1: errors 0% → 10%');
  assert.equal(d.severity, 'critical');
  assert.equal(d.gain.timeSavedSecondsPerHour, null);
  // p = 3/80; z = 0.075 ÷ √(0.0375 × 0.9625 × 0.05) = 1.7655 < 1.96.
  assert.ok(near(twoProportionZ(0, 40, 3, 40), 1.7655, 1e-3));
  assert.equal(findRegression(build(3), 'shop', 'GET /search'), undefined);
});

test('noise does not fire it: three slow outliers, or too few requests after the change', () => {
  const traces: Span[][] = [];
  for (let i = 0; i < 40; i++) traces.push(request(i, '3.0', 10 + (i % 10), 5));
  // 37 requests of 10 ms and 3 of 100 ms: the p95 goes 19 → 100 ms, but 3 of 40 above 19 ms is
  // z = (0.075 − 0.05) ÷ √(0.0475 ÷ 40) = 0.7255 < 1.96.
  for (let i = 40; i < 80; i++) traces.push(request(i, '3.1', i >= 77 ? 100 : 10, 5));
  assert.equal(findRegression(requests(traces), 'shop', 'GET /search'), undefined);
  // 29 requests after a slow version: under the 30 needed.
  const few: Span[][] = [];
  for (let i = 0; i < 40; i++) few.push(request(i, '3.0', 10, 5));
  for (let i = 40; i < 69; i++) few.push(request(i, '3.1', 50, 5));
  assert.equal(findRegression(requests(few), 'shop', 'GET /search'), undefined);
  // One version only: no change.
  assert.equal(findRegression(requests(few.slice(0, 40)), 'shop', 'GET /search'), undefined);
});

test('a rollback compares the restored version with the one it replaced', () => {
  const traces: Span[][] = [];
  for (let i = 0; i < 30; i++) traces.push(request(i, 'A', 10, 5));
  for (let i = 30; i < 70; i++) traces.push(request(i, 'B', 10, 5));
  for (let i = 70; i < 110; i++) traces.push(request(i, 'A', 40, 5, i % 2 === 0));
  const r = findRegression(requests(traces), 'shop', 'GET /search');
  assert.ok(r);
  assert.equal(r.before.version, 'B');
  assert.equal(r.after.version, 'A');
  assert.equal(r.changedAtMs, T0MS + 70_000);
  assert.equal(r.after.requests, 40);
  assert.equal(r.after.errors, 20);
});
