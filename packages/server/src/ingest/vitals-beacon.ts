/**
 * Web-vitals beacons: the objects the `web-vitals` library passes to its `onLCP`/`onINP`/`onCLS`/`onFCP`/
 * `onTTFB` callbacks (`name, value, rating, delta, id, navigationType, attribution`) plus `page` (and
 * optionally `service`), one object or an array. Each item is checked on its own: a bad item is rejected
 * with its index and the field at fault while the good items of the same beacon are kept. The client's
 * `rating` is not trusted; the server rates values itself.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { SiperfError } from '../errors.ts';
import { VITALS_METRICS, type VitalsEvent, type VitalsMetric } from '../model/index.ts';

/** Limits of one beacon. */
export const VITALS_LIMITS = {
  /** Items per beacon. */
  items: 1000,
  /** Characters of `page`, `service` and `id`. */
  pageChars: 2048,
  serviceChars: 256,
  idChars: 128,
  navigationTypeChars: 32,
  /** Scalar attribution fields kept per item, and characters per string field. */
  attributionFields: 64,
  attributionChars: 1024,
  /** Largest value accepted: one hour in ms for timings, 1,000 for CLS (a layout-shift score). */
  maxTimingMs: 3_600_000,
  maxCls: 1000,
} as const;

/** Why one item was not stored. */
export interface VitalsRejection {
  /** Index of the item in the beacon (0 for a single object). */
  index: number;
  field: string;
  message: string;
}

/** Result of {@link parseVitalsBeacon}. */
export interface VitalsBatch {
  events: VitalsEvent[];
  rejected: VitalsRejection[];
}

const METRICS = new Set<string>(VITALS_METRICS);

/**
 * Removes what carries user data and explodes cardinality from a page URL or path: the query string, the
 * fragment, `;jsessionid=…`-style path parameters and, of an absolute URL, the user and password (its
 * origin is kept).
 */
export function normalisePage(page: string): string {
  let text = page;
  if (/^https?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      text = `${url.origin}${url.pathname}`;
    } catch {
      // not a parseable URL: treated as a path below
    }
  }
  const cut = text.search(/[?#]/);
  const path = (cut === -1 ? text : text.slice(0, cut)).replace(/;[^/]*/g, '');
  return path === '' ? '/' : path;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function scalarAttribution(value: unknown): VitalsEvent['attribution'] {
  const out: VitalsEvent['attribution'] = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  let kept = 0;
  for (const [k, v] of Object.entries(value)) {
    if (kept >= VITALS_LIMITS.attributionFields) break;
    if (UNSAFE_KEYS.has(k)) continue;
    // Numbers: finite and within the timing limit, so one bad beacon cannot spoil the breakdown means.
    if (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= VITALS_LIMITS.maxTimingMs) out[k] = v;
    else if (typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'string') out[k] = v.slice(0, VITALS_LIMITS.attributionChars);
    else continue;
    kept += 1;
  }
  return out;
}

/** A short description of a bad value; never walks into nested values (they may be very deep). */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 60));
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
}

/** Checks one item; returns the event or the rejection. */
function parseItem(
  raw: unknown,
  index: number,
  receivedNs: bigint,
  defaultService: string,
): VitalsEvent | VitalsRejection {
  const bad = (field: string, message: string): VitalsRejection => ({ index, field, message });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return bad('item', `item ${index}: expected an object, got ${describe(raw)}`);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || !METRICS.has(o.name)) {
    return bad(
      'name',
      `item ${index}: name must be one of ${VITALS_METRICS.join(', ')}, got ${describe(o.name)}`,
    );
  }
  const name = o.name as VitalsMetric;
  const max = name === 'CLS' ? VITALS_LIMITS.maxCls : VITALS_LIMITS.maxTimingMs;
  if (typeof o.value !== 'number' || !Number.isFinite(o.value) || o.value < 0 || o.value > max) {
    return bad('value', `item ${index}: value must be a number 0..${max}, got ${describe(o.value)}`);
  }
  const delta = o.delta === undefined ? o.value : o.delta;
  if (typeof delta !== 'number' || !Number.isFinite(delta) || Math.abs(delta) > max) {
    return bad('delta', `item ${index}: delta must be a number -${max}..${max}, got ${describe(o.delta)}`);
  }
  const page = typeof o.page === 'string' && o.page !== '' ? normalisePage(o.page) : '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (page === '' || page.length > VITALS_LIMITS.pageChars || /[\u0000-\u001f\u007f]/.test(page)) {
    return bad(
      'page',
      `item ${index}: page must be a string of 1..${VITALS_LIMITS.pageChars} characters (without its query string) and no control characters`,
    );
  }
  const id = o.id ?? '';
  if (typeof id !== 'string' || id.length > VITALS_LIMITS.idChars) {
    return bad('id', `item ${index}: id must be a string of at most ${VITALS_LIMITS.idChars} characters`);
  }
  const nav = o.navigationType ?? 'navigate';
  if (typeof nav !== 'string' || nav.length > VITALS_LIMITS.navigationTypeChars) {
    return bad(
      'navigationType',
      `item ${index}: navigationType must be a string of at most ${VITALS_LIMITS.navigationTypeChars} characters`,
    );
  }
  const service = o.service ?? defaultService;
  if (typeof service !== 'string' || service === '' || service.length > VITALS_LIMITS.serviceChars) {
    return bad(
      'service',
      `item ${index}: service must be a string of 1..${VITALS_LIMITS.serviceChars} characters`,
    );
  }
  return {
    timeUnixNano: receivedNs,
    service,
    page,
    name,
    value: o.value,
    delta,
    // Reports of one metric instance share its id and only the latest counts; an item without an id
    // stands alone.
    id: id === '' ? `srv-${randomUUID()}` : id,
    navigationType: nav,
    attribution: scalarAttribution(o.attribution),
  };
}

/**
 * Parses a beacon body (already JSON-decoded, or a JSON string as `sendBeacon` sends it with
 * `text/plain`).
 * @param body one item or an array of at most {@link VITALS_LIMITS}.items items.
 * @param receivedNs server receive time, ns since the epoch, stamped on every event.
 * @param defaultService the service of items that name none.
 * @returns the good events and one rejection per bad item.
 * @throws SiperfError `ERR_INGEST_DECODE` (field `body`) when a string body is not JSON or is empty;
 *   `ERR_API_BODY` (field `items`, with the limit) when the array is too long.
 */
export function parseVitalsBeacon(
  body: unknown,
  receivedNs: bigint,
  defaultService = 'unknown_service',
): VitalsBatch {
  let decoded = body;
  if (typeof body === 'string') {
    try {
      decoded = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
    } catch (err) {
      throw new SiperfError('ERR_INGEST_DECODE', `the beacon is not JSON: ${(err as Error).message}`, {
        field: 'body',
      });
    }
  }
  if (decoded === undefined || decoded === null)
    throw new SiperfError('ERR_INGEST_DECODE', 'the beacon is empty', { field: 'body' });
  const items = Array.isArray(decoded) ? decoded : [decoded];
  if (items.length > VITALS_LIMITS.items) {
    throw new SiperfError(
      'ERR_API_BODY',
      `items: at most ${VITALS_LIMITS.items} per beacon, got ${items.length}`,
      {
        field: 'items',
        limit: VITALS_LIMITS.items,
      },
    );
  }
  const events: VitalsEvent[] = [];
  const rejected: VitalsRejection[] = [];
  items.forEach((raw, index) => {
    const r = parseItem(raw, index, receivedNs, defaultService);
    if ('field' in r) rejected.push(r);
    else events.push(r);
  });
  return { events, rejected };
}
