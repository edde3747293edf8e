/**
 * Real OpenTelemetry JS exporters (OTLP/HTTP JSON and protobuf, Zipkin) against the running server; the API
 * must return what the spans were built with.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPMetricExporter as OTLPMetricExporterJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPMetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { get, startTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
let base: string;

before(async () => {
  t = await startTestApp();
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => t?.close());

/** Sends one request's worth of spans: a SERVER span per duration, each with a PostgreSQL child. */
async function sendSpans(
  exporter: SpanExporter,
  service: string,
  durationsMs: number[],
  failing: number,
): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('siperf-test');
  const t0 = Date.now() - 60_000;
  durationsMs.forEach((d, i) => {
    const start = t0 + i * 1000;
    const status = i === failing ? 503 : 200;
    const server = tracer.startSpan('GET /items/:id', {
      kind: SpanKind.SERVER,
      startTime: start,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/items/:id',
        'http.response.status_code': status,
      },
    });
    const ctx = trace.setSpan(ROOT_CONTEXT, server);
    const db = tracer.startSpan(
      'SELECT items',
      {
        kind: SpanKind.CLIENT,
        startTime: start + 1,
        attributes: {
          'db.system.name': 'postgresql',
          'db.query.text': `SELECT * FROM items WHERE id = ${i + 40}`,
        },
      },
      ctx,
    );
    db.end(start + 3);
    if (status >= 500) server.setStatus({ code: SpanStatusCode.ERROR });
    server.end(start + d);
  });
  await provider.forceFlush();
  await provider.shutdown();
}

describe('OpenTelemetry JS exporters', () => {
  for (const [protocol, Exporter] of [
    ['json', OTLPTraceExporterJson],
    ['protobuf', OTLPTraceExporterProto],
  ] as const) {
    test(`OTLP/HTTP ${protocol} trace exporter: spans arrive and the API computes their RED metrics`, async () => {
      const service = `items-${protocol}`;
      const durations = [10, 20, 30, 40, 600];
      await sendSpans(new Exporter({ url: `${base}/v1/traces` }), service, durations, 2);
      const { json } = await get(t.app, `/api/v1/apm/metrics/api?window=15m&service=${service}&kind=server`);
      assert.equal(json.endpoints.length, 1);
      const e = json.endpoints[0];
      assert.equal(e.endpoint, 'GET /items/:id');
      assert.equal(e.requests, 5);
      assert.equal(e.errors, 1);
      assert.equal(e.errorRate, 0.2);
      assert.equal(e.meanMs, 140);
      assert.equal(e.maxMs, 600);
      assert.ok(Math.abs(e.p50Ms - 30) <= 0.3, `p50 ${e.p50Ms} within 1% of 30`);
      // 10, 20, 40 ms satisfied; 600 ms tolerating; the failed 30 ms request frustrated: (3 + 1/2) / 5.
      assert.equal(e.apdex, 0.7);
      const { json: db } = await get(t.app, `/api/v1/apm/metrics/database?window=15m&service=${service}`);
      assert.equal(db.queries.length, 1);
      assert.equal(db.queries[0].statement, 'SELECT * FROM items WHERE id = $1');
      assert.equal(db.queries[0].calls, 5);
      assert.equal(db.queries[0].totalMs, 10);
      assert.deepEqual(db.queries[0].endpoints, ['GET /items/:id']);
    });
  }

  for (const [protocol, Exporter] of [
    ['json', OTLPMetricExporterJson],
    ['protobuf', OTLPMetricExporterProto],
  ] as const) {
    test(`OTLP/HTTP ${protocol} metric exporter: a counter and a histogram become custom metric series`, async () => {
      const service = `shop-${protocol}`;
      const reader = new PeriodicExportingMetricReader({
        exporter: new Exporter({ url: `${base}/v1/metrics` }),
        exportIntervalMillis: 3_600_000,
      });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        readers: [reader],
      });
      const meter = provider.getMeter('siperf-test');
      const orders = meter.createCounter('orders.placed', { unit: '{order}' });
      orders.add(3, { region: 'eu' });
      orders.add(4, { region: 'eu' });
      const latency = meter.createHistogram('checkout.duration', { unit: 'ms' });
      for (const v of [10, 20, 60]) latency.record(v);
      await provider.forceFlush();
      await provider.shutdown();
      const { json } = await get(
        t.app,
        `/api/v1/apm/metrics/custom?name=orders.placed&window=15m&service=${service}`,
      );
      assert.equal(json.unit, '{order}');
      assert.deepEqual(json.series[0].attributes, { region: 'eu' });
      assert.equal(json.series[0].points.at(-1).value, 7);
      const { json: h } = await get(
        t.app,
        `/api/v1/apm/metrics/custom?name=checkout.duration&window=15m&service=${service}`,
      );
      const p = h.series[0].points.at(-1);
      assert.equal(p.count, 3);
      assert.equal(p.sum, 90);
      assert.equal(p.value, 30);
      assert.equal(p.min, 10);
      assert.equal(p.max, 60);
    });
  }
});

describe('OpenTelemetry JS Zipkin exporter', () => {
  test('status ERROR is an error with or without a message; a start with sub-µs digits is kept', async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'pay-zipkin' }),
      spanProcessors: [new SimpleSpanProcessor(new ZipkinExporter({ url: `${base}/api/v2/spans` }))],
    });
    const tracer = provider.getTracer('siperf-test');
    const sec = Math.floor(Date.now() / 1000) - 60;
    // [seconds, nanoseconds]: the exporter writes `timestamp` = 1e6·s + ns/1e3 µs, not rounded.
    const at = (ms: number, extraNs = 0): [number, number] => [sec, ms * 1_000_000 + extraNs];
    const statuses = [
      { code: SpanStatusCode.ERROR }, // tags: otel.status_code=ERROR only (no `error` tag without a message)
      { code: SpanStatusCode.ERROR, message: 'card declined' }, // otel.status_code=ERROR, error=card declined
      { code: SpanStatusCode.OK }, // otel.status_code=OK
      { code: SpanStatusCode.UNSET },
    ];
    const traceIds: string[] = [];
    statuses.forEach((status, i) => {
      const sp = tracer.startSpan('POST /pay', {
        kind: SpanKind.SERVER,
        startTime: at(100 * i, 456_789),
        attributes: { 'http.request.method': 'POST', 'http.route': '/pay' },
      });
      sp.setStatus(status);
      sp.end(at(100 * i + 20, 456_789));
      traceIds.push(sp.spanContext().traceId);
    });
    await provider.forceFlush();
    await provider.shutdown();

    const read = async (id: string) => (await get(t.app, `/api/v1/apm/traces/${id}`)).json.roots[0];
    const got = await Promise.all(traceIds.map(read));
    assert.deepEqual(
      got.map((n: any) => [n.status, n.statusMessage, n.isError]),
      [
        ['error', '', true],
        ['error', 'card declined', true],
        ['ok', '', false],
        ['unset', '', false],
      ],
    );
    const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m&service=pay-zipkin');
    assert.deepEqual(
      json.endpoints.map((e: any) => [e.endpoint, e.requests, e.errors]),
      [['POST /pay', 4, 2]],
    );
    // Sent: sec s + 456,789 ns; as a double of µs near 1.7e15 the fraction is kept to 0.25 µs.
    const [stored] = await t.store.traceSpans(traceIds[0]!);
    const sentNs = BigInt(sec) * 1_000_000_000n + 456_789n;
    const off = stored!.startTimeUnixNano - sentNs;
    assert.ok(
      off >= -250n && off <= 250n,
      `stored start ${stored!.startTimeUnixNano} is ${off} ns from the sent one`,
    );
    assert.equal(stored!.durationNano, 20_000_000n, 'the exporter rounds the duration to 20,000 µs');
  });
});
