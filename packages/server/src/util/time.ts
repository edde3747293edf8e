/**
 * Time conversions. Storage keeps nanoseconds since the Unix epoch as `bigint`; the API speaks
 * milliseconds as numbers and ISO-8601 strings.
 * @module
 */

/** Nanoseconds in one millisecond. */
export const NS_PER_MS = 1_000_000n;
/** Nanoseconds in one second. */
export const NS_PER_SECOND = 1_000_000_000n;
/** Nanoseconds in one minute. */
export const NS_PER_MINUTE = 60_000_000_000n;

/** Current time in ns since the epoch (millisecond resolution). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * NS_PER_MS;
}

/** ns (bigint) → ms (float). Exact to 1 ns for spans shorter than ~104 days. */
export function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** ms since the epoch → ns since the epoch. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * NS_PER_MS;
}

/** ns since the epoch → ISO-8601 string (millisecond precision). */
export function nsToIso(ns: bigint): string {
  return new Date(Number(ns / NS_PER_MS)).toISOString();
}

/** Start of the minute that contains `ns`. */
export function minuteFloorNs(ns: bigint): bigint {
  return ns - (((ns % NS_PER_MINUTE) + NS_PER_MINUTE) % NS_PER_MINUTE);
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration like `15m`, `1h`, `24h`, `7d`, `500ms`.
 * @returns milliseconds, or `undefined` when the text is not a duration.
 */
export function parseDurationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * Parses a point in time given as epoch milliseconds (digits) or an ISO-8601 date.
 * @returns ms since the epoch, or `undefined` when unparseable.
 */
export function parseInstantMs(text: string): number | undefined {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}
