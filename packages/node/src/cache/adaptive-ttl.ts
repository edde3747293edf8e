/**
 * Adaptive TTL per key group: learn how fast the source changes and set the TTL so that the share of
 * reads that see a stale value stays under a target, between configured bounds.
 *
 * The model: a key's source value changes as a Poisson process of rate λ (Cho & Garcia-Molina,
 * "Estimating Frequency of Change", ACM TOIT 2003). Each reload compares the new value with the cached
 * one: an interval of age `a` that saw a change or not. With n intervals of mean age ā and X changed,
 * λ̂ = −ln((n − X + 0.5) / (n + 0.5)) / ā (their bias-reduced estimator). An explicit invalidation counts
 * as a change. The counts decay (each new observation weighs the old ones by `decay`), so the estimate
 * follows a source whose rate moves.
 *
 * The TTL: a read at a uniform time within a TTL T sees a stale value with probability
 * s(T) = 1 − (1 − e^(−λT)) / (λT); the TTL is the largest T with s(T) ≤ target, found by bisection, then
 * clamped to [minTtlMs, maxTtlMs], and it may at most double per update (so a few unchanged reloads do
 * not jump to the maximum). This is the staleness side of the TTL trade-off studied by Basu et al.,
 * "Adaptive TTL-Based Caching for Content Delivery" (d-TTL/f-TTL, IEEE/ACM ToN 2018), who tune a TTL
 * towards a hit-ratio target; here the target is freshness, and a longer TTL only raises the hit ratio.
 * @module
 */

/** Options of adaptive TTL. */
export interface AdaptiveTtlOptions {
  /** Smallest TTL, ms (default 1 s). */
  minTtlMs?: number;
  /** Largest TTL, ms (default 1 h). */
  maxTtlMs?: number;
  /** Largest acceptable share of reads that see a stale value (default 0.05). */
  maxStaleness?: number;
  /** Observations needed before the TTL leaves its starting value (default 5). */
  minObservations?: number;
  /** Weight kept by older observations at each new one (default 0.98: about the last 50). */
  decay?: number;
}

/** What a group has learned. */
export interface TtlEstimate {
  /** The TTL now used, ms. */
  ttlMs: number;
  /** Estimated changes per hour of one key's source (λ̂), or null before enough observations. */
  changesPerHour: number | null;
  /** Expected share of reads that are stale at this TTL (0..1), or null when unknown. */
  expectedStaleness: number | null;
  /** Reloads and invalidations observed (decayed count). */
  observations: number;
}

/** s(T) for x = λT. */
export function staleShare(x: number): number {
  if (x <= 1e-9) return x / 2;
  return 1 - (1 - Math.exp(-x)) / x;
}

/** The largest x = λT with s(x) ≤ target (bisection; s is increasing). */
export function solveStaleShare(target: number): number {
  let lo = 0;
  let hi = 1;
  while (staleShare(hi) <= target && hi < 1e6) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (staleShare(mid) <= target) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The learned TTL of one key group. */
export class AdaptiveTtl {
  private n = 0;
  private changed = 0;
  private ageSum = 0;
  private ttl: number;
  private readonly min: number;
  private readonly max: number;
  private readonly target: number;
  private readonly minObs: number;
  private readonly decay: number;

  /**
   * @param startTtlMs - the TTL until enough is observed (the cache's default TTL).
   * @throws RangeError naming the option when a bound is out of range.
   */
  constructor(startTtlMs: number, o: AdaptiveTtlOptions = {}) {
    this.min = o.minTtlMs ?? 1000;
    this.max = o.maxTtlMs ?? 3_600_000;
    this.target = o.maxStaleness ?? 0.05;
    this.minObs = o.minObservations ?? 5;
    this.decay = o.decay ?? 0.98;
    if (!(this.min > 0)) throw new RangeError(`adaptiveTtl.minTtlMs: must be > 0, got ${this.min}`);
    if (!(this.max >= this.min)) {
      throw new RangeError(`adaptiveTtl.maxTtlMs: must be ≥ minTtlMs (${this.min}), got ${this.max}`);
    }
    if (!(this.target > 0 && this.target < 1)) {
      throw new RangeError(`adaptiveTtl.maxStaleness: expected 0 < x < 1, got ${this.target}`);
    }
    if (!(this.decay > 0 && this.decay <= 1)) {
      throw new RangeError(`adaptiveTtl.decay: expected 0 < x ≤ 1, got ${this.decay}`);
    }
    this.ttl = Math.min(this.max, Math.max(this.min, startTtlMs > 0 ? startTtlMs : this.min));
  }

  /** The TTL to use now, ms. */
  get ttlMs(): number {
    return this.ttl;
  }

  /**
   * Records one interval: the cached value was `ageMs` old when it was reloaded (or invalidated), and
   * the source had `changed` (or not) in that time.
   */
  observe(ageMs: number, changed: boolean): void {
    if (!(ageMs >= 0) || !Number.isFinite(ageMs)) return;
    this.n = this.n * this.decay + 1;
    this.changed = this.changed * this.decay + (changed ? 1 : 0);
    this.ageSum = this.ageSum * this.decay + ageMs;
    if (this.n >= this.minObs) this.update();
  }

  /** λ̂ in changes per ms, or undefined before enough observations. */
  private rate(): number | undefined {
    if (this.n < this.minObs || this.ageSum <= 0) return undefined;
    const meanAge = this.ageSum / this.n;
    return -Math.log((this.n - this.changed + 0.5) / (this.n + 0.5)) / meanAge;
  }

  private update(): void {
    const lambda = this.rate();
    if (lambda === undefined) return;
    const ideal = lambda > 0 ? solveStaleShare(this.target) / lambda : Number.POSITIVE_INFINITY;
    const next = Math.min(this.max, Math.max(this.min, Math.min(ideal, 2 * this.ttl)));
    this.ttl = Math.round(next);
  }

  /** What has been learned. */
  estimate(): TtlEstimate {
    const lambda = this.rate();
    return {
      ttlMs: this.ttl,
      changesPerHour: lambda === undefined ? null : lambda * 3_600_000,
      expectedStaleness: lambda === undefined ? null : staleShare(lambda * this.ttl),
      observations: this.n,
    };
  }
}
