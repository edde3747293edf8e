/**
 * A small fixed pool of decode worker threads, so that decompressing, decoding and converting a big body
 * never holds the event loop (a 1 MB gzip body that inflates to 63 MB took seconds of it).
 *
 * Workers start on the first task and are replaced when one dies; each runs one task at a time, the rest
 * wait in a FIFO queue (bounded by the admission of the ingest routes, which counts the bytes in flight).
 * A body's bytes are moved to the worker, not copied, when the Buffer owns its memory. Each worker's heap
 * is capped (`resourceLimits`), so a body that decodes into too many objects kills its worker, not the
 * server: the request gets `ERR_INGEST_BODY_TOO_LARGE`.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, type ErrorCode, SiperfError } from '../errors.ts';
import type { MetricPoint, Span } from '../model/index.ts';
import { workerEntry } from '../util/worker-entry.ts';
import type { DecodeResult, DecodeTask } from './decode-task.ts';
import type { WorkerReply, WorkerRequest } from './decode-worker.ts';

/** Compiled: `decode-worker.js`; from source: the boot file that registers tsx in the thread first. */
const WORKER_ENTRY = workerEntry(import.meta.url, './decode-worker.js', './decode-worker.mjs');

/** Bodies over this many bytes (compressed: an eighth of it) are decoded one at a time. */
const BIG_BODY_BYTES = 1024 * 1024;

/**
 * Whether a body may decode into tens of thousands of objects: over 1 MiB, or over 128 KiB compressed. Two
 * such bodies decoding at once held two workers' heaps at their high-water marks (the server's peak RSS under
 * the fuzzing run); one at a time, the other workers keep serving ordinary batches.
 */
function isBigBody(task: DecodeTask): boolean {
  const compressed = task.encoding === 'gzip' || task.encoding === 'deflate';
  return task.body.byteLength > (compressed ? BIG_BODY_BYTES / 8 : BIG_BODY_BYTES);
}

/** Options of {@link DecodePool}. */
export interface DecodePoolOptions {
  /** Number of worker threads (≥ 1). */
  size: number;
  /** Old-generation heap cap of each worker, MiB. */
  maxHeapMb: number;
}

/**
 * Takes one part of a batch as the worker hands it over (`total`: items in the whole batch). The next
 * part comes only once the promise settles; a rejection stops the parts and becomes the task's failure.
 */
export type PartSink = (items: Span[] | MetricPoint[], total: number) => Promise<void>;

interface Job {
  id: number;
  task: DecodeTask;
  /** Parts of the batch received so far (a big batch comes in parts, see `decode-worker.ts`). */
  parts: unknown[][];
  /** Where parts go instead of {@link parts}, when the caller takes them as they come. */
  sink: PartSink | undefined;
  /** The sink's failure: the task fails with it. */
  sinkError: unknown;
  /** A body that may decode into tens of thousands of objects (see {@link isBigBody}): one at a time. */
  big: boolean;
  resolve: (result: DecodeResult) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

/** Runs decode tasks on worker threads. */
export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: DecodePoolOptions) {}

  /** Tasks waiting for a worker plus tasks running. */
  get inFlight(): number {
    return this.queue.length + this.slots.filter((s) => s.job !== undefined).length;
  }

  /**
   * Decodes one body on a worker. The body's memory moves to the worker when the Buffer owns it whole
   * (do not use it afterwards).
   *
   * Without `sink` the result holds the whole batch. With it, a batch of more than
   * `REPLY_PART_ITEMS` (decode-worker.ts) items goes to `sink` part by part, in order, each part only after the
   * previous one's promise settled (so a caller that writes each part holds one part, not the body's
   * batch); the result then holds the items no part carried.
   * @throws SiperfError as {@link runDecodeTask} does; `ERR_INGEST_BODY_TOO_LARGE` when the worker ran out
   *   of heap; `ERR_STORE_CLOSED` once the pool is closed; what `sink` rejected with.
   */
  run(task: DecodeTask, sink?: PartSink): Promise<DecodeResult> {
    if (this.closed) return Promise.reject(new SiperfError('ERR_STORE_CLOSED', 'the server is stopping'));
    return new Promise((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        task,
        parts: [],
        sink,
        sinkError: undefined,
        big: isBigBody(task),
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  /** Stops the workers; queued and running tasks fail with `ERR_STORE_CLOSED`. */
  async close(): Promise<void> {
    this.closed = true;
    const stopping = new SiperfError('ERR_STORE_CLOSED', 'the server is stopping');
    for (const job of this.queue.splice(0)) job.reject(stopping);
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      slot.job?.reject(stopping);
      slot.job = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      // The oldest job that may start: a big body waits while another big one decodes, small ones pass it.
      const bigRunning = this.slots.some((s) => s.job?.big === true);
      const next = this.queue.findIndex((j) => !j.big || !bigRunning);
      if (next < 0) return;
      let slot = this.slots.find((s) => s.job === undefined);
      if (!slot && this.slots.length < Math.max(1, this.options.size)) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.splice(next, 1)[0]!;
      slot.job = job;
      const body = job.task.body;
      const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
      const message: WorkerRequest = { id: job.id, task: job.task };
      // A Buffer cut from Node's shared pool must be copied: moving it would take the pool from everyone.
      slot.worker.postMessage(message, owned ? [body.buffer as ArrayBuffer] : []);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_ENTRY, {
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb },
      // Workers run nothing else: they must not keep a stopping process alive.
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const slot: Slot = { worker, job: undefined };
    this.slots.push(slot);
    worker.on('message', (reply: WorkerReply | 'ready') => {
      if (reply === 'ready') return;
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      if ('part' in reply) {
        if (job.sink) {
          // The next part once this one is taken: the caller's pace bounds what is held.
          const id = job.id;
          job.sink(reply.part, reply.total).then(
            () => slot.worker.postMessage({ ack: id } satisfies WorkerRequest),
            (err: unknown) => {
              job.sinkError = err;
              slot.worker.postMessage({ ack: id, stop: true } satisfies WorkerRequest);
            },
          );
          return;
        }
        // Acknowledge first: the worker clones the next part while this turn of the loop ends.
        job.parts.push(reply.part);
        slot.worker.postMessage({ ack: job.id } satisfies WorkerRequest);
        return;
      }
      slot.job = undefined;
      if (job.sinkError !== undefined) job.reject(job.sinkError);
      else if (reply.ok) {
        const { result } = reply;
        if (job.parts.length > 0) {
          if (result.signal === 'otlp-metrics')
            result.batch.points = ([] as MetricPoint[]).concat(
              ...(job.parts as MetricPoint[][]),
              result.batch.points,
            );
          else result.batch.spans = ([] as Span[]).concat(...(job.parts as Span[][]), result.batch.spans);
          job.parts = [];
        }
        job.resolve(result);
      } else {
        const code = (reply.code in ERROR_CODES ? reply.code : 'ERR_INTERNAL') as ErrorCode;
        job.reject(new SiperfError(code, reply.detail, { limit: reply.limit }));
      }
      this.dispatch();
    });
    let failure: Error | undefined;
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('exit', () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        const oom = (failure as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        job.reject(
          oom
            ? new SiperfError(
                'ERR_INGEST_BODY_TOO_LARGE',
                `the body decodes into more than a decode worker may hold (${this.options.maxHeapMb} MiB heap, decodeWorkerHeapMb)`,
                { limit: `${this.options.maxHeapMb} MiB` },
              )
            : new SiperfError('ERR_INTERNAL', `a decode worker stopped: ${failure?.message ?? 'exited'}`, {
                cause: failure,
              }),
        );
      }
      this.dispatch();
    });
    return slot;
  }
}
