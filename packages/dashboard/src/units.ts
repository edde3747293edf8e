/**
 * More numbers with their unit, for the resource, cache, alert and advice pages (the common ones are in
 * `format.ts`): rates of bytes, money, CPU cores, percentage points, and times relative to now.
 * @module
 */
import { ms, num, pct, scaleBytes } from './format.ts';

/** Bytes with three significant digits: `178 B`, `1.52 MiB`, `878 KiB` (short enough for an axis). */
export function bytes3(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const { x, unit, sign } = scaleBytes(v);
  const digits = unit === 'B' || x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return `${sign}${x.toFixed(digits)} ${unit}`;
}

/** Bytes per second: `178 B/s`, `1.52 MiB/s`. */
export function bytesPerSec(v: number | null | undefined): string {
  const b = bytes3(v);
  return b === '–' ? b : `${b}/s`;
}

/** An amount of money in `currency` (ISO 4217 code): `USD 12.40`; negative amounts keep their sign. */
export function money(v: number | null | undefined, currency: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${currency} ${v.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** CPU cores: `1 core`, `2.5 cores`. */
export function cores(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${num(v, 2)} ${v === 1 ? 'core' : 'cores'}`;
}

/** A difference of two ratios 0..1 in percentage points: `+4.2 points`, `−0.3 points`. */
export function points(delta: number | null | undefined): string {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) return '–';
  const p = delta * 100;
  return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)} points`;
}

/** An ISO time as "in 3.2 h" / "5 min ago" from `nowMs` (default now). */
export function relative(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = t - nowMs;
  if (Math.abs(d) < 1000) return 'now';
  return d > 0 ? `in ${dur(d)}` : `${dur(-d)} ago`;
}

/** A duration in ms the way people say it: `45 s`, `10 min`, `2.5 h`, `3.0 d`. */
export function dur(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v < 1000) return ms(v);
  if (v < 60_000) return `${Math.round(v / 1000)} s`;
  if (v < 3_600_000) return `${num(v / 60_000, 1)} min`;
  if (v < 2 * 86_400_000) return `${num(v / 3_600_000, 1)} h`;
  return `${num(v / 86_400_000, 1)} d`;
}

/**
 * A value of the unit the server names (`1` a ratio, `By`, `By/s`, `s`, `ms`, UCUM-like `{thing}`, or
 * nothing): a formatter for charts and figures.
 */
export function byUnit(unit: string): (v: number) => string {
  switch (unit) {
    case '1':
      return (v) => pct(v);
    case 'By':
      return (v) => bytes3(v);
    case 'By/s':
      return (v) => bytesPerSec(v);
    case 's':
      return (v) => ms(v * 1000);
    case 'ms':
      return (v) => ms(v);
    case '':
      return (v) => num(v, 3);
    default:
      return (v) => `${num(v, 3)} ${unit.replace(/^\{(.*)\}$/, '$1')}`;
  }
}
