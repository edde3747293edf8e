/**
 * Forecasts in a worker thread: a fit takes from milliseconds to seconds (grid search over a long
 * history), and the server's event loop must keep ingesting meanwhile. One worker, started on first use
 * and referenced only while answers are owed (idle, it never holds the process); requests queue in it.
 * If the worker cannot start, the forecast runs inline.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { type ForecastOptions, type ForecastResult, forecastSeries } from './forecaster.ts';

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (r: ForecastResult) => void; reject: (e: Error) => void }>();

function start(): Worker | undefined {
  if (worker) return worker;
  try {
    // The sources are TypeScript run through tsx: the bootstrap registers tsx in the worker thread.
    const w = new Worker(new URL('./forecast-worker-boot.mjs', import.meta.url));
    w.unref();
    w.on('message', (m: { id: number; result?: ForecastResult; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.error !== undefined) p.reject(new RangeError(m.error));
      else p.resolve(m.result!);
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      worker = undefined;
    });
    worker = w;
    return w;
  } catch {
    return undefined;
  }
}

/**
 * `forecastSeries` in the worker thread.
 * @throws RangeError as `forecastSeries` does (bad input).
 */
export function forecastInWorker(y: readonly number[], options: ForecastOptions): Promise<ForecastResult> {
  const w = start();
  if (!w) return Promise.resolve().then(() => forecastSeries(y, options));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // Referenced while it owes an answer, so the process waits for it; idle, it never holds the process.
    w.ref();
    w.postMessage({ id, y, options });
  });
}
