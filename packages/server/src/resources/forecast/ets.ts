/**
 * Additive exponential smoothing on a regular grid: simple (level), Holt's linear method with a damped
 * trend, and additive Holt-Winters (level, damped trend, season of `period` steps) — ETS(A,N,N),
 * ETS(A,Ad,N) and ETS(A,Ad,A) in the taxonomy of Hyndman, Koehler, Ord & Snyder, "Forecasting with
 * Exponential Smoothing: The State Space Approach" (Springer 2008), ch. 2–3; the damped trend is
 * Gardner & McKenzie (1985).
 *
 * A second, longer season (a week beside the day) makes it double seasonal Holt-Winters: a second
 * seasonal index `w` of period m₂ updated like the first, ŷ = l + φb + s + w (Taylor, "Short-term
 * electricity demand forecasting using double seasonal exponential smoothing", J. Oper. Res. Soc. 54
 * (2003) 799–804; the additive form as in Taylor 2010, "Triple seasonal methods for short-term electricity
 * demand forecasting", EJOR 204:139–152). It is cheap to fit and to update per step, where MSTL (Bandara,
 * Hyndman & Bergmeir 2021) would redo a robust STL per fit.
 *
 * Robustness (`huber` > 0): the error used in the updates is clipped at ±huber·σ̂, where σ̂ follows the
 * recent absolute errors (themselves clipped at 4σ̂) — the robust Holt-Winters of Gelper, Fried & Croux,
 * "Robust forecasting with exponential and Holt-Winters smoothing", J. Forecasting 29 (2010) 285–300,
 * with a simpler scale recursion. An incident then moves the level and the seasons by at most a few σ̂
 * per step, so it does not stay in the seasonal profile for days; a lasting level shift still gets through
 * at once: errors clipped on the same side several steps in a row (3, an eighth or a quarter of the season:
 * chosen with the other parameters) move the level by what was clipped off
 * (see `update`), and σ̂ grows while the errors stay large.
 *
 * Recursions (one step, y the observation, s the season of that step):
 *   e = y − (l + φb + s)
 *   l ← l + φb + αe;  b ← φb + βe;  s ← s + γe
 *   ŷ(h) = l + (φ + φ² + … + φʰ)·b + s(t+h)
 *
 * Parameters are chosen by grid search to minimise the mean absolute error of forecasts made from every
 * past origin at several horizons up to the one asked for (a rolling-origin objective; a one-step fit
 * favours noise-chasing smoothing that forecasts poorly a day ahead).
 * @module
 */

/** Smoothing parameters. `period` 0 means no season; `beta` 0 and `phi` 0 no trend. */
export interface EtsParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
  period: number;
  /** Second (longer) season in steps, a multiple of `period` (a week); 0 or absent: none. */
  period2?: number;
  /** Smoothing of the second season. */
  omega?: number;
  /** Errors clipped at ±huber·σ̂ in the updates (Gelper et al. 2010); 0 or absent: not robust. */
  huber?: number;
  /** Clipped errors of one sign in a row that make a level shift (robust only; default 3). */
  shiftSteps?: number;
}

/** Weight of the newest absolute error in the robust scale σ̂. */
const SCALE_LAMBDA = 0.05;
/** σ̂ from the mean absolute error of a normal error: √(π/2). */
const MAE_TO_SD = 1.2533141373155001;

/** State after the last observation. */
export interface EtsState {
  level: number;
  trend: number;
  /** Seasonal components, `season[i]` for steps ≡ i (mod period) counted from the series start. */
  season: number[];
  /** Second seasonal components (empty without a second season), like `season`. */
  season2: number[];
  /** Running mean absolute one-step error, for the robust clipping (0: not yet known). */
  mad: number;
  /** Consecutive clipped errors of one sign, and the sum of what was clipped off them. */
  clippedRun: number;
  clipped: number;
  /** Index (from the series start) of the next step to forecast. */
  nextIndex: number;
}

/** Sum φ + φ² + … + φʰ. */
export function dampedSum(phi: number, h: number): number {
  if (phi === 1) return h;
  if (phi === 0) return 0;
  return (phi * (1 - phi ** h)) / (1 - phi);
}

/**
 * φ + φ² + … + φʰ for h = 1..`horizon` (index h − 1), by running sums: the hot loops look these up
 * instead of paying a power per forecast.
 */
export function dampedSums(phi: number, horizon: number): Float64Array {
  const out = new Float64Array(horizon);
  let power = 1;
  let sum = 0;
  for (let h = 1; h <= horizon; h++) {
    power *= phi;
    sum += power;
    out[h - 1] = phi === 1 ? h : sum;
  }
  return out;
}

/** Initial state from the first one or two seasons (classical decomposition start, Hyndman et al. §2.6). */
export function initialState(y: readonly number[], p: EtsParams): EtsState {
  const m = p.period;
  const m2 = p.period2 ?? 0;
  const mad = initialMad(y, m);
  if (m > 1 && m2 > m && y.length >= m2) {
    // Double seasonal start from the first long season alone (so a warm-up of m₂ + m steps sees no later
    // data): the level is its mean, the short season the mean profile of its short seasons, the long
    // season what is left, and no trend (β learns it).
    const a = meanOf(y, 0, m2);
    const season = new Array<number>(m).fill(0);
    const cycles = Math.floor(m2 / m);
    for (let i = 0; i < cycles * m; i++) season[i % m] = season[i % m]! + (y[i]! - a) / cycles;
    const season2 = Array.from({ length: m2 }, (_, i) => y[i]! - a - season[i % m]!);
    return { level: a, trend: 0, season, season2, mad, clippedRun: 0, clipped: 0, nextIndex: 0 };
  }
  if (m > 1 && y.length >= 2 * m) {
    const a = meanOf(y, 0, m);
    const b = meanOf(y, m, m);
    const season = Array.from({ length: m }, (_, i) => y[i]! - a);
    return {
      level: a,
      trend: p.phi > 0 ? (b - a) / m : 0,
      season,
      season2: [],
      mad,
      clippedRun: 0,
      clipped: 0,
      nextIndex: 0,
    };
  }
  const trend = p.phi > 0 && y.length > 1 ? y[1]! - y[0]! : 0;
  return {
    level: y[0] ?? 0,
    trend,
    season: m > 1 ? new Array(m).fill(0) : [],
    season2: [],
    mad,
    clippedRun: 0,
    clipped: 0,
    nextIndex: 0,
  };
}

function meanOf(y: readonly number[], from: number, n: number): number {
  let s = 0;
  for (let i = from; i < from + n; i++) s += y[i]!;
  return s / n;
}

/** Mean absolute one-step change over the first season (or 50 steps): the robust scale's start. */
function initialMad(y: readonly number[], m: number): number {
  const n = Math.min(y.length, Math.max(m, 50));
  let s = 0;
  for (let i = 1; i < n; i++) s += Math.abs(y[i]! - y[i - 1]!);
  return n > 1 ? s / (n - 1) : 0;
}

/** Point forecast `h` steps after the state. */
export function forecastAt(state: EtsState, p: EtsParams, h: number): number {
  const s = p.period > 1 ? state.season[(state.nextIndex + h - 1) % p.period]! : 0;
  const m2 = state.season2.length;
  const w = m2 > 0 ? state.season2[(state.nextIndex + h - 1) % m2]! : 0;
  return state.level + dampedSum(p.phi, h) * state.trend + s + w;
}

/** {@link forecastAt} with the damped sums looked up: `sums` from {@link dampedSums} (at least `h` long). */
export function forecastWith(state: EtsState, p: EtsParams, h: number, sums: Float64Array): number {
  const i = state.nextIndex + h - 1;
  const s = p.period > 1 ? state.season[i % p.period]! : 0;
  const m2 = state.season2.length;
  const w = m2 > 0 ? state.season2[i % m2]! : 0;
  return state.level + sums[h - 1]! * state.trend + s + w;
}

/** Updates the state with one observation; returns the one-step error (before any clipping). */
export function update(state: EtsState, p: EtsParams, y: number): number {
  const m = p.period;
  const si = m > 1 ? state.nextIndex % m : 0;
  const s = m > 1 ? state.season[si]! : 0;
  const m2 = state.season2.length;
  const wi = m2 > 0 ? state.nextIndex % m2 : 0;
  const w = m2 > 0 ? state.season2[wi]! : 0;
  const prevLevel = state.level;
  const damped = p.phi * state.trend;
  const e = y - (prevLevel + damped + s + w);
  let u = e;
  const k = p.huber ?? 0;
  let shift = 0;
  if (k > 0) {
    const mad = state.mad;
    if (mad > 0) {
      const limit = k * MAE_TO_SD * mad;
      u = e > limit ? limit : e < -limit ? -limit : e;
      state.mad = mad + SCALE_LAMBDA * (Math.min(Math.abs(e), 4 * mad) - mad);
      // Clipped errors of one sign SHIFT_STEPS times in a row are a level shift, not outliers (an
      // additive outlier does not persist; Tsay, "Outliers, level shifts, and variance changes in time
      // series", J. Forecasting 7 (1988) 1–20): the level takes what was clipped off in those steps.
      if (u !== e && Math.sign(e) === Math.sign(state.clipped)) {
        state.clippedRun += 1;
        state.clipped += e - u;
      } else if (u !== e) {
        state.clippedRun = 1;
        state.clipped = e - u;
      } else {
        state.clippedRun = 0;
        state.clipped = 0;
      }
      if (state.clippedRun >= (p.shiftSteps ?? 3)) {
        shift = state.clipped / state.clippedRun;
        state.clippedRun = 0;
        state.clipped = 0;
      }
    } else state.mad = Math.abs(e);
  }
  state.level = prevLevel + damped + p.alpha * u + shift;
  state.trend = damped + p.beta * u;
  if (m > 1) state.season[si] = s + p.gamma * u;
  if (m2 > 0) state.season2[wi] = w + (p.omega ?? 0) * u;
  state.nextIndex += 1;
  return e;
}

/**
 * Runs the filter over `y` and calls `onOrigin(t, state)` before observation `t` for every `t ≥ warmup`
 * (the state then holds everything up to `t − 1`).
 * @returns the final state.
 */
export function runFilter(
  y: readonly number[],
  p: EtsParams,
  warmup: number,
  onOrigin?: (t: number, state: EtsState) => void,
): EtsState {
  const state = initialState(y, p);
  for (let t = 0; t < y.length; t++) {
    if (onOrigin && t >= warmup) onOrigin(t, state);
    update(state, p, y[t]!);
  }
  return state;
}

/** Candidate grids (small on purpose: the objective is multi-horizon and runs per combination). */
const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9];
const BETAS = [0, 0.005, 0.02, 0.08];
const PHIS = [0.8, 0.9, 0.98, 1];
const GAMMAS = [0.02, 0.05, 0.1, 0.2, 0.35];

const OMEGAS = [0.02, 0.05, 0.1, 0.2, 0.35];
/** Clipping constants tried for the robust variant (in σ̂). */
const HUBERS = [2, 3];

/** The kinds of model fitted; `double-seasonal` is Holt-Winters with a day and a week. */
export type EtsKind = 'ses' | 'holt-damped' | 'holt-winters' | 'double-seasonal';

/**
 * Parameter combinations of a kind. `double-seasonal` searches α, γ and ω around `base` (the best
 * single-season fit: its β and φ), which keeps its grid as small as the single-season one.
 */
export function grid(kind: EtsKind, period: number, period2 = 0, base?: EtsParams): EtsParams[] {
  const out: EtsParams[] = [];
  if (kind === 'double-seasonal') {
    const beta = base?.beta ?? 0;
    const phi = base?.phi ?? 0;
    for (const alpha of ALPHAS)
      for (const gamma of GAMMAS)
        for (const omega of OMEGAS)
          if (gamma + omega <= 1 - alpha) out.push({ alpha, beta, gamma, phi, period, period2, omega });
    return out;
  }
  for (const alpha of ALPHAS) {
    if (kind === 'ses') {
      out.push({ alpha, beta: 0, gamma: 0, phi: 0, period: 0 });
      continue;
    }
    for (const beta of BETAS) {
      if (beta > alpha) continue;
      for (const phi of PHIS) {
        if (kind === 'holt-damped') out.push({ alpha, beta, gamma: 0, phi, period: 0 });
        else
          for (const gamma of GAMMAS) if (gamma <= 1 - alpha) out.push({ alpha, beta, gamma, phi, period });
      }
    }
  }
  return out;
}

/**
 * Mean absolute error of forecasts from every origin `t ≥ warmup` at each of `horizons` (steps), where the
 * target exists. The rolling-origin objective used to choose parameters and to compare methods.
 */
export function rollingMae(
  y: readonly number[],
  p: EtsParams,
  warmup: number,
  horizons: readonly number[],
  stride = 1,
): number {
  // The filter of `update` with its state in local variables and the seasons in typed arrays: this runs
  // once per grid point over the whole history, the bulk of a fit's cost. `rollingMaeReference` is the
  // same objective through `runFilter` (a test holds them equal).
  let sum = 0;
  let n = 0;
  const count = horizons.length;
  const sums = Float64Array.from(horizons, (h) => dampedSum(p.phi, h));
  const init = initialState(y, p);
  const m = p.period > 1 ? p.period : 0;
  const season = Float64Array.from(init.season);
  const season2 = Float64Array.from(init.season2);
  const m2 = season2.length;
  const { alpha, beta, gamma, phi } = p;
  const omega = p.omega ?? 0;
  const k = p.huber ?? 0;
  const shiftSteps = p.shiftSteps ?? 3;
  let level = init.level;
  let trend = init.trend;
  let mad = init.mad;
  let clippedRun = 0;
  let clipped = 0;
  let si = 0;
  let wi = 0;
  const length = y.length;
  // Season slot of each horizon's target: (t mod m) + ((h − 1) mod m), less m when past it — no division.
  const slot = Int32Array.from(horizons, (h) => (m > 0 ? (h - 1) % m : 0));
  const slot2 = Int32Array.from(horizons, (h) => (m2 > 0 ? (h - 1) % m2 : 0));
  let next = warmup;
  for (let t = 0; t < length; t++) {
    if (t === next) {
      next += stride;
      for (let j = 0; j < count; j++) {
        const target = t + horizons[j]! - 1;
        if (target >= length) break;
        let f = level + sums[j]! * trend;
        if (m > 0) {
          const i = si + slot[j]!;
          f += season[i < m ? i : i - m]!;
        }
        if (m2 > 0) {
          const i = wi + slot2[j]!;
          f += season2[i < m2 ? i : i - m2]!;
        }
        const e = y[target]! - f;
        sum += e < 0 ? -e : e;
        n += 1;
      }
    }
    // update(), inlined.
    const s = m > 0 ? season[si]! : 0;
    const w = m2 > 0 ? season2[wi]! : 0;
    const damped = phi * trend;
    const e = y[t]! - (level + damped + s + w);
    let u = e;
    let shift = 0;
    if (k > 0) {
      if (mad > 0) {
        const limit = k * MAE_TO_SD * mad;
        u = e > limit ? limit : e < -limit ? -limit : e;
        const a = e < 0 ? -e : e;
        mad = mad + SCALE_LAMBDA * ((a < 4 * mad ? a : 4 * mad) - mad);
        if (u !== e && Math.sign(e) === Math.sign(clipped)) {
          clippedRun += 1;
          clipped += e - u;
        } else if (u !== e) {
          clippedRun = 1;
          clipped = e - u;
        } else {
          clippedRun = 0;
          clipped = 0;
        }
        if (clippedRun >= shiftSteps) {
          shift = clipped / clippedRun;
          clippedRun = 0;
          clipped = 0;
        }
      } else mad = e < 0 ? -e : e;
    }
    level = level + damped + alpha * u + shift;
    trend = damped + beta * u;
    if (m > 0) {
      season[si] = s + gamma * u;
      si = si + 1 === m ? 0 : si + 1;
    }
    if (m2 > 0) {
      season2[wi] = w + omega * u;
      wi = wi + 1 === m2 ? 0 : wi + 1;
    }
  }
  return n === 0 ? Number.POSITIVE_INFINITY : sum / n;
}

/** {@link rollingMae} through {@link runFilter} and {@link forecastAt}: the definition the fast one keeps. */
export function rollingMaeReference(
  y: readonly number[],
  p: EtsParams,
  warmup: number,
  horizons: readonly number[],
  stride = 1,
): number {
  let sum = 0;
  let n = 0;
  runFilter(y, p, warmup, (t, state) => {
    if ((t - warmup) % stride !== 0) return;
    for (const h of horizons) {
      const target = t + h - 1;
      if (target >= y.length) break;
      sum += Math.abs(y[target]! - forecastAt(state, p, h));
      n += 1;
    }
  });
  return n === 0 ? Number.POSITIVE_INFINITY : sum / n;
}

/** Whether `x` is within one grid step of `v` in `list` (always, when `v` is not on it). */
function near(list: readonly number[], v: number | undefined, x: number | undefined): boolean {
  const i = list.indexOf(v ?? 0);
  return i < 0 || Math.abs(list.indexOf(x ?? 0) - i) <= 1;
}

/** Whether grid point `p` is within one step of `around` in every smoothing parameter. */
function around(p: EtsParams, centre: EtsParams): boolean {
  return (
    near(ALPHAS, centre.alpha, p.alpha) &&
    near(BETAS, centre.beta, p.beta) &&
    near(PHIS, centre.phi, p.phi) &&
    near(GAMMAS, centre.gamma, p.gamma) &&
    near(OMEGAS, centre.omega, p.omega)
  );
}

/**
 * The best parameters of a kind by {@link rollingMae}: the grid, then the robust variant of the winner
 * with each α, clipping constant and shift persistence (see the module comment), kept unless it
 * forecasts more than 1% worse. With `centre` (the winner on an earlier part of the same series), only
 * the grid points within one step of it in every parameter are tried: a refit on more data moves the
 * optimum little, and this costs a tenth of the whole grid.
 */
export function fitEts(
  y: readonly number[],
  kind: EtsKind,
  period: number,
  horizons: readonly number[],
  warmup: number,
  stride = 1,
  period2 = 0,
  base?: EtsParams,
  centre?: EtsParams,
): { params: EtsParams; mae: number } {
  let best: { params: EtsParams; mae: number } | undefined;
  const consider = (params: EtsParams) => {
    const mae = rollingMae(y, params, warmup, horizons, stride);
    if (!best || mae < best.mae) best = { params, mae };
  };
  const all = grid(kind, period, period2, base);
  // (The double seasonal grid takes β and φ from `base`: only α, γ and ω are searched around `centre`.)
  const focus = centre && { ...centre, beta: base?.beta ?? centre.beta, phi: base?.phi ?? centre.phi };
  const local = focus ? all.filter((p) => around(p, kind === 'double-seasonal' ? focus : centre!)) : all;
  for (const params of local.length > 0 ? local : all) consider(params);
  const winner = best!.params;
  // The robust form is preferred unless it forecasts more than 1% worse on the history: the premium paid
  // on calm data for protection against outliers to come (Anscombe, "Rejection of outliers",
  // Technometrics 2 (1960) 123–147), since one past incident weighs little in a rolling-origin MAE.
  const plain = best!;
  best = undefined;
  const shifts = [...new Set([3, Math.max(3, Math.round(period / 8)), Math.max(3, Math.round(period / 4))])];
  for (const huber of HUBERS)
    for (const shiftSteps of shifts)
      for (const alpha of ALPHAS)
        if (
          alpha + winner.gamma + (winner.omega ?? 0) <= 1 &&
          alpha >= winner.beta &&
          (!centre || near(ALPHAS, centre.alpha, alpha))
        )
          consider({ ...winner, alpha, huber, shiftSteps });
  const robust = best as { params: EtsParams; mae: number } | undefined;
  return robust && robust.mae <= plain.mae * 1.01 ? robust : plain;
}
