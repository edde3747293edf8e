/**
 * Schemas of the ingest routes: OTLP/HTTP traces and metrics (protobuf or JSON, optionally gzip or
 * deflate; https://opentelemetry.io/docs/specs/otlp/#otlphttp) and Zipkin v2 JSON. Their bodies are
 * documented here and decoded by the server itself (a rejected span never takes the accepted ones with it:
 * OTLP partial success), so they are not validated as a whole.
 * @module
 */
import { type Static, Type } from 'typebox';
import { Closed, OpenObject, problems } from './common.ts';

const otlpBody = (message: string) => ({
  content: {
    'application/x-protobuf': {
      schema: Type.String({ format: 'binary', description: `${message} (protobuf)` }),
    },
    'application/json': {
      schema: Type.Object({}, { additionalProperties: true, description: `${message} (OTLP/JSON: hex ids)` }),
    },
  },
});

/** An OTLP export answer: empty on full success, else `partialSuccess` (protobuf answers mirror it). */
const otlpAnswer = (countField: 'rejectedSpans' | 'rejectedDataPoints') => ({
  description: 'Accepted (in the store). Protobuf requests get the protobuf form of the same message.',
  content: {
    'application/json': {
      schema: Closed({
        partialSuccess: Type.Optional(
          Closed({
            [countField]: Type.String({ description: 'int64 as a string' }),
            errorMessage: Type.String(),
          }),
        ),
      }),
    },
    'application/x-protobuf': { schema: Type.String({ format: 'binary' }) },
  },
});

export const ZipkinRejection = Closed({
  index: Type.Integer({ description: 'position of the span in the request' }),
  field: Type.String(),
  code: Type.String(),
  reason: Type.String(),
});

export const ZipkinAnswer = Closed({
  accepted: Type.Integer(),
  rejected: Type.Array(ZipkinRejection),
});
export type ZipkinAnswer = Static<typeof ZipkinAnswer>;

/** Route schemas of the ingest routes. */
export const ingestRouteSchemas = {
  traces: {
    summary: 'OTLP/HTTP traces: ExportTraceServiceRequest as protobuf or JSON, optionally gzip',
    tags: ['ingest'],
    querystring: Closed({}),
    body: otlpBody('ExportTraceServiceRequest'),
    response: { 200: otlpAnswer('rejectedSpans'), ...problems(413, 415, 503) },
  },
  metrics: {
    summary: 'OTLP/HTTP metrics: ExportMetricsServiceRequest as protobuf or JSON, optionally gzip',
    tags: ['ingest'],
    querystring: Closed({}),
    body: otlpBody('ExportMetricsServiceRequest'),
    response: { 200: otlpAnswer('rejectedDataPoints'), ...problems(413, 415, 503) },
  },
  zipkin: {
    summary: 'Zipkin v2 JSON span list (or one span object)',
    tags: ['ingest'],
    querystring: Closed({}),
    body: {
      content: {
        'application/json': {
          schema: Type.Union([Type.Array(OpenObject), OpenObject], { description: 'Zipkin v2 spans' }),
        },
      },
    },
    response: { 202: ZipkinAnswer, ...problems(413, 415, 503) },
  },
} as const;
