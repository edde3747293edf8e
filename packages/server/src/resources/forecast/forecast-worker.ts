/**
 * Worker-thread entry of {@link forecastInWorker}: runs `forecastSeries` off the server's event loop.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { type ForecastOptions, forecastSeries } from './forecaster.ts';

parentPort?.on('message', (m: { id: number; y: number[]; options: ForecastOptions }) => {
  try {
    parentPort!.postMessage({ id: m.id, result: forecastSeries(m.y, m.options) });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
