/**
 * Ingest endpoints: OTLP/HTTP `POST /v1/traces` and `POST /v1/metrics` (protobuf or JSON, optionally
 * gzip; https://opentelemetry.io/docs/specs/otlp/#otlphttp) and Zipkin v2 `POST /api/v2/spans`.
 *
 * A 200 answer means the accepted data is in the store (durable). Rejected items are reported through
 * OTLP partial success; an undecodable body gets 400 and nothing of it is stored; 413 above
 * `maxBodyBytes` (or `maxDecompressedBytes` after gunzip); 415 for other content types or encodings;
 * 503 with `Retry-After` while too many spans wait to be written.
 *
 * Overload is shed before any body is read: each request is admitted in `onRequest` by its declared
 * size against the bodies already in flight (`maxInflightBodyBytes`) and the write queue
 * (`maxPendingSpans`), else answered 503 with `Retry-After`. Admitted bodies over 64 KiB are decompressed,
 * decoded and converted on the decode workers (`ingestWorkers`), and big batches are written in slices,
 * so that one request never holds the event loop for long.
 * @module
 */
import { Transform } from 'node:stream';
import underPressure from '@fastify/under-pressure';
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type protobuf from 'protobufjs';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import {
  type Admission,
  encodeProtobufResponse,
  type IngestOutcome,
  type IngestPipeline,
  type IngestSignal,
  otlpTypes,
  rejectionMessage,
  type SpanRejection,
} from '../ingest/index.ts';
import { requireKey } from './auth.ts';
import { FASTIFY_CODES, sendProblem } from './problem.ts';
import { ingestRouteSchemas as S } from './schemas/ingest.ts';
import { bodyDecodedByHandler } from './validation.ts';

/** What the ingest routes need. */
export interface IngestDeps {
  config: Config;
  /** Admission, decode and storage, shared with the OTLP/gRPC transport. */
  pipeline: IngestPipeline;
}

function isProtobuf(request: FastifyRequest): boolean {
  return String(request.headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('application/x-protobuf');
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
  const { config, pipeline } = deps;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/x-protobuf'],
    { parseAs: 'buffer', bodyLimit: config.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );
  app.addHook('onRequest', async (request) =>
    requireKey(request, [config.ingestKey, config.apiKey], 'ingest'),
  );

  // Admission, before the body is read: a request turned away costs neither its upload nor its decode.
  // A request that declares its length holds that many bytes of the budget until it is answered; one
  // without (chunked) holds the bytes as they arrive, and is turned away when they go over the budget.
  const held = new WeakMap<FastifyRequest, Admission>();
  const isTraceRoute = (url: string): boolean =>
    url.startsWith('/v1/traces') || url.startsWith('/api/v2/spans');
  app.addHook('onRequest', async (request, reply) => {
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? declared : 0;
    if (bytes > config.maxBodyBytes) {
      // Answered here rather than by Fastify's body limit, which closes the connection at once: a client
      // still writing its body then sees a broken pipe instead of the 413 and (an OTLP exporter) retries
      // the same batch. Up to 4× the limit the rest of the body is read and dropped on a kept-alive
      // connection, so the 413 arrives; past that the connection closes after the answer.
      if (bytes > 4 * config.maxBodyBytes) reply.header('connection', 'close');
      throw new SiperfError(
        'ERR_INGEST_BODY_TOO_LARGE',
        `request body of ${bytes} bytes (Content-Length) exceeds the limit of ${config.maxBodyBytes} bytes (maxBodyBytes)`,
        { limit: config.maxBodyBytes },
      );
    }
    const admission = pipeline.admit(bytes, isTraceRoute(request.url));
    held.set(request, admission);
    // 'close' comes once the answer is sent or the connection is gone, whichever happens first.
    reply.raw.once('close', admission.release);
  });
  app.addHook('preParsing', async (request, _reply, payload) => {
    const admission = held.get(request);
    if (!admission || request.headers['content-length'] !== undefined) return payload;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        try {
          pipeline.grow(admission, chunk.length);
        } catch (err) {
          callback(err as Error);
          return;
        }
        callback(null, chunk);
      },
    });
    payload.on('error', (err) => counted.destroy(err));
    return payload.pipe(counted);
  });
  // Failures by code for /metrics; Fastify's own errors (body parser, limits) as the problem handler maps them.
  app.addHook('onError', async (_request, _reply, err) => {
    if (err instanceof SiperfError) return pipeline.countFailure(err);
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    const clientError = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500;
    pipeline.countFailure(
      known === 'decode' || (known === undefined && clientError)
        ? 'ERR_INGEST_DECODE'
        : (known ?? 'ERR_INTERNAL'),
    );
  });

  if (config.maxEventLoopDelayMs > 0) {
    // A saturated event loop is what overload looks like here (decoding and DuckDB appends run on it):
    // turn ingest away with 503 + Retry-After, which OTLP exporters retry.
    const saturated = (type: string, value: unknown): SiperfError =>
      new SiperfError(
        'ERR_INGEST_OVERLOADED',
        `the server is overloaded (${type} ${Math.round(Number(value))} ms > ${config.maxEventLoopDelayMs} ms); retry after 1 s`,
        { limit: config.maxEventLoopDelayMs, retryAfterSeconds: 1 },
      );
    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      sampleInterval: config.overloadSampleIntervalMs,
      pressureHandler: (request, reply, type, value) => {
        const err = saturated(type, value);
        pipeline.countFailure(err);
        sendProblem(reply, request, err);
        // Nothing returned: under-pressure then calls next(), and Fastify stops since the reply is sent.
      },
    });
    // The other transports (OTLP/gRPC) ask the same guard.
    pipeline.pressure = () =>
      app.isUnderPressure() ? saturated('eventLoopDelay', app.memoryUsage().eventLoopDelay) : undefined;
    app.addHook('onClose', async () => {
      pipeline.pressure = undefined;
    });
  }

  /**
   * Decodes the body of a request with the pipeline (its `content-encoding` and `content-type`) and
   * writes what it carries.
   * @throws SiperfError `ERR_INGEST_DECODE`, `ERR_INGEST_BODY_TOO_LARGE`, `ERR_INGEST_CONTENT_TYPE`,
   *   `ERR_INGEST_OVERLOADED`, or what the store throws.
   */
  const ingestBody = async (
    request: FastifyRequest<{ Body: Buffer }>,
    signal: IngestSignal,
  ): Promise<IngestOutcome> => {
    const outcome = await pipeline.ingest(
      signal,
      signal === 'zipkin' ? 'zipkin' : 'otlp-http',
      held.get(request),
      request.body,
      String(request.headers['content-encoding'] ?? 'identity').toLowerCase(),
      isProtobuf(request),
    );
    if (signal !== 'otlp-metrics' && outcome.items > 0) {
      request.log.debug(
        { written: outcome.written, duplicates: outcome.duplicates, rejected: outcome.rejected.length },
        'spans ingested',
      );
    }
    if (outcome.rejected.length > 0) {
      request.log.info({ rejected: outcome.rejected.length, first: outcome.rejected[0] }, 'items rejected');
    }
    return outcome;
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
      const protobuf = isProtobuf(request);
      const { rejected } = await ingestBody(request, 'otlp-traces');
      return sendOtlpResponse(reply, protobuf, otlpTypes().traceResponse, 'rejectedSpans', rejected);
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
      const protobuf = isProtobuf(request);
      const { rejected } = await ingestBody(request, 'otlp-metrics');
      return sendOtlpResponse(reply, protobuf, otlpTypes().metricsResponse, 'rejectedDataPoints', rejected);
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
      const { items, rejected } = await ingestBody(request, 'zipkin');
      return reply.code(202).send({ accepted: items, rejected });
    },
  );
}
