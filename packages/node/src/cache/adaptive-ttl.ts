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
 * clamped to [minTtlMs, maxTtlMs].
 *
 * The estimate must not outrun its evidence: the TTL is set from an upper confidence bound on λ, not from
 * λ̂ — the Wilson score upper bound (z = 1.96) on the share of intervals that saw a change, q⁺, gives
 * λ⁺ = −ln(1 − q⁺) / ā — so eleven unchanged reloads (q⁺ ≈ 0.26) justify a TTL of about a fifth of
 * their mean age, not the maximum. Further: while no change has been seen the TTL never drops below its
 * starting value (no evidence either way), it grows at most ×2 per update, and only up to the observed
 * time divided by `minObservedTtls` (the evidence must span several TTLs). A periodic source is
 * estimated at least as fast as a Poisson one of the same period (P(change in a) = a/P ≥ 1 − e^(−a/P)),
 * so the bound holds for it too; the tests check both. This is the staleness side of the TTL trade-off studied by Basu et al.,
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
  /** The TTL grows only while the observed time (summed interval ages, decayed) is at least this many TTLs (default 3). */
  minObservedTtls?: number;
}

/** What a group has learned. */
export interface TtlEstimate {
  /** The TTL now used, ms. */
  ttlMs: number;
  /** Estimated changes per hour of one key's source (λ̂), or null before enough observations. */
  changesPerHour: number | null;
  /** Upper confidence bound (z = 1.96) on the changes per hour, from which the TTL is set, or null. */
  changesPerHourUpper: number | null;
  /** Expected share of reads that are stale at this TTL (0..1), or null when unknown. */
  expectedStaleness: number | null;
  /** Reloads and invalidations observed (decayed count). */
  observations: number;
}

/** z of the one-sided 97.5% upper confidence bound on the change rate. */
const Z = 1.96;

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
  private readonly minObserved: number;

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
    this.minObserved = o.minObservedTtls ?? 3;
    if (!(this.minObserved >= 0 && this.minObserved <= 1000)) {
      throw new RangeError(`adaptiveTtl.minObservedTtls: expected 0..1000, got ${this.minObserved}`);
    }
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
    return Math.max(0, -Math.log((this.n - this.changed + 0.5) / (this.n + 0.5)) / meanAge);
  }

  /** λ⁺: the upper confidence bound on the rate, per ms, or undefined before enough observations. */
  private upperRate(): number | undefined {
    if (this.n < this.minObs || this.ageSum <= 0) return undefined;
    const n = this.n;
    const q = Math.min(1, Math.max(0, this.changed / n));
    const z2 = Z * Z;
    // Wilson score interval, upper end.
    const upper = (q + z2 / (2 * n) + Z * Math.sqrt((q * (1 - q)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
    const meanAge = this.ageSum / n;
    return -Math.log(Math.max(1e-12, 1 - Math.min(upper, 1 - 1e-12))) / meanAge;
  }

  private update(): void {
    const upper = this.upperRate();
    if (upper === undefined) return;
    let next = solveStaleShare(this.target) / upper;
    // No change seen yet: no evidence that the starting TTL is too long.
    if (next < this.ttl && this.changed < 0.5) return;
    if (next > this.ttl)
      next = Math.min(next, 2 * this.ttl, Math.max(this.ttl, this.ageSum / this.minObserved));
    this.ttl = Math.round(Math.min(this.max, Math.max(this.min, next)));
  }

  /** What has been learned. */
  estimate(): TtlEstimate {
    const lambda = this.rate();
    const upper = this.upperRate();
    return {
      ttlMs: this.ttl,
      changesPerHour: lambda === undefined ? null : lambda * 3_600_000,
      changesPerHourUpper: upper === undefined ? null : upper * 3_600_000,
      expectedStaleness: lambda === undefined ? null : staleShare(lambda * this.ttl),
      observations: this.n,
    };
  }
}
