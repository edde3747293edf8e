/**
 * `init()`: OpenTelemetry for a Node.js service that reports to siperf — traces and metrics over OTLP/HTTP
 * protobuf to `<endpoint>/v1/traces` and `/v1/metrics`, a batch span processor, the common
 * instrumentations (HTTP, undici/fetch, pg, mysql2, ioredis, Fastify, Express), and only local resource detectors
 * (env, host, os, process), so nothing probes cloud metadata addresses. Spans started without a time get
 * a start with sub-millisecond digits ({@link PreciseStartSpanProcessor}; OpenTelemetry JS stamps whole ms).
 *
 * CommonJS apps call `init()` before requiring anything they want traced. ESM apps also need the
 * OpenTelemetry loader hook for module patching: `node --import @opentelemetry/instrumentation/hook.mjs
 * --import ./tracing.js app.js`, where `tracing.js` calls `init()`.
 * @module
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { FastifyInstrumentation } from '@opentelemetry/instrumentation-fastify';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { PreciseStartSpanProcessor } from './precise-start.ts';

/** Options of {@link init}. */
export interface InitOptions {
  /** `service.name` of every span and metric. Required, non-empty. */
  serviceName: string;
  /** `service.version`, when known. */
  serviceVersion?: string;
  /** Base URL of the siperf server. Default `http://127.0.0.1:4318`. */
  endpoint?: string;
  /** The server's ingest key, sent as `Authorization: Bearer <key>`. */
  ingestKey?: string;
  /** How often metrics are exported, ms. Default 10,000 (minimum 100). */
  metricExportIntervalMs?: number;
  /** How long spans may wait in the batch before export, ms. Default 1,000. */
  spanExportDelayMs?: number;
  /**
   * Most spans waiting for export; past it new spans are dropped (OTel's BatchSpanProcessor). Default 2,048,
   * OTel's; raise it for bursts that outrun the export (a load test, a busy machine).
   */
  maxQueuedSpans?: number;
  /** How long one export may take before it counts as failed (and is retried), ms. Default 10,000. */
  exportTimeoutMs?: number;
  /** Instrumentations added to the defaults. */
  instrumentations?: Instrumentation[];
  /** `false` leaves out the default instrumentations (HTTP, undici, pg, mysql2, ioredis, Fastify, Express). */
  defaultInstrumentations?: boolean;
}

/** What {@link init} returns. */
export interface SiperfHandle {
  /** Exports every span and metric recorded so far. */
  forceFlush(): Promise<void>;
  /** Flushes, then stops the SDK (call on SIGTERM). */
  shutdown(): Promise<void>;
}

/**
 * Sets up OpenTelemetry to report to a siperf server and starts it. Call once, first thing in the process.
 * @throws TypeError naming the option when `serviceName` is empty, `endpoint` is not an http(s) base URL, or an
 *   interval is not a positive number.
 */
export function init(options: InitOptions): SiperfHandle {
  if (typeof options?.serviceName !== 'string' || options.serviceName.trim() === '') {
    throw new TypeError('init: serviceName must be a non-empty string');
  }
  const endpoint = (options.endpoint ?? 'http://127.0.0.1:4318').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`init: endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new TypeError(
      `init: endpoint must be an http(s) base URL without query or fragment, got ${JSON.stringify(options.endpoint)}`,
    );
  }
  const interval = options.metricExportIntervalMs ?? 10_000;
  if (!Number.isFinite(interval) || interval < 100) {
    throw new TypeError(`init: metricExportIntervalMs must be a number ≥ 100, got ${interval}`);
  }
  const delay = options.spanExportDelayMs ?? 1000;
  if (!Number.isFinite(delay) || delay <= 0) {
    throw new TypeError(`init: spanExportDelayMs must be a positive number, got ${delay}`);
  }
  const headers: Record<string, string> = options.ingestKey
    ? { Authorization: `Bearer ${options.ingestKey}` }
    : {};
  const maxQueuedSpans = options.maxQueuedSpans ?? 2048;
  if (!Number.isInteger(maxQueuedSpans) || maxQueuedSpans < 1 || maxQueuedSpans > 10_000_000) {
    throw new TypeError(`init: maxQueuedSpans must be an integer 1..10000000, got ${maxQueuedSpans}`);
  }
  const exportTimeoutMs = options.exportTimeoutMs ?? 10_000;
  if (!Number.isFinite(exportTimeoutMs) || exportTimeoutMs < 100 || exportTimeoutMs > 600_000) {
    throw new TypeError(`init: exportTimeoutMs must be a number 100..600000, got ${exportTimeoutMs}`);
  }
  const spanProcessor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: `${endpoint}/v1/traces`, headers, timeoutMillis: exportTimeoutMs }),
    {
      scheduledDelayMillis: delay,
      maxQueueSize: maxQueuedSpans,
      maxExportBatchSize: Math.min(512, maxQueuedSpans),
      exportTimeoutMillis: exportTimeoutMs,
    },
  );
  const metricReader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics`, headers }),
    exportIntervalMillis: interval,
  });
  const defaults: Instrumentation[] =
    options.defaultInstrumentations === false
      ? []
      : [
          new HttpInstrumentation(),
          new UndiciInstrumentation(),
          new PgInstrumentation(),
          new MySQL2Instrumentation(),
          new IORedisInstrumentation(),
          new FastifyInstrumentation(),
          new ExpressInstrumentation(),
        ];
  // The narrow SDK packages rather than @opentelemetry/sdk-node, which pulls every exporter and gRPC.
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector, hostDetector, osDetector, processDetector] }))
    .merge(
      resourceFromAttributes({
        'service.name': options.serviceName,
        ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      }),
    );
  const meterProvider = new MeterProvider({ resource, readers: [metricReader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const tracerProvider = new NodeTracerProvider({
    resource,
    // First, so that every processor after it (and the exporter) sees the sub-ms start.
    spanProcessors: [new PreciseStartSpanProcessor(), spanProcessor],
  });
  // The global tracer provider, the AsyncLocalStorage context manager and W3C trace-context propagation.
  tracerProvider.register();
  const unregister = registerInstrumentations({
    instrumentations: [...defaults, ...(options.instrumentations ?? [])],
    tracerProvider,
    meterProvider,
  });
  return {
    async forceFlush() {
      await spanProcessor.forceFlush();
      await metricReader.forceFlush();
    },
    async shutdown() {
      await spanProcessor.forceFlush();
      await metricReader.forceFlush();
      unregister();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
