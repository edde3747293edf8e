/**
 * Online miss-ratio curve of an LRU cache from sampled reuse distances: SHARDS (Waldspurger, Park,
 * Garthwaite & Ahmad, "Efficient MRC Construction with SHARDS", USENIX FAST 2015), fixed-size variant.
 *
 * A reference is sampled when its key's hash (a seed different from the frequency sketch's) falls below
 * a threshold T, i.e. at rate R = T / 2³². For sampled keys the reuse distance (distinct sampled keys
 * referenced since the key's previous reference) comes from a Fenwick tree over reference times, and is
 * scaled by 1/R. When more than `maxKeys` keys are tracked, T drops to the largest tracked hash, which is
 * evicted (so memory stays bounded whatever the key space). The hit ratio at size C is the weighted share
 * of references with scaled distance < C. At R = 1 the curve is exact (Mattson et al. 1970).
 * Approximates the curve of LRU: W-TinyLFU usually does at least as well, so the curve is a floor.
 * @module
 */
import { fmix32 } from './hash.ts';

/** One point of a miss-ratio curve. */
export interface MissRatioPoint {
  /** Cache size, entries. */
  size: number;
  /** Estimated hit ratio of an LRU cache of that size, 0..1. */
  hitRatio: number;
}

/** Options of {@link ShardsMrc}. */
export interface ShardsOptions {
  /** Starting sampling rate, 0..1 (default 1: exact until `maxKeys` keys are seen). */
  rate?: number;
  /** Most keys tracked at once (default 8192). */
  maxKeys?: number;
  /** Histogram bucket width in entries (default 1: exact distances). */
  bucket?: number;
}

/** A max-heap of 32-bit hashes, to find the largest tracked one. */
class MaxHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! >= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! > a[m]!) m = l;
        if (r < a.length && a[r]! > a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** Estimates an LRU miss-ratio curve from a stream of key hashes. */
export class ShardsMrc {
  private threshold: number;
  private readonly maxKeys: number;
  private readonly bucket: number;
  /** key hash → time of its last reference. */
  private readonly last = new Map<number, number>();
  private readonly heap = new MaxHeap();
  private tree: Float64Array;
  private time = 0;
  /** Weighted reference counts by bucket of scaled distance; `cold` for first references. */
  private readonly histogram = new Map<number, number>();
  private cold = 0;
  private total = 0;
  /** Every reference, sampled or not. */
  private requests = 0;

  constructor(o: ShardsOptions = {}) {
    const rate = o.rate ?? 1;
    if (!(rate > 0 && rate <= 1)) throw new RangeError(`rate: expected 0 < rate ≤ 1, got ${rate}`);
    this.threshold = Math.floor(rate * 4294967296);
    this.maxKeys = o.maxKeys ?? 8192;
    this.bucket = Math.max(1, o.bucket ?? 1);
    this.tree = new Float64Array(2 * this.maxKeys + 2);
  }

  /** The current sampling rate. */
  get rate(): number {
    return this.threshold / 4294967296;
  }

  /** References recorded (weighted: an estimate of all references, sampled or not). */
  get references(): number {
    return this.total;
  }

  /** Records a reference to the key with this 32-bit hash (see `hashKey`). */
  record(keyHash: number): void {
    this.requests += 1;
    const h = fmix32(keyHash ^ 0x5bd1e995);
    if (h >= this.threshold) return;
    const weight = 1 / this.rate;
    const prev = this.last.get(h);
    if (this.time + 1 >= this.tree.length) this.compact();
    const now = ++this.time;
    if (prev === undefined) {
      this.cold += weight;
      this.heap.push(h);
    } else {
      // Distinct keys referenced after prev: the number of "last reference" marks in (prev, now).
      const distance = this.sum(now - 1) - this.sum(prev);
      const scaled = distance / this.rate;
      const b = Math.floor(scaled / this.bucket);
      this.histogram.set(b, (this.histogram.get(b) ?? 0) + weight);
      this.add(prev, -1);
    }
    this.add(now, 1);
    this.last.set(h, now);
    this.total += weight;
    if (this.last.size > this.maxKeys) this.lowerThreshold();
  }

  /**
   * Estimated LRU hit ratios at the given sizes (entries). SHARDS_adj: the difference between all
   * references and the weighted sampled ones is added to the smallest distance, which corrects the
   * bias of a sample that happens to hold more or fewer references than its share.
   */
  curve(sizes: readonly number[]): MissRatioPoint[] {
    const buckets = [...this.histogram.entries()].sort((a, b) => a[0] - b[0]);
    const adjust = this.requests - this.total;
    return sizes.map((size) => {
      let hits = size > 0 ? adjust : 0;
      for (const [b, w] of buckets) {
        // A reference hits in a cache of `size` when its reuse distance is below the size.
        const lo = b * this.bucket;
        if (lo + this.bucket <= size) hits += w;
        else if (lo < size) hits += (w * (size - lo)) / this.bucket;
        else break;
      }
      return { size, hitRatio: this.requests > 0 ? Math.min(1, Math.max(0, hits / this.requests)) : 0 };
    });
  }

  private lowerThreshold(): void {
    while (this.last.size > this.maxKeys) {
      const top = this.heap.pop();
      if (top === undefined) break;
      this.threshold = top;
      const t = this.last.get(top);
      if (t !== undefined) {
        this.add(t, -1);
        this.last.delete(top);
      }
    }
  }

  /** Renumbers the live last-reference times 1..n in order, so the tree never runs out. */
  private compact(): void {
    const live = [...this.last.entries()].sort((a, b) => a[1] - b[1]);
    this.tree = new Float64Array(Math.max(this.tree.length, 2 * live.length + 2));
    this.time = 0;
    for (const [h] of live) {
      const t = ++this.time;
      this.last.set(h, t);
      this.add(t, 1);
    }
  }

  private add(i: number, v: number): void {
    for (let j = i; j < this.tree.length; j += j & -j) this.tree[j]! += v;
  }

  private sum(i: number): number {
    let s = 0;
    for (let j = i; j > 0; j -= j & -j) s += this.tree[j]!;
    return s;
  }
}
