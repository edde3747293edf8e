/**
 * Puts an irregular series on a regular grid for forecasting: values at equal times are averaged, each
 * grid step takes the mean of the samples that fall in it, and empty steps are filled by linear
 * interpolation between their neighbours (so a gap does not look like a level shift to the model).
 * @module
 */

/** A regular series: `values[i]` at `startMs + i·stepMs`. */
export interface RegularSeries {
  startMs: number;
  stepMs: number;
  values: number[];
  /** Grid steps that had no sample and were interpolated. */
  filled: number;
}

/** The median spacing of sorted times (the series' natural step), at least 1 ms; 0 for < 2 times. */
export function medianStep(times: readonly number[]): number {
  const d: number[] = [];
  for (let i = 1; i < times.length; i++) if (times[i]! > times[i - 1]!) d.push(times[i]! - times[i - 1]!);
  if (d.length === 0) return 0;
  d.sort((a, b) => a - b);
  return Math.max(1, d[Math.floor(d.length / 2)]!);
}

/**
 * Resamples sorted samples onto steps of `stepMs` starting at the first sample's step.
 * @throws RangeError when `stepMs` is not positive or the grid would exceed 2,000,000 steps.
 */
export function toRegularGrid(
  times: readonly number[],
  values: readonly number[],
  stepMs: number,
): RegularSeries {
  if (!(stepMs > 0)) throw new RangeError(`stepMs: must be positive, got ${stepMs}`);
  if (times.length === 0) return { startMs: 0, stepMs, values: [], filled: 0 };
  const start = Math.floor(times[0]! / stepMs) * stepMs;
  const steps = Math.floor((times[times.length - 1]! - start) / stepMs) + 1;
  if (steps > 2_000_000) throw new RangeError(`grid: ${steps} steps of ${stepMs} ms is more than 2,000,000`);
  const sum = new Float64Array(steps);
  const count = new Uint32Array(steps);
  for (let i = 0; i < times.length; i++) {
    const k = Math.floor((times[i]! - start) / stepMs);
    sum[k] = sum[k]! + values[i]!;
    count[k] = count[k]! + 1;
  }
  const out = new Array<number>(steps);
  let filled = 0;
  let prev = -1;
  for (let k = 0; k < steps; k++) {
    if (count[k]! === 0) continue;
    out[k] = sum[k]! / count[k]!;
    if (prev >= 0 && k - prev > 1) {
      for (let j = prev + 1; j < k; j++) {
        out[j] = out[prev]! + ((out[k]! - out[prev]!) * (j - prev)) / (k - prev);
        filled += 1;
      }
    }
    prev = k;
  }
  return { startMs: start, stepMs, values: out, filled };
}
