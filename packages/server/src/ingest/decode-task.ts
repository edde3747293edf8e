/**
 * One ingest body from bytes to spans or metric points: decompress, decode (OTLP protobuf or JSON, Zipkin
 * JSON) and convert. Runs in a decode worker (`decode-worker.ts`), or inline for small bodies; the same
 * function either way, so both give the same answer.
 * @module
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { SiperfError } from '../errors.ts';
import { parseOtlpJson } from './otlp-json.ts';
import type { MetricBatch } from './otlp-metrics.ts';
import { otlpMetricsToPoints } from './otlp-metrics.ts';
import { decodeProtobuf, otlpTypes } from './otlp-protobuf.ts';
import { otlpTracesToSpans } from './otlp-traces.ts';
import type { ClockPolicy, SpanBatch } from './span-batch.ts';
import { zipkinToSpans } from './zipkin.ts';

/** Which endpoint a body came to. */
export type IngestSignal = 'otlp-traces' | 'otlp-metrics' | 'zipkin';

/** A body to decode and what the request said about it. */
export interface DecodeTask {
  signal: IngestSignal;
  body: Uint8Array;
  /** `content-encoding`, lower case: `gzip`, `deflate`, `identity` or `''`. */
  encoding: string;
  /** True for `application/x-protobuf` (OTLP only). */
  protobuf: boolean;
  /** Largest body after decompression, bytes. */
  maxDecompressedBytes: number;
  clock: ClockPolicy;
}

/** The converted content of one body. */
export type DecodeResult =
  | { signal: 'otlp-traces' | 'zipkin'; batch: SpanBatch }
  | { signal: 'otlp-metrics'; batch: MetricBatch };

/** `ERR_BUFFER_TOO_LARGE` or the RangeError zlib throws at `maxOutputLength`. */
export function isOutputTooLarge(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
}

/**
 * Decompresses a body (synchronously: call it in a worker, or with a small `maxBytes`).
 * @throws SiperfError `ERR_INGEST_BODY_TOO_LARGE` above `maxBytes`, `ERR_INGEST_DECODE` for bad data,
 *   `ERR_INGEST_CONTENT_TYPE` for an unknown encoding.
 */
export function decompressSync(body: Uint8Array, encoding: string, maxBytes: number): Uint8Array {
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    throw new SiperfError(
      'ERR_INGEST_CONTENT_TYPE',
      `content-encoding "${encoding}" is not supported; use gzip, deflate or none`,
    );
  }
  try {
    return encoding === 'gzip'
      ? gunzipSync(body, { maxOutputLength: maxBytes })
      : inflateSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if (isOutputTooLarge(err)) {
      throw new SiperfError(
        'ERR_INGEST_BODY_TOO_LARGE',
        `decompressed body exceeds the limit of ${maxBytes} bytes (maxDecompressedBytes)`,
        { limit: maxBytes },
      );
    }
    throw new SiperfError(
      'ERR_INGEST_DECODE',
      `body is not valid ${encoding} data: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Decodes and converts an already decompressed body. */
export function convertBody(task: Omit<DecodeTask, 'encoding'>, bytes: Uint8Array): DecodeResult {
  if (task.signal === 'zipkin') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8(bytes));
    } catch (err) {
      throw new SiperfError('ERR_INGEST_DECODE', `body is not valid JSON: ${(err as Error).message}`);
    }
    return { signal: 'zipkin', batch: zipkinToSpans(parsed, task.clock) };
  }
  const types = otlpTypes();
  if (task.signal === 'otlp-traces') {
    const decoded = task.protobuf ? decodeProtobuf(types.traceRequest, bytes) : parseOtlpJson(utf8(bytes));
    return { signal: 'otlp-traces', batch: otlpTracesToSpans(decoded, task.clock) };
  }
  const decoded = task.protobuf ? decodeProtobuf(types.metricsRequest, bytes) : parseOtlpJson(utf8(bytes));
  return { signal: 'otlp-metrics', batch: otlpMetricsToPoints(decoded) };
}

/**
 * Decompresses, decodes and converts one body.
 * @throws SiperfError `ERR_INGEST_DECODE`, `ERR_INGEST_BODY_TOO_LARGE`, `ERR_INGEST_CONTENT_TYPE`.
 */
export function runDecodeTask(task: DecodeTask): DecodeResult {
  return convertBody(task, decompressSync(task.body, task.encoding, task.maxDecompressedBytes));
}
