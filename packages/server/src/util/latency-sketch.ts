/**
 * Latency sketches: DDSketch with 1% relative accuracy, serialised for per-minute rollups.
 *
 * A DDSketch [1] maps each value v > 0 to the bucket ⌈log_γ v⌉ with γ = (1+α)/(1−α); any quantile it
 * returns is within a factor (1 ± α) of the true value of that rank. Sketches with the same α merge
 * exactly by adding bucket counts, so a percentile over any window is the percentile of the merged
 * per-minute sketches, with the same 1% bound. Memory: one counter per occupied bucket; latencies
 * from 0.01 ms to 10 minutes need at most ~900 buckets at α = 1%, typically a few dozen.
 *
 * [1] C. Masson, J. E. Rim, H. K. Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with
 *     Relative-Error Guarantees", PVLDB 12(12), 2019. https://arxiv.org/abs/1908.10693
 *     Implementation: `@datadog/sketches-js`.
 * @module
 */
import { DDSketch } from '@datadog/sketches-js';

/** Relative accuracy α of every sketch siperf stores. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

export type LatencySketch = DDSketch;

/** A new empty sketch with α = 1%. */
export function newSketch(): LatencySketch {
  return new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
}

/** Sketch → bytes (DDSketch protobuf format, portable to other DDSketch implementations). */
export function sketchToBytes(sketch: LatencySketch): Uint8Array {
  return sketch.toProto();
}

/** Bytes from {@link sketchToBytes} → sketch. `min`/`max` are not kept by the format; store them apart. */
export function sketchFromBytes(bytes: Uint8Array): LatencySketch {
  return DDSketch.fromProto(bytes);
}

/**
 * Value at quantile `q` (0..1) of a sketch, within 1% of the true value; 0 for an empty sketch.
 * DDSketch's rank convention: the value at rank ⌊q·(n−1)⌋ (0-based), i.e. the lower neighbour, as
 * `quantile_disc`/nearest-rank does.
 */
export function quantile(sketch: LatencySketch, q: number): number {
  return sketch.count === 0 ? 0 : sketch.getValueAtQuantile(q);
}

/**
 * How many recorded values are ≤ `threshold` (zeros included). Values within 1% of the threshold may
 * fall on either side (the bucket that holds the threshold is counted in).
 */
export function countAtMost(sketch: LatencySketch, threshold: number): number {
  if (threshold < 0) return 0;
  let n = sketch.zeroCount;
  if (threshold === 0) return n;
  const limitKey = sketch.mapping.key(threshold);
  const store = sketch.store;
  for (let i = 0; i < store.bins.length; i++) {
    const c = store.bins[i] ?? 0;
    if (c !== 0 && i + store.offset <= limitKey) n += c;
  }
  return n;
}
