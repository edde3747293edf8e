/**
 * Readers for the values of OTLP messages, whichever way they were decoded: from OTLP/JSON
 * (ids as hex strings, 64-bit integers as strings or numbers, bytes as base64) or from protobuf through
 * protobufjs (ids as `Uint8Array`, 64-bit integers as `Long`). Spec: OTLP "JSON Protobuf Encoding",
 * https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 * @module
 */
import type { Attributes, AttributeValue } from '../model/index.ts';
import { bytesToHex } from '../util/hex-id.ts';

/** protobufjs' representation of a 64-bit integer. */
interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && 'high' in v;
}

/**
 * A 64-bit integer (string, safe number, bigint or Long) as bigint.
 * @returns the value, or `undefined` when absent or not an integer (a number beyond 2^53 is refused: it
 *   has already lost nanoseconds).
 */
export function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'string') {
    if (!/^-?\d+$/.test(v)) return undefined;
    return BigInt(v);
  }
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'bigint') return v;
  if (isLong(v)) {
    const lo = BigInt(v.low >>> 0);
    const hi = BigInt(v.high >>> 0);
    const u = (hi << 32n) | lo;
    return v.unsigned ? u : BigInt.asIntN(64, u);
  }
  return undefined;
}

/** A 64-bit integer as a JS number when it is safe, else its decimal string (so no digit is lost). */
export function toSafeNumberOrString(v: unknown): number | string | undefined {
  const b = toBigInt(v);
  if (b === undefined) return typeof v === 'number' ? v : undefined;
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(b)
    : b.toString();
}

/** An id field: hex text (JSON) or bytes (protobuf) → hex text as sent (case kept), `''` when absent. */
export function idText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return bytesToHex(v);
  return '';
}

const has = (o: object, k: string): boolean => Object.hasOwn(o, k);

/** How deep `arrayValue`/`kvlistValue` may nest inside one attribute value. */
export const MAX_ATTRIBUTE_DEPTH = 32;

/**
 * OTLP `AnyValue` → plain JSON value. Bytes become base64 text.
 * @throws Error when arrays/maps nest deeper than {@link MAX_ATTRIBUTE_DEPTH}.
 */
export function anyValue(v: unknown, depth = 0): AttributeValue {
  if (typeof v !== 'object' || v === null) return null;
  if (depth > MAX_ATTRIBUTE_DEPTH)
    throw new Error(`attribute value nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
  const o = v as Record<string, unknown>;
  if (has(o, 'stringValue')) return String(o.stringValue);
  if (has(o, 'boolValue')) return Boolean(o.boolValue);
  if (has(o, 'intValue')) return toSafeNumberOrString(o.intValue) ?? null;
  if (has(o, 'doubleValue')) {
    const d = o.doubleValue;
    return typeof d === 'number' ? d : Number(d);
  }
  if (has(o, 'arrayValue')) {
    const values = (o.arrayValue as { values?: unknown } | null)?.values;
    return Array.isArray(values) ? values.map((x) => anyValue(x, depth + 1)) : [];
  }
  if (has(o, 'kvlistValue')) {
    return attributes((o.kvlistValue as { values?: unknown[] } | null)?.values, depth + 1);
  }
  if (has(o, 'bytesValue')) {
    const b = o.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : String(b);
  }
  return null;
}

/**
 * OTLP `repeated KeyValue` → attribute map. Entries without a key are skipped; a key `__proto__` is kept
 * as an ordinary key (it never changes the map's prototype).
 * @throws Error when a value nests deeper than {@link MAX_ATTRIBUTE_DEPTH}.
 */
export function attributes(list: unknown, depth = 0): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    if (typeof kv !== 'object' || kv === null) continue;
    const key = (kv as { key?: unknown }).key;
    if (typeof key !== 'string' || key === '') continue;
    const value = anyValue((kv as { value?: unknown }).value, depth);
    if (key === '__proto__')
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

/**
 * An enum sent as its number or its name (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`); absent is 0 (proto3's
 * default). An unknown name or a value of another type is `NaN`, which the caller's range check rejects:
 * it is never read as 0.
 */
export function enumValue(v: unknown, names: readonly string[]): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
    if (/^-?\d+$/.test(v)) return Number(v);
  }
  return Number.NaN;
}
