import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type EtsParams, forecastAt, initialState, rollingMae, rollingMaeReference, update } from './ets.ts';
import { forecastSeries, ruleForecaster, seasonalIndex } from './forecaster.ts';
import { medianStep, toRegularGrid } from './regular-grid.ts';

/** Deterministic standard normal numbers (mulberry32 + Box–Muller). */
function normals(n: number, seed = 7): number[] {
  let a = seed;
  const u = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u()),
  );
}

test('ETS recursions by hand: simple smoothing and a damped trend', () => {
  const ses: EtsParams = { alpha: 0.5, beta: 0, gamma: 0, phi: 0, period: 0 };
  const s = initialState([10], ses);
  assert.equal(update(s, ses, 10), 0);
  // e = 12 − 10 = 2; level = 10 + 0.5·2 = 11.
  assert.equal(update(s, ses, 12), 2);
  assert.equal(s.level, 11);
  assert.equal(forecastAt(s, ses, 5), 11);
  const holt: EtsParams = { alpha: 0.5, beta: 0.1, gamma: 0, phi: 0.9, period: 0 };
  const h = {
    level: 100,
    trend: 10,
    season: [],
    season2: [],
    mad: 0,
    clippedRun: 0,
    clipped: 0,
    nextIndex: 0,
  };
  // ŷ = 100 + 0.9·10 = 109; e = 119 − 109 = 10; l = 109 + 5 = 114; b = 9 + 1 = 10.
  assert.equal(update(h, holt, 119), 10);
  assert.equal(h.level, 114);
  assert.equal(h.trend, 10);
  // ŷ(2) = 114 + (0.9 + 0.81)·10 = 131.1.
  assert.ok(Math.abs(forecastAt(h, holt, 2) - 131.1) < 1e-9);
});

test('a pure daily cycle is forecast exactly and its intervals hold the truth', () => {
  const f = (t: number) => 10 + 3 * Math.sin((2 * Math.PI * t) / 24);
  const y = Array.from({ length: 24 * 10 }, (_, t) => f(t));
  const r = forecastSeries(y, { startMs: 0, stepMs: 3_600_000, horizon: 24, period: 24 });
  assert.equal(r.period, 24);
  r.points.forEach((p, i) => {
    const truth = f(y.length + i);
    assert.ok(Math.abs(p.value - truth) < 0.05, `h=${i + 1}: ${p.value} vs ${truth}`);
    assert.ok(p.lower95 <= truth + 1e-9 && truth <= p.upper95 + 1e-9);
  });
  assert.equal(r.points[0]!.timestamp, 240 * 3_600_000);
});

test('white noise: the forecast is the mean and the intervals cover 80% and 95% of what follows', () => {
  const y = normals(3000).map((z) => 50 + 2 * z);
  const r = forecastSeries(y, { startMs: 0, stepMs: 60_000, horizon: 12, period: 0 });
  const p = r.points[11]!;
  assert.ok(Math.abs(p.value - 50) < 0.5, String(p.value));
  // 80%: ±1.2816·σ with σ ≈ 2 (a little more: the mean is estimated).
  assert.ok(p.upper80 - p.value > 2.2 && p.upper80 - p.value < 3.2, String(p.upper80 - p.value));
  assert.ok(r.accuracy, 'a held-out part exists');
  assert.ok(Math.abs(r.accuracy!.coverage80 - 0.8) < 0.05, String(r.accuracy!.coverage80));
  assert.ok(Math.abs(r.accuracy!.coverage95 - 0.95) < 0.04, String(r.accuracy!.coverage95));
  // Against the naive forecast (last value) on white noise, the mean's MAE is ~1/√2 of it.
  assert.ok(r.accuracy!.relativeMae < 0.8, String(r.accuracy!.relativeMae));
  assert.throws(
    () => forecastSeries([1, 2], { startMs: 0, stepMs: 1, horizon: 1, period: 0 }),
    /at least 3 values/,
  );
});

test('regular grid: repeated times are averaged, gaps interpolated, the step is the median spacing', () => {
  const times = [0, 300, 300, 600, 1500, 1800];
  const values = [1, 2, 4, 5, 8, 9];
  assert.equal(medianStep(times), 300);
  const g = toRegularGrid(times, values, 300);
  // Steps 0..6: 1, (2+4)/2, 5, [gap], [gap], 8, 9 → the gap is filled 6, 7.
  assert.deepEqual(g.values, [1, 3, 5, 6, 7, 8, 9]);
  assert.equal(g.filled, 2);
});

test('a weekly cycle (quiet weekends) is forecast exactly by the double seasonal model', () => {
  // Hourly: a daily wave, and on days 5 and 6 of each week 4 lower. Five weeks of history.
  const f = (t: number) => {
    const day = Math.floor(t / 24) % 7;
    return 10 + 3 * Math.sin((2 * Math.PI * t) / 24) - (day >= 5 ? 4 : 0);
  };
  const y = Array.from({ length: 5 * 168 }, (_, t) => f(t));
  const r = forecastSeries(y, { startMs: 0, stepMs: 3_600_000, horizon: 168, period: 24, period2: 168 });
  assert.equal(r.method, 'double-seasonal');
  assert.equal(r.period2, 168);
  // The next week is week 6: days 5 and 6 (h = 121..168) are the quiet ones, e.g. h = 121 is t = 960,
  // 10 + 3·sin(2π·40) − 4 = 6, and h = 7 is t = 846, 10 + 3·sin(2π·846/24) = 10 + 3·sin(π/2) = 13.
  assert.ok(Math.abs(r.points[120]!.value - 6) < 1e-6, String(r.points[120]!.value));
  assert.ok(Math.abs(r.points[6]!.value - 13) < 1e-6, String(r.points[6]!.value));
  r.points.forEach((p, i) => {
    const truth = f(y.length + i);
    assert.ok(Math.abs(p.value - truth) < 1e-6, `h=${i + 1}: ${p.value} vs ${truth}`);
    assert.ok(p.lower95 <= truth + 1e-9 && truth <= p.upper95 + 1e-9);
  });
  assert.ok(r.accuracy && r.accuracy.mase < 1e-6, JSON.stringify(r.accuracy));
  // Without the weekly season the best daily model cannot know the weekend: it is off by 4/7 or more.
  const daily = forecastSeries(y, { startMs: 0, stepMs: 3_600_000, horizon: 168, period: 24 });
  assert.notEqual(daily.method, 'double-seasonal');
  assert.ok(daily.accuracy!.mase > 0.1, JSON.stringify(daily.accuracy));
});

test('a level shift: the forecast is at the new level within half a day; an incident leaves no trace', () => {
  // Hourly, a daily wave with noise (σ = 0.3) for 14 days; at step 300 the level jumps by +20 and stays.
  const z = normals(400, 11);
  const base = (t: number) => 10 + 3 * Math.sin((2 * Math.PI * t) / 24);
  const shifted = (t: number) => base(t) + (t >= 300 ? 20 : 0);
  // History ends 12 hours after the shift; the next day is at the new level: 30 + 3·sin(2πt/24).
  const y = Array.from({ length: 312 }, (_, t) => shifted(t) + 0.3 * z[t]!);
  const r = forecastSeries(y, { startMs: 0, stepMs: 3_600_000, horizon: 24, period: 24 });
  r.points.forEach((p, i) => {
    const truth = shifted(312 + i);
    assert.ok(Math.abs(p.value - truth) < 2, `shift, h=${i + 1} (${r.method}): ${p.value} vs ${truth}`);
  });
  // An incident instead: +20 for 3 hours (steps 300–302), then back; history ends 9 hours later. The
  // next day is the old wave, 10 + 3·sin(2πt/24), also at the hours of the incident (h = 12..14).
  const incident = (t: number) => base(t) + (t >= 300 && t < 303 ? 20 : 0);
  const w = Array.from({ length: 312 }, (_, t) => incident(t) + 0.3 * z[t]!);
  const q = forecastSeries(w, { startMs: 0, stepMs: 3_600_000, horizon: 24, period: 24 });
  q.points.forEach((p, i) => {
    const truth = base(312 + i);
    assert.ok(Math.abs(p.value - truth) < 2, `incident, h=${i + 1} (${q.method}): ${p.value} vs ${truth}`);
  });
});

test('the fast rolling-origin objective equals its definition through runFilter, robust and double seasonal too', () => {
  const z = normals(900, 5);
  // A daily (24) and weekly (168) wave, noise, a level shift at 500 and a 4-step incident at 700.
  const y = z.map(
    (e, t) =>
      10 +
      3 * Math.sin((2 * Math.PI * t) / 24) +
      (Math.floor(t / 24) % 7 >= 5 ? -2 : 0) +
      (t >= 500 ? 6 : 0) +
      (t >= 700 && t < 704 ? 25 : 0) +
      e,
  );
  const cases: EtsParams[] = [
    { alpha: 0.2, beta: 0, gamma: 0, phi: 0, period: 0 },
    { alpha: 0.35, beta: 0.02, gamma: 0, phi: 0.9, period: 0, huber: 2, shiftSteps: 3 },
    { alpha: 0.1, beta: 0.005, gamma: 0.2, phi: 0.98, period: 24 },
    { alpha: 0.5, beta: 0.08, gamma: 0.1, phi: 1, period: 24, huber: 3, shiftSteps: 6 },
    { alpha: 0.05, beta: 0, gamma: 0.1, phi: 0.8, period: 24, period2: 168, omega: 0.05, huber: 2 },
  ];
  for (const p of cases)
    for (const stride of [1, 3]) {
      const fast = rollingMae(y, p, 192, [1, 6, 12, 24], stride);
      const reference = rollingMaeReference(y, p, 192, [1, 6, 12, 24], stride);
      assert.ok(
        Math.abs(fast - reference) <= 1e-9 * reference,
        `${JSON.stringify(p)}: ${fast} vs ${reference}`,
      );
    }
});

test('a seasonal mean rule: the profile of the last seasons on the level of the last one', () => {
  // Season of 4 steps, profile 1, 2, 3, 4; the third season is 10 higher (a level shift).
  const y = [1, 2, 3, 4, 1, 2, 3, 4, 11, 12, 13, 14];
  const mean3 = ruleForecaster(y, { period: 4, seasons: 3 });
  // h = 1: the values at the phase (11, 1, 1) average 13/3; less the mean of the three seasons 70/12,
  // plus the mean of the last 12.5: 11. h = 4: (14 + 4 + 4)/3 − 70/12 + 12.5 = 14. h = 5 repeats h = 1.
  assert.ok(Math.abs(mean3(12, 1) - 11) < 1e-12, String(mean3(12, 1)));
  assert.ok(Math.abs(mean3(12, 4) - 14) < 1e-12, String(mean3(12, 4)));
  assert.ok(Math.abs(mean3(12, 5) - 11) < 1e-12, String(mean3(12, 5)));
  // From origin 8 only two seasons exist: (1 + 1)/2 − 20/8 + 10/4 = 1 at h = 1.
  assert.ok(Math.abs(mean3(8, 1) - 1) < 1e-12, String(mean3(8, 1)));
  // One season is seasonal naive: the value a season before the target.
  const naive = ruleForecaster(y, { period: 4, seasons: 1 });
  assert.equal(naive(12, 2), 12);
  assert.equal(naive(12, 6), 12);
});

test('a decomposition: the seasonal component from the last seasons, each value adjusted by what precedes it', () => {
  // Season of 4 steps, profile 1, 2, 3, 4 (mean 2.5); the third season is 10 higher (a level shift).
  const y = [1, 2, 3, 4, 1, 2, 3, 4, 11, 12, 13, 14];
  const { index, adjusted } = seasonalIndex(y, { period: 4, seasons: 3 });
  // From origin 12 the profile of the three seasons at phase 0 is (1 + 1 + 11)/3 − 70/12 = −1.5 (1 − 2.5:
  // the shift is in every phase alike, so it drops out), at phase 3 (4 + 4 + 14)/3 − 70/12 = 1.5.
  assert.ok(Math.abs(index(12, 1) + 1.5) < 1e-12, String(index(12, 1)));
  assert.ok(Math.abs(index(12, 4) - 1.5) < 1e-12, String(index(12, 4)));
  // Before one season exists there is no component: the first values are their own adjusted values.
  assert.equal(index(2, 1), 0);
  assert.deepEqual(adjusted.slice(0, 4), [1, 2, 3, 4]);
  // Step 4 seen from step 4: one season, 1 − 2.5 = −1.5, so 1 + 1.5 = 2.5 (the first season's level).
  // Step 8 seen from step 8: two seasons, (1 + 1)/2 − 2.5 = −1.5, so 11 + 1.5 = 12.5 (the new level).
  assert.ok(Math.abs(adjusted[4]! - 2.5) < 1e-12, String(adjusted[4]));
  assert.ok(Math.abs(adjusted[8]! - 12.5) < 1e-12, String(adjusted[8]));
});

test('a noisier regime widens the intervals at once, to its own normal quantiles', () => {
  // White noise, σ = 1 for 2,000 steps, then σ = 4 for the last 150. The 80% bound of the new regime is
  // 1.2816·4 = 5.1 from the mean. The errors of the last 500 origins alone (a mixture, 30% of them at
  // σ = 4) put it near 2.2 (0.3·P(Z > 2.2/4) + 0.7·P(Z > 2.2) = 0.1); errors over their local scale,
  // times the scale now, give the new regime's own.
  const z = normals(2150, 3);
  const y = z.map((e, t) => 50 + (t < 2000 ? 1 : 4) * e);
  const r = forecastSeries(y, { startMs: 0, stepMs: 60_000, horizon: 12, period: 0 });
  for (const p of [r.points[0]!, r.points[11]!]) {
    const half = p.upper80 - p.value;
    assert.ok(half > 0.8 * 1.2816 * 4 && half < 1.3 * 1.2816 * 4, `${r.method}: ${half}`);
  }
});
