/**
 * Schema of `GET /metrics`: siperf's own health and the RED metrics of what it ingested, in the
 * Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * @module
 */
import { Type } from 'typebox';
import { Closed, problems } from './common.ts';

/** Route schemas of the Prometheus endpoint. */
export const prometheusRouteSchemas = {
  metrics: {
    summary: 'siperf health and per-endpoint RED metrics in the Prometheus text format (for a scrape)',
    description:
      'Counters count since the server started. Health: `siperf_ingest_spans_total{transport}` (rate() = spans/s), `siperf_ingest_spans_rejected_total`, `siperf_ingest_points_total`, `siperf_ingest_points_rejected_total`, `siperf_ingest_requests_failed_total{code}`, `siperf_write_queue_spans`, `siperf_ingest_inflight_body_bytes`, `siperf_store_bytes`, `siperf_alert_notification_failures_total`, and the Node.js process metrics of prom-client (`nodejs_eventloop_lag_p99_seconds` is the event-loop delay). RED, per service, endpoint and kind (server or consumer spans as ingested): `siperf_requests_total`, `siperf_request_errors_total`, `siperf_request_duration_seconds` (histogram; buckets 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 s). Needs the API key when keys are set.',
    tags: ['server'],
    querystring: Closed({}),
    response: {
      200: {
        description: 'Prometheus text format 0.0.4',
        content: { 'text/plain': { schema: Type.String() } },
      },
      ...problems(),
    },
  },
};
