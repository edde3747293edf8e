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
import { DecodePool } from '../ingest/decode-pool.ts';
import {
  convertBody,
  type DecodeResult,
  type DecodeTask,
  decompressSync,
  type IngestSignal,
  runDecodeTask,
} from '../ingest/decode-task.ts';
import {
  type ClockPolicy,
  encodeProtobufResponse,
  type MetricBatch,
  otlpTypes,
  rejectionMessage,
  type SpanBatch,
  type SpanRejection,
} from '../ingest/index.ts';
import type { MetricWriter, SpanWriter } from '../storage/index.ts';
import { nowNs } from '../util/time.ts';
import { requireKey } from './auth.ts';
import { sendProblem } from './problem.ts';
import { ingestRouteSchemas as S } from './schemas/ingest.ts';
import { bodyDecodedByHandler } from './validation.ts';

/** Bodies up to this size (before and after decompression) are decoded on the event loop: a few ms at most. */
const INLINE_DECODE_BYTES = 64 * 1024;
/** Spans or points per store write: a bigger batch is written in slices, the event loop free between them. */
const WRITE_SLICE = 2000;

/** What the ingest routes need. */
export interface IngestDeps {
  config: Config;
  store: SpanWriter & MetricWriter;
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
  const pool =
    config.ingestWorkers > 0
      ? new DecodePool({ size: config.ingestWorkers, maxHeapMb: config.decodeWorkerHeapMb })
      : undefined;
  if (pool) app.addHook('onClose', async () => pool.close());

  // Admission, before the body is read: a request turned away costs neither its upload nor its decode.
  // A request that declares its length holds that many bytes of the budget until it is answered; one
  // without (chunked) holds the bytes as they arrive, and is turned away when they go over the budget.
  let inflightBytes = 0;
  let inflightRequests = 0;
  const held = new WeakMap<FastifyRequest, { bytes: number; spans: number }>();
  // Spans that admitted trace requests are expected to bring (their bodies being read or decoded): they
  // count against maxPendingSpans with the queue, so a request that would only be turned away after its
  // decode (spent CPU, held memory) is turned away before. The estimate is the body's declared bytes ×
  // the spans per body byte seen so far (an exponential moving average over decoded trace bodies).
  let reservedSpans = 0;
  let spansPerByte = 1 / 128;
  const learnSpansPerByte = (spans: number, bytes: number): void => {
    if (bytes > 0) spansPerByte += 0.1 * (spans / bytes - spansPerByte);
  };
  const isTraceRoute = (url: string): boolean =>
    url.startsWith('/v1/traces') || url.startsWith('/api/v2/spans');
  const overloaded = (detail: string): SiperfError =>
    new SiperfError('ERR_INGEST_OVERLOADED', `${detail}; retry after 1 s`, {
      limit: config.maxInflightBodyBytes,
      retryAfterSeconds: 1,
    });
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
    const pending = store.pendingSpans();
    const expected = isTraceRoute(request.url) ? Math.ceil(bytes * spansPerByte) : 0;
    // An empty queue with nothing reserved always takes a request, however large.
    if (
      pending >= config.maxPendingSpans ||
      (pending + reservedSpans > 0 && pending + reservedSpans + expected > config.maxPendingSpans)
    ) {
      throw new SiperfError(
        'ERR_INGEST_OVERLOADED',
        `${pending} spans are waiting to be written and ${reservedSpans} more are on their way in (maxPendingSpans ${config.maxPendingSpans}); retry after 1 s`,
        { limit: config.maxPendingSpans, retryAfterSeconds: 1 },
      );
    }
    if (inflightRequests > 0 && inflightBytes + bytes > config.maxInflightBodyBytes) {
      throw overloaded(
        `${inflightRequests} ingest requests hold ${inflightBytes} bytes of body and this one declares ${bytes} more (maxInflightBodyBytes ${config.maxInflightBodyBytes})`,
      );
    }
    const hold = { bytes, spans: expected };
    held.set(request, hold);
    inflightBytes += bytes;
    inflightRequests++;
    reservedSpans += expected;
    // 'close' comes once the answer is sent or the connection is gone, whichever happens first.
    reply.raw.once('close', () => {
      inflightBytes -= hold.bytes;
      inflightRequests--;
      reservedSpans -= hold.spans;
    });
  });
  app.addHook('preParsing', async (request, _reply, payload) => {
    const hold = held.get(request);
    if (!hold || request.headers['content-length'] !== undefined) return payload;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hold.bytes += chunk.length;
        inflightBytes += chunk.length;
        if (inflightRequests > 1 && inflightBytes > config.maxInflightBodyBytes) {
          callback(
            overloaded(
              `${inflightRequests} ingest requests hold ${inflightBytes} bytes of body (maxInflightBodyBytes ${config.maxInflightBodyBytes})`,
            ),
          );
          return;
        }
        callback(null, chunk);
      },
    });
    payload.on('error', (err) => counted.destroy(err));
    return payload.pipe(counted);
  });

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

  /**
   * 503 when the spans of this request would push the write queue above `maxPendingSpans` (an empty queue
   * always takes a batch). The decoded count replaces the request's reservation, and teaches the estimate.
   */
  const checkLoad = (request: FastifyRequest, incoming: number): void => {
    const hold = held.get(request);
    if (hold) {
      learnSpansPerByte(incoming, hold.bytes);
      reservedSpans -= hold.spans;
      hold.spans = 0;
    }
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

  /**
   * Decompresses, decodes and converts a body: on the event loop when it is small, else on a worker.
   * @throws SiperfError `ERR_INGEST_DECODE`, `ERR_INGEST_BODY_TOO_LARGE`, `ERR_INGEST_CONTENT_TYPE`.
   */
  const decodeBody = async (
    request: FastifyRequest<{ Body: Buffer }>,
    signal: IngestSignal,
  ): Promise<DecodeResult> => {
    const task: DecodeTask = {
      signal,
      body: request.body,
      encoding: String(request.headers['content-encoding'] ?? 'identity').toLowerCase(),
      protobuf: signal !== 'zipkin' && isProtobuf(request),
      maxDecompressedBytes: config.maxDecompressedBytes,
      clock: clock(),
    };
    if (!pool) return runDecodeTask(task);
    if (task.body.byteLength <= INLINE_DECODE_BYTES) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = decompressSync(
          task.body,
          task.encoding,
          Math.min(INLINE_DECODE_BYTES, config.maxDecompressedBytes),
        );
      } catch (err) {
        // Bigger once inflated: that is the worker's job (with the full limit).
        const bigger =
          err instanceof SiperfError &&
          err.code === 'ERR_INGEST_BODY_TOO_LARGE' &&
          config.maxDecompressedBytes > INLINE_DECODE_BYTES;
        if (!bigger) throw err;
      }
      if (bytes) return convertBody(task, bytes);
    }
    return pool.run(task);
  };

  /** Writes spans in slices of {@link WRITE_SLICE}, each durable before the next starts. */
  const writeSpans = async (spans: SpanBatch['spans']): Promise<{ written: number; duplicates: number }> => {
    if (spans.length <= WRITE_SLICE) return store.writeSpans(spans);
    const total = { written: 0, duplicates: 0 };
    for (let i = 0; i < spans.length; i += WRITE_SLICE) {
      const r = await store.writeSpans(spans.slice(i, i + WRITE_SLICE));
      total.written += r.written;
      total.duplicates += r.duplicates;
    }
    return total;
  };

  const writePoints = async (points: MetricBatch['points']): Promise<void> => {
    for (let i = 0; i < points.length; i += WRITE_SLICE) {
      await store.writeMetricPoints(points.length <= WRITE_SLICE ? points : points.slice(i, i + WRITE_SLICE));
    }
  };

  const storeBatch = async (request: FastifyRequest, batch: SpanBatch): Promise<void> => {
    if (batch.spans.length > 0) {
      const { written, duplicates } = await writeSpans(batch.spans);
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
      const protobuf = isProtobuf(request);
      const { batch } = (await decodeBody(request, 'otlp-traces')) as { batch: SpanBatch };
      checkLoad(request, batch.spans.length);
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
      const protobuf = isProtobuf(request);
      const { batch } = (await decodeBody(request, 'otlp-metrics')) as { batch: MetricBatch };
      await writePoints(batch.points);
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
      const { batch } = (await decodeBody(request, 'zipkin')) as { batch: SpanBatch };
      checkLoad(request, batch.spans.length);
      await storeBatch(request, batch);
      if (batch.rejected.length > 0) {
        return reply.code(202).send({ accepted: batch.spans.length, rejected: batch.rejected });
      }
      return reply.code(202).send({ accepted: batch.spans.length, rejected: [] });
    },
  );
}
