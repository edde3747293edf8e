/**
 * The frequency sketch of TinyLFU (Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache
 * Admission Policy", ACM TOS 2017): a count-min sketch of 4-bit counters, depth 4, packed two to a byte,
 * with aging — when the number of increments reaches the sample size (10 × the cache's maximum, as in
 * Caffeine) every counter is halved, so the sketch forgets old popularity.
 * @module
 */
/**
 * Layout (Caffeine 3's block-based sketch): the table is split in 64-byte blocks of 128 counters, four
 * rows of 32; a key's four counters are all in one block (one CPU cache line), the block chosen by the
 * top bits of hash × φ and the counter within each row by 5 bits of a second multiplicative hash.
 */
const BLOCK_COUNTERS = 128;

/**
 * Re-mixes the caller's hash (as Caffeine's sketch spreads `hashCode()` before indexing), so a hash
 * with fewer than 32 significant bits — the memory store keeps 26 — still reaches every block and
 * counter evenly.
 */
function spread(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}

/** Estimates how often a key (by its 32-bit hash) was seen recently, capped at 15. */
export class FrequencySketch {
  private table!: Uint8Array;
  private blockShift = 0;
  private blocks = 0;
  private additions = 0;
  /** Entries the sketch is sized for. */
  capacity = 0;
  /** Increments between two halvings. */
  sampleSize = 0;

  /** @param capacity - the entries to size for (see {@link FrequencySketch.ensureCapacity}). */
  constructor(capacity: number) {
    this.ensureCapacity(capacity);
  }

  /**
   * Sizes the sketch for `capacity` entries: 16 counters (8 bytes) per entry, as Caffeine, at least 2
   * blocks. Growing starts the counts afresh (as Caffeine's `ensureCapacity` does); it never shrinks.
   */
  ensureCapacity(capacity: number): void {
    const c = Math.max(16, capacity);
    if (c <= this.capacity) return;
    this.capacity = 2 ** Math.ceil(Math.log2(c));
    this.blocks = Math.max(2, this.capacity / 8);
    this.table = new Uint8Array((this.blocks * BLOCK_COUNTERS) >>> 1);
    this.blockShift = 32 - Math.log2(this.blocks);
    this.sampleSize = 10 * this.capacity;
    this.additions = 0;
  }

  /** Bytes held by the counters. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** The estimated count (0..15): the smallest of the key's four counters. */
  frequency(key: number): number {
    const hash = spread(key);
    const base = (Math.imul(hash, 0x9e3779b1) >>> this.blockShift) * BLOCK_COUNTERS;
    const h2 = Math.imul(hash, 0x85ebca6b);
    const t = this.table;
    let f = 15;
    for (let r = 0; r < 4; r++) {
      const i = base + r * 32 + ((h2 >>> (r * 5 + 7)) & 31);
      const b = t[i >>> 1]!;
      const c = i & 1 ? b >>> 4 : b & 15;
      if (c < f) f = c;
    }
    return f;
  }

  /** Counts one occurrence; halves all counters every `sampleSize` increments. */
  increment(key: number): void {
    const hash = spread(key);
    const base = (Math.imul(hash, 0x9e3779b1) >>> this.blockShift) * BLOCK_COUNTERS;
    const h2 = Math.imul(hash, 0x85ebca6b);
    const t = this.table;
    let added = false;
    for (let r = 0; r < 4; r++) {
      const i = base + r * 32 + ((h2 >>> (r * 5 + 7)) & 31);
      const j = i >>> 1;
      const b = t[j]!;
      if (i & 1) {
        if (b < 0xf0) {
          t[j] = b + 16;
          added = true;
        }
      } else if ((b & 15) < 15) {
        t[j] = b + 1;
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.reset();
  }

  /**
   * Counts `n` occurrences at once (1 ≤ n ≤ 15): as `n` calls of {@link FrequencySketch.increment}, the
   * key's counters reached once, except that the halving, when due, comes after all `n` instead of
   * between two of them.
   */
  add(key: number, n: number): void {
    const hash = spread(key);
    const base = (Math.imul(hash, 0x9e3779b1) >>> this.blockShift) * BLOCK_COUNTERS;
    const h2 = Math.imul(hash, 0x85ebca6b);
    const t = this.table;
    let least = 15;
    for (let r = 0; r < 4; r++) {
      const i = base + r * 32 + ((h2 >>> (r * 5 + 7)) & 31);
      const j = i >>> 1;
      const b = t[j]!;
      if (i & 1) {
        const c = b >>> 4;
        if (c < least) least = c;
        t[j] = (b & 15) | (Math.min(15, c + n) << 4);
      } else {
        const c = b & 15;
        if (c < least) least = c;
        t[j] = (b & 0xf0) | Math.min(15, c + n);
      }
    }
    // increment() counts an addition while any of the key's counters is below 15: the smallest is.
    this.additions += Math.min(n, 15 - least);
    if (this.additions >= this.sampleSize) this.reset();
  }

  /** Halves every counter (the aging step). */
  reset(): void {
    const t = this.table;
    // Each nibble halves independently: shift the byte right and drop the bit that crossed over.
    for (let j = 0; j < t.length; j++) t[j] = (t[j]! >>> 1) & 0x77;
    this.additions = this.additions >>> 1;
  }
}
