/**
 * 32-bit hashes of cache keys for the frequency sketch and for SHARDS sampling.
 * @module
 */

/** A cache key: a string or a number (numbers are hashed by value, so 1 and '1' differ). */
export type CacheKey = string | number;

/** Final mix of MurmurHash3 (Appleby): spreads every input bit over the 32 output bits. */
export function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The key's 32-bit hash: FNV-1a over the UTF-16 code units of a string, or the two 32-bit halves of a
 * number, then {@link fmix32}. Stable across processes (no random seed).
 */
export function hashKey(key: CacheKey): number {
  if (typeof key === 'number') {
    if (Number.isInteger(key) && key >= 0 && key <= 0xffffffff) return fmix32(key ^ 0x9e3779b9);
    const hi = Math.floor(key / 4294967296);
    return fmix32(Math.imul(hi ^ 0x85ebca6b, 0x9e3779b1) ^ (key >>> 0));
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return fmix32(h);
}
