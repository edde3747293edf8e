/**
 * Remembers the (traceId, spanId) of recently written spans so that an exporter's retry of a batch the
 * server already stored counts once.
 *
 * Two generations of hash sets rotate: when the current one holds `generationSize` keys it becomes the
 * previous one and the old previous one is dropped, so at least the last `generationSize` spans (and at
 * most twice that) are remembered. Keys are 52-bit hashes of both full ids: with 2 M keys remembered, the
 * chance that a new span is taken for a duplicate is about 2·10⁶ / 2⁵² ≈ 4.4·10⁻¹⁰ per span.
 * Memory: ~40 bytes per key.
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

/** Recently seen span keys. */
export class RecentSpanKeys {
  private current = new Set<number>();
  private previous = new Set<number>();

  /** @param generationSize - keys per generation; default 1,000,000 (at least that many recent spans remembered). */
  constructor(private readonly generationSize = 1_000_000) {}

  /** Whether the key was seen. */
  has(key: number): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  /** Remembers a key. */
  add(key: number): void {
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(key);
  }
}
