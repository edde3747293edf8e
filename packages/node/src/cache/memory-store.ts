/**
 * The in-memory cache store: bounded by entries or by bytes, evicting by W-TinyLFU (a window LRU in front
 * of a segmented LRU main space, admission by a {@link FrequencySketch}, the window resized by a
 * {@link HillClimber}) or by plain LRU, with a per-entry expiry and a stale grace period.
 *
 * Sources: Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission Policy" (ACM TOS 2017)
 * for the window, the SLRU main (80% protected) and the admission rule; Caffeine (Ben Manes) for the 1%
 * starting window, the adaptive window, and the admission of a warm candidate with probability 1/128
 * when it loses (so an attacker cannot pin the victim by colliding hashes).
 *
 * Layout: entries live in slots of parallel typed arrays (previous/next links, a word holding the hash,
 * the segment, the reference bit and the pending hits, weight, expiry, and the two numbers `createCache`
 * keeps per entry) with one `Map` from key to slot, as
 * `lru-cache` does, so a hit allocates nothing. Three circular lists with sentinels 0, 1 and 2: the
 * window, the probation and the protected segments; the head of each list is its oldest entry.
 *
 * The hit path does no list work under W-TinyLFU and touches the sketch once per eight hits of a key:
 * a hit reads the entry's word; when its reference bit is clear it sets it and appends the key's hash
 * to a read buffer that feeds the frequency sketch 64 entries at a time (after Caffeine's read buffer,
 * single-threaded); when the bit is set it counts the hit in the word's 3 pending bits, and the eighth
 * such hit goes to the buffer as one entry standing for eight. Pending hits are flushed to the buffer
 * whenever the bit is cleared or the entry leaves, so every hit is counted, as before, only later (a
 * random hit into a 1 M-entry cache would otherwise cost a cache miss in an 8 MB sketch each time).
 * The segments are ordered when they are used, second-chance (CLOCK) style: an entry found referenced
 * at the head of the window or of the protected segment goes back to its tail with the bit cleared, as
 * a move at the hit would have placed it (Corbató's CLOCK as an LRU approximation). A hit in probation
 * is the one hit that moves an entry: it is promoted to protected at once (TinyLFU's SLRU, as Caffeine's
 * `reorderProbation`); deferring that promotion to when the hand reached the entry cost 1.2 points on
 * the loop trace at 500 entries and 0.5 on P6 at 65,536 (`bench:cache-hits`, static window). The
 * protected segment's overflow is demoted at the next eviction rather than at the hit (Caffeine demotes
 * in `demoteFromMainProtected` during maintenance): demoting at the hit cost half the get-hit
 * throughput on uniform keys at 1 M entries. The cost is the same, one demotion per promoting hit at
 * most, but it is paid by the next set that evicts, which after a long run of hits without a miss can
 * move that many entries at once. An update of a probation entry only sets its bit,
 * promoted when the hand reaches it. LRU (`policy: 'lru'`)
 * stays exact: a hit moves the entry.
 * Synchronous; not safe across worker threads.
 * @module
 */
import { coarseNow } from './coarse-clock.ts';
import { FrequencySketch } from './frequency-sketch.ts';
import { type CacheKey, hashKey } from './hash.ts';
import { HillClimber } from './hill-climber.ts';

/** Eviction policy: W-TinyLFU with the adaptive window (default) or least recently used. */
export type EvictionPolicy = 'w-tinylfu' | 'lru';

/** Why an entry left. */
export type RemovalCause = 'size' | 'expired' | 'explicit' | 'replaced';

/** Options of {@link MemoryStore}. Give `maxEntries` or `maxBytes`. */
export interface MemoryStoreOptions<V> {
  /** Capacity in entries (each entry weighs 1). */
  maxEntries?: number | undefined;
  /** Capacity in bytes, each entry weighing `sizeOf(key, value)`. */
  maxBytes?: number | undefined;
  /** Bytes of an entry for `maxBytes` (default: an estimate from the key and a JSON-like walk of the value). */
  sizeOf?: ((key: CacheKey, value: V) => number) | undefined;
  /** Default `w-tinylfu`. */
  policy?: EvictionPolicy | undefined;
  /** Resize the W-TinyLFU window by hill climbing (default true; false keeps it at 1%). */
  adaptiveWindow?: boolean | undefined;
  /** Requests per hill-climbing sample (default 10 × capacity in entries, as Caffeine). */
  climberSampleSize?: number | undefined;
  /** Called after an entry leaves. */
  onRemove?: ((key: CacheKey, value: V, cause: RemovalCause) => void) | undefined;
  /**
   * Clock, ms (default: `Date.now()` read at most once per 256 calls and per turn of the event loop,
   * see `coarse-clock.ts`, so hits on expiring entries do not each read the clock).
   */
  now?: (() => number) | undefined;
}

/** Counters of a {@link MemoryStore} since it was made. */
export interface MemoryStoreCounters {
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
}

const READ_BUFFER = 64;
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
const FIRST_SLOT = 3;
const NONE = 0xffffffff;
/**
 * A slot's word (an Int32Array element): the reference bit (sign bit), the segment (2 bits), the hits
 * not yet counted in the sketch (3 bits, only while the reference bit is set) and a 26-bit hash.
 */
const REF = 0x80000000 | 0;
const QUEUE_SHIFT = 29;
const QUEUE_MASK = 3 << QUEUE_SHIFT;
const PENDING_SHIFT = 26;
const PENDING_ONE = 1 << PENDING_SHIFT;
const PENDING_MASK = 7 << PENDING_SHIFT;
const HASH_MASK = (1 << PENDING_SHIFT) - 1;
/** In the read buffer: a hash and, above it, how many hits it stands for (1..8). */
const COUNT_SHIFT = 26;

/** Most objects, arrays, Map and Set entries one {@link estimateBytes} call walks. */
export const MAX_SIZED_NODES = 100_000;

/** What {@link estimateBytes} returns for a value it cannot size: more than any bound, so it is refused. */
export const UNSIZABLE = Number.MAX_SAFE_INTEGER;

/**
 * Rough bytes of a value held in memory: strings 2 bytes a character, numbers 8, binary data its length,
 * plain objects, arrays, `Map` and `Set` walked to any depth (each object counted once, so shared and
 * cyclic references are fine). A value with more than {@link MAX_SIZED_NODES} objects and entries is not
 * walked to the end: it is {@link UNSIZABLE}, so a byte-bounded cache refuses it rather than under-count
 * it (give `sizeOf` for such values).
 */
export function estimateBytes(value: unknown): number {
  if (typeof value !== 'object' || value === null) return primitiveBytes(value);
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  let n = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) {
      n += primitiveBytes(v);
      continue;
    }
    if (seen.has(v)) {
      n += 8;
      continue;
    }
    seen.add(v);
    if (seen.size > MAX_SIZED_NODES) return UNSIZABLE;
    if (ArrayBuffer.isView(v)) n += 64 + v.byteLength;
    else if (v instanceof ArrayBuffer) n += 64 + v.byteLength;
    else if (v instanceof Date) n += 32;
    else if (Array.isArray(v)) {
      n += 32 + 8 * v.length;
      for (const x of v) stack.push(x);
    } else if (v instanceof Map) {
      n += 64 + 24 * v.size;
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Set) {
      n += 64 + 16 * v.size;
      for (const x of v) stack.push(x);
    } else {
      n += 32;
      for (const k of Object.keys(v)) {
        n += 16 + 2 * k.length;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
    if (stack.length > MAX_SIZED_NODES) return UNSIZABLE;
  }
  return n;
}

function primitiveBytes(value: unknown): number {
  return typeof value === 'string' ? 16 + 2 * value.length : 8;
}

/** A bounded in-memory key-value store. Expiry times are absolute ms; 0 means never. */
export class MemoryStore<V> {
  /** Capacity in weight units (entries or bytes). */
  readonly maximum: number;
  readonly policy: EvictionPolicy;
  readonly weighted: boolean;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private expirations = 0;
  private readonly map = new Map<CacheKey, number>();
  private keys: (CacheKey | undefined)[] = [];
  private values: (V | undefined)[] = [];
  private prev: Uint32Array;
  private next: Uint32Array;
  /**
   * Per slot: the reference bit (sign bit, set by a hit under W-TinyLFU), the segment (2 bits), the hits
   * not yet in the sketch (3 bits) and the key's 26-bit hash for the sketch, so a hit reads one word.
   */
  private words: Int32Array;
  /**
   * Per-slot weights (only with `maxBytes`), expiries, graces, and the caller's two numbers (see
   * {@link MemoryStore.set}): allocated when first needed.
   */
  private weights: Uint32Array | undefined;
  private expires: Float64Array | undefined;
  private graces: Uint32Array | undefined;
  private stamps: Float64Array | undefined;
  private costs: Float32Array | undefined;
  /** Exact LRU: a hit moves the entry (no reference bits). */
  private readonly exactLru: boolean;
  private free: number[] = [];
  private top = FIRST_SLOT;
  private capacity: number;
  private readonly sketch: FrequencySketch | undefined;
  private sketchMax = 0;
  /**
   * Hits waiting to be counted in the sketch, each entry a hash and the hits it stands for (1..8, above
   * bit 26), counted 64 entries at a time (as Caffeine's read buffer): the
   * increments of a batch are independent, so their cache misses overlap instead of queueing behind each
   * get. Drained before every admission decision, so no decision uses stale counts.
   */
  private readonly readBuffer = new Uint32Array(READ_BUFFER);
  private readCount = 0;
  private readonly climber: HillClimber | undefined;
  /** Requests counted towards the climber's sample, and the hits at the sample's start. */
  private sampled = 0;
  private sampleEvery = Number.POSITIVE_INFINITY;
  private sampleHits = 0;
  private readonly sizeOf: (key: CacheKey, value: V) => number;
  private readonly onRemove: MemoryStoreOptions<V>['onRemove'];
  private readonly now: () => number;
  private windowMax: number;
  private protectedMax: number;
  private windowWeight = 0;
  private protectedWeight = 0;
  private totalWeight = 0;
  private seed = 0x2545f491;
  /** Where the next bounded {@link MemoryStore.purgeExpired} starts. */
  private cursor = FIRST_SLOT;

  /** @throws RangeError when neither or both of `maxEntries`/`maxBytes` is a positive integer. */
  constructor(o: MemoryStoreOptions<V>) {
    const byEntries = o.maxEntries !== undefined;
    if (byEntries === (o.maxBytes !== undefined)) {
      throw new RangeError('maxEntries / maxBytes: give exactly one');
    }
    const max = byEntries ? o.maxEntries! : o.maxBytes!;
    const field = byEntries ? 'maxEntries' : 'maxBytes';
    if (!Number.isSafeInteger(max) || max < 1 || max > 2 ** 31) {
      throw new RangeError(`${field}: expected an integer 1..2147483648, got ${max}`);
    }
    this.maximum = max;
    this.weighted = !byEntries;
    this.policy = o.policy ?? 'w-tinylfu';
    this.exactLru = this.policy === 'lru';
    this.sizeOf = o.sizeOf ?? ((k, v) => estimateBytes(k) + estimateBytes(v) + 96);
    this.onRemove = o.onRemove;
    this.now = o.now ?? coarseNow;
    this.capacity = FIRST_SLOT + (byEntries ? Math.min(max, 1024) : 1024);
    this.prev = new Uint32Array(this.capacity);
    this.next = new Uint32Array(this.capacity);
    this.words = new Int32Array(this.capacity);
    if (this.weighted) this.weights = new Uint32Array(this.capacity);
    for (let s = 0; s < FIRST_SLOT; s++) {
      this.prev[s] = s;
      this.next[s] = s;
    }
    if (this.policy === 'lru') {
      this.windowMax = max;
      this.protectedMax = 0;
    } else {
      this.windowMax = Math.max(1, Math.floor(max * 0.01));
      this.protectedMax = Math.floor(0.8 * (max - this.windowMax));
      // Sketch counters scale with the entries the cache can hold (estimated for a byte bound).
      // A byte bound holds at most one entry per 64 bytes (the smallest estimate of an entry).
      const entries = byEntries ? max : Math.max(1024, Math.floor(max / 64));
      // Sized to what the cache holds, growing with it up to the capacity (a large bound costs nothing
      // until it fills).
      this.sketchMax = entries;
      this.sketch = new FrequencySketch(Math.min(entries, 1024));
      if (o.adaptiveWindow !== false) {
        this.climber = new HillClimber(max, o.climberSampleSize ?? 10 * entries);
        this.sampleEvery = this.climber.sampleSize;
      }
    }
  }

  /** Hit and miss counts, evictions and expirations (a copy). */
  get counters(): MemoryStoreCounters {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
    };
  }

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** Total weight held (entries, or bytes with `maxBytes`). */
  get weight(): number {
    return this.totalWeight;
  }

  /** The current W-TinyLFU window capacity (weight units). */
  get windowCapacity(): number {
    return this.windowMax;
  }

  /** Bytes of the frequency sketch. */
  get sketchBytes(): number {
    return this.sketch?.bytes ?? 0;
  }

  /** Whether `key` holds a fresh value (no side effects on recency or counters). */
  has(key: CacheKey): boolean {
    const s = this.map.get(key);
    return s !== undefined && !this.isExpired(s, this.exp(s) === 0 ? 0 : this.now(), false);
  }

  /**
   * The fresh value of `key`, recording a hit or a miss and the access. A stale value (past its expiry
   * but within its grace) counts as a miss and is kept for {@link MemoryStore.getStale}.
   */
  get(key: CacheKey): V | undefined {
    const s = this.map.get(key);
    if (s === undefined || (this.expires !== undefined && this.expiredOnRead(s))) {
      this.misses += 1;
      if (++this.sampled >= this.sampleEvery) this.climb();
      return undefined;
    }
    this.hits += 1;
    if (this.exactLru) this.moveLast(WINDOW, s);
    else {
      // W-TinyLFU: no list work. The first hit since the hand last passed sets the reference bit and
      // buffers the hash for the sketch; later ones are counted in the word, eight at a time.
      const word = this.words[s]!;
      if ((word & QUEUE_MASK) === PROBATION << QUEUE_SHIFT) {
        // A probation hit earns the protected segment at once (TinyLFU's SLRU, as Caffeine's
        // reorderProbation); see the module comment for what deferring it cost. Protected's overflow
        // goes back to probation at the next eviction, not here (Caffeine demotes in its maintenance).
        this.readBuffer[this.readCount] = (word & HASH_MASK) | (1 << COUNT_SHIFT);
        if (++this.readCount === READ_BUFFER) this.drainReads();
        this.unreference(s);
        this.moveLast(PROTECTED, s);
        this.protectedWeight += this.w(s);
      } else if (word >= 0) {
        this.words[s] = word | REF;
        this.readBuffer[this.readCount] = (word & HASH_MASK) | (1 << COUNT_SHIFT);
        if (++this.readCount === READ_BUFFER) this.drainReads();
      } else if ((word & PENDING_MASK) !== PENDING_MASK) this.words[s] = word + PENDING_ONE;
      else {
        this.words[s] = word & ~PENDING_MASK;
        this.readBuffer[this.readCount] = (word & HASH_MASK) | (8 << COUNT_SHIFT);
        if (++this.readCount === READ_BUFFER) this.drainReads();
      }
      if (++this.sampled >= this.sampleEvery) this.climb();
    }
    return this.values[s];
  }

  /** Whether a present entry reads as expired now (a miss); removes it when past its grace too. */
  private expiredOnRead(s: number): boolean {
    const exp = this.expires![s]!;
    return exp !== 0 && this.isExpired(s, this.now(), true);
  }

  /**
   * The value of `key` even when it is stale (within its grace), with its expiry; no counters change.
   * `undefined` when absent or past its grace.
   */
  getStale(key: CacheKey): { value: V; expiresAt: number } | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    const exp = this.exp(s);
    if (exp !== 0 && exp + this.grace(s) <= this.now()) {
      this.removeSlot(s, 'expired');
      return undefined;
    }
    return { value: this.values[s] as V, expiresAt: exp };
  }

  /** Expiry (absolute ms, 0 for never) of a present entry. */
  expiresAt(key: CacheKey): number | undefined {
    const s = this.map.get(key);
    return s === undefined ? undefined : this.exp(s);
  }

  /** Whether `key` is held, fresh or stale (no side effects). */
  contains(key: CacheKey): boolean {
    return this.map.has(key);
  }

  /** The `stamp` given with the entry's last {@link MemoryStore.set} (0 when absent or none). */
  stampOf(key: CacheKey): number {
    const s = this.map.get(key);
    return s === undefined || this.stamps === undefined ? 0 : this.stamps[s]!;
  }

  /** The `cost` given with the entry's last {@link MemoryStore.set}, as a float32 (0 when absent or none). */
  costOf(key: CacheKey): number {
    const s = this.map.get(key);
    return s === undefined || this.costs === undefined ? 0 : this.costs[s]!;
  }

  /**
   * Stores `value` under `key`.
   * @param expiresAt - absolute ms after which the value is stale (0: never).
   * @param graceMs - how long a stale value is kept for stale-while-revalidate, ms.
   * @param stamp - a number kept with the entry (`createCache`: when it was stored, ms), read by
   *   {@link MemoryStore.stampOf}; its column is allocated on the first non-zero value.
   * @param cost - a second number kept with the entry as a float32 (`createCache`: the load's duration,
   *   ms), read by {@link MemoryStore.costOf}; allocated on the first non-zero value.
   * @returns false when the entry alone weighs more than the capacity (nothing is stored). An entry that
   *   loses admission at once is not held either: check {@link MemoryStore.contains}.
   */
  set(key: CacheKey, value: V, expiresAt = 0, graceMs = 0, stamp = 0, cost = 0): boolean {
    let w = 1;
    if (this.weighted) {
      const size = this.sizeOf(key, value);
      if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
        throw new TypeError(`sizeOf: must return a finite number ≥ 0 of bytes, got ${String(size)}`);
      }
      w = Math.max(1, Math.ceil(size));
    }
    const old = this.map.get(key);
    if (w > this.maximum) {
      if (old !== undefined) this.removeSlot(old, 'replaced');
      return false;
    }
    if (old !== undefined) {
      const before = this.values[old] as V;
      this.values[old] = value;
      this.setExpiry(old, expiresAt, graceMs);
      this.setNumbers(old, stamp, cost);
      this.reweigh(old, w);
      this.sketch?.increment(this.words[old]! & HASH_MASK);
      this.touch(old);
      this.onRemove?.(key, before, 'replaced');
      this.evict();
      return true;
    }
    const s = this.allocate();
    const hash = this.sketch ? hashKey(key) & HASH_MASK : 0;
    if (this.sketch && this.map.size >= this.sketch.capacity && this.sketch.capacity < this.sketchMax) {
      this.sketch.ensureCapacity(Math.min(this.sketchMax, 2 * this.sketch.capacity));
    }
    this.map.set(key, s);
    this.keys[s] = key;
    this.values[s] = value;
    this.words[s] = hash;
    if (this.weights) this.weights[s] = w;
    this.setExpiry(s, expiresAt, graceMs);
    this.setNumbers(s, stamp, cost);
    this.sketch?.increment(hash);
    this.linkLast(WINDOW, s);
    this.windowWeight += w;
    this.totalWeight += w;
    this.evict();
    return true;
  }

  /** Removes `key`. @returns whether it was present. */
  delete(key: CacheKey): boolean {
    const s = this.map.get(key);
    if (s === undefined) return false;
    this.removeSlot(s, 'explicit');
    return true;
  }

  /** Removes every entry whose key matches. @returns how many. */
  deleteWhere(match: (key: CacheKey) => boolean): number {
    let n = 0;
    for (const [key, s] of [...this.map]) {
      if (match(key)) {
        this.removeSlot(s, 'explicit');
        n += 1;
      }
    }
    return n;
  }

  /** Removes everything. */
  clear(): void {
    for (const s of [...this.map.values()]) this.removeSlot(s, 'explicit');
  }

  /**
   * Removes entries past their grace, checking at most `limit` slots from where the previous call
   * stopped (a cursor that wraps around), so a bounded call costs O(limit) however large the store.
   * @returns how many were removed.
   */
  purgeExpired(limit = Number.POSITIVE_INFINITY): number {
    if (this.expires === undefined || this.map.size === 0) return 0;
    const now = this.now();
    const slots = this.top - FIRST_SLOT;
    const checks = Math.min(limit, slots);
    let n = 0;
    for (let i = 0; i < checks; i++) {
      if (this.cursor < FIRST_SLOT || this.cursor >= this.top) this.cursor = FIRST_SLOT;
      const s = this.cursor++;
      if (this.keys[s] === undefined) continue;
      const exp = this.expires[s]!;
      if (exp !== 0 && exp + this.grace(s) <= now) {
        this.removeSlot(s, 'expired');
        n += 1;
      }
    }
    return n;
  }

  /** Keys from most to least recently used within each segment (protected, probation, window). */
  *keysByRecency(): Generator<CacheKey> {
    for (const q of [PROTECTED, PROBATION, WINDOW]) {
      for (let s = this.prev[q]!; s !== q; s = this.prev[s]!) yield this.keys[s]!;
    }
  }

  /** The frequency estimate (0..15) of a key; 0 under LRU. */
  frequency(key: CacheKey): number {
    if (this.sketch === undefined) return 0;
    const s = this.map.get(key);
    if (s !== undefined) {
      const word = this.words[s]!;
      this.words[s] = word & ~PENDING_MASK;
      this.flushPending(word);
    }
    if (this.readCount > 0) this.drainReads();
    return this.sketch.frequency(hashKey(key) & HASH_MASK);
  }

  // --- internals ---

  private exp(s: number): number {
    return this.expires === undefined ? 0 : this.expires[s]!;
  }

  private grace(s: number): number {
    return this.graces === undefined ? 0 : this.graces[s]!;
  }

  private w(s: number): number {
    return this.weights === undefined ? 1 : this.weights[s]!;
  }

  private setExpiry(s: number, expiresAt: number, graceMs: number): void {
    if (expiresAt !== 0 && !this.expires) this.expires = new Float64Array(this.capacity);
    if (this.expires) this.expires[s] = expiresAt;
    if (graceMs !== 0 && !this.graces) this.graces = new Uint32Array(this.capacity);
    if (this.graces) this.graces[s] = Math.min(graceMs, 0xffffffff);
  }

  private setNumbers(s: number, stamp: number, cost: number): void {
    if (stamp !== 0 && !this.stamps) this.stamps = new Float64Array(this.capacity);
    if (this.stamps) this.stamps[s] = stamp;
    if (cost !== 0 && !this.costs) this.costs = new Float32Array(this.capacity);
    if (this.costs) this.costs[s] = cost;
  }

  private isExpired(s: number, now: number, remove: boolean): boolean {
    const exp = this.exp(s);
    if (exp === 0 || exp > now) return false;
    // Stale: keep it within its grace for stale-while-revalidate; drop it afterwards.
    if (remove && exp + this.grace(s) <= now) this.removeSlot(s, 'expired');
    return true;
  }

  /** A hill-climbing sample is complete: resize the window as the climber says. */
  private climb(): void {
    const hits = this.hits - this.sampleHits;
    const requests = this.sampled;
    this.sampled = 0;
    this.sampleHits = this.hits;
    const adjust = this.climber!.sample(hits, requests);
    if (adjust > 0) this.increaseWindow(adjust);
    else if (adjust < 0) this.decreaseWindow(-adjust);
  }

  private allocate(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.top === this.capacity) this.grow();
    return this.top++;
  }

  private grow(): void {
    const cap = this.weighted
      ? this.capacity * 2
      : Math.min(FIRST_SLOT + this.maximum + 1, this.capacity * 2);
    const g = <T extends Uint32Array | Int32Array | Uint8Array | Float64Array | Float32Array>(
      a: T,
      make: new (n: number) => T,
    ): T => {
      const b = new make(cap);
      b.set(a);
      return b;
    };
    this.prev = g(this.prev, Uint32Array);
    this.next = g(this.next, Uint32Array);
    this.words = g(this.words, Int32Array);
    if (this.weights) this.weights = g(this.weights, Uint32Array);
    if (this.expires) this.expires = g(this.expires, Float64Array);
    if (this.graces) this.graces = g(this.graces, Uint32Array);
    if (this.stamps) this.stamps = g(this.stamps, Float64Array);
    if (this.costs) this.costs = g(this.costs, Float32Array);
    this.capacity = cap;
  }

  private linkLast(q: number, s: number): void {
    const last = this.prev[q]!;
    this.next[last] = s;
    this.prev[s] = last;
    this.next[s] = q;
    this.prev[q] = s;
    this.words[s] = (this.words[s]! & ~QUEUE_MASK) | (q << QUEUE_SHIFT);
  }

  private unlink(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    this.next[p] = n;
    this.prev[n] = p;
  }

  private moveLast(q: number, s: number): void {
    this.unlink(s);
    this.linkLast(q, s);
  }

  /** First (least recently used) slot of a segment, or NONE. */
  private head(q: number): number {
    const s = this.next[q]!;
    return s === q ? NONE : s;
  }

  /** An access other than a read hit (an update): move under LRU, mark referenced under W-TinyLFU. */
  private touch(s: number): void {
    if (this.exactLru) this.moveLast(WINDOW, s);
    else this.words[s] = this.words[s]! | REF;
  }

  private queueOf(s: number): number {
    return (this.words[s]! & QUEUE_MASK) >>> QUEUE_SHIFT;
  }

  private referenced(s: number): boolean {
    return this.words[s]! < 0;
  }

  /** Clears the reference bit, handing the hits still pending in the word to the read buffer. */
  private unreference(s: number): void {
    const word = this.words[s]!;
    this.words[s] = word & ~(REF | PENDING_MASK);
    this.flushPending(word);
  }

  /** Buffers the hits counted in `word`'s pending bits for the sketch. */
  private flushPending(word: number): void {
    const n = (word & PENDING_MASK) >>> PENDING_SHIFT;
    if (n === 0) return;
    this.readBuffer[this.readCount] = (word & HASH_MASK) | (n << COUNT_SHIFT);
    if (++this.readCount === READ_BUFFER) this.drainReads();
  }

  /** A probation entry used again earns the protected segment; the protected overflow goes back. */
  private promote(s: number): void {
    this.unreference(s);
    this.moveLast(PROTECTED, s);
    this.protectedWeight += this.w(s);
    this.demoteProtected();
  }

  /** Protected overflow goes back to probation, oldest first; a referenced one gets a second chance. */
  private demoteProtected(): void {
    while (this.protectedWeight > this.protectedMax) {
      const d = this.head(PROTECTED);
      if (d === NONE) break;
      if (this.referenced(d)) {
        this.unreference(d);
        this.moveLast(PROTECTED, d);
        continue;
      }
      this.moveLast(PROBATION, d);
      this.protectedWeight -= this.w(d);
    }
  }

  private reweigh(s: number, w: number): void {
    const d = w - this.w(s);
    if (d === 0) return;
    if (this.weights) this.weights[s] = w;
    this.totalWeight += d;
    const q = this.queueOf(s);
    if (q === WINDOW) this.windowWeight += d;
    else if (q === PROTECTED) this.protectedWeight += d;
  }

  private removeSlot(s: number, cause: RemovalCause): void {
    const key = this.keys[s]!;
    const value = this.values[s] as V;
    const w = this.w(s);
    const q = this.queueOf(s);
    // Hits not yet counted still count: the key's history outlives the entry, as in the sketch.
    if (this.words[s]! < 0) this.flushPending(this.words[s]!);
    this.unlink(s);
    if (q === WINDOW) this.windowWeight -= w;
    else if (q === PROTECTED) this.protectedWeight -= w;
    this.totalWeight -= w;
    this.map.delete(key);
    this.keys[s] = undefined;
    this.values[s] = undefined;
    this.free.push(s);
    if (cause === 'size') this.evictions += 1;
    else if (cause === 'expired') this.expirations += 1;
    this.onRemove?.(key, value, cause);
  }

  private evict(): void {
    if (this.policy === 'lru') {
      while (this.totalWeight > this.maximum) {
        const v = this.head(WINDOW);
        if (v === NONE) break;
        this.removeSlot(v, 'size');
      }
      return;
    }
    // Protected's overflow from probation hits since the last eviction goes back first.
    if (this.protectedWeight > this.protectedMax) this.demoteProtected();
    // Window overflow moves to probation as a candidate, which must win admission when main is full.
    while (this.windowWeight > this.windowMax) {
      const c = this.head(WINDOW);
      if (c === NONE) break;
      if (this.referenced(c)) {
        // Used since it reached the window or last came round: a second chance in the window.
        this.unreference(c);
        this.moveLast(WINDOW, c);
        continue;
      }
      this.moveLast(PROBATION, c);
      this.windowWeight -= this.w(c);
      this.admitOrReject(c);
    }
    // A heavier replacement can overflow main without a candidate: evict from main's LRU end.
    while (this.totalWeight > this.maximum) {
      const v = this.mainVictim(NONE);
      if (v === NONE) break;
      this.removeSlot(v, 'size');
    }
  }

  /** Main is over capacity with `c` just added: the candidate and the main victim duel. */
  private admitOrReject(c: number): void {
    while (this.totalWeight > this.maximum) {
      const v = this.mainVictim(c);
      if (v === NONE) {
        this.removeSlot(c, 'size');
        return;
      }
      if (this.admit(this.words[c]!, this.words[v]!)) this.removeSlot(v, 'size');
      else {
        this.removeSlot(c, 'size');
        return;
      }
    }
  }

  /**
   * The oldest unreferenced entry of probation, else of protected, that is not `except`. Referenced
   * probation entries met on the way are promoted, referenced protected ones go back to its tail.
   */
  private mainVictim(except: number): number {
    for (;;) {
      let s = this.head(PROBATION);
      if (s === except) s = this.next[s]! === PROBATION ? NONE : this.next[s]!;
      if (s !== NONE) {
        if (!this.referenced(s)) return s;
        this.promote(s);
        continue;
      }
      s = this.head(PROTECTED);
      if (s === NONE) return NONE;
      if (!this.referenced(s)) return s;
      this.unreference(s);
      this.moveLast(PROTECTED, s);
    }
  }

  private drainReads(): void {
    const sketch = this.sketch!;
    const buf = this.readBuffer;
    const n = this.readCount;
    // Reset first: an increment never buffers, but a drain must not see its own entries twice.
    this.readCount = 0;
    for (let i = 0; i < n; i++) {
      const v = buf[i]!;
      const c = v >>> COUNT_SHIFT;
      if (c === 1) sketch.increment(v & HASH_MASK);
      else sketch.add(v & HASH_MASK, c);
    }
  }

  private admit(candidate: number, victim: number): boolean {
    if (this.readCount > 0) this.drainReads();
    const fc = this.sketch!.frequency(candidate & HASH_MASK);
    const fv = this.sketch!.frequency(victim & HASH_MASK);
    if (fc > fv) return true;
    if (fc <= 5) return false;
    // xorshift32: a warm candidate wins 1 time in 128 (hash-flooding protection, as Caffeine).
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return (this.seed & 127) === 0;
  }

  private increaseWindow(amount: number): void {
    const mainMax = this.maximum - this.windowMax;
    const quota = Math.min(Math.floor(amount), Math.max(0, mainMax - 1));
    if (quota <= 0) return;
    this.windowMax += quota;
    this.protectedMax = Math.floor(0.8 * (this.maximum - this.windowMax));
    // Pull the coldest of main into the window until it holds its new share.
    while (this.windowWeight < this.windowMax) {
      let s = this.head(PROBATION);
      if (s === NONE) {
        s = this.head(PROTECTED);
        if (s === NONE) break;
        if (this.referenced(s)) {
          // Used since it last reached the head: not among the coldest (a second chance).
          this.unreference(s);
          this.moveLast(PROTECTED, s);
          continue;
        }
        this.protectedWeight -= this.w(s);
      }
      this.moveLast(WINDOW, s);
      this.windowWeight += this.w(s);
    }
    this.demoteProtected();
  }

  private decreaseWindow(amount: number): void {
    const quota = Math.min(Math.floor(amount), this.windowMax - 1);
    if (quota <= 0) return;
    this.windowMax -= quota;
    this.protectedMax = Math.floor(0.8 * (this.maximum - this.windowMax));
    while (this.windowWeight > this.windowMax) {
      const s = this.head(WINDOW);
      if (s === NONE) break;
      this.unreference(s);
      this.moveLast(PROBATION, s);
      this.windowWeight -= this.w(s);
    }
  }
}
