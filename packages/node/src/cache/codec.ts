/**
 * Value codecs for caches that store outside the process (Redis): JSON by default, or any pair of
 * functions. The codec's output is also how a reloaded value is compared with the cached one for the
 * adaptive TTL.
 * @module
 */

/** Turns values into strings and back. `decode(encode(v))` must equal `v` for the values you cache. */
export interface Codec<V> {
  encode(value: V): string;
  decode(text: string): V;
}

/** JSON (`undefined` is not a cacheable value; `Date` comes back as a string, as JSON does). */
export const jsonCodec: Codec<unknown> = {
  encode: (value) => {
    const s = JSON.stringify(value);
    if (s === undefined) throw new TypeError('value: not representable in JSON (undefined or a function)');
    return s;
  },
  decode: (text) => JSON.parse(text),
};
