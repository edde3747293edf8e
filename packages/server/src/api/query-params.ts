/**
 * Parsing of the query parameters every list endpoint shares: `service`, and a window as `from`/`to`
 * (ISO-8601 or epoch ms) or `window=15m|1h|24h|7d`. Default window: the last hour.
 * @module
 */
import { SiperfError } from '../errors.ts';
import type { TimeWindow } from '../storage/index.ts';
import { msToNs, parseDurationMs, parseInstantMs } from '../util/time.ts';

const MAX_WINDOW_MS = 400 * 86_400_000;

/** Instants the store can hold: ns since the epoch must fit a signed 64-bit integer (years 1677–2262). */
const MAX_ABS_INSTANT_MS = 9_000_000_000_000;

/**
 * The window of a request, from at most two of `from`, `to` (ISO-8601 or epoch ms) and `window`
 * (a duration such as 15m, 1h, 24h, 7d): `from`+`to`; `window` ending at `to` (default now); or
 * `window` starting at `from`. Nothing given: the last hour.
 * @param nowMs - the server clock, ms.
 * @throws SiperfError `ERR_QUERY_PARAM` naming the parameter when a value is malformed or out of range,
 *   all three are given, `from ≥ to`, or the window is longer than 400 days.
 */
export function parseWindow(
  query: Record<string, unknown>,
  nowMs: number,
): TimeWindow & { fromMs: number; toMs: number } {
  const get = (k: string): string | undefined =>
    typeof query[k] === 'string' && query[k] !== '' ? (query[k] as string) : undefined;
  const instant = (k: 'from' | 'to'): number | undefined => {
    const text = get(k);
    if (text === undefined) return undefined;
    const v = parseInstantMs(text);
    if (v === undefined || Math.abs(v) > MAX_ABS_INSTANT_MS) {
      throw new SiperfError(
        'ERR_QUERY_PARAM',
        `${k}: expected ISO-8601 or epoch milliseconds between the years 1685 and 2255, got "${text.slice(0, 64)}"`,
        { field: k },
      );
    }
    return v;
  };
  const from = instant('from');
  const to = instant('to');
  const windowText = get('window');
  let windowMs: number | undefined;
  if (windowText !== undefined) {
    windowMs = parseDurationMs(windowText);
    if (windowMs === undefined || windowMs <= 0) {
      throw new SiperfError(
        'ERR_QUERY_PARAM',
        `window: expected a duration like 15m, 1h, 24h or 7d, got "${windowText.slice(0, 64)}"`,
        { field: 'window' },
      );
    }
  }
  if (from !== undefined && to !== undefined && windowMs !== undefined) {
    throw new SiperfError(
      'ERR_QUERY_PARAM',
      'window: give from and to, or window with one of them, not all three',
      {
        field: 'window',
      },
    );
  }
  let fromMs: number;
  let toMs: number;
  if (from !== undefined && windowMs !== undefined) {
    fromMs = from;
    toMs = from + windowMs;
  } else {
    toMs = to ?? nowMs;
    fromMs = from ?? toMs - (windowMs ?? 3_600_000);
  }
  if (fromMs >= toMs) {
    throw new SiperfError(
      'ERR_QUERY_PARAM',
      `from must be before to (from=${new Date(fromMs).toISOString()}, to=${new Date(toMs).toISOString()})`,
      { field: 'from' },
    );
  }
  if (toMs - fromMs > MAX_WINDOW_MS) {
    throw new SiperfError('ERR_QUERY_PARAM', 'window: at most 400 days', { field: 'window', limit: '400d' });
  }
  return { fromNs: msToNs(fromMs), toNs: msToNs(toMs), fromMs, toMs };
}

/** An optional string parameter. */
export function optionalString(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * An optional number parameter within bounds.
 * @throws SiperfError `ERR_QUERY_PARAM` naming the parameter and the bounds.
 */
export function optionalNumber(
  query: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  const v = optionalString(query, key);
  if (v === undefined) return undefined;
  // Decimal only: Number() would read " " as 0 and "0x10" as 16.
  const n = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const what = integer ? 'an integer' : 'a number';
    throw new SiperfError(
      'ERR_QUERY_PARAM',
      `${key}: expected ${what} ${min}..${max}, got "${v.slice(0, 64)}"`,
      {
        field: key,
        limit: `${min}..${max}`,
      },
    );
  }
  return n;
}

/** An optional boolean parameter (`true`/`false`/`1`/`0`). */
export function optionalBoolean(query: Record<string, unknown>, key: string): boolean | undefined {
  const v = optionalString(query, key);
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new SiperfError('ERR_QUERY_PARAM', `${key}: expected true or false, got "${v}"`, { field: key });
}

/**
 * An optional parameter from a closed set.
 * @throws SiperfError `ERR_QUERY_PARAM` listing the accepted values.
 */
export function optionalEnum<T extends string>(
  query: Record<string, unknown>,
  key: string,
  values: readonly T[],
): T | undefined {
  const v = optionalString(query, key);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) {
    throw new SiperfError('ERR_QUERY_PARAM', `${key}: expected one of ${values.join(', ')}, got "${v}"`, {
      field: key,
    });
  }
  return v as T;
}
