/**
 * Predictions of a resource: its history resampled to a step that fits the horizon (at most ~300 steps
 * ahead, never finer than the data), forecast with prediction intervals (`forecast/forecaster.ts`), and —
 * for what fills up (utilisations: disk, memory, CPU; or a given threshold) — when it crosses the
 * threshold as a range: P10 when the upper 80% bound crosses, P50 the forecast, P90 the lower bound.
 * @module
 */
import type { MetricReader } from '../storage/index.ts';
import { linearFit } from '../util/stats.ts';
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
    exhaustion = {
      threshold,
      p10: crossing(r.points, 'upper80', threshold),
      p50,
      p90: crossing(r.points, 'lower80', threshold),
      linear:
        Number.isFinite(atHours) && atHours * 3_600_000 >= s.times[s.times.length - 1]!
          ? new Date(atHours * 3_600_000).toISOString()
          : null,
      withinHorizon: p50 !== null,
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
    points: r.points.map((p) => ({ ...p, timestamp: new Date(p.timestamp).toISOString() })),
    accuracy: r.accuracy,
    exhaustion,
  };
}
