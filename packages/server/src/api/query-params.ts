/**
 * Parsing of the query parameters every list endpoint shares: `service`, and a window as `from`/`to`
 * (ISO-8601 or epoch ms) or `window=15m|1h|24h|7d`. Default window: the last hour.
 * @module
 */
import { SiperfError } from '../errors.ts';
import type { TimeWindow } from '../storage/index.ts';
import { msToNs, parseDurationMs, parseInstantMs } from '../util/time.ts';

const MAX_WINDOW_MS = 400 * 86_400_000;

/**
 * The window of a request.
 * @param nowMs - the server clock, ms.
 * @throws SiperfError `ERR_QUERY_PARAM` naming the parameter when a value is malformed, `from ≥ to`, or
 *   the window is longer than 400 days.
 */
export function parseWindow(
  query: Record<string, unknown>,
  nowMs: number,
): TimeWindow & { fromMs: number; toMs: number } {
  const get = (k: string): string | undefined =>
    typeof query[k] === 'string' && query[k] !== '' ? (query[k] as string) : undefined;
  let toMs = nowMs;
  const to = get('to');
  if (to !== undefined) {
    const v = parseInstantMs(to);
    if (v === undefined)
      throw new SiperfError('ERR_QUERY_PARAM', `to: expected ISO-8601 or epoch milliseconds, got "${to}"`, {
        field: 'to',
      });
    toMs = v;
  }
  let fromMs: number;
  const from = get('from');
  const window = get('window');
  if (from !== undefined) {
    const v = parseInstantMs(from);
    if (v === undefined)
      throw new SiperfError(
        'ERR_QUERY_PARAM',
        `from: expected ISO-8601 or epoch milliseconds, got "${from}"`,
        { field: 'from' },
      );
    fromMs = v;
  } else {
    const w = window === undefined ? 3_600_000 : parseDurationMs(window);
    if (w === undefined || w <= 0) {
      throw new SiperfError(
        'ERR_QUERY_PARAM',
        `window: expected a duration like 15m, 1h, 24h or 7d, got "${window}"`,
        { field: 'window' },
      );
    }
    fromMs = toMs - w;
  }
  if (fromMs >= toMs)
    throw new SiperfError(
      'ERR_QUERY_PARAM',
      `from must be before to (from=${new Date(fromMs).toISOString()}, to=${new Date(toMs).toISOString()})`,
      { field: 'from' },
    );
  if (toMs - fromMs > MAX_WINDOW_MS)
    throw new SiperfError('ERR_QUERY_PARAM', 'window: at most 400 days', { field: 'window', limit: '400d' });
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
): number | undefined {
  const v = optionalString(query, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new SiperfError('ERR_QUERY_PARAM', `${key}: expected a number ${min}..${max}, got "${v}"`, {
      field: key,
      limit: `${min}..${max}`,
    });
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
