/**
 * Additive exponential smoothing on a regular grid: simple (level), Holt's linear method with a damped
 * trend, and additive Holt-Winters (level, damped trend, season of `period` steps) — ETS(A,N,N),
 * ETS(A,Ad,N) and ETS(A,Ad,A) in the taxonomy of Hyndman, Koehler, Ord & Snyder, "Forecasting with
 * Exponential Smoothing: The State Space Approach" (Springer 2008), ch. 2–3; the damped trend is
 * Gardner & McKenzie (1985).
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
}

/** State after the last observation. */
export interface EtsState {
  level: number;
  trend: number;
  /** Seasonal components, `season[i]` for steps ≡ i (mod period) counted from the series start. */
  season: number[];
  /** Index (from the series start) of the next step to forecast. */
  nextIndex: number;
}

/** Sum φ + φ² + … + φʰ. */
export function dampedSum(phi: number, h: number): number {
  if (phi === 1) return h;
  if (phi === 0) return 0;
  return (phi * (1 - phi ** h)) / (1 - phi);
}

/** Initial state from the first one or two seasons (classical decomposition start, Hyndman et al. §2.6). */
export function initialState(y: readonly number[], p: EtsParams): EtsState {
  const m = p.period;
  if (m > 1 && y.length >= 2 * m) {
    const mean = (from: number) => {
      let s = 0;
      for (let i = from; i < from + m; i++) s += y[i]!;
      return s / m;
    };
    const a = mean(0);
    const b = mean(m);
    const season = Array.from({ length: m }, (_, i) => y[i]! - a);
    return { level: a, trend: p.phi > 0 ? (b - a) / m : 0, season, nextIndex: 0 };
  }
  const trend = p.phi > 0 && y.length > 1 ? y[1]! - y[0]! : 0;
  return { level: y[0] ?? 0, trend, season: m > 1 ? new Array(m).fill(0) : [], nextIndex: 0 };
}

/** Point forecast `h` steps after the state. */
export function forecastAt(state: EtsState, p: EtsParams, h: number): number {
  const s = p.period > 1 ? state.season[(state.nextIndex + h - 1) % p.period]! : 0;
  return state.level + dampedSum(p.phi, h) * state.trend + s;
}

/** Updates the state with one observation; returns the one-step error. */
export function update(state: EtsState, p: EtsParams, y: number): number {
  const m = p.period;
  const si = m > 1 ? state.nextIndex % m : 0;
  const s = m > 1 ? state.season[si]! : 0;
  const prevLevel = state.level;
  const damped = p.phi * state.trend;
  const e = y - (prevLevel + damped + s);
  state.level = prevLevel + damped + p.alpha * e;
  state.trend = damped + p.beta * e;
  if (m > 1) state.season[si] = s + p.gamma * e;
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

/** The kinds of model fitted. */
export type EtsKind = 'ses' | 'holt-damped' | 'holt-winters';

/** Parameter combinations of a kind. */
export function grid(kind: EtsKind, period: number): EtsParams[] {
  const out: EtsParams[] = [];
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

/** The best parameters of a kind by {@link rollingMae}. */
export function fitEts(
  y: readonly number[],
  kind: EtsKind,
  period: number,
  horizons: readonly number[],
  warmup: number,
  stride = 1,
): { params: EtsParams; mae: number } {
  let best: { params: EtsParams; mae: number } | undefined;
  for (const params of grid(kind, period)) {
    const mae = rollingMae(y, params, warmup, horizons, stride);
    if (!best || mae < best.mae) best = { params, mae };
  }
  return best!;
}
