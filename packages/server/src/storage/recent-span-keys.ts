/**
 * Remembers the (traceId, spanId) of recently written spans so that an exporter's retry of a batch the
 * server already stored counts once.
 *
 * Two generations of hash sets rotate: when the current one holds `generationSize` keys it becomes the
 * previous one and the old previous one is dropped, so at least the last `generationSize` spans (and at
 * most twice that) are remembered. Keys are 52-bit hashes of the two ids (random ids make this nearly
 * collision-free: with 2 M keys remembered, the chance that any new span is taken for a duplicate is
 * about 2·10⁶ / 2⁵² ≈ 4.4·10⁻¹⁰ per span). Memory: ~40 bytes per key.
 * @module
 */

/** 52-bit hash of a trace id and span id given as lower-case hex. */
export function spanKeyHash(traceId: string, spanId: string): number {
  const a = Number.parseInt(spanId.slice(0, 13), 16);
  const b = Number.parseInt(traceId.slice(19, 32), 16);
  // XOR of two 52-bit values via their 26-bit halves (JS bit operators are 32-bit).
  const hi = (Math.floor(a / 2 ** 26) ^ Math.floor(b / 2 ** 26)) >>> 0;
  const lo = ((a % 2 ** 26) ^ (b % 2 ** 26)) >>> 0;
  return hi * 2 ** 26 + lo;
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
