/**
 * The ingest pipeline every transport shares (OTLP/HTTP, Zipkin, OTLP/gRPC): admission against the
 * write queue and the bodies in flight, decode (inline for small bodies, else on the decode workers),
 * the post-decode load check, and the sliced, durable store writes. A transport only reads its bytes,
 * checks the key, and turns results and {@link SiperfError}s into its own answers.
 *
 * Admission happens before a body is decoded (for HTTP, before it is read): a request holds its declared
 * bytes of `maxInflightBodyBytes`, and a trace request reserves the spans it is expected to bring
 * (declared bytes × the spans per body byte seen so far, an exponential moving average) against
 * `maxPendingSpans`, until {@link Admission.release} is called.
 * @module
 */
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import type { MetricPoint, Span } from '../model/index.ts';
import type { MetricWriter, SpanWriter } from '../storage/index.ts';
import { nowNs } from '../util/time.ts';
import { DecodePool, type PartSink } from './decode-pool.ts';
import {
  convertBody,
  type DecodeResult,
  type DecodeTask,
  decompressSync,
  type IngestSignal,
  runDecodeTask,
} from './decode-task.ts';
import type { MetricBatch } from './otlp-metrics.ts';
import type { ClockPolicy, SpanBatch, SpanRejection } from './span-batch.ts';

/**
 * Bodies up to this size (before and after decompression) are decoded on the event loop: a few ms at most
 * (a 64 KiB protobuf of small metric points took ~50 ms to decode and write).
 */
const INLINE_DECODE_BYTES = 16 * 1024;
/** Spans or points per store write: a bigger batch is written in slices, the event loop free between them. */
const WRITE_SLICE = 2000;

/** What one admitted request holds until it is answered. */
export interface Admission {
  /** Body bytes held against `maxInflightBodyBytes`. */
  bytes: number;
  /** Spans reserved against `maxPendingSpans` (0 once the body is decoded). */
  spans: number;
  /** Gives back what the request holds; idempotent. */
  release(): void;
}

/** Counters since start, for `/metrics` (monotonic). */
export interface IngestCounters {
  /** Spans written (new, not duplicates), by transport. */
  spansAccepted: Record<IngestTransport, number>;
  /** Spans refused inside an accepted request (partial success). */
  spansRejected: number;
  /** Metric points written. */
  pointsAccepted: number;
  /** Metric points refused inside an accepted request (partial success). */
  pointsRejected: number;
  /** Requests answered with an error, by error code. */
  requestsFailed: Record<string, number>;
}

/** What {@link IngestPipeline.ingest} did with one body. */
export interface IngestOutcome {
  /** Spans or points the body carried (not counting the rejected ones). */
  items: number;
  /** Spans new to the store, or points written. */
  written: number;
  /** Spans the store already held (a retried batch). */
  duplicates: number;
  /** Items refused inside an accepted request (partial success). */
  rejected: SpanRejection[];
}

/** The transports that feed the pipeline. */
export type IngestTransport = 'otlp-http' | 'otlp-grpc' | 'zipkin';

/** Options of {@link IngestPipeline}. */
export interface IngestPipelineOptions {
  config: Config;
  store: SpanWriter & MetricWriter;
}

/** Admission, decode and storage of ingest bodies, shared by the transports (one per app). */
export class IngestPipeline {
  private readonly config: Config;
  private readonly store: SpanWriter & MetricWriter;
  private readonly pool: DecodePool | undefined;
  private inflightBytes = 0;
  private inflightRequests = 0;
  private reservedSpans = 0;
  private spansPerByte = 1 / 128;
  /** Counters since start (read by `/metrics`). */
  readonly counters: IngestCounters = {
    spansAccepted: { 'otlp-http': 0, 'otlp-grpc': 0, zipkin: 0 },
    spansRejected: 0,
    pointsAccepted: 0,
    pointsRejected: 0,
    requestsFailed: {},
  };
  /**
   * The event-loop check of the HTTP transport (@fastify/under-pressure), once registered: returns the
   * error to answer with while the process is saturated, else undefined. Other transports consult it.
   */
  pressure: (() => SiperfError | undefined) | undefined;
  private readonly observers: ((spans: readonly Span[]) => void)[] = [];

  constructor(options: IngestPipelineOptions) {
    this.config = options.config;
    this.store = options.store;
    this.pool =
      this.config.ingestWorkers > 0
        ? new DecodePool({ size: this.config.ingestWorkers, maxHeapMb: this.config.decodeWorkerHeapMb })
        : undefined;
  }

  /**
   * Calls `listener` with each slice of spans once it is durable (`/metrics` derives its RED metrics
   * from them). A slice the store found wholly duplicate (a retried batch) is not passed on; a slice
   * partly duplicate is passed whole (the store does not say which spans it skipped). A listener that
   * throws is not the request's failure: the error is dropped.
   */
  onStored(listener: (spans: readonly Span[]) => void): void {
    this.observers.push(listener);
  }

  /** Spans waiting to be written by the store. */
  pendingSpans(): number {
    return this.store.pendingSpans();
  }

  /** Body bytes held by admitted requests now. */
  get inflightBodyBytes(): number {
    return this.inflightBytes;
  }

  /**
   * Counts a failed request by its error code (for `/metrics`): a {@link SiperfError}'s code, a code
   * given as a string (a transport's own mapping), else `ERR_INTERNAL`.
   */
  countFailure(err: unknown): void {
    const code = typeof err === 'string' ? err : err instanceof SiperfError ? err.code : 'ERR_INTERNAL';
    this.counters.requestsFailed[code] = (this.counters.requestsFailed[code] ?? 0) + 1;
  }

  private overloaded(detail: string): SiperfError {
    return new SiperfError('ERR_INGEST_OVERLOADED', `${detail}; retry after 1 s`, {
      limit: this.config.maxInflightBodyBytes,
      retryAfterSeconds: 1,
    });
  }

  /**
   * Admits a request by its declared body size (0 when unknown) before its body is read or decoded.
   * An empty queue with nothing reserved always takes a request; with nothing in flight one request is
   * always admitted. Call `release()` on the result once the request is answered.
   * @param bytes declared body bytes (compressed).
   * @param traces whether the body carries spans (reserves its expected spans).
   * @param checkSize false when the transport enforces its own size limit (gRPC, on the decompressed
   *   message).
   * @throws SiperfError `ERR_INGEST_BODY_TOO_LARGE` above `maxBodyBytes`; `ERR_INGEST_OVERLOADED` (with
   *   `retryAfterSeconds`) when the write queue or the bytes in flight are over their limits.
   */
  admit(bytes: number, traces: boolean, checkSize = true): Admission {
    const { config } = this;
    if (checkSize && bytes > config.maxBodyBytes) {
      throw new SiperfError(
        'ERR_INGEST_BODY_TOO_LARGE',
        `request body of ${bytes} bytes exceeds the limit of ${config.maxBodyBytes} bytes (maxBodyBytes)`,
        { limit: config.maxBodyBytes },
      );
    }
    const pending = this.store.pendingSpans();
    const expected = traces ? Math.ceil(bytes * this.spansPerByte) : 0;
    if (
      pending >= config.maxPendingSpans ||
      (pending + this.reservedSpans > 0 && pending + this.reservedSpans + expected > config.maxPendingSpans)
    ) {
      throw new SiperfError(
        'ERR_INGEST_OVERLOADED',
        `${pending} spans are waiting to be written and ${this.reservedSpans} more are on their way in (maxPendingSpans ${config.maxPendingSpans}); retry after 1 s`,
        { limit: config.maxPendingSpans, retryAfterSeconds: 1 },
      );
    }
    if (this.inflightRequests > 0 && this.inflightBytes + bytes > config.maxInflightBodyBytes) {
      throw this.overloaded(
        `${this.inflightRequests} ingest requests hold ${this.inflightBytes} bytes of body and this one declares ${bytes} more (maxInflightBodyBytes ${config.maxInflightBodyBytes})`,
      );
    }
    this.inflightBytes += bytes;
    this.inflightRequests++;
    this.reservedSpans += expected;
    let released = false;
    const admission: Admission = {
      bytes,
      spans: expected,
      release: () => {
        if (released) return;
        released = true;
        this.inflightBytes -= admission.bytes;
        this.inflightRequests--;
        this.reservedSpans -= admission.spans;
      },
    };
    return admission;
  }

  /**
   * For a transport without its own event-loop guard: throws while the process is saturated.
   * @throws SiperfError `ERR_INGEST_OVERLOADED` with `retryAfterSeconds`, from {@link pressure}.
   */
  checkPressure(): void {
    const err = this.pressure?.();
    if (err) throw err;
  }

  /**
   * Counts body bytes as they arrive, for a request that declared no length.
   * @throws SiperfError `ERR_INGEST_OVERLOADED` once the bytes in flight go over `maxInflightBodyBytes`
   *   while another request is in flight.
   */
  grow(admission: Admission, chunkBytes: number): void {
    admission.bytes += chunkBytes;
    this.inflightBytes += chunkBytes;
    if (this.inflightRequests > 1 && this.inflightBytes > this.config.maxInflightBodyBytes) {
      throw this.overloaded(
        `${this.inflightRequests} ingest requests hold ${this.inflightBytes} bytes of body (maxInflightBodyBytes ${this.config.maxInflightBodyBytes})`,
      );
    }
  }

  /** The clock limits of a body decoded now. */
  private clock(): ClockPolicy {
    const { config } = this;
    return {
      nowNs: nowNs(),
      maxFutureSkewNs: BigInt(config.maxFutureSkewMs) * 1_000_000n,
      maxPastSkewNs: BigInt(config.maxPastSkewMs) * 1_000_000n,
      maxSpanDurationNs: BigInt(config.maxSpanDurationMs) * 1_000_000n,
    };
  }

  /**
   * Decompresses, decodes and converts a body: on the event loop when it is small, else on a worker.
   * With `sink`, a big batch decoded on a worker is handed over part by part ({@link DecodePool.run}) and
   * the result holds the rest.
   * @param body the body as received; `encoding` is its `content-encoding` (lower case; `identity` when
   *   the transport already decompressed it).
   * @throws SiperfError `ERR_INGEST_DECODE`, `ERR_INGEST_BODY_TOO_LARGE`, `ERR_INGEST_CONTENT_TYPE`.
   */
  async decode(
    signal: IngestSignal,
    body: Uint8Array,
    encoding: string,
    protobuf: boolean,
    sink?: PartSink,
  ): Promise<DecodeResult> {
    const { config } = this;
    const task: DecodeTask = {
      signal,
      body,
      encoding,
      protobuf: signal !== 'zipkin' && protobuf,
      maxDecompressedBytes: config.maxDecompressedBytes,
      clock: this.clock(),
    };
    if (!this.pool) return runDecodeTask(task);
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
    return this.pool.run(task, sink);
  }

  /**
   * 503 when the spans of this request would push the write queue above `maxPendingSpans` (an empty queue
   * always takes a batch). The decoded count replaces the request's reservation, and teaches the estimate.
   * @throws SiperfError `ERR_INGEST_OVERLOADED` with `retryAfterSeconds`.
   */
  checkLoad(admission: Admission | undefined, incoming: number): void {
    if (admission) {
      if (admission.bytes > 0) this.spansPerByte += 0.1 * (incoming / admission.bytes - this.spansPerByte);
      this.reservedSpans -= admission.spans;
      admission.spans = 0;
    }
    const pending = this.store.pendingSpans();
    if (pending > 0 && pending + incoming > this.config.maxPendingSpans) {
      throw new SiperfError(
        'ERR_INGEST_OVERLOADED',
        `more than ${this.config.maxPendingSpans} spans are waiting to be written; retry after 1 s`,
        { limit: this.config.maxPendingSpans, retryAfterSeconds: 1 },
      );
    }
  }

  /**
   * Decodes a body and writes what it carries: for a big body decoded on a worker, each part as it
   * arrives (the process holds one part of the batch, not the whole), after {@link checkLoad} on the
   * batch's full span count; else the batch once decoded. A retried body counts once whatever was
   * written before a failure (the store skips spans it holds).
   * @returns the items of the body, those the store wrote (new spans; every point) and skipped as
   *   duplicates, and the rejected ones (partial success).
   * @throws SiperfError as {@link decode} and {@link checkLoad} do, or what the store throws.
   */
  async ingest(
    signal: IngestSignal,
    transport: IngestTransport,
    admission: Admission | undefined,
    body: Uint8Array,
    encoding: string,
    protobuf: boolean,
  ): Promise<IngestOutcome> {
    const outcome: IngestOutcome = { items: 0, written: 0, duplicates: 0, rejected: [] };
    let checked = false;
    const write = async (items: Span[] | MetricPoint[], total: number): Promise<void> => {
      if (signal === 'otlp-metrics') {
        await this.writePoints(items as MetricPoint[]);
        outcome.written += items.length;
      } else {
        if (!checked) this.checkLoad(admission, total);
        checked = true;
        const r = await this.writeSpans(items as Span[]);
        outcome.written += r.written;
        outcome.duplicates += r.duplicates;
      }
      outcome.items += items.length;
    };
    const result = await this.decode(signal, body, encoding, protobuf, write);
    const rest = result.signal === 'otlp-metrics' ? result.batch.points : result.batch.spans;
    await write(rest, outcome.items + rest.length);
    outcome.rejected = result.batch.rejected;
    if (signal === 'otlp-metrics') {
      this.counters.pointsAccepted += outcome.written;
      this.counters.pointsRejected += outcome.rejected.length;
    } else {
      this.counters.spansAccepted[transport] += outcome.written;
      this.counters.spansRejected += outcome.rejected.length;
    }
    return outcome;
  }

  /**
   * Writes a decoded span batch in slices of {@link WRITE_SLICE}, each durable before the next starts,
   * after {@link checkLoad}. @returns spans written (new) and duplicates skipped.
   * @throws SiperfError `ERR_INGEST_OVERLOADED`, or what the store throws.
   */
  async storeSpans(
    transport: IngestTransport,
    admission: Admission | undefined,
    batch: SpanBatch,
  ): Promise<{ written: number; duplicates: number }> {
    this.checkLoad(admission, batch.spans.length);
    const total = await this.writeSpans(batch.spans);
    this.counters.spansAccepted[transport] += total.written;
    this.counters.spansRejected += batch.rejected.length;
    return total;
  }

  /** Writes spans in slices, each durable before the next starts, and tells the observers. */
  private async writeSpans(spans: Span[]): Promise<{ written: number; duplicates: number }> {
    const total = { written: 0, duplicates: 0 };
    for (let i = 0; i < spans.length; i += WRITE_SLICE) {
      const slice = spans.length <= WRITE_SLICE ? spans : spans.slice(i, i + WRITE_SLICE);
      const r = await this.store.writeSpans(slice);
      total.written += r.written;
      total.duplicates += r.duplicates;
      if (r.written > 0) {
        for (const observe of this.observers) {
          try {
            observe(slice);
          } catch {
            // A metrics listener must not fail an ingest that is already durable.
          }
        }
      }
    }
    return total;
  }

  /** Writes a decoded metric batch in slices, each durable before the next starts. */
  async storePoints(batch: MetricBatch): Promise<void> {
    await this.writePoints(batch.points);
    this.counters.pointsAccepted += batch.points.length;
    this.counters.pointsRejected += batch.rejected.length;
  }

  private async writePoints(points: MetricPoint[]): Promise<void> {
    for (let i = 0; i < points.length; i += WRITE_SLICE) {
      await this.store.writeMetricPoints(
        points.length <= WRITE_SLICE ? points : points.slice(i, i + WRITE_SLICE),
      );
    }
  }

  /** Stops the decode workers; decodes queued or running fail with `ERR_STORE_CLOSED`. */
  async close(): Promise<void> {
    await this.pool?.close();
  }
}
