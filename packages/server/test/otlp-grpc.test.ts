/**
 * OTLP over gRPC: the real OpenTelemetry JS gRPC exporters (traces gzip-compressed, metrics plain) send to a
 * running server and the API returns what they were built with; a raw grpc-js client checks partial success
 * and the status codes (INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED with and
 * without RetryInfo), and that closing the app stops the listener.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { retryDelaySeconds, TRACE_SERVICE } from '../src/api/index.ts';
import { otlpGrpcOf } from '../src/app.ts';
import { otlpTypes } from '../src/ingest/index.ts';
import { get, startTestApp, type TestApp } from './helpers.ts';

const TraceClient = grpc.makeGenericClientConstructor(TRACE_SERVICE, 'TraceService');

/** One raw `TraceService/Export` call: the decoded response, or the error status. */
function exportRaw(
  port: number,
  body: Buffer,
  metadata = new grpc.Metadata(),
  options: grpc.ChannelOptions = {},
): Promise<{ response?: any; error?: grpc.ServiceError }> {
  const client = new TraceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  return new Promise((resolve) => {
    (client as any).Export(
      body,
      metadata,
      { deadline: Date.now() + 60_000 },
      (error: grpc.ServiceError | null, response: Buffer) => {
        client.close();
        if (error) resolve({ error });
        else {
          const type = otlpTypes().traceResponse;
          resolve({ response: type.toObject(type.decode(response), { longs: Number }) });
        }
      },
    );
  });
}

/** An ExportTraceServiceRequest with SERVER spans of `service`; `badIds` of them with a 3-byte span id. */
function traceRequest(service: string, count: number, badIds = 0): Buffer {
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
  const spans = Array.from({ length: count }, (_, i) => ({
    traceId: Buffer.alloc(16, i + 1),
    spanId: i < badIds ? Buffer.from([1, 2, 3]) : Buffer.alloc(8, i + 1),
    name: 'GET /raw',
    kind: 2,
    startTimeUnixNano: String(t0 + BigInt(i) * 1_000_000n),
    endTimeUnixNano: String(t0 + BigInt(i) * 1_000_000n + 5_000_000n),
    attributes: [{ key: 'http.route', value: { stringValue: '/raw' } }],
  }));
  const type = otlpTypes().traceRequest;
  const message = type.fromObject({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ spans }],
      },
    ],
  });
  return Buffer.from(type.encode(message).finish());
}

let t: TestApp;
let port: number;

before(async () => {
  t = await startTestApp();
  port = await otlpGrpcOf(t.app).start(0);
});
after(async () => t?.close());

describe('OTLP/gRPC with the OpenTelemetry JS exporters', () => {
  test('trace exporter (gzip): spans arrive and the API computes their RED metrics', async () => {
    const service = 'items-grpc';
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [
        new SimpleSpanProcessor(
          new OTLPTraceExporter({ url: `http://127.0.0.1:${port}`, compression: 'gzip' as never }),
        ),
      ],
    });
    const tracer = provider.getTracer('siperf-test');
    const t0 = Date.now() - 60_000;
    const durations = [10, 20, 30, 40, 600];
    durations.forEach((d, i) => {
      const span = tracer.startSpan('GET /items/:id', {
        kind: SpanKind.SERVER,
        startTime: t0 + i * 1000,
        attributes: {
          'http.request.method': 'GET',
          'http.route': '/items/:id',
          'http.response.status_code': i === 2 ? 503 : 200,
        },
      });
      if (i === 2) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(t0 + i * 1000 + d);
    });
    await provider.forceFlush();
    await provider.shutdown();
    const { json } = await get(t.app, `/api/v1/apm/metrics/api?window=15m&service=${service}&kind=server`);
    assert.equal(json.endpoints.length, 1);
    const e = json.endpoints[0];
    assert.equal(e.endpoint, 'GET /items/:id');
    assert.equal(e.requests, 5);
    assert.equal(e.errors, 1);
    assert.equal(e.meanMs, 140); // (10 + 20 + 30 + 40 + 600) / 5
    assert.equal(e.maxMs, 600);
  });

  test('metric exporter: a counter and a histogram become custom metric series', async () => {
    const service = 'shop-grpc';
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${port}` }),
          exportIntervalMillis: 3_600_000,
        }),
      ],
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
  });
});

describe('OTLP/gRPC answers', () => {
  test('partial success names the rejected spans; the valid ones are stored', async () => {
    const { response, error } = await exportRaw(port, traceRequest('partial-grpc', 3, 1));
    assert.equal(error, undefined);
    assert.equal(response.partialSuccess.rejectedSpans, 1);
    assert.match(response.partialSuccess.errorMessage, /spanId/);
    const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m&service=partial-grpc&kind=server');
    assert.equal(json.endpoints[0].requests, 2);
  });

  test('a message that is not an ExportTraceServiceRequest is INVALID_ARGUMENT', async () => {
    const { error } = await exportRaw(port, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(error!.details, /ERR_INGEST_DECODE/);
  });

  test('keys from the authorization metadata; overload is RESOURCE_EXHAUSTED with RetryInfo; too large without', async () => {
    const keyed = await startTestApp({ ingestKey: 'in-key', apiKey: 'api-key', maxDecompressedBytes: 4096 });
    try {
      const p = await otlpGrpcOf(keyed.app).start(0);
      const body = traceRequest('keyed-grpc', 2);
      assert.equal((await exportRaw(p, body)).error?.code, grpc.status.UNAUTHENTICATED);
      const wrong = new grpc.Metadata();
      wrong.set('authorization', 'Bearer nope');
      assert.equal((await exportRaw(p, body, wrong)).error?.code, grpc.status.PERMISSION_DENIED);
      const good = new grpc.Metadata();
      good.set('authorization', 'Bearer in-key');
      const ok = await exportRaw(p, body, good);
      assert.equal(ok.error, undefined);
      assert.equal(ok.response.partialSuccess, undefined);

      // 50 spans of one service compress well under 4096 bytes but decompress to more.
      const big = traceRequest('keyed-grpc', 50);
      assert.ok(big.length > 4096 && gzipSync(big).length < 4096, `${big.length} bytes raw`);
      const tooLarge = await exportRaw(p, big, good, { 'grpc.default_compression_algorithm': 2 });
      assert.equal(tooLarge.error?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(tooLarge.error?.metadata.get('grpc-status-details-bin').length, 0);

      // A write queue over maxPendingSpans (16,384 by default): shed before the decode.
      keyed.store.pendingSpans = () => 1_000_000;
      const shed = await exportRaw(p, body, good);
      assert.equal(shed.error?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(shed.error!.details, /ERR_INGEST_OVERLOADED/);
      const [details] = shed.error!.metadata.get('grpc-status-details-bin');
      assert.equal(retryDelaySeconds(details as Buffer), 1);
    } finally {
      await keyed.close();
    }
  });

  test('closing the app stops the listener; grpcPort 0 leaves it off', async () => {
    const own = await startTestApp({ grpcPort: 0 });
    const server = otlpGrpcOf(own.app);
    assert.equal(server.enabled, false);
    const p = await server.start(0);
    assert.equal((await exportRaw(p, traceRequest('closing-grpc', 1))).error, undefined);
    await own.close();
    assert.equal(server.port, undefined);
    const after = await exportRaw(p, traceRequest('closing-grpc', 1), new grpc.Metadata(), {
      'grpc.initial_reconnect_backoff_ms': 100,
    });
    assert.equal(after.error?.code, grpc.status.UNAVAILABLE);
  });
});
