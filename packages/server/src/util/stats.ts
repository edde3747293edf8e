/**
 * Small exact statistics over arrays of numbers.
 * @module
 */

/**
 * Quantile of ascending-sorted values, linear interpolation between closest ranks (Hyndman & Fan 1996
 * type 7 — numpy's default, DuckDB's `quantile_cont`). 0 for no values.
 * @param q - 0..1.
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const r = q * (sorted.length - 1);
  const lo = Math.floor(r);
  const a = sorted[lo]!;
  return lo + 1 < sorted.length ? a + (r - lo) * (sorted[lo + 1]! - a) : a;
}

/**
 * Ordinary least-squares line through (x, y).
 * @returns slope and intercept; slope 0 when x has no spread.
 */
export function linearFit(x: readonly number[], y: readonly number[]): { slope: number; intercept: number } {
  const n = Math.min(x.length, y.length);
  if (n === 0) return { slope: 0, intercept: 0 };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
