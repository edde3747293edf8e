/**
 * Forecasts of a regular series with prediction intervals calibrated on the series' own history.
 *
 * 1. Candidates: seasonal naive (or naive without a season), simple exponential smoothing, Holt with a
 *    damped trend, additive Holt-Winters with a daily season, and double seasonal Holt-Winters with a
 *    day and a week (Taylor 2003) once two weeks exist, each also in its robust form that clips outlying
 *    errors (Gelper, Fried & Croux 2010) so incidents and level shifts do not linger in the seasons
 *    (`ets.ts`). Seasonal candidates once three seasons and the horizon exist (two to start, one to judge
 *    them); the weekly one once a week and a day to start, a day and the horizon to judge exist, and then
 *    every candidate is judged on the same origins. The one with the lowest rolling-origin MAE wins.
 * 2. Accuracy, honestly: the method and its parameters are chosen on the first 70% of the series; the
 *    model then runs over the rest as it would live, and the forecasts from those later origins give
 *    MASE (Hyndman & Koehler 2006: MAE over the in-sample MAE of the one-step seasonal naive forecast)
 *    and the coverage of the 80% and 95% intervals, whose widths come only from errors of earlier origins
 *    (recalibrated every day as they would be live, so a new, noisier regime widens them).
 * 3. Intervals: empirical quantiles of the errors of past forecasts (the wider of the last three seasons
 *    and of all history) at the same horizon (smoothed over ±10% of horizons), so they widen where the model's own Gaussian intervals
 *    would under-cover and follow the current regime; with fewer than 20 such errors,
 *    the ETS(A,Ad,A) variance σ²·(1 + Σⱼ cⱼ²), cⱼ = α + βΣφ + γ·[j ≡ 0 mod m] (Hyndman et al. 2008,
 *    Table 6.1) with normal quantiles.
 * @module
 */
import { quantileSorted } from '../../util/stats.ts';
import { dampedSum, type EtsKind, type EtsParams, fitEts, forecastAt, runFilter } from './ets.ts';

/**
 * The method that produced a forecast; `combination` is the mean of the best ETS and seasonal naive,
 * `double-seasonal` Holt-Winters with a day and a week.
 */
export type ForecastMethod = EtsKind | 'seasonal-naive' | 'naive' | 'combination';

/** One forecast step. `timestamp` in ms since the epoch. */
export interface ForecastPoint {
  timestamp: number;
  value: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}

/** Backtest accuracy of the chosen method on the last 30% of the series (see the module comment). */
export interface ForecastAccuracy {
  mase: number;
  /** MAE of the method over the MAE of the seasonal naive forecast, same origins and horizons. */
  relativeMae: number;
  coverage80: number;
  coverage95: number;
  /** Forecast origins evaluated. */
  origins: number;
}

/** What {@link forecastSeries} returns. */
export interface ForecastResult {
  method: ForecastMethod;
  params: EtsParams | null;
  /** Season length in steps (0 without a season). */
  period: number;
  /** Second season length in steps (a week), 0 when the chosen method has none. */
  period2: number;
  points: ForecastPoint[];
  /** `null` when the series is too short to hold out a test part. */
  accuracy: ForecastAccuracy | null;
}

/** Options of {@link forecastSeries}. */
export interface ForecastOptions {
  /** Time of the first value and the step between values, ms. */
  startMs: number;
  stepMs: number;
  /** Steps to forecast. */
  horizon: number;
  /** Season length in steps (e.g. a day); used only when two full seasons exist. 0 for none. */
  period: number;
  /**
   * A second, longer season in steps (a week), a multiple of `period`; tried (double seasonal
   * Holt-Winters) when two of them exist. 0 or absent for none.
   */
  period2?: number;
  /** Clamp forecasts and bounds to this range (e.g. [0, 1] for a utilisation). */
  bounds?: readonly [number, number];
}

const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;

/** A forecaster: ETS parameters, or a naive rule. */
interface Model {
  method: ForecastMethod;
  params: EtsParams | null;
}

/** Forecast from each origin t ≥ warmup at horizons 1..H: calls `sink(t, h, forecast)`. */
function eachForecast(
  y: readonly number[],
  model: Model,
  period: number,
  warmup: number,
  horizon: number,
  stride: number,
  sink: (t: number, h: number, f: number) => void,
): void {
  if (model.params) {
    const p = model.params;
    // A combination averages the ETS forecast with the seasonal naive one (M-competition lesson:
    // simple combinations are more robust than either; Makridakis et al. 2020).
    const m = model.method === 'combination' ? period : 0;
    runFilter(y, p, Math.max(warmup, m), (t, state) => {
      if ((t - warmup) % stride !== 0) return;
      for (let h = 1; h <= horizon && t + h - 1 < y.length; h++) {
        const f = forecastAt(state, p, h);
        sink(t, h, m > 0 ? (f + y[t + h - 1 - m * Math.ceil(h / m)]!) / 2 : f);
      }
    });
    return;
  }
  const m = model.method === 'seasonal-naive' ? period : 1;
  for (let t = Math.max(warmup, m); t < y.length; t += stride) {
    for (let h = 1; h <= horizon && t + h - 1 < y.length; h++) {
      sink(t, h, y[t + h - 1 - m * Math.ceil(h / m)]!);
    }
  }
}

/** One-step in-sample MAE of the seasonal naive forecast (the MASE scale). */
function maseScale(y: readonly number[], m: number): number {
  let s = 0;
  let n = 0;
  for (let t = m; t < y.length; t++) {
    s += Math.abs(y[t]! - y[t - m]!);
    n += 1;
  }
  return n === 0 || s === 0 ? 1 : s / n;
}

/** Whether `y` is long enough for the weekly candidate (see the module comment). */
function weeklyFits(n: number, period: number, period2: number, horizon: number): boolean {
  return period > 1 && period2 > period && n >= 2 * period2 && n >= period2 + 2 * period + horizon;
}

/** Steps before the first judged origin: seasons to start the model from. */
function warmupFor(n: number, period: number, period2: number, horizon: number): number {
  if (weeklyFits(n, period, period2, horizon)) return period2 + period;
  const seasonal = period > 1 && n >= 3 * period + horizon;
  return seasonal ? 2 * period : Math.min(20, Math.floor(n / 4));
}

/** Chooses the method and parameters on `y` by rolling-origin MAE. */
function chooseModel(y: readonly number[], period: number, period2: number, horizon: number): Model {
  const horizons = [...new Set([1, Math.ceil(horizon / 4), Math.ceil(horizon / 2), horizon])];
  const seasonal = period > 1 && y.length >= 3 * period + horizon;
  const weekly = weeklyFits(y.length, period, period2, horizon);
  const warmup = warmupFor(y.length, period, period2, horizon);
  // Keep a fit under ~2 M filter steps per combination: stride the origins of long series.
  const stride = Math.max(1, Math.floor((y.length * horizons.length) / 400_000));
  const naive: Model = { method: seasonal ? 'seasonal-naive' : 'naive', params: null };
  let best = { model: naive, mae: naiveMae(y, naive, period, warmup, horizons, stride) };
  const kinds: EtsKind[] = seasonal ? ['ses', 'holt-damped', 'holt-winters'] : ['ses', 'holt-damped'];
  let bestEts: Model | undefined;
  let bestEtsMae = Number.POSITIVE_INFINITY;
  let winters: EtsParams | undefined;
  for (const kind of kinds) {
    const fit = fitEts(y, kind, seasonal ? period : 0, horizons, warmup, stride);
    if (kind === 'holt-winters') winters = fit.params;
    if (fit.mae < bestEtsMae) {
      bestEts = { method: kind, params: fit.params };
      bestEtsMae = fit.mae;
    }
  }
  if (weekly) {
    const fit = fitEts(y, 'double-seasonal', period, horizons, warmup, stride, period2, winters);
    if (fit.mae < bestEtsMae) {
      bestEts = { method: 'double-seasonal', params: fit.params };
      bestEtsMae = fit.mae;
    }
  }
  if (bestEts && bestEtsMae < best.mae) best = { model: bestEts, mae: bestEtsMae };
  if (bestEts && seasonal) {
    const combined: Model = { method: 'combination', params: bestEts.params };
    const mae = naiveMae(y, combined, period, warmup, horizons, stride);
    if (mae < best.mae) best = { model: combined, mae };
  }
  return best.model;
}

function naiveMae(
  y: readonly number[],
  model: Model,
  period: number,
  warmup: number,
  horizons: readonly number[],
  stride: number,
): number {
  let s = 0;
  let n = 0;
  const want = new Set(horizons);
  eachForecast(y, model, period, warmup, Math.max(...horizons), stride, (t, h, f) => {
    if (!want.has(h)) return;
    s += Math.abs(y[t + h - 1]! - f);
    n += 1;
  });
  return n === 0 ? Number.POSITIVE_INFINITY : s / n;
}

/** Errors of past forecasts per horizon (index h − 1), from origins whose whole horizon is before `end`. */
function errorsByHorizon(
  y: readonly number[],
  model: Model,
  period: number,
  warmup: number,
  horizon: number,
  end: number,
  window: number,
): number[][] {
  const out: number[][] = Array.from({ length: horizon }, () => []);
  const first = Math.max(warmup, end - horizon - window);
  const stride = Math.max(1, Math.floor(((end - first) * horizon) / 2_000_000));
  eachForecast(y.slice(0, end), model, period, first, horizon, stride, (t, h, f) => {
    out[h - 1]!.push(y[t + h - 1]! - f);
  });
  return out;
}

type Quantiles = [number, number, number, number];

/**
 * Interval offsets per horizon: the wider of the error quantiles of the recent origins (the last three
 * seasons, or 500 steps: the current regime) and of all origins before `end` (the long run), bound by
 * bound. A calm week does not make intervals too narrow, and a new noisier regime widens them at once.
 * (The mean of the two under-covered on NAB: 75.5% / 89.6% at 24 h against 77.4% / 90.9% for this.)
 */
function calibration(
  y: readonly number[],
  model: Model,
  period: number,
  warmup: number,
  horizon: number,
  end: number,
  longRun?: readonly (Quantiles | undefined)[],
): { bounds: (Quantiles | undefined)[]; longRun: (Quantiles | undefined)[] } {
  const recent = quantilesByHorizon(
    errorsByHorizon(y, model, period, warmup, horizon, end, Math.max(3 * period, 500)),
  );
  const all =
    longRun ??
    quantilesByHorizon(errorsByHorizon(y, model, period, warmup, horizon, end, Number.POSITIVE_INFINITY));
  const bounds = recent.map((r, i): Quantiles | undefined => {
    const a = all[i];
    if (!r || !a) return r ?? a;
    return [Math.min(r[0], a[0]), Math.min(r[1], a[1]), Math.max(r[2], a[2]), Math.max(r[3], a[3])];
  });
  return { bounds, longRun: [...all] };
}

/**
 * Error quantiles (2.5%, 10%, 90%, 97.5%) per horizon (index h − 1): each horizon's own quantiles,
 * then averaged over neighbouring horizons (±10%) so the bounds are smooth in h. A horizon with fewer
 * than 20 errors has none (`undefined`).
 */
function quantilesByHorizon(errors: number[][]): (Quantiles | undefined)[] {
  const own = errors.map((e): Quantiles | undefined => {
    if (e.length < 20) return undefined;
    const sorted = [...e].sort((a, b) => a - b);
    return [
      quantileSorted(sorted, 0.025),
      quantileSorted(sorted, 0.1),
      quantileSorted(sorted, 0.9),
      quantileSorted(sorted, 0.975),
    ];
  });
  return own.map((q, i) => {
    if (!q) return undefined;
    const spread = Math.round((i + 1) / 10);
    const acc: Quantiles = [0, 0, 0, 0];
    let n = 0;
    for (let k = Math.max(0, i - spread); k <= Math.min(own.length - 1, i + spread); k++) {
      const o = own[k];
      if (!o) continue;
      for (let j = 0; j < 4; j++) acc[j] = acc[j]! + o[j]!;
      n += 1;
    }
    return acc.map((v) => v / n) as Quantiles;
  });
}

/** Offsets of the 95% and 80% bounds per horizon: empirical quantiles, else the analytic ones. */
function intervalOffsets(
  quantiles: readonly (Quantiles | undefined)[],
  sigma: number,
  p: EtsParams | null,
  period: number,
  horizon: number,
): Quantiles[] {
  const out: Quantiles[] = [];
  for (let h = 1; h <= horizon; h++) {
    const q = quantiles[h - 1];
    if (q) {
      out.push(q);
      continue;
    }
    const sd = analyticSd(sigma, p, period, h);
    out.push([-Z95 * sd, -Z80 * sd, Z80 * sd, Z95 * sd]);
  }
  return out;
}

/** Standard deviation of the model's h-step error by the ETS(A,Ad,A) formula. */
function analyticSd(sigma: number, p: EtsParams | null, period: number, h: number): number {
  if (!p) return sigma * Math.sqrt(h);
  let v = 1;
  for (let j = 1; j < h; j++) {
    const c = p.alpha + p.beta * dampedSum(p.phi, j) + (p.period > 1 && j % period === 0 ? p.gamma : 0);
    v += c * c;
  }
  return sigma * Math.sqrt(v);
}

/** One held-out forecast of {@link backtest}: origin `t` (the first step forecast), step `h`, bounds. */
export type BacktestSink = (
  t: number,
  h: number,
  forecast: number,
  offsets: readonly [l95: number, l80: number, u80: number, u95: number],
) => void;

/** Season lengths that apply to `y` under options `o` (see {@link forecastSeries}). */
function seasonsOf(y: readonly number[], o: ForecastOptions, horizon: number): [number, number] {
  const period = o.period > 1 && y.length >= 3 * o.period + horizon ? o.period : 0;
  const period2 =
    period > 1 && o.period2 !== undefined && o.period2 > period && o.period2 % period === 0 ? o.period2 : 0;
  return [period, period2];
}

function warmupOf(model: Model, n: number, period: number, period2: number): number {
  if (model.params?.period2) return period2 + period;
  if (model.params?.period) return 2 * period;
  return period > 1 ? period : Math.min(20, Math.floor(n / 4));
}

/**
 * The backtest behind {@link ForecastResult.accuracy}: the method is chosen on the first 70% of `y`, its
 * intervals calibrated on errors before that, and it forecasts from every later origin (strided on very
 * long series). `sink` sees each of those forecasts (the bench compares other forecasters on them).
 * @returns the accuracy and the method, or `null` when `y` is too short to hold out a test part.
 */
export function backtest(
  y: readonly number[],
  o: ForecastOptions,
  sink?: BacktestSink,
): { accuracy: ForecastAccuracy; method: ForecastMethod; period2: number } | null {
  const horizon = Math.max(1, Math.floor(o.horizon));
  const [period, period2] = seasonsOf(y, o, horizon);
  const split = Math.floor(y.length * 0.7);
  if (!(split - horizon >= 2 * Math.max(period, 10) && y.length - split >= Math.min(horizon, 10)))
    return null;
  const train = y.slice(0, split);
  const model = chooseModel(train, period, period2, horizon);
  const warmup = warmupOf(model, train.length, period, period2);
  // Intervals as they would be live: recalibrated every day (or quarter horizon) on the errors known by
  // then (the recent part; the long-run part from before the split), so a new regime widens them.
  const first = calibration(y, model, period, warmup, horizon, split);
  const sigma = oneStepSigma(train, model, period, warmup);
  const recalEvery = Math.max(period, Math.ceil(horizon / 4), 12);
  let block = 0;
  let bounds = intervalOffsets(first.bounds, sigma, model.params, period, horizon);
  const snModel: Model = { method: period > 1 ? 'seasonal-naive' : 'naive', params: null };
  const scale = maseScale(train, period > 1 ? period : 1);
  let absErr = 0;
  let absErrNaive = 0;
  let n = 0;
  let in80 = 0;
  let in95 = 0;
  const stride = Math.max(1, Math.floor(((y.length - split) * horizon) / 2_000_000));
  const naive = new Float64Array((y.length - split) * horizon).fill(Number.NaN);
  const at = (t: number, h: number) => (t - split) * horizon + h - 1;
  eachForecast(y, snModel, period, split, horizon, stride, (t, h, f) => {
    naive[at(t, h)] = f;
  });
  // Forecasts only from the held-out origins (the filter still runs from the start for its state).
  eachForecast(y, model, period, split, horizon, stride, (t, h, f) => {
    const b = Math.floor((t - split) / recalEvery);
    if (b !== block) {
      block = b;
      const end = split + b * recalEvery;
      const q = calibration(y, model, period, warmup, horizon, end, first.longRun).bounds;
      bounds = intervalOffsets(q, sigma, model.params, period, horizon);
    }
    const actual = y[t + h - 1]!;
    const offsets = bounds[h - 1]!;
    const [l95, l80, u80, u95] = offsets;
    const e = actual - f;
    const sn = naive[at(t, h)]!;
    absErr += Math.abs(e);
    absErrNaive += Math.abs(actual - (Number.isNaN(sn) ? f : sn));
    if (e >= l80 && e <= u80) in80 += 1;
    if (e >= l95 && e <= u95) in95 += 1;
    n += 1;
    sink?.(t, h, f, offsets);
  });
  if (n === 0) return null;
  return {
    accuracy: {
      mase: absErr / n / scale,
      relativeMae: absErrNaive === 0 ? 1 : absErr / absErrNaive,
      coverage80: in80 / n,
      coverage95: in95 / n,
      origins: Math.ceil((y.length - split) / stride),
    },
    method: model.method,
    period2: model.params?.period2 ?? 0,
  };
}

/**
 * Forecasts `y` (regular steps) `horizon` steps ahead.
 * @throws RangeError when fewer than 3 values are given or the step is not positive.
 */
export function forecastSeries(y: readonly number[], o: ForecastOptions): ForecastResult {
  if (y.length < 3) throw new RangeError(`series: need at least 3 values to forecast, got ${y.length}`);
  if (!(o.stepMs > 0)) throw new RangeError(`stepMs: must be positive, got ${o.stepMs}`);
  const horizon = Math.max(1, Math.floor(o.horizon));
  const [period, period2] = seasonsOf(y, o, horizon);
  const clamp = (v: number) => (o.bounds ? Math.min(o.bounds[1], Math.max(o.bounds[0], v)) : v);
  const accuracy = backtest(y, o)?.accuracy ?? null;

  // The forecast: choose on everything; intervals from all past errors.
  const model = chooseModel(y, period, period2, horizon);
  const warmup = warmupOf(model, y.length, period, period2);
  const quantiles = calibration(y, model, period, warmup, horizon, y.length).bounds;
  const sigma = oneStepSigma(y, model, period, warmup);
  const ahead = forecastsFromEnd(y, model, period, horizon);
  const bounds = intervalOffsets(quantiles, sigma, model.params, period, horizon);
  const points: ForecastPoint[] = ahead.map((f, i) => {
    const h = i + 1;
    const [l95, l80, u80, u95] = bounds[h - 1]!;
    return {
      timestamp: o.startMs + (y.length - 1 + h) * o.stepMs,
      // Bounds always hold the forecast (empirical offsets can both be on one side of it).
      value: clamp(f),
      lower80: clamp(Math.min(f, f + l80)),
      upper80: clamp(Math.max(f, f + u80)),
      lower95: clamp(Math.min(f, f + l80, f + l95)),
      upper95: clamp(Math.max(f, f + u80, f + u95)),
    };
  });
  return {
    method: model.method,
    params: model.params,
    period,
    period2: model.params?.period2 ?? 0,
    points,
    accuracy,
  };
}

/** Standard deviation of one-step errors after the warm-up. */
function oneStepSigma(y: readonly number[], model: Model, period: number, warmup: number): number {
  let s = 0;
  let n = 0;
  eachForecast(y, model, period, warmup, 1, 1, (t, _h, f) => {
    s += (y[t]! - f) ** 2;
    n += 1;
  });
  return n === 0 ? 0 : Math.sqrt(s / n);
}

/** Forecasts 1..horizon from the end of `y`. */
function forecastsFromEnd(y: readonly number[], model: Model, period: number, horizon: number): number[] {
  const t = y.length;
  const naive = (m: number, i: number) => y[t + i - m * Math.ceil((i + 1) / m)]!;
  if (model.params) {
    const p = model.params;
    const state = runFilter(y, p, y.length);
    const combine = model.method === 'combination';
    return Array.from({ length: horizon }, (_, i) => {
      const f = forecastAt(state, p, i + 1);
      return combine ? (f + naive(period, i)) / 2 : f;
    });
  }
  const m = model.method === 'seasonal-naive' ? period : 1;
  return Array.from({ length: horizon }, (_, i) => naive(m, i));
}
