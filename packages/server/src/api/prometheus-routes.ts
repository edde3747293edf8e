/**
 * `GET /metrics` for Prometheus (and so Grafana): siperf's own health, read at scrape time from the
 * ingest pipeline, the store and the alert engine, and the RED metrics (rate, errors, duration) of each
 * service and endpoint, counted from the server and consumer spans as they are stored. Written by
 * prom-client 15 (text format 0.0.4), with the Node.js process metrics of its `collectDefaultMetrics`
 * (event-loop delay among them). Counters count since the server started, as Prometheus expects.
 *
 * RED series are bounded: after {@link MAX_RED_SERIES} (service, endpoint, kind) label sets, new endpoints
 * of a service are counted under `endpoint="(other)"`.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AlertEngine } from '../alerts/index.ts';
import type { Config } from '../config.ts';
import type { IngestPipeline } from '../ingest/index.ts';
import { type Span, SpanKind } from '../model/index.ts';
import type { Store } from '../storage/index.ts';
import { requireKey } from './auth.ts';
import { prometheusRouteSchemas as S } from './schemas/prometheus.ts';

/** Upper bounds of `siperf_request_duration_seconds`, seconds (5 ms to 1 min). */
export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Most (service, endpoint, kind) label sets of the RED metrics; beyond, the endpoint is `(other)`. */
export const MAX_RED_SERIES = 10_000;

/** What the Prometheus endpoint reads. */
export interface PrometheusDeps {
  config: Config;
  store: Store;
  pipeline: IngestPipeline;
  alerts: AlertEngine;
}

/** The process metrics (one set per process, however many apps it builds; tests build many). */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Registers `GET /metrics` and starts counting RED metrics from the spans the pipeline stores. */
export async function prometheusRoutes(app: FastifyInstance, deps: PrometheusDeps): Promise<void> {
  const { config, store, pipeline, alerts } = deps;
  const registry = new Registry();
  const { counters } = pipeline;
  // Health, read at scrape time. Counters mirror the pipeline's own (they only grow).
  new Counter({
    name: 'siperf_ingest_spans_total',
    help: 'Spans stored (new, not duplicates), by transport; rate() is spans/s',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [transport, n] of Object.entries(counters.spansAccepted)) this.inc({ transport }, n);
    },
  });
  new Counter({
    name: 'siperf_ingest_spans_rejected_total',
    help: 'Spans refused inside accepted requests (OTLP partial success)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters.spansRejected);
    },
  });
  new Counter({
    name: 'siperf_ingest_points_total',
    help: 'Metric data points stored',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters.pointsAccepted);
    },
  });
  new Counter({
    name: 'siperf_ingest_points_rejected_total',
    help: 'Metric data points refused inside accepted requests (OTLP partial success)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters.pointsRejected);
    },
  });
  new Counter({
    name: 'siperf_ingest_requests_failed_total',
    help: 'Ingest requests answered with an error (HTTP or gRPC), by error code (ERR_INGEST_OVERLOADED: shed for load)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(counters.requestsFailed)) this.inc({ code }, n);
    },
  });
  new Gauge({
    name: 'siperf_write_queue_spans',
    help: 'Spans waiting to be written to the store',
    registers: [registry],
    collect() {
      this.set(pipeline.pendingSpans());
    },
  });
  new Gauge({
    name: 'siperf_ingest_inflight_body_bytes',
    help: 'Ingest body bytes held by admitted requests (limit: maxInflightBodyBytes)',
    registers: [registry],
    collect() {
      this.set(pipeline.inflightBodyBytes);
    },
  });
  new Gauge({
    name: 'siperf_store_bytes',
    help: 'Bytes the store uses on disk, write-ahead log included (0 in memory)',
    registers: [registry],
    async collect() {
      this.set(await store.diskBytes());
    },
  });
  new Counter({
    name: 'siperf_alert_notification_failures_total',
    help: 'Alert notifications a receiver refused or could not be reached for, after the retries',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(alerts.deliveryFailures);
    },
  });

  // RED, counted as spans are stored.
  const labelNames = ['service', 'endpoint', 'kind'] as const;
  const requests = new Counter({
    name: 'siperf_requests_total',
    help: 'Server and consumer spans stored, by service, endpoint and kind',
    labelNames,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'siperf_request_errors_total',
    help: 'Of siperf_requests_total, those that are errors (status ERROR; HTTP 5xx for server spans)',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'siperf_request_duration_seconds',
    help: 'Duration of server and consumer spans, seconds',
    labelNames,
    buckets: DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const seen = new Set<string>();
  const labelsOf = (span: Span, kind: string) => {
    let endpoint = span.endpoint;
    const key = `${span.service}\u0000${endpoint}\u0000${kind}`;
    if (!seen.has(key)) {
      if (seen.size >= MAX_RED_SERIES) endpoint = '(other)';
      else seen.add(key);
    }
    return { service: span.service, endpoint, kind };
  };
  pipeline.onStored((spans) => {
    for (const span of spans) {
      if (span.kind !== SpanKind.SERVER && span.kind !== SpanKind.CONSUMER) continue;
      const labels = labelsOf(span, span.kind === SpanKind.SERVER ? 'server' : 'consumer');
      requests.inc(labels);
      if (span.isError) errors.inc(labels);
      else errors.inc(labels, 0);
      duration.observe(labels, Number(span.durationNano) / 1e9);
    }
  });

  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));
  app.get('/metrics', { schema: S.metrics }, async (_request, reply) => {
    const [own, process] = await Promise.all([registry.metrics(), processMetrics().metrics()]);
    return reply.type(registry.contentType).send(`${own}\n${process}`);
  });
}
