import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExhaustionFigures, explainExhaustion } from './predictions.ts';

const DAY = 86_400_000;
const T = Date.parse('2026-03-29T00:00:00Z');
const iso = (days: number) => new Date(T + days * DAY).toISOString();

/** A disk 81% full growing 1%/day over 28 days: the straight line fills it in (100 − 81) / 1 = 19 days. */
const base: ExhaustionFigures = {
  threshold: 1,
  unit: '1',
  method: 'holt-winters',
  horizon: '7d',
  stepMs: 3_600_000,
  lastMs: T,
  lastValue: 0.81,
  historyMs: 28 * DAY,
  forecast: [],
  p50Ms: null,
  linearMs: T + 19 * DAY,
  lineSlopePerDay: 0.01,
};
const LINE = 'the straight line through 28.0 days of history (1.00%/day)';

test('exhaustion: the forecast and the straight line explain each other, with their figures', () => {
  // Not within a 7-day horizon; the line crosses after it. Daily forecast 82%..88%.
  const week = Array.from({ length: 7 }, (_, i) => ({
    timestamp: T + (i + 1) * DAY,
    value: 0.82 + 0.01 * i,
  }));
  assert.equal(
    explainExhaustion({ ...base, forecast: week }),
    `${LINE} crosses 100.0% on ${iso(19)} (in 19.0 days), after the 7d horizon the forecast covers (to ${iso(7)}, where it reaches 88.0%): ask a longer horizon to see the forecast cross`,
  );
  // Over 30 days the damped forecast levels off: 0.81 + 0.1·(1 − 0.8^k) for day k, 83.0% on day 1 and
  // 90.99% on day 30 (its highest), (0.90988 − 0.83) / 29 days = 0.28%/day against the line's 1%/day.
  const month = Array.from({ length: 30 }, (_, i) => ({
    timestamp: T + (i + 1) * DAY,
    value: 0.81 + 0.1 * (1 - 0.8 ** (i + 1)),
  }));
  assert.equal(
    explainExhaustion({ ...base, horizon: '30d', method: 'holt-damped', forecast: month }),
    `${LINE} crosses 100.0% on ${iso(19)} (in 19.0 days), within the 30d horizon, but the forecast (holt-damped) levels off at 91.0% at most: it grows 0.28%/day on average over the horizon against the line's 1.00%/day, because it follows the recent growth and damps its trend where the line keeps the average of the whole history`,
  );
  // At the longest horizon there is no longer one to ask for.
  assert.equal(
    explainExhaustion({ ...base, horizon: '30d', forecast: month, linearMs: T + 40 * DAY }),
    `${LINE} crosses 100.0% on ${iso(40)} (in 40.0 days), after the 30d horizon the forecast covers (to ${iso(30)}, where it reaches 91.0%)`,
  );
  // Both cross, 3 days apart.
  assert.equal(
    explainExhaustion({ ...base, method: 'holt-damped', forecast: month, p50Ms: T + 16 * DAY }),
    `the forecast (holt-damped) crosses 100.0% on ${iso(16)} (in 16.0 days), 3.0 days before ${LINE} (${iso(19)} (in 19.0 days)): the recent growth is faster than the history's average`,
  );
  // 10 minutes apart, with a forecast step of an hour: they agree.
  assert.equal(
    explainExhaustion({ ...base, forecast: month, p50Ms: T + 19 * DAY + 600_000 }),
    `the forecast (holt-winters) and ${LINE} agree: the forecast crosses 100.0% on ${new Date(T + 19 * DAY + 600_000).toISOString()} (in 19.0 days), the line on ${iso(19)} (in 19.0 days), at most one forecast step (1 h) apart`,
  );
  assert.equal(
    explainExhaustion({
      ...base,
      forecast: month,
      p50Ms: T + 5 * DAY,
      linearMs: null,
      lineSlopePerDay: -0.002,
    }),
    `the forecast (holt-winters) crosses 100.0% on ${iso(5)} (in 5.0 days); the straight line through 28.0 days of history (-0.20%/day) does not reach it: the growth is recent, and the forecast follows it`,
  );
  assert.equal(
    explainExhaustion({ ...base, forecast: week, linearMs: null, lineSlopePerDay: 0 }),
    'neither the forecast nor the straight line through 28.0 days of history (0.00%/day) reaches 100.0%',
  );
  assert.equal(
    explainExhaustion({ ...base, lastValue: 1, forecast: week }),
    'already at 100.0% at the last sample, at or above 100.0%',
  );
});
