import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forecastInWorker, forecastPoolLoad, POOL_SIZE, stopForecastWorkers } from './forecast-pool.ts';
import { forecastSeries } from './forecaster.ts';

/** A daily wave of `days` days of 5-minute steps with a little deterministic ripple. */
function series(days: number): number[] {
  return Array.from(
    { length: days * 288 },
    (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 288) + 2 * Math.sin(t * 0.37) + (t % 7) * 0.1,
  );
}
const options = (horizon: number) => ({
  startMs: 0,
  stepMs: 300_000,
  horizon,
  period: 288,
  period2: 7 * 288,
});

test('several forecasts in flight run on separate workers and do not queue behind a long fit', async (t) => {
  t.after(stopForecastWorkers);
  assert.ok(POOL_SIZE >= 2, `a pool of ${POOL_SIZE}`);
  // Start two workers (each answers the same as forecastSeries run inline).
  const small = series(4);
  const [a, b] = await Promise.all([
    forecastInWorker(small, options(12)),
    forecastInWorker(small, options(12)),
  ]);
  const inline = forecastSeries(small, options(12));
  assert.deepEqual(a, inline);
  assert.deepEqual(b, inline);
  assert.deepEqual(forecastPoolLoad(), [0, 0]);
  // A long fit (60 days of 5-minute steps, a day ahead), then a small one: the small one goes to the
  // idle worker and answers while the long one is still being computed.
  let longDone = false;
  const long = forecastInWorker(series(60), options(288)).then((r) => {
    longDone = true;
    return r;
  });
  const quick = forecastInWorker(small, options(12));
  assert.deepEqual(forecastPoolLoad(), [1, 1], 'one request on each worker');
  assert.deepEqual(await quick, inline);
  assert.equal(longDone, false, 'the small forecast answered before the long fit ended');
  const r = await long;
  assert.equal(r.points.length, 288);
  assert.deepEqual(forecastPoolLoad(), [0, 0]);
});
