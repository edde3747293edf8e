/**
 * The decode worker: runs {@link runDecodeTask} for the main thread's {@link DecodePool}, one task at a
 * time, and answers with the converted batch (bigints survive the structured clone) or the error's code.
 * Compiled, the pool starts `decode-worker.js` itself; from source, `decode-worker.mjs`, which registers tsx
 * in the worker first (`util/worker-entry.ts`).
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { isSiperfError } from '../errors.ts';
import type { DecodeTask } from './decode-task.ts';
import { runDecodeTask } from './decode-task.ts';
import { otlpTypes } from './otlp-protobuf.ts';
import { loadSqlParser } from './sql-fingerprint.ts';

/** A task as the pool posts it. */
export interface WorkerRequest {
  id: number;
  task: DecodeTask;
}

/** The worker's answer: the result, or a SiperfError's code and detail (anything else is `ERR_INTERNAL`). */
export type WorkerReply =
  | { id: number; ok: true; result: ReturnType<typeof runDecodeTask> }
  | { id: number; ok: false; code: string; detail: string; limit: string | number | undefined };

const port = parentPort;
if (port) {
  await loadSqlParser();
  otlpTypes();
  port.on('message', (message: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      reply = { id: message.id, ok: true, result: runDecodeTask(message.task) };
    } catch (err) {
      reply = isSiperfError(err)
        ? { id: message.id, ok: false, code: err.code, detail: err.detail, limit: err.limit }
        : {
            id: message.id,
            ok: false,
            code: 'ERR_INTERNAL',
            detail: (err as Error).message,
            limit: undefined,
          };
    }
    port.postMessage(reply);
  });
  port.postMessage('ready');
}
