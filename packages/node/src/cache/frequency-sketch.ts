/**
 * The frequency sketch of TinyLFU (Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache
 * Admission Policy", ACM TOS 2017): a count-min sketch of 4-bit counters, depth 4, packed two to a byte,
 * with aging — when the number of increments reaches the sample size (10 × the cache's maximum, as in
 * Caffeine) every counter is halved, so the sketch forgets old popularity.
 * @module
 */
import { fmix32 } from './hash.ts';

const SEEDS = [0x97cb3127, 0xb4b82e6b, 0x9e3779b9, 0xc2b2ae35] as const;

/** Estimates how often a key (by its 32-bit hash) was seen recently, capped at 15. */
export class FrequencySketch {
  private table: Uint8Array;
  private mask: number;
  private additions = 0;
  /** Increments between two halvings. */
  sampleSize: number;

  /** @param capacity - the cache's maximum entries (the sketch has ≥ that many counters per row). */
  constructor(capacity: number) {
    const width = 4 * 2 ** Math.ceil(Math.log2(Math.max(16, capacity)));
    this.table = new Uint8Array((width * 4) >>> 1);
    this.mask = width - 1;
    this.sampleSize = 10 * Math.max(16, capacity);
  }

  /** Counters per row. */
  get width(): number {
    return this.mask + 1;
  }

  /** Bytes held by the counters. */
  get bytes(): number {
    return this.table.byteLength;
  }

  private index(hash: number, row: number): number {
    return row * (this.mask + 1) + (fmix32(hash ^ SEEDS[row]!) & this.mask);
  }

  private counter(i: number): number {
    const b = this.table[i >>> 1]!;
    return i & 1 ? b >>> 4 : b & 15;
  }

  /** The estimated count (0..15): the smallest of the key's four counters. */
  frequency(hash: number): number {
    let f = 15;
    for (let r = 0; r < 4; r++) {
      const c = this.counter(this.index(hash, r));
      if (c < f) f = c;
    }
    return f;
  }

  /** Counts one occurrence; halves all counters every `sampleSize` increments. */
  increment(hash: number): void {
    let added = false;
    for (let r = 0; r < 4; r++) {
      const i = this.index(hash, r);
      const j = i >>> 1;
      const b = this.table[j]!;
      if (i & 1) {
        if (b >>> 4 < 15) {
          this.table[j] = b + 16;
          added = true;
        }
      } else if ((b & 15) < 15) {
        this.table[j] = b + 1;
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.reset();
  }

  /** Halves every counter (the aging step). */
  reset(): void {
    const t = this.table;
    // Each nibble halves independently: shift the byte right and drop the bit that crossed over.
    for (let j = 0; j < t.length; j++) t[j] = (t[j]! >>> 1) & 0x77;
    this.additions = this.additions >>> 1;
  }
}
