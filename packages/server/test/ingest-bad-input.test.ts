/**
 * Bad input: each case shows its error and that the good data of the same request survived.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { otlpTypes } from '../src/ingest/index.ts';
import { get, post, startTestApp, waitFor } from './helpers.ts';

const NOW_NS = BigInt(Date.now()) * 1_000_000n;

function span(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    name: 'GET /users/{id}',
    kind: 2,
    startTimeUnixNano: String(NOW_NS - 50_000_000n),
    endTimeUnixNano: String(NOW_NS),
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/users/{id}' } },
      { key: 'http.response.status_code', value: { intValue: 200 } },
    ],
    ...over,
  };
}

function request(spans: Record<string, unknown>[], service = 'svc'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans }],
      },
    ],
  });
}

describe('bad OTLP input', () => {
  test('OTLP/JSON as protobuf JSON mappers write it (base64 ids, enum names): each bad span rejected alone', async () => {
    const t = await startTestApp();
    try {
      // Python's json_format.MessageToJson and protobufjs' toObject write bytes as base64 and enums as
      // names; OTLP/JSON wants hex ids (names are allowed). Built here the way those mappers build it.
      const types = otlpTypes();
      const asProtobufJson = (sp: Record<string, unknown>) =>
        types.traceRequest.toObject(
          types.traceRequest.fromObject({ resourceSpans: [{ scopeSpans: [{ spans: [sp] }] }] }),
          { enums: String, bytes: String, longs: String },
        ).resourceSpans[0].scopeSpans[0].spans[0];
      const pySpan = asProtobufJson({
        traceId: randomBytes(16),
        spanId: randomBytes(8),
        name: 'GET /users/{id}',
        kind: 2,
        startTimeUnixNano: String(NOW_NS - 50_000_000n),
        endTimeUnixNano: String(NOW_NS),
        status: { code: 2, message: 'boom' },
      });
      assert.equal(pySpan.kind, 'SPAN_KIND_SERVER', 'the mapper writes enum names');
      assert.match(pySpan.traceId, /=$/, 'and base64 ids');
      const named = span({
        kind: 'SPAN_KIND_SERVER',
        status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
      });
      const client = span({ kind: 'SPAN_KIND_CLIENT', name: 'GET' });
      const spans = [
        named, // [0] hex ids, enum names: kept
        pySpan, // [1] base64 trace id (24 characters)
        span({ spanId: randomBytes(8).toString('base64') }), // [2] base64 span id (12 characters)
        span({ traceId: 'g'.repeat(32) }), // [3] right length, not hex
        span({ kind: 'SPAN_KIND_SERVERS' }), // [4] no such kind: not read as 0
        span({ status: { code: 'STATUS_CODE_FAILED' } }), // [5] no such status code: not read as 0
        span({ parentSpanId: 42 }), // [6] an id that is not text
        client, // [7] kept
      ];
      const r = await post(t.app, '/v1/traces', request(spans), 'application/json');
      assert.equal(r.status, 200);
      assert.equal(r.json.partialSuccess.rejectedSpans, '6');
      const msg: string = r.json.partialSuccess.errorMessage;
      const p = 'resourceSpans\\[0\\]\\.scopeSpans\\[0\\]\\.spans';
      assert.match(
        msg,
        new RegExp(`${p}\\[1\\]\\.traceId: must be 32 hex characters \\(ids are hex, not base64\\)`),
      );
      assert.match(
        msg,
        new RegExp(`${p}\\[2\\]\\.spanId: must be 16 hex characters \\(ids are hex, not base64\\)`),
      );
      assert.match(
        msg,
        new RegExp(`${p}\\[3\\]\\.traceId: must be hex \\(ids are hex, not base64\\), got "g{32}"`),
      );
      assert.match(msg, new RegExp(`${p}\\[4\\]\\.kind: must be a SpanKind 0\\.\\.5, got SPAN_KIND_SERVERS`));
      assert.match(
        msg,
        new RegExp(`${p}\\[5\\]\\.status\\.code: must be a StatusCode 0\\.\\.2, got STATUS_CODE_FAILED`),
      );
      assert.match(msg, /and 1 more/, 'the sixth (parentSpanId 42) is counted too');
      const [kept] = await t.store.traceSpans(named.traceId as string);
      assert.equal(kept!.kind, 2, 'SPAN_KIND_SERVER');
      assert.equal(kept!.statusCode, 2, 'STATUS_CODE_ERROR');
      assert.equal(kept!.isError, true);
      assert.equal((await t.store.traceSpans(client.traceId as string))[0]!.kind, 3, 'SPAN_KIND_CLIENT');
      const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m&kind=server');
      assert.deepEqual(
        json.endpoints.map((e: any) => [e.endpoint, e.requests, e.errors]),
        [['GET /users/{id}', 1, 1]],
        'of the six server spans sent, only the valid one counts (as an error)',
      );
    } finally {
      await t.close();
    }
  });

  test('bad spans are rejected through partial success while the good ones are kept', async () => {
    const t = await startTestApp();
    try {
      const good = [span(), span()];
      const bad = [
        span({ endTimeUnixNano: String(NOW_NS - 100_000_000n) }), // end before start
        span({ startTimeUnixNano: '0' }), // zero time
        span({ endTimeUnixNano: undefined }), // missing time
        span({ traceId: 'abcd' }), // wrong length
        span({ spanId: '0000000000000000' }), // all zero
      ];
      const r = await post(t.app, '/v1/traces', request([good[0]!, ...bad, good[1]!]), 'application/json');
      assert.equal(r.status, 200);
      assert.equal(r.json.partialSuccess.rejectedSpans, '5');
      const msg: string = r.json.partialSuccess.errorMessage;
      assert.match(msg, /spans\[1\]\.endTimeUnixNano: end \d+ precedes start \d+/);
      assert.match(msg, /spans\[2\]\.startTimeUnixNano: must be a positive integer/);
      assert.match(
        msg,
        /spans\[3\]\.endTimeUnixNano: must be a positive integer of ns since the epoch, got nothing/,
      );
      assert.match(msg, /spans\[4\]\.traceId: must be 32 hex characters \(16 bytes\), got 4/);
      assert.match(msg, /spans\[5\]\.spanId: must not be all zero/);
      for (const g of good) assert.equal((await t.store.traceSpans(g.traceId as string)).length, 1);
      const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m');
      assert.equal(json.endpoints[0].requests, 2, 'only the two good spans count');
    } finally {
      await t.close();
    }
  });

  test('protobuf: ids of the wrong byte length are rejected per span, a truncated body is a 400', async () => {
    const t = await startTestApp();
    try {
      const types = otlpTypes();
      const mk = (traceId: Buffer) => ({
        traceId,
        spanId: randomBytes(8),
        name: 'work',
        kind: 1,
        startTimeUnixNano: String(NOW_NS - 1000n),
        endTimeUnixNano: String(NOW_NS),
      });
      const goodId = randomBytes(16);
      const body = types.traceRequest
        .encode(
          types.traceRequest.fromObject({
            resourceSpans: [{ scopeSpans: [{ spans: [mk(goodId), mk(randomBytes(5))] }] }],
          }),
        )
        .finish();
      const r = await post(t.app, '/v1/traces', Buffer.from(body), 'application/x-protobuf');
      assert.equal(r.status, 200);
      const resp = types.traceResponse.toObject(types.traceResponse.decode(r.raw), { longs: String }) as any;
      assert.equal(resp.partialSuccess.rejectedSpans, '1');
      assert.match(
        resp.partialSuccess.errorMessage,
        /traceId: must be 32 hex characters \(16 bytes\), got 10/,
      );
      assert.equal((await t.store.traceSpans(goodId.toString('hex'))).length, 1);
      const cut = await post(
        t.app,
        '/v1/traces',
        Buffer.from(body.subarray(0, body.length - 7)),
        'application/x-protobuf',
      );
      assert.equal(cut.status, 400);
      assert.equal(cut.json.code, 'ERR_INGEST_DECODE');
      assert.match(cut.json.detail, /not a valid ExportTraceServiceRequest protobuf message/);
    } finally {
      await t.close();
    }
  });

  test('invalid JSON is a 400 naming the parse error', async () => {
    const t = await startTestApp();
    try {
      const r = await post(t.app, '/v1/traces', '{"resourceSpans": [', 'application/json');
      assert.equal(r.status, 400);
      assert.equal(r.json.code, 'ERR_INGEST_DECODE');
      assert.match(r.json.detail, /not valid JSON/);
    } finally {
      await t.close();
    }
  });

  test('413 above maxBodyBytes and above maxDecompressedBytes; 415 for other types and encodings', async () => {
    const t = await startTestApp({ maxBodyBytes: 2048, maxDecompressedBytes: 4096 });
    try {
      const big = request(Array.from({ length: 20 }, () => span()));
      const r = await post(t.app, '/v1/traces', big, 'application/json');
      assert.equal(r.status, 413);
      assert.equal(r.json.code, 'ERR_INGEST_BODY_TOO_LARGE');
      assert.equal(r.json.limit, 2048);
      const bomb = gzipSync(Buffer.alloc(100_000, 0x20));
      assert.ok(bomb.length < 2048);
      const r2 = await post(t.app, '/v1/traces', bomb, 'application/json', { 'content-encoding': 'gzip' });
      assert.equal(r2.status, 413);
      assert.match(r2.json.detail, /decompressed body exceeds the limit of 4096 bytes/);
      const r3 = await post(t.app, '/v1/traces', 'hello', 'text/plain');
      assert.equal(r3.status, 415);
      assert.equal(r3.json.code, 'ERR_INGEST_CONTENT_TYPE');
      const r4 = await post(t.app, '/v1/traces', request([span()]), 'application/json', {
        'content-encoding': 'br',
      });
      assert.equal(r4.status, 415);
      assert.match(r4.json.detail, /content-encoding "br" is not supported/);
    } finally {
      await t.close();
    }
  });

  test('gzip bodies are accepted', async () => {
    const t = await startTestApp();
    try {
      const s = span();
      const r = await post(t.app, '/v1/traces', gzipSync(request([s])), 'application/json', {
        'content-encoding': 'gzip',
      });
      assert.equal(r.status, 200);
      assert.equal((await t.store.traceSpans(s.traceId as string)).length, 1);
    } finally {
      await t.close();
    }
  });

  test('a span sent twice (exporter retry) counts once', async () => {
    const t = await startTestApp();
    try {
      const body = request([span(), span(), span()]);
      assert.equal((await post(t.app, '/v1/traces', body, 'application/json')).status, 200);
      assert.equal((await post(t.app, '/v1/traces', body, 'application/json')).status, 200);
      const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m');
      assert.equal(json.endpoints[0].requests, 3);
    } finally {
      await t.close();
    }
  });

  test('64-bit times sent as JSON numbers keep every nanosecond', async () => {
    const t = await startTestApp();
    try {
      const s = span();
      const start = NOW_NS - 123_456_789n;
      const body = request([s]).replace(
        `"startTimeUnixNano":"${s.startTimeUnixNano}"`,
        `"startTimeUnixNano":${start}`,
      );
      assert.ok(body.includes(`"startTimeUnixNano":${start}`));
      assert.equal((await post(t.app, '/v1/traces', body, 'application/json')).status, 200);
      const [stored] = await t.store.traceSpans(s.traceId as string);
      assert.equal(stored!.startTimeUnixNano, start);
      assert.equal(stored!.durationNano, 123_456_789n);
    } finally {
      await t.close();
    }
  });

  test('a span far in the future is kept, flagged, and rolled up at ingest time, not in its own minute', async () => {
    const t = await startTestApp();
    try {
      const future = NOW_NS + 30n * 365n * 86_400_000_000_000n;
      const s = span({ startTimeUnixNano: String(future), endTimeUnixNano: String(future + 5_000_000n) });
      const r = await post(t.app, '/v1/traces', request([s]), 'application/json');
      assert.equal(r.status, 200);
      const { json: tree } = await get(t.app, `/api/v1/apm/traces/${s.traceId}`);
      assert.equal(tree.roots[0].clockFlagged, true);
      assert.equal(tree.roots[0].durationMs, 5);
      const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m');
      assert.equal(json.endpoints[0].requests, 1, 'counted in the current window');
    } finally {
      await t.close();
    }
  });
});

describe('absurd durations (maxSpanDurationMs)', () => {
  test('OTLP: a span of 8 days is rejected with its reason; the endpoint mean is that of the other two', async () => {
    const t = await startTestApp();
    try {
      const DAY_NS = 86_400_000_000_000n;
      const fast = span({ startTimeUnixNano: String(NOW_NS - 50_000_000n) }); // 50 ms
      const slow = span({ startTimeUnixNano: String(NOW_NS - 100_000_000n) }); // 100 ms
      const stuck = span({ startTimeUnixNano: String(NOW_NS - 8n * DAY_NS) }); // 8 days: never ended properly
      const week = span({ startTimeUnixNano: String(NOW_NS - 7n * DAY_NS), name: 'nightly' }); // exactly the limit
      const r = await post(t.app, '/v1/traces', request([fast, stuck, slow, week]), 'application/json');
      assert.equal(r.status, 200);
      assert.equal(r.json.partialSuccess.rejectedSpans, '1');
      assert.equal(
        r.json.partialSuccess.errorMessage,
        'resourceSpans[0].scopeSpans[0].spans[1].endTimeUnixNano: lasts 691200000 ms (8 days), more than maxSpanDurationMs = 604800000 ms (7 days)',
      );
      assert.equal((await t.store.traceSpans(stuck.traceId as string)).length, 0);
      assert.equal(
        (await t.store.traceSpans(week.traceId as string)).length,
        1,
        '7 days is not more than 7 days',
      );
      const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m&kind=server');
      const e = json.endpoints.find((x: any) => x.endpoint === 'GET /users/{id}');
      assert.equal(e.requests, 2, 'fast and slow (the 7-day span started a week ago, outside the window)');
      assert.equal(e.meanMs, 75, '(50 + 100) / 2, not (50 + 100 + 691,200,000) / 3 ≈ 230,400,050');
    } finally {
      await t.close();
    }
  });

  test('Zipkin with maxSpanDurationMs = 60000: 61 s is rejected in the per-span list, 60 s is kept', async () => {
    const t = await startTestApp({ maxSpanDurationMs: 60_000 });
    try {
      const ts = Math.floor(Date.now() * 1000) - 120_000_000;
      const z = (duration: number) => ({
        traceId: randomBytes(16).toString('hex'),
        id: randomBytes(8).toString('hex'),
        name: 'get /report',
        kind: 'SERVER',
        timestamp: ts,
        duration,
        localEndpoint: { serviceName: 'reports', ipv4: '10.0.0.7', port: 8080 },
      });
      const [ok, tooLong] = [z(60_000_000), z(61_000_000)];
      const r = await post(t.app, '/api/v2/spans', JSON.stringify([ok, tooLong]), 'application/json');
      assert.equal(r.status, 202);
      assert.equal(r.json.accepted, 1);
      assert.deepEqual(r.json.rejected, [
        {
          index: 1,
          field: '[1].duration',
          code: 'ERR_INGEST_SPAN_TIME',
          reason: 'lasts 61000 ms, more than maxSpanDurationMs = 60000 ms',
        },
      ]);
      assert.equal((await t.store.traceSpans(ok.traceId)).length, 1);
      assert.equal((await t.store.traceSpans(tooLong.traceId)).length, 0);
    } finally {
      await t.close();
    }
  });
});

describe('bad Zipkin and metrics input', () => {
  test('Zipkin: a bad span is reported per item and the good ones are stored', async () => {
    const t = await startTestApp();
    try {
      const ts = Math.floor(Date.now() * 1000);
      const good = {
        traceId: randomBytes(8).toString('hex'),
        id: randomBytes(8).toString('hex'),
        name: 'get',
        kind: 'SERVER',
        timestamp: ts,
        duration: 1500,
        localEndpoint: { serviceName: 'z' },
      };
      const bad = { ...good, id: 'xyz' };
      const r = await post(
        t.app,
        '/api/v2/spans',
        JSON.stringify([good, bad, { ...good, id: randomBytes(8).toString('hex'), timestamp: -5 }]),
        'application/json',
      );
      assert.equal(r.status, 202);
      assert.equal(r.json.accepted, 1);
      assert.deepEqual(
        r.json.rejected.map((x: any) => [x.index, x.field, x.code]),
        [
          [1, '[1].id', 'ERR_INGEST_SPAN_ID'],
          [2, '[2].timestamp', 'ERR_INGEST_SPAN_TIME'],
        ],
      );
      const stored = await t.store.traceSpans(good.traceId.padStart(32, '0'));
      assert.equal(stored.length, 1);
      assert.equal(stored[0]!.durationNano, 1_500_000n);
      const r2 = await post(t.app, '/api/v2/spans', '"hello"', 'application/json');
      assert.equal(r2.status, 400);
    } finally {
      await t.close();
    }
  });

  test('OTLP metrics: a point without time is rejected, the others are stored and served as a series', async () => {
    const t = await startTestApp();
    try {
      const body = JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'orders.placed',
                    unit: '{order}',
                    sum: {
                      isMonotonic: true,
                      aggregationTemporality: 2,
                      dataPoints: [
                        { timeUnixNano: String(NOW_NS - 2_000_000_000n), asInt: '5' },
                        { timeUnixNano: String(NOW_NS), asInt: 9 },
                        { asInt: 1 },
                      ],
                    },
                  },
                  {
                    name: 'checkout.duration',
                    unit: 'ms',
                    histogram: {
                      aggregationTemporality: 1,
                      dataPoints: [
                        {
                          timeUnixNano: String(NOW_NS),
                          count: '4',
                          sum: 100,
                          explicitBounds: [10, 50],
                          bucketCounts: ['1', '2', '1'],
                          min: 5,
                          max: 60,
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      });
      const r = await post(t.app, '/v1/metrics', body, 'application/json');
      assert.equal(r.status, 200);
      assert.equal(r.json.partialSuccess.rejectedDataPoints, '1');
      assert.match(
        r.json.partialSuccess.errorMessage,
        /dataPoints\[2\]\.timeUnixNano: must be a positive integer/,
      );
      const { json } = await get(t.app, '/api/v1/apm/metrics/custom?name=orders.placed&window=15m');
      assert.equal(json.unit, '{order}');
      assert.equal(json.monotonic, true);
      assert.deepEqual(
        json.series[0].points.map((p: any) => p.value),
        [5, 9],
      );
      const { json: h } = await get(t.app, '/api/v1/apm/metrics/custom?name=checkout.duration&window=15m');
      assert.equal(h.series[0].points[0].value, 25);
      assert.deepEqual(h.series[0].points[0].buckets, { bounds: [10, 50], counts: [1, 2, 1] });
    } finally {
      await t.close();
    }
  });
});

describe('bad queries', () => {
  test('malformed parameters name the parameter; unknown traces are 404', async () => {
    const t = await startTestApp();
    try {
      const r1 = await get(t.app, '/api/v1/apm/metrics/api?window=abc');
      assert.equal(r1.status, 400);
      assert.equal(r1.json.field, 'window');
      assert.match(r1.json.detail, /expected a duration like 15m, 1h, 24h or 7d, got "abc"/);
      const r2 = await get(t.app, '/api/v1/apm/metrics/api?from=2026-02-01&to=2026-01-01');
      assert.equal(r2.status, 400);
      assert.match(r2.json.detail, /from must be before to/);
      const r3 = await get(t.app, '/api/v1/apm/traces/recent?minDurationMs=-1');
      assert.equal(r3.json.field, 'minDurationMs');
      const r4 = await get(t.app, '/api/v1/apm/traces/zz');
      assert.equal(r4.status, 400);
      const r5 = await get(t.app, `/api/v1/apm/traces/${'a'.repeat(32)}`);
      assert.equal(r5.status, 404);
      assert.equal(r5.json.code, 'ERR_QUERY_NOT_FOUND');
    } finally {
      await t.close();
    }
  });
});

describe('overload', () => {
  test('a saturated event loop turns ingest away with 503 and Retry-After; nothing of the request is stored', async () => {
    // The guard is on here (test servers run without it): a 200 ms limit, far above what a busy machine's
    // scheduling adds to an idle loop, far below the 1.5 s block.
    const t = await startTestApp({ maxEventLoopDelayMs: 200, overloadSampleIntervalMs: 100 });
    try {
      const s = span();
      const until = performance.now() + 1500;
      while (performance.now() < until) {
        // Block the event loop as a flood of decoding would.
      }
      // The next sample (every 100 ms, overdue since the block) sees the 1.5 s delay.
      await new Promise((r) => setTimeout(r, 30));
      const r = await post(t.app, '/v1/traces', request([s]), 'application/json');
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '1');
      assert.equal(r.json.code, 'ERR_INGEST_OVERLOADED');
      assert.equal((await t.store.traceSpans(s.traceId as string)).length, 0);
      // Once the loop is idle again, the same request goes in: retried as an exporter would, since when
      // the next sample lands depends on the machine.
      const accepted = await waitFor(
        async () => (await post(t.app, '/v1/traces', request([s]), 'application/json')).status === 200,
        'ingest accepts again once the event loop is idle',
        { intervalMs: 100 },
      );
      assert.equal(accepted, true);
    } finally {
      await t.close();
    }
  });
});

describe('hostile input (found by an adversarial review)', () => {
  test('out-of-range times, kinds and status codes reject that span only; reads keep working', async () => {
    const t = await startTestApp();
    try {
      const good = span();
      const bad = [
        span({ endTimeUnixNano: '10223372036854775807' }), // end past 2^63
        span({ startTimeUnixNano: '18446744073709551615', endTimeUnixNano: '18446744073709551615' }),
        span({ kind: 300 }),
        span({ kind: -1 }),
        span({ status: { code: 1000 } }),
        span({ startTimeUnixNano: 'FLOAT' }), // a float in an int64 field: not an integer
      ];
      const body = request([...bad, good]).replace('"FLOAT"', '1.7e18');
      const r = await post(t.app, '/v1/traces', body, 'application/json');
      assert.equal(r.status, 200);
      assert.equal(r.json.partialSuccess.rejectedSpans, '6');
      const msg: string = r.json.partialSuccess.errorMessage;
      assert.match(msg, /spans\[0\]\.endTimeUnixNano: must be at most 9223372036854775807/);
      assert.match(msg, /spans\[2\]\.kind: must be a SpanKind 0\.\.5, got 300/);
      assert.match(msg, /spans\[4\]\.status\.code: must be a StatusCode 0\.\.2, got 1000/);
      assert.match(msg, /and 1 more/, 'the sixth (1.7e18, not an integer) is counted too');
      assert.equal((await t.store.traceSpans(good.traceId as string)).length, 1);
      assert.equal((await get(t.app, '/api/v1/apm/traces/recent?window=15m')).status, 200);
      assert.equal((await get(t.app, '/api/v1/apm/metrics/database?window=15m')).status, 200);
    } finally {
      await t.close();
    }
  });

  test('attributes nested deeper than 32 levels reject their span; odd shapes do not throw', async () => {
    const t = await startTestApp();
    try {
      let deep: any = { stringValue: 'leaf' };
      for (let i = 0; i < 40; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
      const nested = span({ attributes: [{ key: 'deep', value: deep }] });
      const odd = span({
        attributes: [
          { key: 'a', value: { arrayValue: { values: 'abc' } } },
          { key: '__proto__', value: { stringValue: 'kept as a key' } },
        ],
      });
      const r = await post(t.app, '/v1/traces', request([nested, odd]), 'application/json');
      assert.equal(r.status, 200);
      assert.equal(r.json.partialSuccess.rejectedSpans, '1');
      assert.match(
        r.json.partialSuccess.errorMessage,
        /spans\[0\]: attribute value nested deeper than 32 levels/,
      );
      const [stored] = await t.store.traceSpans(odd.traceId as string);
      assert.deepEqual(stored!.attributes.a, []);
      assert.equal(Object.getOwnPropertyDescriptor(stored!.attributes, '__proto__')?.value, 'kept as a key');
      assert.equal(stored!.service, 'svc');
    } finally {
      await t.close();
    }
  });

  test('Zipkin: null annotations, unserialisable tags and durations past 2262 stay per-span problems', async () => {
    const t = await startTestApp();
    try {
      const ts = Math.floor(Date.now() * 1000);
      const base = {
        traceId: randomBytes(16).toString('hex'),
        name: 'x',
        kind: 'SERVER',
        timestamp: ts,
        duration: 10,
      };
      const body = JSON.stringify([
        { ...base, id: randomBytes(8).toString('hex'), annotations: [null, { timestamp: ts, value: 'ok' }] },
        { ...base, id: randomBytes(8).toString('hex'), duration: 9007199254740991 },
      ]);
      const r = await post(t.app, '/api/v2/spans', body, 'application/json');
      assert.equal(r.status, 202);
      assert.equal(r.json.accepted, 1);
      assert.equal(r.json.rejected[0].field, '[1].duration');
      assert.equal((await get(t.app, '/api/v1/apm/traces/recent?window=15m')).status, 200);
    } finally {
      await t.close();
    }
  });

  test('metrics: missing types, bad temporality, times past 2^63, bucket mismatches and non-numbers are rejected per item', async () => {
    const t = await startTestApp();
    try {
      const now = String(NOW_NS);
      const metrics = [
        { name: 'no.type', dataPoints: [{ timeUnixNano: now, asInt: 1 }] },
        {
          name: 'bad.temporality',
          sum: { aggregationTemporality: 300, dataPoints: [{ timeUnixNano: now, asInt: 1 }] },
        },
        { name: 'far.time', gauge: { dataPoints: [{ timeUnixNano: '99999999999999999999', asInt: 1 }] } },
        {
          name: 'h',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [
              { timeUnixNano: now, count: 3, sum: 3, explicitBounds: [1, 2], bucketCounts: [1, 2] },
            ],
          },
        },
        { name: 'nan.text', gauge: { dataPoints: [{ timeUnixNano: now, asDouble: 'abc' }] } },
        {
          name: 'ok',
          gauge: {
            dataPoints: [
              { timeUnixNano: now, asDouble: 'NaN' },
              { timeUnixNano: now, asDouble: 2.5 },
            ],
          },
        },
      ];
      const body = JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics }] }] });
      const r = await post(t.app, '/v1/metrics', body, 'application/json');
      assert.equal(r.status, 200);
      assert.equal(r.json.partialSuccess.rejectedDataPoints, '5');
      const msg: string = r.json.partialSuccess.errorMessage;
      assert.match(msg, /metrics\[0\]: a metric needs one of gauge, sum/);
      assert.match(msg, /metrics\[1\]\.sum\.aggregationTemporality: must be 0, 1 or 2, got 300/);
      assert.match(
        msg,
        /metrics\[3\]\.histogram\.dataPoints\[0\]\.bucketCounts: must have explicitBounds\.length \+ 1 = 3 entries, got 2/,
      );
      const { json } = await get(t.app, '/api/v1/apm/metrics/custom?name=ok&window=15m');
      assert.deepEqual(
        json.series[0].points.map((p: any) => p.value),
        [null, 2.5],
      );
    } finally {
      await t.close();
    }
  });

  test('query times the store cannot hold are a 400, not a 500', async () => {
    const t = await startTestApp();
    try {
      for (const q of [
        'to=8640000000000000',
        'to=99999999999999999999',
        'from=-8640000000000000&to=-8639999999999999',
      ]) {
        const r = await get(t.app, `/api/v1/apm/metrics/api?${q}`);
        assert.equal(r.status, 400, q);
        assert.equal(r.json.code, 'ERR_QUERY_PARAM');
      }
      assert.equal((await get(t.app, '/api/v1/apm/traces/recent?limit=1.5')).status, 400);
      const both = await get(t.app, '/api/v1/apm/metrics/api?from=2026-01-01&to=2026-01-02&window=1h');
      assert.match(both.json.detail, /not all three/);
      const fromWindow = await get(t.app, '/api/v1/apm/metrics/api?from=2026-01-01T00:00:00Z&window=2h');
      assert.equal(fromWindow.json.to, '2026-01-01T02:00:00.000Z');
    } finally {
      await t.close();
    }
  });
});
