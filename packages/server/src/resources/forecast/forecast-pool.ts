/**
 * Forecasts in worker threads: a fit takes from milliseconds to a couple of CPU seconds (grid search over
 * a long history), and the server's event loop must keep ingesting meanwhile. A small pool: up to
 * {@link POOL_SIZE} workers, started on demand; a request goes to an idle worker, else to the one with the
 * fewest requests owed, so several predictions in flight run side by side instead of queueing behind one
 * long fit. Workers are referenced only while they owe answers (idle, they never hold the process).
 * If no worker can start, the forecast runs inline.
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../util/worker-entry.ts';
import { type ForecastOptions, type ForecastResult, forecastSeries } from './forecaster.ts';

/** Most worker threads: the cores less one for the event loop, at least 2 and at most 4. */
export const POOL_SIZE = Math.min(4, Math.max(2, availableParallelism() - 1));

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ForecastResult) => void; reject: (e: Error) => void }>;
}

const slots: Slot[] = [];
let nextId = 1;

function startSlot(): Slot | undefined {
  try {
    // Compiled: forecast-worker.js; from source: the bootstrap that registers tsx in the worker thread first.
    const worker = new Worker(
      workerEntry(import.meta.url, './forecast-worker.js', './forecast-worker-boot.mjs'),
    );
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (m: { id: number; result?: ForecastResult; error?: string }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if (m.error !== undefined) p.reject(new RangeError(m.error));
      else p.resolve(m.result!);
    });
    worker.on('error', (err) => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
    });
    slots.push(slot);
    return slot;
  } catch {
    return undefined;
  }
}

/** An idle worker, a new one while the pool is not full, else the least busy. */
function pick(): Slot | undefined {
  const idle = slots.find((s) => s.pending.size === 0);
  if (idle) return idle;
  if (slots.length < POOL_SIZE) {
    const started = startSlot();
    if (started) return started;
  }
  return slots.reduce<Slot | undefined>((a, b) => (!a || b.pending.size < a.pending.size ? b : a), undefined);
}

/**
 * `forecastSeries` in a worker thread of the pool.
 * @throws RangeError as `forecastSeries` does (bad input).
 */
export function forecastInWorker(y: readonly number[], options: ForecastOptions): Promise<ForecastResult> {
  const slot = pick();
  if (!slot) return Promise.resolve().then(() => forecastSeries(y, options));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    slot.pending.set(id, { resolve, reject });
    // Referenced while it owes an answer, so the process waits for it; idle, it never holds the process.
    slot.worker.ref();
    slot.worker.postMessage({ id, y, options });
  });
}

/** Requests owed by each worker of the pool, in the order they started (for tests and diagnostics). */
export function forecastPoolLoad(): number[] {
  return slots.map((s) => s.pending.size);
}

/**
 * Stops every worker of the pool; requests they still owe are rejected. The pool starts workers again
 * on the next request.
 */
export async function stopForecastWorkers(): Promise<void> {
  const all = slots.splice(0);
  await Promise.all(
    all.map(async (slot) => {
      for (const p of slot.pending.values()) p.reject(new Error('forecast workers stopped'));
      slot.pending.clear();
      await slot.worker.terminate();
    }),
  );
}
