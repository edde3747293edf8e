/**
 * The decode worker: runs {@link runDecodeTask} for the main thread's {@link DecodePool}, one task at a
 * time, and answers with the converted batch (bigints survive the structured clone) or the error's code.
 *
 * A batch of more than {@link REPLY_PART_ITEMS} spans or points goes back in parts, each sent only once
 * the pool has acknowledged the previous one: the structured clone is read on the main thread at about
 * 11 µs a span, so a 25,000-span body in one message held the event loop for ~280 ms; in parts of 1,024
 * the loop turns every ~12 ms.
 *
 * Compiled, the pool starts `decode-worker.js` itself; from source, `decode-worker.mjs`, which registers tsx
 * in the worker first (`util/worker-entry.ts`).
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { isSiperfError } from '../errors.ts';
import type { MetricPoint, Span } from '../model/index.ts';
import type { DecodeResult, DecodeTask } from './decode-task.ts';
import { runDecodeTask } from './decode-task.ts';
import { otlpTypes } from './otlp-protobuf.ts';
import { loadSqlParser } from './sql-fingerprint.ts';

/** Spans or points per reply message. */
export const REPLY_PART_ITEMS = 1024;

/**
 * A task as the pool posts it, or the pool's acknowledgement of the last part received (`stop`: the pool
 * wants no more parts; the worker then answers at once with the result, its items left out).
 */
export type WorkerRequest = { id: number; task: DecodeTask } | { ack: number; stop?: boolean };

/**
 * The worker's answer: a part of a batch (more follows: acknowledge it with `{ ack: id }`; `total` is the
 * number of items of the whole batch), the result
 * (its batch holding the items not sent in parts; the pool puts the parts in front, in order), or a
 * SiperfError's code and detail (anything else is `ERR_INTERNAL`).
 */
export type WorkerReply =
  | { id: number; part: Span[] | MetricPoint[]; total: number }
  | { id: number; ok: true; result: DecodeResult }
  | { id: number; ok: false; code: string; detail: string; limit: string | number | undefined };

const port = parentPort;
if (port) {
  await loadSqlParser();
  otlpTypes();
  let acknowledged: ((stop: boolean) => void) | undefined;
  const ack = (): Promise<boolean> =>
    new Promise((resolve) => {
      acknowledged = resolve;
    });
  // One task at a time: the pool sends the next only after this one's result.
  const answer = async (id: number, task: DecodeTask): Promise<void> => {
    let result: DecodeResult;
    try {
      result = runDecodeTask(task);
    } catch (err) {
      port.postMessage(
        isSiperfError(err)
          ? { id, ok: false, code: err.code, detail: err.detail, limit: err.limit }
          : { id, ok: false, code: 'ERR_INTERNAL', detail: (err as Error).message, limit: undefined },
      );
      return;
    }
    const items: (Span | MetricPoint)[] =
      result.signal === 'otlp-metrics' ? result.batch.points : result.batch.spans;
    const total = items.length;
    let sent = 0;
    while (items.length - sent > REPLY_PART_ITEMS) {
      const acked = ack();
      port.postMessage({ id, part: items.slice(sent, sent + REPLY_PART_ITEMS), total });
      sent += REPLY_PART_ITEMS;
      if (await acked) {
        sent = items.length;
        break;
      }
    }
    if (sent > 0) items.splice(0, sent);
    port.postMessage({ id, ok: true, result });
  };
  port.on('message', (message: WorkerRequest) => {
    if ('ack' in message) acknowledged?.(message.stop === true);
    else void answer(message.id, message.task);
  });
  port.postMessage('ready');
}
