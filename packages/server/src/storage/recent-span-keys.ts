/**
 * Remembers the (traceId, spanId) of spans the store has written, so that an exporter's retry of a batch
 * the server already stored counts once.
 *
 * What is remembered: every key written within the last `windowNs` of ingest time (default 10 minutes)
 * and at least the last `minKeys` keys (default 1,000,000), however fast spans arrive. The DuckDB store
 * reloads the same set from its file when it opens (`crash-replay.ts`), so this holds across a restart.
 *
 * Layout: keys are 52-bit hashes ({@link spanKeyHash}) in open-addressing tables of doubles (linear
 * probing, at most 3/4 full, 0 marks an empty slot). The newest table doubles up to 2^21 slots (16 MiB,
 * 1.5 M keys), then it is sealed and a new one begins. When a table is sealed, the oldest ones are dropped
 * while their newest key is older than the window and the rest still hold `minKeys`. Memory is 8 bytes a
 * slot, 10.7 bytes a key in a sealed table (a `Set<number>` took ~40): 10 minutes at 10,000 spans/s
 * (6 M keys) take about 64 MB; at low rates the floor of a million keys takes 16–32 MiB. A lookup probes each table (one
 * per 1.5 M keys) about once.
 *
 * False duplicates: a new span is taken for a stored one when its 52-bit key equals one of the n keys
 * remembered, about n / 2^52 per span: 2.2·10⁻¹⁰ with a million keys, 1.3·10⁻⁹ with 6 million.
 * @module
 */

/**
 * 52-bit hash of a trace id and span id (lower-case hex): two 32-bit FNV-1a passes over all 48
 * characters with different offset bases, each finished with a murmur3 avalanche, combined as
 * 32 + 20 bits. Every character counts, so ids that differ in any digit (sequential ids included)
 * get unrelated keys.
 */
export function spanKeyHash(traceId: string, spanId: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < traceId.length; i++) {
    const c = traceId.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  for (let i = 0; i < spanId.length; i++) {
    const c = spanId.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ (c + 0x9e), 0x01000193);
  }
  return (fmix32(a) >>> 0) * 2 ** 20 + (fmix32(b) >>> 12);
}

/** MurmurHash3's 32-bit finaliser. */
function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Slots of a new table (2^10: 8 KiB). */
const FIRST_TABLE_BITS = 10;
/** Slots of a table when it is sealed (2^21: 16 MiB, 1,572,864 keys). */
const SEALED_TABLE_BITS = 21;

/** One open-addressing table of keys, with the newest ingest time among them. */
class KeyTable {
  readonly slots: Float64Array;
  private readonly mask: number;
  private readonly shift: number;
  /** Keys held. */
  size = 0;
  /** Newest ingest time of a key in the table, ns (-1 while empty). */
  newestNs = -1n;

  constructor(readonly bits: number) {
    this.slots = new Float64Array(2 ** bits);
    this.mask = 2 ** bits - 1;
    this.shift = 32 - bits;
  }

  /**
   * First slot of a key: Fibonacci hashing of both halves, so that keys which are not hashes (tests,
   * sequences) spread as well as hashes do.
   */
  private slotOf(key: number): number {
    // `>>> 0` keeps the low 32 bits (exact for integers below 2^53); the division gives the high 20.
    const mixed = (key >>> 0) ^ Math.imul((key / 4_294_967_296) | 0, 0x27d4eb2d);
    return Math.imul(mixed, 0x9e3779b1) >>> this.shift;
  }

  /** Whether the table is as full as it may get (3/4). */
  get full(): boolean {
    return this.size >= this.slots.length * 0.75;
  }

  has(key: number): boolean {
    const stored = key + 1;
    for (let i = this.slotOf(key); ; i = (i + 1) & this.mask) {
      const s = this.slots[i]!;
      if (s === stored) return true;
      if (s === 0) return false;
    }
  }

  /** Adds a key (stored as key + 1, since 0 marks an empty slot). @returns whether it was new. */
  insert(key: number): boolean {
    const stored = key + 1;
    for (let i = this.slotOf(key); ; i = (i + 1) & this.mask) {
      const s = this.slots[i]!;
      if (s === stored) return false;
      if (s === 0) {
        this.slots[i] = stored;
        this.size++;
        return true;
      }
    }
  }

  /** A table twice as large holding the same keys. */
  grown(): KeyTable {
    const t = new KeyTable(this.bits + 1);
    for (const s of this.slots) if (s !== 0) t.insert(s - 1);
    t.newestNs = this.newestNs;
    return t;
  }
}

/** Options of {@link RecentSpanKeys}. */
export interface RecentSpanKeysOptions {
  /** Keys remembered at least, whatever their age. Default 1,000,000. */
  minKeys?: number;
  /** Ingest time within which every key is remembered, ns. Default 10 minutes. */
  windowNs?: bigint;
}

/** Default of {@link RecentSpanKeysOptions.windowNs}: 10 minutes (exporters retry within seconds to minutes). */
export const DEDUP_WINDOW_NS = 600_000_000_000n;
/** Default of {@link RecentSpanKeysOptions.minKeys}. */
export const DEDUP_MIN_KEYS = 1_000_000;

/** Keys of recently written spans: all of the last `windowNs` of ingest time and at least the last `minKeys`. */
export class RecentSpanKeys {
  /** Oldest first; the last one takes new keys. */
  private tables: KeyTable[] = [new KeyTable(FIRST_TABLE_BITS)];
  private total = 0;
  private readonly minKeys: number;
  private readonly windowNs: bigint;

  constructor(options: RecentSpanKeysOptions = {}) {
    this.minKeys = options.minKeys ?? DEDUP_MIN_KEYS;
    this.windowNs = options.windowNs ?? DEDUP_WINDOW_NS;
  }

  /** Keys remembered. */
  get size(): number {
    return this.total;
  }

  /** Bytes held by the tables. */
  get bytes(): number {
    return this.tables.reduce((n, t) => n + t.slots.byteLength, 0);
  }

  /** Whether the key was seen. */
  has(key: number): boolean {
    for (let i = this.tables.length - 1; i >= 0; i--) if (this.tables[i]!.has(key)) return true;
    return false;
  }

  /** Remembers a key written at `ingestNs` (ns since the epoch). */
  add(key: number, ingestNs: bigint): void {
    let t = this.tables[this.tables.length - 1]!;
    if (t.full) {
      if (t.bits < SEALED_TABLE_BITS) {
        t = t.grown();
        this.tables[this.tables.length - 1] = t;
      } else {
        t = new KeyTable(FIRST_TABLE_BITS);
        this.tables.push(t);
        this.forgetOlderThan(ingestNs - this.windowNs);
      }
    }
    if (t.insert(key)) this.total++;
    if (ingestNs > t.newestNs) t.newestNs = ingestNs;
  }

  /**
   * The tables as bytes, in pieces to write one after the other (the slots are views, not copies), for
   * {@link RecentSpanKeys.fromBytes}: `SKEYS1`, the table count (u32), then per table its bits (u32), keys
   * (u32), newest ingest time (i64) and slots (f64 × 2^bits), little-endian.
   */
  toChunks(): Buffer[] {
    const head = Buffer.alloc(10);
    head.write('SKEYS1', 0, 'latin1');
    head.writeUInt32LE(this.tables.length, 6);
    const parts: Buffer[] = [head];
    for (const t of this.tables) {
      const h = Buffer.alloc(16);
      h.writeUInt32LE(t.bits, 0);
      h.writeUInt32LE(t.size, 4);
      h.writeBigInt64LE(t.newestNs, 8);
      parts.push(h, Buffer.from(t.slots.buffer, t.slots.byteOffset, t.slots.byteLength));
    }
    return parts;
  }

  /**
   * The keys that {@link toChunks} wrote, with `options` for what comes next.
   * @returns undefined when the bytes are not such a snapshot (wrong tag, sizes that do not add up).
   */
  static fromBytes(bytes: Uint8Array, options: RecentSpanKeysOptions = {}): RecentSpanKeys | undefined {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 10 || buf.toString('latin1', 0, 6) !== 'SKEYS1') return undefined;
    const count = buf.readUInt32LE(6);
    const keys = new RecentSpanKeys(options);
    const tables: KeyTable[] = [];
    let at = 10;
    for (let i = 0; i < count; i++) {
      if (at + 16 > buf.length) return undefined;
      const bits = buf.readUInt32LE(at);
      if (bits < FIRST_TABLE_BITS || bits > SEALED_TABLE_BITS) return undefined;
      const t = new KeyTable(bits);
      t.size = buf.readUInt32LE(at + 4);
      t.newestNs = buf.readBigInt64LE(at + 8);
      at += 16;
      if (at + t.slots.byteLength > buf.length) return undefined;
      new Uint8Array(t.slots.buffer).set(buf.subarray(at, at + t.slots.byteLength));
      at += t.slots.byteLength;
      tables.push(t);
    }
    if (at !== buf.length || tables.length === 0) return undefined;
    keys.tables = tables;
    keys.total = tables.reduce((n, t) => n + t.size, 0);
    return keys;
  }

  /** Drops the oldest sealed tables whose keys are all older than `cutoffNs`, keeping at least `minKeys`. */
  private forgetOlderThan(cutoffNs: bigint): void {
    while (this.tables.length > 1) {
      const oldest = this.tables[0]!;
      if (oldest.newestNs >= cutoffNs || this.total - oldest.size < this.minKeys) return;
      this.tables.shift();
      this.total -= oldest.size;
    }
  }
}
