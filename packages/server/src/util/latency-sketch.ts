/**
 * Latency sketches: DDSketch [1] over non-negative values (durations in ms), 1% relative accuracy,
 * with a compact binary form for per-minute rollups that merges without building objects.
 *
 * What it estimates: the value at any quantile q. A value v > 0 goes to bucket k = ⌈ln v / ln γ⌉ with
 * γ = (1 + α)/(1 − α); the bucket's representative value 2γᵏ/(γ + 1) is within a factor (1 ± α) of
 * every value in it, so the value returned for a rank is within α = 1% of the true value at that rank.
 * Values below 1e-9 (and 0) are counted in a separate zero bucket. Quantiles interpolate linearly
 * between the two closest ranks (`quantile_cont` convention); `valueAtRank` gives the value at one rank,
 * as the reference implementations [2] do.
 *
 * Merging: sketches with the same α merge exactly by adding bucket counts, so a percentile over any
 * window is the percentile of the merged per-minute sketches, with the same 1% bound. `mergeBytes` adds a
 * serialised sketch straight into an accumulator (no intermediate object), which is what makes a
 * 24-hour query over thousands of rollup rows cheap.
 *
 * Memory: one 64-bit counter per bucket between the smallest and largest occupied bucket; durations
 * from 1 µs to 1 hour span ~1,460 buckets at α = 1%, typically a few dozen to a few hundred are used.
 * Binary form (little-endian): u8 version (2), u8 flags (0), i16 minKey, u32 bucket count n,
 * f64 zero count, then n counts as unsigned LEB128 varints (1 byte for counts below 128, so a minute's
 * sketch takes ~1–2 bytes per bucket; rollup reads move this data, so its size is the query's cost).
 *
 * [1] C. Masson, J. E. Rim, H. K. Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with
 *     Relative-Error Guarantees", PVLDB 12(12), 2019. https://arxiv.org/abs/1908.10693
 * [2] DataDog/sketches-js and sketches-go, `LogarithmicMapping` and `DenseStore.keyAtRank`.
 * @module
 */

/** Relative accuracy α of every sketch siperf stores. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

const GAMMA = 1 + (2 * SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const MULTIPLIER = 1 / Math.log(GAMMA);
const MIN_INDEXABLE = 1e-9;
const HEADER_BYTES = 16;
const VERSION = 2;

/** Bucket of a positive value. */
function keyOf(value: number): number {
  return Math.ceil(Math.log(value) * MULTIPLIER);
}

/** Representative value of a bucket (within α of every value that maps to it). */
function bucketValue(key: number): number {
  return (GAMMA ** key * 2) / (1 + GAMMA);
}

/** A DDSketch of non-negative values (α = 1%). */
export class LatencySketch {
  /** Counts of buckets minKey … minKey + bins.length − 1. */
  private bins = new Float64Array(0);
  private minKey = 0;
  /** Values below 1e-9, zeros included. */
  zeroCount = 0;
  /** All values recorded. */
  count = 0;

  /**
   * Records a value (ms). Negative, infinite and NaN values are ignored (a duration cannot be negative).
   * @param weight - how many times; default 1.
   */
  accept(value: number, weight = 1): void {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    this.count += weight;
    if (value < MIN_INDEXABLE) {
      this.zeroCount += weight;
      return;
    }
    const key = keyOf(value);
    this.ensure(key, key);
    this.bins[key - this.minKey]! += weight;
  }

  /** Buckets allocated (8 bytes each); stays within ~1.25× the range of keys seen, plus 64. */
  get capacity(): number {
    return this.bins.length;
  }

  /** Adds another sketch's counts into this one. */
  merge(other: LatencySketch): void {
    this.count += other.count;
    this.zeroCount += other.zeroCount;
    if (other.bins.length === 0) return;
    this.ensure(other.minKey, other.minKey + other.bins.length - 1);
    const off = other.minKey - this.minKey;
    for (let i = 0; i < other.bins.length; i++) this.bins[off + i]! += other.bins[i]!;
  }

  /**
   * Adds a sketch in binary form (from {@link LatencySketch.toBytes}) into this one.
   * @throws Error when the bytes are not a version-1 sketch.
   */
  mergeBytes(bytes: Uint8Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < HEADER_BYTES || view.getUint8(0) !== VERSION) {
      throw new Error(`not a siperf latency sketch (${bytes.byteLength} bytes, version ${bytes[0]})`);
    }
    const minKey = view.getInt16(2, true);
    const n = view.getUint32(4, true);
    const zero = view.getFloat64(8, true);
    this.zeroCount += zero;
    this.count += zero;
    if (n === 0) return;
    this.ensure(minKey, minKey + n - 1);
    const bins = this.bins;
    const end = bytes.byteLength;
    let at = minKey - this.minKey;
    let pos = HEADER_BYTES;
    let total = 0;
    for (let i = 0; i < n; i++, at++) {
      if (pos >= end) throw new Error(`latency sketch truncated at bucket ${i} of ${n}`);
      let c = bytes[pos++]!;
      if (c >= 0x80) {
        // A multi-byte varint: a count of 128 or more in one bucket.
        c &= 0x7f;
        let shift = 128;
        let byte: number;
        do {
          if (pos >= end) throw new Error(`latency sketch truncated at bucket ${i} of ${n}`);
          byte = bytes[pos++]!;
          c += (byte & 0x7f) * shift;
          shift *= 128;
        } while (byte >= 0x80);
      }
      if (c !== 0) {
        bins[at]! += c;
        total += c;
      }
    }
    if (pos !== bytes.byteLength)
      throw new Error(`latency sketch has ${bytes.byteLength - pos} bytes after its last bucket`);
    this.count += total;
  }

  /** Binary form: 16 bytes + a varint per bucket between the lowest and highest occupied one. */
  toBytes(): Uint8Array {
    let lo = 0;
    let hi = this.bins.length - 1;
    while (lo <= hi && this.bins[lo] === 0) lo++;
    while (hi >= lo && this.bins[hi] === 0) hi--;
    const n = hi >= lo ? hi - lo + 1 : 0;
    const out = new Uint8Array(HEADER_BYTES + 8 * n);
    const view = new DataView(out.buffer);
    view.setUint8(0, VERSION);
    view.setInt16(2, n > 0 ? this.minKey + lo : 0, true);
    view.setUint32(4, n, true);
    view.setFloat64(8, this.zeroCount, true);
    let pos = HEADER_BYTES;
    for (let i = 0; i < n; i++) {
      let c = Math.round(this.bins[lo + i]!);
      while (c >= 0x80) {
        out[pos++] = (c % 0x80) | 0x80;
        c = Math.floor(c / 0x80);
      }
      out[pos++] = c;
    }
    return out.slice(0, pos);
  }

  /** A sketch from its binary form. @throws Error on malformed bytes. */
  static fromBytes(bytes: Uint8Array): LatencySketch {
    const s = new LatencySketch();
    s.mergeBytes(bytes);
    return s;
  }

  /**
   * Value at quantile q (0..1), interpolated linearly between the two closest ranks: with r = q·(n − 1),
   * the value at rank ⌊r⌋ plus (r − ⌊r⌋) times the step to rank ⌈r⌉ (Hyndman & Fan type 7, the convention
   * of DuckDB's `quantile_cont`, PostgreSQL's `percentile_cont` and numpy's default). Each of the two
   * values is within 1% of the true one, so the result is within 1% of the exact interpolated quantile.
   * 0 for an empty sketch.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.min(Math.max(q, 0), 1) * (this.count - 1);
    const lo = Math.floor(rank);
    const low = this.valueAtRank(lo);
    return rank === lo ? low : low + (rank - lo) * (this.valueAtRank(lo + 1) - low);
  }

  /** Value at 0-based rank (the lower neighbour convention of DDSketch's `getValueAtQuantile`). */
  valueAtRank(rank: number): number {
    if (rank < this.zeroCount) return 0;
    let cumulative = this.zeroCount;
    for (let i = 0; i < this.bins.length; i++) {
      cumulative += this.bins[i]!;
      if (cumulative > rank) return bucketValue(this.minKey + i);
    }
    return bucketValue(this.minKey + this.bins.length - 1);
  }

  /**
   * How many recorded values are ≤ `threshold` (zeros included). Values within 1% of the threshold may be
   * counted on either side: the bucket that holds the threshold is counted in.
   */
  countAtMost(threshold: number): number {
    if (!(threshold >= 0)) return 0;
    if (threshold < MIN_INDEXABLE) return this.zeroCount;
    const limit = keyOf(threshold) - this.minKey;
    let n = this.zeroCount;
    for (let i = 0; i < this.bins.length && i <= limit; i++) n += this.bins[i]!;
    return n;
  }

  /** Grows the bucket array to cover keys lo..hi. */
  private ensure(lo: number, hi: number): void {
    if (this.bins.length === 0) {
      this.minKey = lo;
      this.bins = new Float64Array(Math.max(hi - lo + 1, 32));
      return;
    }
    const curHi = this.minKey + this.bins.length - 1;
    if (lo >= this.minKey && hi <= curHi) return;
    // Grow with slack on the side that grew (a quarter of the range, at least 32 keys), so a run of
    // ever smaller (or larger) values costs O(log n) copies and the array stays within ~1.25× the keys
    // in use. (Doubling whatever the side once let a slowly falling minimum blow the array up to 2^32.)
    const needed = Math.max(hi, curHi) - Math.min(lo, this.minKey) + 1;
    const slack = Math.max(32, needed >> 2);
    const newLo = lo < this.minKey ? Math.min(lo, this.minKey) - slack : this.minKey;
    const newHi = hi > curHi ? Math.max(hi, curHi) + slack : curHi;
    const grown = new Float64Array(newHi - newLo + 1);
    grown.set(this.bins, this.minKey - newLo);
    this.bins = grown;
    this.minKey = newLo;
  }
}

/** A new empty sketch with α = 1%. */
export function newSketch(): LatencySketch {
  return new LatencySketch();
}

/** Sketch → bytes. */
export function sketchToBytes(sketch: LatencySketch): Uint8Array {
  return sketch.toBytes();
}

/** Bytes → sketch. @throws Error on malformed bytes. */
export function sketchFromBytes(bytes: Uint8Array): LatencySketch {
  return LatencySketch.fromBytes(bytes);
}

/** Value at quantile q of a sketch (see {@link LatencySketch.quantile}). */
export function quantile(sketch: LatencySketch, q: number): number {
  return sketch.quantile(q);
}

/** Values ≤ threshold in a sketch (see {@link LatencySketch.countAtMost}). */
export function countAtMost(sketch: LatencySketch, threshold: number): number {
  return sketch.countAtMost(threshold);
}
