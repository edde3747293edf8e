/**
 * Forecasts of a regular series with prediction intervals calibrated on the series' own history.
 *
 * 1. Candidates: naive rules — seasonal naive (naive without a season) and, a day ahead or more, the
 *    mean of the last 7 or 28 days at the same time of day on the current level, and where two weeks
 *    exist a week ago and the mean of the last 2 or 4 weeks (see {@link Rule}) —, simple exponential smoothing, Holt with a
 *    damped trend, additive Holt-Winters with a daily season, and double seasonal Holt-Winters with a
 *    day and a week (Taylor 2003) once two weeks exist, each also in its robust form that clips outlying
 *    errors (Gelper, Fried & Croux 2010) so incidents and level shifts do not linger in the seasons
 *    (`ets.ts`), and a decomposition: the profile of the last week of days (or of the last three weeks)
 *    plus damped Holt on the series less that profile, as MSTL with ETS forecasts (see
 *    {@link seasonalIndex}). Seasonal candidates once three seasons and the horizon exist (two to start, one to judge
 *    them); the weekly one once a week and a day to start, a day and the horizon to judge exist, and then
 *    every candidate is judged on the same origins. The best ETS model is also averaged with each rule
 *    (a combination), and the best Holt-Winters-like model with the best decomposition. The one with the lowest rolling-origin MAE wins.
 * 2. Accuracy, honestly: the method and its parameters are chosen on the first 70% of the series; the
 *    model then runs over the rest as it would live, and the forecasts from those later origins give
 *    MASE (Hyndman & Koehler 2006: MAE over the in-sample MAE of the one-step seasonal naive forecast)
 *    and the coverage of the 80% and 95% intervals, whose widths come only from errors of earlier origins
 *    (recalibrated every day as they would be live, so a new, noisier regime widens them).
 * 3. Intervals: empirical quantiles of the errors of past forecasts at the same horizon (smoothed over
 *    ±10% of horizons), the wider of those of the last three seasons and of all history scaled to the
 *    current noise (each error over the local scale at its origin, times the scale now: locally weighted
 *    conformal intervals), so they widen where the model's own Gaussian intervals would under-cover and
 *    follow a new regime at once, even a week ahead; with fewer than 20 such errors,
 *    the ETS(A,Ad,A) variance σ²·(1 + Σⱼ cⱼ²), cⱼ = α + βΣφ + γ·[j ≡ 0 mod m] (Hyndman et al. 2008,
 *    Table 6.1) with normal quantiles.
 * 4. Cost (a fit of 60 days of 5-minute steps, a day ahead, takes ~1.5 CPU s; `npm run bench:forecast`):
 *    the grid's objective runs a specialised filter loop (`rollingMae`) on at most ~4,000 origins; the
 *    final fit searches each kind's grid only around its winner in the backtest; a model's past errors
 *    are computed once per fit at ~90 sampled horizons (quantiles interpolated between them) and every
 *    recalibration reads them.
 * @module
 */
import { dampedSum, dampedSums, type EtsKind, type EtsParams, fitEts, forecastAt, runFilter } from './ets.ts';

/**
 * The method that produced a forecast; `seasonal-mean` a rule over several days or weeks (see
 * {@link Rule}), `combination` the mean of the best ETS model and a rule, `double-seasonal` Holt-Winters
 * with a day and a week, `decomposition` a seasonal profile plus damped Holt on the rest
 * ({@link seasonalIndex}).
 */
export type ForecastMethod =
  | EtsKind
  | 'seasonal-naive'
  | 'seasonal-mean'
  | 'naive'
  | 'combination'
  | 'decomposition';

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

/**
 * A naive rule: the mean of the last `seasons` values `period` steps apart at the target's phase (the
 * value a day ago with `seasons` 1 is seasonal naive; a week ago, `period` a week; 1 and 1 is naive).
 * Several seasons average the noise out (the error variance falls from 2σ² towards σ²), which pays at
 * long horizons; a week apart it holds a weekly cycle with no parameter to fit.
 */
export interface Rule {
  period: number;
  seasons: number;
}

/**
 * A forecaster: ETS parameters, a naive rule, or both (a combination: their mean, the M-competition
 * lesson that simple combinations are more robust than either; Makridakis et al. 2020). With `profile`
 * the ETS parameters (no season) smooth the series less its seasonal profile (a decomposition, see
 * {@link seasonalIndex}).
 */
interface Model {
  method: ForecastMethod;
  params: EtsParams | null;
  rule?: Rule | undefined;
  profile?: Rule | undefined;
  /** A combination of two models (`params` are the first's): the mean of their forecasts. */
  pair?: readonly [Model, Model] | undefined;
}

/**
 * A decomposition in the manner of MSTL (Bandara, Hyndman & Bergmeir, "MSTL: A Seasonal-Trend
 * Decomposition Algorithm for Time Series with Multiple Seasonal Patterns", 2021) with ETS on the
 * seasonally adjusted series, as augurs and R's `stlf` forecast: the seasonal component of a target seen
 * from origin t is the profile of a {@link Rule} — the mean of the last `seasons` values at its phase
 * less the mean of those seasons (a classical moving-average decomposition, Hyndman & Athanasopoulos,
 * FPP3 §3.4; with a week as the period it holds the day and the week together) — and every value is
 * adjusted by its component seen from the step before it (the component taken off `y[s]` uses nothing
 * after s − 1). The level and trend of the adjusted series are then smoothed by damped Holt (SES once its
 * start trend has died out, with β = 0), whose errors are clipped like the other robust forms (`ets.ts`), and the forecast is their
 * forecast plus the component: where the profile of many seasons averages the noise out and the level
 * follows within the hour, which neither seasonal naive nor Holt-Winters' slowly updated seasons do.
 * @returns `index(t, h)`, the component of target t + h − 1 from origin t (0 before one season exists),
 *   and the adjusted series.
 */
export function seasonalIndex(
  y: readonly number[],
  profile: Rule,
): { index: (t: number, h: number) => number; adjusted: number[] } {
  const p = profile.period;
  const rule = ruleForecaster(y, profile);
  const total = new Float64Array(y.length + 1);
  for (let i = 0; i < y.length; i++) total[i + 1] = total[i]! + y[i]!;
  const lastSeasonMean = (t: number) => (total[t]! - total[t - p]!) / p;
  const index = (t: number, h: number) => (t >= p ? rule(t, h) - lastSeasonMean(t) : 0);
  const adjusted = Array.from(y, (v, s) => v - index(s, 1));
  return { index, adjusted };
}

/** The rule of a model: its own, else seasonal naive (naive without a season). */
function ruleOf(model: Model, period: number): Rule {
  return model.rule ?? { period: period > 1 && model.method !== 'naive' ? period : 1, seasons: 1 };
}

/** The method name of a rule alone. */
function ruleMethod(rule: Rule, period: number): ForecastMethod {
  if (rule.period === 1) return 'naive';
  return rule.period === period && rule.seasons === 1 ? 'seasonal-naive' : 'seasonal-mean';
}

/** The longer season a model uses (a week), 0 without one. */
function period2Of(model: Model, period: number): number {
  if (model.pair) return Math.max(...model.pair.map((m) => period2Of(m, period)));
  if (model.params?.period2) return model.params.period2;
  if (model.profile && model.profile.period > period) return model.profile.period;
  return model.rule && model.rule.period > period ? model.rule.period : 0;
}

/**
 * Forecasts of a rule on `y`: `at(t, h)` from origin t (values before t) h steps ahead. With several
 * seasons, the mean of the values at the target's phase less the mean of those seasons (a seasonal
 * profile), plus the mean of the last season (the level): a level shift moves the forecast after one
 * season instead of lingering for `seasons` of them. Sums along each phase and over the series are
 * kept as running sums, so a forecast is O(1) whatever the seasons.
 */
export function ruleForecaster(y: readonly number[], rule: Rule): (t: number, h: number) => number {
  const p = rule.period;
  const k = rule.seasons;
  if (k === 1) return (t, h) => y[t + h - 1 - p * Math.ceil(h / p)]!;
  const run = new Float64Array(y.length);
  const total = new Float64Array(y.length + 1);
  for (let i = 0; i < y.length; i++) {
    run[i] = y[i]! + (i >= p ? run[i - p]! : 0);
    total[i + 1] = total[i]! + y[i]!;
  }
  const meanBefore = (t: number, w: number) => {
    const from = Math.max(0, t - w);
    return (total[t]! - total[from]!) / (t - from);
  };
  return (t, h) => {
    const last = t + h - 1 - p * Math.ceil(h / p);
    const first = last - k * p;
    const seasons = first >= 0 ? k : Math.floor(last / p) + 1;
    const phase = (run[last]! - (first >= 0 ? run[first]! : 0)) / seasons;
    return phase - meanBefore(t, seasons * p) + meanBefore(t, p);
  };
}

/** 1..horizon. */
const upTo = (horizon: number): number[] => Array.from({ length: horizon }, (_, i) => i + 1);

/**
 * Forecast from each origin t ≥ warmup (every `stride`-th) at the horizons `hs` (ascending, in steps):
 * calls `sink(t, h, forecast)` where the target t + h − 1 is inside `y`.
 */
function eachForecast(
  y: readonly number[],
  model: Model,
  period: number,
  warmup: number,
  hs: readonly number[],
  stride: number,
  sink: (t: number, h: number, f: number) => void,
): void {
  if (model.pair) {
    // The second model's forecasts by origin and horizon, then the first's averaged with them.
    const [first, second] = model.pair;
    const column = new Int32Array((hs[hs.length - 1] ?? 0) + 1);
    hs.forEach((h, j) => {
      column[h] = j;
    });
    const origins = Math.max(0, Math.ceil((y.length - warmup) / stride));
    const other = new Float64Array(origins * hs.length).fill(Number.NaN);
    eachForecast(y, second, period, warmup, hs, stride, (t, h, f) => {
      other[((t - warmup) / stride) * hs.length + column[h]!] = f;
    });
    eachForecast(y, first, period, warmup, hs, stride, (t, h, f) => {
      const g = other[((t - warmup) / stride) * hs.length + column[h]!]!;
      sink(t, h, Number.isNaN(g) ? f : (f + g) / 2);
    });
    return;
  }
  const last = hs[hs.length - 1] ?? 0;
  const rule = ruleOf(model, period);
  const naive = ruleForecaster(y, rule);
  if (model.params) {
    const p = model.params;
    const sums = dampedSums(p.phi, last);
    const combine = model.method === 'combination';
    const start = Math.max(warmup, combine ? rule.period : 0, model.profile?.period ?? 0);
    const m = p.period > 1 ? p.period : 0;
    const decomposed = model.profile && seasonalIndex(y, model.profile);
    const index = decomposed?.index;
    runFilter(decomposed ? decomposed.adjusted : y, p, start, (t, state) => {
      if ((t - warmup) % stride !== 0) return;
      // forecastWith(state, p, h, sums), inlined: this runs for every origin and horizon.
      const { level, trend, season, season2 } = state;
      const m2 = season2.length;
      for (const h of hs) {
        const i = t + h - 1;
        if (i >= y.length) break;
        let f = level + sums[h - 1]! * trend;
        if (m > 0) f += season[i % m]!;
        if (m2 > 0) f += season2[i % m2]!;
        if (index) f += index(t, h);
        sink(t, h, combine ? (f + naive(t, h)) / 2 : f);
      }
    });
    return;
  }
  for (let t = Math.max(warmup, rule.period); t < y.length; t += stride) {
    for (const h of hs) {
      if (t + h - 1 >= y.length) break;
      sink(t, h, naive(t, h));
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

/** Each ETS kind's best parameters in one {@link chooseModel}. */
type KindFits = ReadonlyMap<string, EtsParams>;

/**
 * Chooses the method and parameters on `y` by rolling-origin MAE. With `prior` (each kind's winner on the
 * first part of the same series, from the backtest) each kind's grid is searched only around it.
 */
function chooseModel(
  y: readonly number[],
  period: number,
  period2: number,
  horizon: number,
  prior?: KindFits,
): { model: Model; fits: KindFits } {
  const fits = new Map<string, EtsParams>();
  const horizons = [...new Set([1, Math.ceil(horizon / 4), Math.ceil(horizon / 2), horizon])];
  const seasonal = period > 1 && y.length >= 3 * period + horizon;
  const weekly = weeklyFits(y.length, period, period2, horizon);
  const warmup = warmupFor(y.length, period, period2, horizon);
  // Judge parameters on at most ~4,000 origins (every stride-th): a long series' filter still runs over
  // every step, but the forecasts, most of a grid point's cost, do not grow past that.
  const stride = Math.max(1, Math.floor((y.length - warmup) / 4000));
  // The rules: seasonal naive (naive without a season); a day ahead or more also the mean of the last 7
  // and 28 days, and where two weeks exist a week ago and the mean of the last 2 and 4 weeks. (Closer
  // ahead the current level matters more than averaging noise: on NAB they lost at 1 h and 6 h.)
  const ahead = horizon >= period;
  const rules: Rule[] = seasonal
    ? (ahead ? [1, 7, 28] : [1]).map((seasons) => ({ period, seasons }))
    : [{ period: 1, seasons: 1 }];
  if (weekly && ahead) rules.push(...[1, 2, 4].map((seasons) => ({ period: period2, seasons })));
  let best = { model: { method: 'naive', params: null } as Model, mae: Number.POSITIVE_INFINITY };
  for (const rule of rules) {
    const model: Model = { method: ruleMethod(rule, period), params: null, rule };
    const mae = naiveMae(y, model, period, warmup, horizons, stride);
    if (mae < best.mae) best = { model, mae };
  }
  const kinds: EtsKind[] = seasonal ? ['ses', 'holt-damped', 'holt-winters'] : ['ses', 'holt-damped'];
  let bestEts: Model | undefined;
  let bestEtsMae = Number.POSITIVE_INFINITY;
  let winters: EtsParams | undefined;
  for (const kind of kinds) {
    const fit = fitEts(
      y,
      kind,
      seasonal ? period : 0,
      horizons,
      warmup,
      stride,
      0,
      undefined,
      prior?.get(kind),
    );
    fits.set(kind, fit.params);
    if (kind === 'holt-winters') winters = fit.params;
    if (fit.mae < bestEtsMae) {
      bestEts = { method: kind, params: fit.params };
      bestEtsMae = fit.mae;
    }
  }
  if (weekly) {
    const centre = prior?.get('double-seasonal');
    const fit = fitEts(y, 'double-seasonal', period, horizons, warmup, stride, period2, winters, centre);
    fits.set('double-seasonal', fit.params);
    if (fit.mae < bestEtsMae) {
      bestEts = { method: 'double-seasonal', params: fit.params };
      bestEtsMae = fit.mae;
    }
  }
  // Decompositions: the profile of the last week of days (or, with a week, of the last three weeks), the
  // adjusted series smoothed by damped Holt. Its parameters are chosen on the adjusted series (whose
  // components are seen a step before each value, a little fresher than from the origin), then the model
  // is judged by its own forecasts on the same origins as every other candidate.
  const plain = bestEts;
  let decomposition: { model: Model; mae: number } | undefined;
  if (seasonal) {
    const profiles: Rule[] = [{ period, seasons: 7 }];
    if (weekly) profiles.push({ period: period2, seasons: 3 });
    for (const profile of profiles) {
      const { adjusted } = seasonalIndex(y, profile);
      const key = `decomposition ${profile.period}`;
      // (Damped Holt only: with β = 0 and φ < 1 its start trend dies out and it is SES.)
      const level = fitEts(
        adjusted,
        'holt-damped',
        0,
        horizons,
        warmup,
        stride,
        0,
        undefined,
        prior?.get(key),
      );
      fits.set(key, level.params);
      const model: Model = { method: 'decomposition', params: level.params, profile };
      const mae = naiveMae(y, model, period, warmup, horizons, stride);
      if (!decomposition || mae < decomposition.mae) decomposition = { model, mae };
      if (mae < bestEtsMae) {
        bestEts = model;
        bestEtsMae = mae;
      }
    }
  }
  // The mean of the best Holt-Winters-like model and the best decomposition: two views of the season
  // (updated by smoothing, or averaged over the last seasons) whose errors differ (Makridakis et al. 2020).
  // (A candidate of its own: the rules below are averaged with the best single model.)
  if (plain?.params && decomposition) {
    const model: Model = {
      method: 'combination',
      params: plain.params,
      pair: [plain, decomposition.model],
    };
    const mae = naiveMae(y, model, period, warmup, horizons, stride);
    if (mae < best.mae) best = { model, mae };
  }
  if (bestEts && bestEtsMae < best.mae) best = { model: bestEts, mae: bestEtsMae };
  if (bestEts && seasonal) {
    for (const rule of rules) {
      const combined: Model = { ...bestEts, method: 'combination', rule };
      const mae = naiveMae(y, combined, period, warmup, horizons, stride);
      if (mae < best.mae) best = { model: combined, mae };
    }
  }
  return { model: best.model, fits };
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
  eachForecast(y, model, period, warmup, horizons, stride, (t, h, f) => {
    s += Math.abs(y[t + h - 1]! - f);
    n += 1;
  });
  return n === 0 ? Number.POSITIVE_INFINITY : s / n;
}

/**
 * The horizons whose past errors are measured: every one up to 24 steps, then every k-th, k = ⌈H / 64⌉,
 * and H itself (at most ~90 of them: the quantiles of the others are interpolated, and all are smoothed
 * over ±10% of h anyway).
 */
function sampledHorizons(horizon: number): number[] {
  const k = Math.max(1, Math.ceil(horizon / 64));
  const hs: number[] = [];
  for (let h = 1; h <= horizon; h++) if (h <= 24 || h % k === 0 || h === horizon) hs.push(h);
  return hs;
}

/**
 * The errors of a model's forecasts from every origin t ≥ `start` at the sampled horizons `hs`
 * (`errors[(t − start)·hs.length + j]`, NaN where the target is past the series): computed once, then
 * every calibration reads the origins it needs (the filter is causal: a forecast from t is the same
 * whatever follows t).
 */
interface ErrorTable {
  horizon: number;
  hs: number[];
  start: number;
  errors: Float64Array;
  /** Prefix sums over origins of the absolute one-step errors and of the origins that have one. */
  absOneStep: Float64Array;
  known: Float64Array;
  /** Origins the local scale is measured over (a season, at least 100 steps: less is too noisy). */
  scaleWindow: number;
}

function errorTable(
  y: readonly number[],
  model: Model,
  period: number,
  warmup: number,
  horizon: number,
): ErrorTable {
  const hs = sampledHorizons(horizon);
  const width = hs.length;
  const column = new Int32Array(horizon + 1);
  hs.forEach((h, j) => {
    column[h] = j;
  });
  const errors = new Float64Array(Math.max(0, y.length - warmup) * width).fill(Number.NaN);
  eachForecast(y, model, period, warmup, hs, 1, (t, h, f) => {
    errors[(t - warmup) * width + column[h]!] = y[t + h - 1]! - f;
  });
  const origins = errors.length / width;
  const absOneStep = new Float64Array(origins + 1);
  const known = new Float64Array(origins + 1);
  for (let k = 0; k < origins; k++) {
    const e = errors[k * width]!;
    absOneStep[k + 1] = absOneStep[k]! + (Number.isNaN(e) ? 0 : Math.abs(e));
    known[k + 1] = known[k]! + (Number.isNaN(e) ? 0 : 1);
  }
  return { horizon, hs, start: warmup, errors, absOneStep, known, scaleWindow: Math.max(period, 100) };
}

/**
 * The local scale at `end`: the mean absolute one-step error of the origins in the last
 * `scaleWindow` steps before `end` (their targets are known by then); NaN with none.
 */
function localScale(table: ErrorTable, end: number): number {
  const hi = Math.min(Math.max(0, end - table.start), table.known.length - 1);
  const lo = Math.max(0, hi - table.scaleWindow);
  const n = table.known[hi]! - table.known[lo]!;
  return n > 0 ? (table.absOneStep[hi]! - table.absOneStep[lo]!) / n : Number.NaN;
}

/**
 * Errors of past forecasts per horizon (index h − 1; `null` for a horizon not sampled, see
 * {@link sampledHorizons}), from the origins of the last `window` steps whose target is before `end`.
 */
function errorsByHorizon(
  table: ErrorTable,
  end: number,
  window: number,
  scaled = false,
): (number[] | null)[] {
  const { horizon, hs, start, errors } = table;
  const width = hs.length;
  const out: (number[] | null)[] = new Array(horizon).fill(null);
  for (const h of hs) out[h - 1] = [];
  for (let t = Math.max(start, end - horizon - window); t < end; t++) {
    const scale = scaled ? localScale(table, t) : 1;
    if (!(scale > 0)) continue;
    for (let j = 0; j < width; j++) {
      const h = hs[j]!;
      if (t + h - 1 >= end) break;
      const e = errors[(t - start) * width + j]!;
      if (!Number.isNaN(e)) out[h - 1]!.push(e / scale);
    }
  }
  return out;
}

type Quantiles = [number, number, number, number];

/**
 * Interval offsets per horizon: the wider of the error quantiles of the recent origins (the last three
 * seasons, or 500 steps: the current regime) and of the long run scaled to now, bound by bound. The long
 * run: the errors of all origins before `end`, each over the local scale at its origin (the mean absolute
 * one-step error of the season, at least 100 steps, before it; see {@link localScale}), their quantiles times the local scale
 * at `end` — the locally weighted split conformal interval of Lei, G'Sell, Rinaldo, Tibshirani &
 * Wasserman, "Distribution-free predictive inference for regression", JASA 113 (2018) 1094–1111, §5.2,
 * with the one-step errors as the spread estimate. A calm week does not make intervals too narrow, and
 * a new noisier regime widens them at once at every horizon: the errors of a week-ahead forecast from a
 * noisier regime are known only a week after it began. (Unscaled long-run quantiles instead: NAB 7 d
 * coverage 69.3% / 85.8%, against 76.8% / 90.9% for this; where no local scale exists they are used.)
 */
function calibration(
  table: ErrorTable,
  period: number,
  end: number,
  longRun?: LongRun,
): { bounds: (Quantiles | undefined)[]; longRun: LongRun } {
  const recent = quantilesByHorizon(errorsByHorizon(table, end, Math.max(3 * period, 500)));
  const all = longRun?.all ?? quantilesByHorizon(errorsByHorizon(table, end, Number.POSITIVE_INFINITY));
  const scaled =
    longRun?.scaled ?? quantilesByHorizon(errorsByHorizon(table, end, Number.POSITIVE_INFINITY, true));
  const now = localScale(table, end);
  const wider = (r: Quantiles | undefined, a: Quantiles | undefined): Quantiles | undefined => {
    if (!r || !a) return r ?? a;
    return [Math.min(r[0], a[0]), Math.min(r[1], a[1]), Math.max(r[2], a[2]), Math.max(r[3], a[3])];
  };
  const bounds = recent.map((r, i): Quantiles | undefined => {
    const s = scaled[i];
    const local = s && now > 0 ? (s.map((v) => v * now) as Quantiles) : undefined;
    return wider(r, local ?? all[i]);
  });
  return { bounds, longRun: { all: [...all], scaled: [...scaled] } };
}

/** The long-run quantiles of {@link calibration}: of the errors, and of the errors over their local scale. */
interface LongRun {
  all: (Quantiles | undefined)[];
  scaled: (Quantiles | undefined)[];
}

/**
 * Error quantiles (2.5%, 10%, 90%, 97.5%) per horizon (index h − 1): each sampled horizon's own
 * quantiles, linear between sampled horizons, then averaged over neighbouring horizons (±10%) so the
 * bounds are smooth in h. A horizon with fewer than 20 errors (or between two such) has none
 * (`undefined`).
 */
function quantilesByHorizon(errors: readonly (number[] | null)[]): (Quantiles | undefined)[] {
  const own = errors.map((e): Quantiles | undefined | null => {
    if (e === null) return null;
    if (e.length < 20) return undefined;
    // A typed array sorts numerically without a comparator call per comparison.
    const sorted = Float64Array.from(e).sort();
    return [
      quantileOf(sorted, 0.025),
      quantileOf(sorted, 0.1),
      quantileOf(sorted, 0.9),
      quantileOf(sorted, 0.975),
    ];
  });
  // Horizons not sampled: linear between the sampled ones on either side, when both have quantiles.
  let below = -1;
  for (let i = 0; i < own.length; i++) {
    if (own[i] !== null) {
      below = i;
      continue;
    }
    let above = i + 1;
    while (above < own.length && own[above] === null) above++;
    const lo = below >= 0 ? own[below] : undefined;
    const hi = above < own.length ? own[above] : undefined;
    for (let k = i; k < above; k++) {
      if (!lo || !hi) {
        own[k] = undefined;
        continue;
      }
      const w = (k - below) / (above - below);
      own[k] = lo.map((v, j) => v + w * (hi[j]! - v)) as Quantiles;
    }
    i = above - 1;
  }
  // ±10% moving average over the horizons that have quantiles, by prefix sums.
  const n = own.length;
  const count = new Float64Array(n + 1);
  const sums = Array.from({ length: 4 }, () => new Float64Array(n + 1));
  for (let i = 0; i < n; i++) {
    const q = own[i];
    count[i + 1] = count[i]! + (q ? 1 : 0);
    for (let j = 0; j < 4; j++) sums[j]![i + 1] = sums[j]![i]! + (q ? q[j]! : 0);
  }
  return own.map((q, i) => {
    if (!q) return undefined;
    const spread = Math.round((i + 1) / 10);
    const from = Math.max(0, i - spread);
    const to = Math.min(n - 1, i + spread) + 1;
    const c = count[to]! - count[from]!;
    return sums.map((x) => (x[to]! - x[from]!) / c) as Quantiles;
  });
}

/** Quantile `q` of sorted values, linear between order statistics (as `quantileSorted` in util/stats). */
function quantileOf(sorted: Float64Array, q: number): number {
  const r = q * (sorted.length - 1);
  const lo = Math.floor(r);
  const a = sorted[lo]!;
  return lo + 1 < sorted.length ? a + (r - lo) * (sorted[lo + 1]! - a) : a;
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
  if (model.pair) return Math.max(...model.pair.map((m) => warmupOf(m, n, period, period2)));
  const rule = Math.max(model.rule?.period ?? 0, model.profile ? model.profile.period + period : 0);
  if (model.params?.period2) return period2 + period;
  if (model.params?.period) return Math.max(2 * period, rule);
  if (model.profile) return rule;
  return period > 1 ? Math.max(period, rule) : Math.min(20, Math.floor(n / 4));
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
  const r = runBacktest(y, o, sink);
  return r && { accuracy: r.accuracy, method: r.method, period2: r.period2 };
}

/** {@link backtest}, also returning each ETS kind's parameters chosen on the first 70%. */
function runBacktest(
  y: readonly number[],
  o: ForecastOptions,
  sink?: BacktestSink,
): { accuracy: ForecastAccuracy; method: ForecastMethod; period2: number; fits: KindFits } | null {
  const horizon = Math.max(1, Math.floor(o.horizon));
  const [period, period2] = seasonsOf(y, o, horizon);
  const split = Math.floor(y.length * 0.7);
  if (!(split - horizon >= 2 * Math.max(period, 10) && y.length - split >= Math.min(horizon, 10)))
    return null;
  const train = y.slice(0, split);
  const { model, fits } = chooseModel(train, period, period2, horizon);
  const warmup = warmupOf(model, train.length, period, period2);
  // Intervals as they would be live: recalibrated every day (or quarter horizon) on the errors known by
  // then (the recent part; the long-run part from before the split), so a new regime widens them.
  const table = errorTable(y, model, period, warmup, horizon);
  const first = calibration(table, period, split);
  const sigma = oneStepSigma(train, model, period, warmup);
  const recalEvery = Math.max(period, Math.ceil(horizon / 4), 12);
  let block = 0;
  let bounds = intervalOffsets(first.bounds, sigma, model.params, period, horizon);
  const scale = maseScale(train, period > 1 ? period : 1);
  let absErr = 0;
  let absErrNaive = 0;
  let n = 0;
  let in80 = 0;
  let in95 = 0;
  const stride = Math.max(1, Math.floor(((y.length - split) * horizon) / 2_000_000));
  // The seasonal naive forecast of the same target (split ≥ 2 seasons: its value a season back exists).
  const m = period > 1 ? period : 1;
  const hs = upTo(horizon);
  // Forecasts only from the held-out origins (the filter still runs from the start for its state).
  eachForecast(y, model, period, split, hs, stride, (t, h, f) => {
    const b = Math.floor((t - split) / recalEvery);
    if (b !== block) {
      block = b;
      const end = split + b * recalEvery;
      const q = calibration(table, period, end, first.longRun).bounds;
      bounds = intervalOffsets(q, sigma, model.params, period, horizon);
    }
    const actual = y[t + h - 1]!;
    const offsets = bounds[h - 1]!;
    const [l95, l80, u80, u95] = offsets;
    const e = actual - f;
    absErr += Math.abs(e);
    absErrNaive += Math.abs(actual - y[t + h - 1 - m * Math.ceil(h / m)]!);
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
    period2: period2Of(model, period),
    fits,
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
  const tested = runBacktest(y, o);
  const accuracy = tested?.accuracy ?? null;

  // The forecast: choose on everything (each kind's grid around its winner in the backtest); intervals
  // from all past errors.
  const { model } = chooseModel(y, period, period2, horizon, tested?.fits);
  const warmup = warmupOf(model, y.length, period, period2);
  const quantiles = calibration(errorTable(y, model, period, warmup, horizon), period, y.length).bounds;
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
    period2: period2Of(model, period),
    points,
    accuracy,
  };
}

/** Standard deviation of one-step errors after the warm-up. */
function oneStepSigma(y: readonly number[], model: Model, period: number, warmup: number): number {
  let s = 0;
  let n = 0;
  eachForecast(y, model, period, warmup, [1], 1, (t, _h, f) => {
    s += (y[t]! - f) ** 2;
    n += 1;
  });
  return n === 0 ? 0 : Math.sqrt(s / n);
}

/** Forecasts 1..horizon from the end of `y`. */
function forecastsFromEnd(y: readonly number[], model: Model, period: number, horizon: number): number[] {
  const t = y.length;
  if (model.pair) {
    const [a, b] = model.pair.map((m) => forecastsFromEnd(y, m, period, horizon));
    return a!.map((f, i) => (f + b![i]!) / 2);
  }
  const naive = ruleForecaster(y, ruleOf(model, period));
  if (model.params) {
    const p = model.params;
    const decomposed = model.profile && seasonalIndex(y, model.profile);
    const state = runFilter(decomposed ? decomposed.adjusted : y, p, y.length);
    const combine = model.method === 'combination';
    return Array.from({ length: horizon }, (_, i) => {
      const f = forecastAt(state, p, i + 1) + (decomposed ? decomposed.index(t, i + 1) : 0);
      return combine ? (f + naive(t, i + 1)) / 2 : f;
    });
  }
  return Array.from({ length: horizon }, (_, i) => naive(t, i + 1));
}
