/**
 * Ingest endpoints: OTLP/HTTP `POST /v1/traces` and `POST /v1/metrics` (protobuf or JSON, optionally
 * gzip; https://opentelemetry.io/docs/specs/otlp/#otlphttp) and Zipkin v2 `POST /api/v2/spans`.
 *
 * A 200 answer means the accepted data is in the store (durable). Rejected items are reported through
 * OTLP partial success; an undecodable body gets 400 and nothing of it is stored; 413 above
 * `maxBodyBytes` (or `maxDecompressedBytes` after gunzip); 415 for other content types or encodings;
 * 503 with `Retry-After` while too many spans wait to be written.
 * @module
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import underPressure from '@fastify/under-pressure';
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type protobuf from 'protobufjs';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import {
  type ClockPolicy,
  decodeProtobuf,
  encodeProtobufResponse,
  otlpMetricsToPoints,
  otlpTracesToSpans,
  otlpTypes,
  parseOtlpJson,
  rejectionMessage,
  type SpanBatch,
  type SpanRejection,
  zipkinToSpans,
} from '../ingest/index.ts';
import type { MetricWriter, SpanWriter } from '../storage/index.ts';
import { nowNs } from '../util/time.ts';
import { requireKey } from './auth.ts';
import { sendProblem } from './problem.ts';
import { ingestRouteSchemas as S } from './schemas/ingest.ts';
import { bodyDecodedByHandler } from './validation.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** What the ingest routes need. */
export interface IngestDeps {
  config: Config;
  store: SpanWriter & MetricWriter;
}

async function decompress(request: FastifyRequest, body: Buffer, maxBytes: number): Promise<Buffer> {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  try {
    if (encoding === 'gzip') return await gunzipAsync(body, { maxOutputLength: maxBytes });
    if (encoding === 'deflate') return await inflateAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new SiperfError(
        'ERR_INGEST_BODY_TOO_LARGE',
        `decompressed body exceeds the limit of ${maxBytes} bytes (maxDecompressedBytes)`,
        {
          limit: maxBytes,
        },
      );
    }
    throw new SiperfError(
      'ERR_INGEST_DECODE',
      `body is not valid ${encoding} data: ${(err as Error).message}`,
      { cause: err },
    );
  }
  throw new SiperfError(
    'ERR_INGEST_CONTENT_TYPE',
    `content-encoding "${encoding}" is not supported; use gzip, deflate or none`,
  );
}

function isProtobuf(request: FastifyRequest): boolean {
  return String(request.headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('application/x-protobuf');
}

/**
 * Decompresses and decodes an OTLP body by its content type.
 * @throws SiperfError `ERR_INGEST_DECODE`, `ERR_INGEST_BODY_TOO_LARGE`, `ERR_INGEST_CONTENT_TYPE`.
 */
async function decodeOtlp(
  request: FastifyRequest<{ Body: Buffer }>,
  requestType: protobuf.Type,
  maxDecompressedBytes: number,
): Promise<{ decoded: unknown; protobuf: boolean }> {
  const body = await decompress(request, request.body, maxDecompressedBytes);
  const protobuf = isProtobuf(request);
  return {
    decoded: protobuf ? decodeProtobuf(requestType, body) : parseOtlpJson(body.toString('utf8')),
    protobuf,
  };
}

/**
 * Answers an OTLP export in the encoding of the request: empty on full success, else `partialSuccess`
 * with the count (an int64, so a string in JSON) and the first reasons.
 */
function sendOtlpResponse(
  reply: FastifyReply,
  protobuf: boolean,
  responseType: protobuf.Type,
  countField: 'rejectedSpans' | 'rejectedDataPoints',
  rejected: readonly SpanRejection[],
): FastifyReply {
  const partialSuccess =
    rejected.length > 0
      ? { [countField]: rejected.length, errorMessage: rejectionMessage(rejected) }
      : undefined;
  if (protobuf) {
    return reply
      .type('application/x-protobuf')
      .send(Buffer.from(encodeProtobufResponse(responseType, partialSuccess)));
  }
  return reply
    .type('application/json')
    .send(
      partialSuccess ? { partialSuccess: { ...partialSuccess, [countField]: String(rejected.length) } } : {},
    );
}

/** Registers the ingest routes (in their own encapsulated context with raw-body parsers). */
export async function ingestRoutes(app: FastifyInstance, deps: IngestDeps): Promise<void> {
  const { config, store } = deps;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/x-protobuf'],
    { parseAs: 'buffer', bodyLimit: config.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );
  const clock = (): ClockPolicy => ({
    nowNs: nowNs(),
    maxFutureSkewNs: BigInt(config.maxFutureSkewMs) * 1_000_000n,
    maxPastSkewNs: BigInt(config.maxPastSkewMs) * 1_000_000n,
    maxSpanDurationNs: BigInt(config.maxSpanDurationMs) * 1_000_000n,
  });
  app.addHook('onRequest', async (request) =>
    requireKey(request, [config.ingestKey, config.apiKey], 'ingest'),
  );
  if (config.maxEventLoopDelayMs > 0) {
    // A saturated event loop is what overload looks like here (decoding and DuckDB appends run on it):
    // turn ingest away with 503 + Retry-After, which OTLP exporters retry.
    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      sampleInterval: config.overloadSampleIntervalMs,
      pressureHandler: (request, reply, type, value) => {
        const delayMs = Math.round(Number(value));
        sendProblem(
          reply,
          request,
          new SiperfError(
            'ERR_INGEST_OVERLOADED',
            `the server is overloaded (${type} ${delayMs} ms > ${config.maxEventLoopDelayMs} ms); retry after 1 s`,
            { limit: config.maxEventLoopDelayMs, retryAfterSeconds: 1 },
          ),
        );
        // Nothing returned: under-pressure then calls next(), and Fastify stops since the reply is sent.
      },
    });
  }

  /** 503 when the spans of this request would push the write queue above `maxPendingSpans` (an empty queue always takes a batch). */
  const checkLoad = (incoming: number): void => {
    const pending = store.pendingSpans();
    if (pending > 0 && pending + incoming > config.maxPendingSpans) {
      throw new SiperfError(
        'ERR_INGEST_OVERLOADED',
        `more than ${config.maxPendingSpans} spans are waiting to be written; retry after 1 s`,
        {
          limit: config.maxPendingSpans,
          retryAfterSeconds: 1,
        },
      );
    }
  };

  const storeBatch = async (request: FastifyRequest, batch: SpanBatch): Promise<void> => {
    if (batch.spans.length > 0) {
      const { written, duplicates } = await store.writeSpans(batch.spans);
      request.log.debug({ written, duplicates, rejected: batch.rejected.length }, 'spans ingested');
    }
    if (batch.rejected.length > 0) {
      request.log.info({ rejected: batch.rejected.length, first: batch.rejected[0] }, 'spans rejected');
    }
  };

  app.post(
    '/v1/traces',
    {
      bodyLimit: config.maxBodyBytes,
      config: { ingest: true } as FastifyContextConfig,
      schema: S.traces,
      validatorCompiler: bodyDecodedByHandler,
    },
    async (request: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply) => {
      const { decoded, protobuf } = await decodeOtlp(
        request,
        otlpTypes().traceRequest,
        config.maxDecompressedBytes,
      );
      const batch = otlpTracesToSpans(decoded, clock());
      checkLoad(batch.spans.length);
      await storeBatch(request, batch);
      return sendOtlpResponse(reply, protobuf, otlpTypes().traceResponse, 'rejectedSpans', batch.rejected);
    },
  );

  app.post(
    '/v1/metrics',
    {
      bodyLimit: config.maxBodyBytes,
      config: { ingest: true } as FastifyContextConfig,
      schema: S.metrics,
      validatorCompiler: bodyDecodedByHandler,
    },
    async (request: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply) => {
      const { decoded, protobuf } = await decodeOtlp(
        request,
        otlpTypes().metricsRequest,
        config.maxDecompressedBytes,
      );
      const batch = otlpMetricsToPoints(decoded);
      if (batch.points.length > 0) await store.writeMetricPoints(batch.points);
      return sendOtlpResponse(
        reply,
        protobuf,
        otlpTypes().metricsResponse,
        'rejectedDataPoints',
        batch.rejected,
      );
    },
  );

  app.post(
    '/api/v2/spans',
    {
      bodyLimit: config.maxBodyBytes,
      config: { ingest: true } as FastifyContextConfig,
      schema: S.zipkin,
      validatorCompiler: bodyDecodedByHandler,
    },
    async (request: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply) => {
      if (isProtobuf(request)) {
        throw new SiperfError(
          'ERR_INGEST_CONTENT_TYPE',
          'Zipkin ingest accepts application/json (Zipkin v2 JSON) only',
        );
      }
      const body = await decompress(request, request.body, config.maxDecompressedBytes);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new SiperfError('ERR_INGEST_DECODE', `body is not valid JSON: ${(err as Error).message}`);
      }
      const batch = zipkinToSpans(parsed, clock());
      checkLoad(batch.spans.length);
      await storeBatch(request, batch);
      if (batch.rejected.length > 0) {
        return reply.code(202).send({ accepted: batch.spans.length, rejected: batch.rejected });
      }
      return reply.code(202).send({ accepted: batch.spans.length, rejected: [] });
    },
  );
}
