/**
 * A small log-bucketed histogram of durations for a cache's load time percentiles: buckets grow by 5%
 * from 1 µs, so a quantile is within 2.5% of the true value (the relative-error idea of DDSketch,
 * Masson et al., VLDB 2019, without its merging).
 * @module
 */

const GAMMA = 1.05;
const LOG_GAMMA = Math.log(GAMMA);
const MIN_MS = 0.001;

/** Durations in ms. */
export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private max = 0;

  /** Records one duration, ms (negative values count as 0). */
  record(ms: number): void {
    const v = Math.max(MIN_MS, ms);
    const i = Math.ceil(Math.log(v / MIN_MS) / LOG_GAMMA);
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.total += 1;
    if (v > this.max) this.max = v;
  }

  /** Durations recorded. */
  get count(): number {
    return this.total;
  }

  /** The q-quantile (0..1) in ms, or 0 when empty; never above the largest value recorded. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i)!;
      // The bucket (γ^(i−1), γ^i] is reported by its midpoint in relative terms.
      if (seen >= rank) return Math.min(this.max, (MIN_MS * GAMMA ** i * 2) / (1 + GAMMA));
    }
    return this.max;
  }
}
