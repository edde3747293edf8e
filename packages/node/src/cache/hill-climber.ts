/**
 * Adaptive window sizing for W-TinyLFU by hill climbing on the hit ratio, as Caffeine does since 2.7
 * (Einziger, Eytan, Friedman & Manes, "Adaptive Software Cache Management", Middleware 2018; Caffeine's
 * `BoundedLocalCache.determineAdjustment`): after each sample of requests, keep moving the window size
 * in the direction that raised the hit ratio, reverse when it fell; the step starts at 6.25% of the
 * capacity, decays by 2% per sample, and restarts when the hit ratio moves by 5 points or more (the
 * workload changed).
 * @module
 */

const STEP_PERCENT = 0.0625;
const STEP_DECAY = 0.98;
const RESTART_THRESHOLD = 0.05;

/** Decides window size adjustments from the hit ratio of successive samples. */
export class HillClimber {
  private hits = 0;
  private misses = 0;
  private previousHitRatio = 0;
  private stepSize: number;

  /**
   * @param maximum - the cache's capacity (entries or bytes).
   * @param sampleSize - requests per sample.
   */
  constructor(
    private readonly maximum: number,
    readonly sampleSize: number,
  ) {
    this.stepSize = -STEP_PERCENT * maximum;
  }

  /** Records one request. @returns the window adjustment to apply now (capacity units), or 0. */
  record(hit: boolean): number {
    if (hit) this.hits += 1;
    else this.misses += 1;
    const requests = this.hits + this.misses;
    if (requests < this.sampleSize) return 0;
    const hits = this.hits;
    this.hits = 0;
    this.misses = 0;
    return this.sample(hits, requests);
  }

  /**
   * Closes a sample counted by the caller (`hits` of `requests`, requests > 0): the same decision as
   * {@link HillClimber.record} makes at the end of a sample, without a call per request.
   * @returns the window adjustment to apply now (capacity units).
   */
  sample(hits: number, requests: number): number {
    const hitRatio = hits / requests;
    const change = hitRatio - this.previousHitRatio;
    const amount = change >= 0 ? this.stepSize : -this.stepSize;
    this.stepSize =
      Math.abs(change) >= RESTART_THRESHOLD
        ? STEP_PERCENT * this.maximum * (amount >= 0 ? 1 : -1)
        : STEP_DECAY * amount;
    this.previousHitRatio = hitRatio;
    return amount;
  }
}
