import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Span, SpanKind, StatusCode } from '../model/index.ts';
import { errorOriginRecommendation, errorOrigins, failureChains, messagePattern } from './error-origin.ts';

const MS = 1_000_000n;
const T0MS = 1_700_000_000_000;
const W = { fromMs: T0MS, toMs: T0MS + 2 * 3_600_000 };

interface Opts {
  service?: string;
  kind?: SpanKind;
  error?: boolean;
  exception?: [string, string];
}

/** A span of trace `t` from `fromMs` to `toMs` after `t0Ms`. */
function span(
  t: string,
  id: string,
  parent: string,
  t0Ms: number,
  fromMs: number,
  toMs: number,
  name: string,
  o: Opts = {},
): Span {
  const start = BigInt(t0Ms + fromMs) * MS;
  const end = BigInt(t0Ms + toMs) * MS;
  return {
    traceId: t,
    spanId: id.padStart(16, '0'),
    parentSpanId: parent === '' ? '' : parent.padStart(16, '0'),
    service: o.service ?? 'shop',
    name,
    endpoint: name,
    kind: o.kind ?? SpanKind.INTERNAL,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    durationNano: end - start,
    statusCode: o.error ? StatusCode.ERROR : StatusCode.UNSET,
    statusMessage: o.error ? 'failed' : '',
    httpStatusCode: 0,
    isError: o.error ?? false,
    db: undefined,
    clockFlagged: false,
    resourceAttributes: {},
    attributes: {},
    events: o.exception
      ? [
          {
            timeUnixNano: String(end),
            name: 'exception',
            attributes: { 'exception.type': o.exception[0], 'exception.message': o.exception[1] },
          },
        ]
      : [],
    links: [],
    scope: '',
  };
}

const SERVER = SpanKind.SERVER;
const CLIENT = SpanKind.CLIENT;
const tid = (i: number) => String(i).padStart(32, '0');

/**
 * A checkout at minute `i` whose payment call failed: GET /checkout (shop) → POST /charge client → POST
 * /charge (payment) → stripe.charge (times out, 20..80 ms), then audit.write fails too, later (85..88 ms).
 */
function declined(i: number): Span[] {
  const t = tid(i);
  const t0 = T0MS + i * 60_000;
  return [
    span(t, '1', '', t0, 0, 100, 'GET /checkout', { kind: SERVER, error: true }),
    span(t, '2', '1', t0, 1, 5, 'SELECT cart', { kind: CLIENT }),
    span(t, '3', '1', t0, 10, 90, 'POST /charge', { kind: CLIENT, error: true }),
    span(t, '4', '3', t0, 11, 89, 'POST /charge', { service: 'payment', kind: SERVER, error: true }),
    span(t, '5', '4', t0, 20, 80, 'stripe.charge', {
      service: 'payment',
      kind: CLIENT,
      error: true,
      exception: ['StripeTimeout', `timeout after ${3000 + i} ms`],
    }),
    span(t, '6', '4', t0, 85, 88, 'audit.write', {
      service: 'payment',
      error: true,
      exception: ['AuditError', 'audit log closed'],
    }),
  ];
}

/** A checkout at minute `i` whose cart query failed (`fail`), or whose failure the handler absorbed. */
function cartFailed(i: number, propagated = true): Span[] {
  const t = tid(i);
  const t0 = T0MS + i * 60_000;
  return [
    span(t, '1', '', t0, 0, 20, 'GET /checkout', { kind: SERVER, error: propagated }),
    span(t, '2', '1', t0, 1, 5, 'SELECT cart', {
      kind: CLIENT,
      error: true,
      exception: ['PgError', 'connection reset'],
    }),
  ];
}

test('message patterns: digit runs and long hex ids are grouped', () => {
  assert.equal(messagePattern('timeout after 3001 ms'), 'timeout after <n> ms');
  assert.equal(messagePattern('order 9f86d081884c7d65 not found'), 'order <id> not found');
  assert.equal(messagePattern('user 123e4567-e89b-12d3-a456-426614174000 gone'), 'user <id> gone');
  assert.equal(messagePattern('deadbeefcafe'), 'deadbeefcafe');
});

test('the chain goes down the earliest failed child: the payment timeout under the checkout', () => {
  const [c, ...rest] = failureChains(declined(1));
  assert.equal(rest.length, 0);
  assert.deepEqual(
    c!.chain.map((s) => `${s.service}: ${s.name}`),
    ['shop: GET /checkout', 'shop: POST /charge', 'payment: POST /charge', 'payment: stripe.charge'],
  );
  assert.equal(c!.exceptionType, 'StripeTimeout');
  assert.equal(c!.exceptionMessage, 'timeout after 3001 ms');
  // A failure the handler absorbed is no failing request.
  assert.deepEqual(failureChains(cartFailed(2, false)), []);
});

test('error origins by hand: 4 payment timeouts explain 2 failing requests per hour; 2 of another are too few', () => {
  const traces = [...[1, 2, 3, 4].map(declined), ...[5, 6].map((i) => cartFailed(i)), cartFailed(7, false)];
  const origins = errorOrigins(traces.flatMap(failureChains));
  assert.equal(origins.length, 1, 'the cart failure has 2 failing traces, under the 3 needed');
  const o = origins[0]!;
  assert.equal(o.service, 'payment');
  assert.equal(o.spanName, 'stripe.charge');
  assert.equal(o.exceptionType, 'StripeTimeout');
  assert.equal(o.messagePattern, 'timeout after <n> ms');
  assert.equal(o.exampleMessage, 'timeout after 3001 ms');
  assert.equal(o.endpoint, 'POST /charge');
  assert.equal(o.traces, 4);
  assert.equal(o.requests, 4);
  assert.deepEqual(o.endpoints, [
    { service: 'payment', endpoint: 'POST /charge', failures: 4 },
    { service: 'shop', endpoint: 'GET /checkout', failures: 4 },
  ]);
  // Most recent first.
  assert.deepEqual(o.traceIds, [4, 3, 2, 1].map(tid));
  // With three cart failures they are a group of their own, after the payment one.
  const more = errorOrigins([...traces, cartFailed(8)].flatMap(failureChains));
  assert.deepEqual(
    more.map((x) => [x.service, x.spanName, x.exceptionType, x.requests]),
    [
      ['payment', 'stripe.charge', 'StripeTimeout', 4],
      ['shop', 'SELECT cart', 'PgError', 3],
    ],
  );

  // 4 failing requests over the 2-hour window: 2 per hour.
  const d = errorOriginRecommendation(o, W, 2, false);
  assert.equal(d.kind, 'error-origin');
  assert.equal(d.area, 'endpoint');
  assert.equal(d.key, 'error-origin:payment:stripe.charge:StripeTimeout:timeout after <n> ms');
  assert.match(d.id, /^error-origin\.[0-9a-f]{16}$/);
  assert.equal(
    d.title,
    'stripe.charge (payment) StripeTimeout fails first in 4 failing requests (2 per hour): timeout after 3001 ms',
  );
  assert.equal(d.target.service, 'payment');
  assert.equal(d.target.endpoint, 'POST /charge');
  assert.equal(d.evidence.measured.failingRequestsPerHour, 2);
  assert.deepEqual(d.evidence.traceIds, [4, 3, 2, 1].map(tid));
  assert.ok(d.gain.arithmetic.includes('4 ÷ 2 h = 2 failing requests per hour'));
  assert.ok(
    d.gain.arithmetic.includes('endpoints it made fail: POST /charge (payment) 4, GET /checkout (shop) 4'),
  );
  assert.equal(d.gain.timeSavedSecondsPerHour, null);
  assert.equal(d.gain.confidence, 'medium');
  assert.equal(d.apply.kind, 'investigate');
  assert.match(d.apply.how, /^Investigate stripe\.charge in payment \(under POST \/charge\)/);
});
