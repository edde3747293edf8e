/**
 * Predictions of a resource: its history resampled to a step that fits the horizon (at most ~300 steps
 * ahead, never finer than the data), forecast with prediction intervals (`forecast/forecaster.ts`), and —
 * for what fills up (utilisations: disk, memory, CPU; or a given threshold) — when it crosses the
 * threshold as a range: P10 when the upper 80% bound crosses, P50 the forecast, P90 the lower bound.
 * @module
 */
import type { MetricReader } from '../storage/index.ts';
import { linearFit } from '../util/stats.ts';
import { durationText } from './data-span.ts';
import { forecastInWorker } from './forecast/forecast-pool.ts';
import type { ForecastAccuracy, ForecastPoint } from './forecast/forecaster.ts';
import { medianStep, toRegularGrid } from './forecast/regular-grid.ts';
import { RESOURCE_TYPES, resourceSeries, type Series } from './resource-series.ts';

/** Horizons accepted, ms. */
export const HORIZONS: Readonly<Record<string, number>> = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
  '30d': 30 * 24 * 3_600_000,
};

/** Most steps of history given to the forecaster. */
/** The largest time a JavaScript Date holds, ms since the epoch (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;
const MAX_STEPS = 20_000;

const NICE_STEPS = [10_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000];
const DAY = 86_400_000;

/** When a threshold is crossed; times ISO-8601, `null` when not within the horizon. */
export interface Exhaustion {
  threshold: number;
  /** Early (the 90th percentile path crosses), likely, late (the 10th percentile path crosses). */
  p10: string | null;
  p50: string | null;
  p90: string | null;
  /** Where the straight line through the history (like `predict_linear`) crosses, for comparison. */
  linear: string | null;
  withinHorizon: boolean;
  /**
   * How the forecast and the straight line relate, in words with their figures: why one crosses and the
   * other does not (the line crosses after the horizon; the forecast levels off below the threshold
   * because its trend is damped and follows the recent growth), or how far apart their crossings are.
   */
  explanation: string;
}

/** What {@link explainExhaustion} compares. Times in ms since the epoch; slopes per day. */
export interface ExhaustionFigures {
  threshold: number;
  /** `1` for a utilisation (shown as %), else the series' unit. */
  unit: string;
  /** Forecast method (`holt-damped`…). */
  method: string;
  horizon: string;
  /** Forecast step, ms: crossings less than a step apart agree. */
  stepMs: number;
  /** The last sample: time and value. */
  lastMs: number;
  lastValue: number;
  /** Time span of the history the line was fitted on, ms. */
  historyMs: number;
  /** The forecast values in time order. */
  forecast: readonly { timestamp: number; value: number }[];
  /** Where the forecast (P50) and the line cross, when they do. */
  p50Ms: number | null;
  linearMs: number | null;
  /** Slope of the straight line, unit per day. */
  lineSlopePerDay: number;
}

/**
 * Says how the forecast's crossing and the straight line's relate, with the figures that explain a
 * difference: a crossing after the horizon, a forecast that levels off below the threshold (a damped
 * trend that follows the recent growth, against the line's average over the whole history), a line
 * that does not rise while the forecast does (growth that is recent), or how far apart both crossings are.
 */
export function explainExhaustion(f: ExhaustionFigures): string {
  const pct = f.unit === '1';
  const level = (v: number) =>
    pct ? `${(100 * v).toFixed(1)}%` : `${Number(v.toPrecision(4))} ${f.unit}`.trim();
  const perDay = (v: number) => `${pct ? `${(100 * v).toFixed(2)}%` : Number(v.toPrecision(3))}/day`;
  const inDays = (ms: number) => `in ${((ms - f.lastMs) / DAY).toFixed(1)} days`;
  const at = (ms: number) => `${new Date(ms).toISOString()} (${inDays(ms)})`;
  const threshold = level(f.threshold);
  if (f.lastValue >= f.threshold)
    return `already at ${level(f.lastValue)} at the last sample, at or above ${threshold}`;
  const line = `the straight line through ${(f.historyMs / DAY).toFixed(1)} days of history (${perDay(f.lineSlopePerDay)})`;
  const end = f.forecast[f.forecast.length - 1];
  if (f.p50Ms === null) {
    if (f.linearMs === null) {
      return `neither the forecast nor ${line} reaches ${threshold}`;
    }
    const longer = Object.keys(HORIZONS).at(-1) !== f.horizon;
    const top = f.forecast.reduce(
      (m, p) => (p.value > m.value ? p : m),
      f.forecast[0] ?? { timestamp: 0, value: 0 },
    );
    if (end === undefined || f.linearMs > end.timestamp) {
      return `${line} crosses ${threshold} on ${at(f.linearMs)}, after the ${f.horizon} horizon the forecast covers (to ${end ? new Date(end.timestamp).toISOString() : 'now'}, where it reaches ${level(top.value)})${longer ? ': ask a longer horizon to see the forecast cross' : ''}`;
    }
    // The line crosses within the horizon, the forecast does not: it levels off.
    const first = f.forecast[0]!;
    const days = Math.max((end.timestamp - first.timestamp) / DAY, 1e-9);
    const forecastGrowth = (end.value - first.value) / days;
    return `${line} crosses ${threshold} on ${at(f.linearMs)}, within the ${f.horizon} horizon, but the forecast (${f.method}) levels off at ${level(top.value)} at most: it grows ${perDay(forecastGrowth)} on average over the horizon against the line's ${perDay(f.lineSlopePerDay)}, because it follows the recent growth${f.method.includes('damped') ? ' and damps its trend' : ''} where the line keeps the average of the whole history`;
  }
  if (f.linearMs === null) {
    return `the forecast (${f.method}) crosses ${threshold} on ${at(f.p50Ms)}; ${line} does not reach it: the growth is recent, and the forecast follows it`;
  }
  const apart = (f.linearMs - f.p50Ms) / DAY;
  if (Math.abs(f.linearMs - f.p50Ms) <= f.stepMs) {
    return `the forecast (${f.method}) and ${line} agree: the forecast crosses ${threshold} on ${at(f.p50Ms)}, the line on ${at(f.linearMs)}, at most one forecast step (${durationText(f.stepMs)}) apart`;
  }
  return `the forecast (${f.method}) crosses ${threshold} on ${at(f.p50Ms)}, ${Math.abs(apart).toFixed(1)} days ${apart > 0 ? 'before' : 'after'} ${line} (${at(f.linearMs)}): the recent growth is ${apart > 0 ? 'faster' : 'slower'} than the history's average`;
}

/** Answer of `GET /api/v1/resources/predictions/{resourceType}`. */
export interface Prediction {
  resourceType: string;
  host: string;
  labels: Record<string, string>;
  unit: string;
  horizon: string;
  stepMs: number;
  historyPoints: number;
  method: string;
  period: number;
  /** Second season in steps (a week) of the chosen method, 0 without one. */
  period2: number;
  points: (Omit<ForecastPoint, 'timestamp'> & { timestamp: string })[];
  accuracy: ForecastAccuracy | null;
  exhaustion: Exhaustion | null;
  /** Why there is no forecast (too little history), when `points` is empty. */
  note?: string;
}

/** Options of {@link predictResource}. */
export interface PredictionQuery {
  resourceType: string;
  host: string;
  horizon: string;
  nowMs: number;
  /** The history to learn from (default: the 7 days — 28 for 7d and 30d horizons — before `nowMs`). */
  window?: { fromNs: bigint; toNs: bigint } | undefined;
  /** Chooses among several series: a label value to match (mount point, direction, …). */
  select?: string | undefined;
  /** Utilisation (or value) that counts as exhausted; default 1 for utilisations, none otherwise. */
  threshold?: number | undefined;
}

function pickSeries(series: Series[], select: string | undefined): Series | undefined {
  if (select !== undefined) return series.find((s) => Object.values(s.labels).includes(select));
  // The fullest (highest last value) when several: the one that will run out first.
  return [...series].sort(
    (a, b) => (b.values[b.values.length - 1] ?? 0) - (a.values[a.values.length - 1] ?? 0),
  )[0];
}

function crossing(points: ForecastPoint[], key: keyof ForecastPoint, threshold: number): string | null {
  const p = points.find((x) => (x[key] as number) >= threshold);
  return p ? new Date(p.timestamp).toISOString() : null;
}

/**
 * Predicts one resource of one host.
 * @throws RangeError naming `horizon` when it is not one of {@link HORIZONS}.
 */
export async function predictResource(store: MetricReader, q: PredictionQuery): Promise<Prediction> {
  const horizonMs = HORIZONS[q.horizon];
  if (horizonMs === undefined) {
    throw new RangeError(`horizon: expected one of ${Object.keys(HORIZONS).join(', ')}, got "${q.horizon}"`);
  }
  const historyMs = horizonMs >= 7 * DAY ? 28 * DAY : 7 * DAY;
  const window = q.window ?? {
    fromNs: BigInt(q.nowMs - historyMs) * 1_000_000n,
    toNs: BigInt(q.nowMs + 60_000) * 1_000_000n,
  };
  // Long histories are averaged in the store to the step the forecast can use at most (span / MAX_STEPS,
  // and horizon / 300), instead of reading every sample into memory.
  const spanMs = Number((window.toNs - window.fromNs) / 1_000_000n);
  const coarsest = NICE_STEPS.find((n) => n >= Math.max(horizonMs / 300, spanMs / MAX_STEPS));
  const bucketMs = coarsest !== undefined && coarsest >= 60_000 ? coarsest : undefined;
  const all = await resourceSeries(store, { resourceType: q.resourceType, host: q.host, window, bucketMs });
  const s = pickSeries(all, q.select);
  const utilisation = s?.unit === '1';
  const threshold = q.threshold ?? (utilisation ? 1 : undefined);
  const base: Prediction = {
    resourceType: q.resourceType,
    host: q.host,
    labels: s?.labels ?? {},
    unit: s?.unit ?? '',
    horizon: q.horizon,
    stepMs: 0,
    historyPoints: s?.values.length ?? 0,
    method: 'none',
    period: 0,
    period2: 0,
    points: [],
    accuracy: null,
    exhaustion: null,
  };
  if (!s || s.values.length < 3) {
    return {
      ...base,
      note: `not enough history for ${q.resourceType} on ${q.host}: ${s?.values.length ?? 0} points between ${new Date(Number(window.fromNs / 1_000_000n)).toISOString()} and ${new Date(Number(window.toNs / 1_000_000n)).toISOString()} (set from/to/window for older data)`,
    };
  }
  const natural = medianStep(s.times) || 10_000;
  // At most MAX_STEPS steps of history: a long history is read at a coarser step, not fitted point by point.
  const span = s.times[s.times.length - 1]! - s.times[0]!;
  const step =
    NICE_STEPS.find((n) => n >= Math.max(natural, horizonMs / 300, span / MAX_STEPS)) ??
    NICE_STEPS[NICE_STEPS.length - 1]!;
  const grid = toRegularGrid(s.times, s.values, step);
  if (grid.values.length < 3) {
    return { ...base, stepMs: step, note: `history spans fewer than 3 steps of ${step / 1000} s` };
  }
  if (grid.filled > grid.values.length / 2) {
    return {
      ...base,
      stepMs: step,
      note: `history too sparse: ${grid.filled} of ${grid.values.length} steps of ${step / 1000} s have no data`,
    };
  }
  const horizon = Math.max(1, Math.round(horizonMs / step));
  const r = await forecastInWorker(grid.values, {
    startMs: grid.startMs,
    stepMs: step,
    horizon,
    period: Math.round(DAY / step),
    // A weekly season beside the daily one where two weeks of history exist (the forecaster decides).
    period2: 7 * Math.round(DAY / step),
    // Utilisations stay in [0, 1] and the built-in rates are never negative; other series (an imported
    // temperature) are not bounded.
    ...(utilisation
      ? { bounds: [0, 1] as const }
      : (RESOURCE_TYPES as readonly string[]).includes(q.resourceType)
        ? { bounds: [0, Number.POSITIVE_INFINITY] as const }
        : {}),
  });
  let exhaustion: Exhaustion | null = null;
  if (threshold !== undefined) {
    const hours = s.times.map((t) => t / 3_600_000);
    const { slope, intercept } = linearFit(hours, s.values);
    const atHours = slope > 0 ? (threshold - intercept) / slope : Number.NaN;
    const p50 = crossing(r.points, 'value', threshold);
    const lastMs = s.times[s.times.length - 1]!;
    // Beyond what a Date can hold (a slope of nearly zero puts the crossing aeons away) is "never".
    const linearMs =
      Number.isFinite(atHours) && atHours * 3_600_000 >= lastMs && atHours * 3_600_000 <= MAX_DATE_MS
        ? atHours * 3_600_000
        : null;
    exhaustion = {
      threshold,
      p10: crossing(r.points, 'upper80', threshold),
      p50,
      p90: crossing(r.points, 'lower80', threshold),
      linear: linearMs === null ? null : new Date(linearMs).toISOString(),
      withinHorizon: p50 !== null,
      explanation: explainExhaustion({
        threshold,
        unit: s.unit,
        method: r.method,
        horizon: q.horizon,
        stepMs: step,
        lastMs,
        lastValue: s.values[s.values.length - 1]!,
        historyMs: lastMs - s.times[0]!,
        forecast: r.points,
        p50Ms: p50 === null ? null : Date.parse(p50),
        linearMs,
        lineSlopePerDay: slope * 24,
      }),
    };
  }
  const rough =
    r.accuracy === null
      ? {
          note: `only ${grid.values.length} steps of history: too few to measure accuracy, treat this forecast as rough`,
        }
      : {};
  return {
    ...base,
    ...rough,
    stepMs: step,
    historyPoints: grid.values.length,
    method: r.method,
    period: r.period,
    period2: r.period2,
    points: r.points.map((p) => ({ ...p, timestamp: new Date(p.timestamp).toISOString() })),
    accuracy: r.accuracy,
    exhaustion,
  };
}
