/**
 * Numbers as a person reads them, always with their unit.
 * @module
 */

/** Milliseconds: `0.42 ms`, `12.3 ms`, `1.24 s`, `3.1 min`. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(2)} s`;
  if (v < 3_600_000) return `${(v / 60_000).toFixed(1)} min`;
  return `${(v / 3_600_000).toFixed(1)} h`;
}

/** A ratio 0..1 as a percentage: `0.42%`, `12.5%`. */
export function pct(v: number | null | undefined, digits?: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const p = v * 100;
  return `${p.toFixed(digits ?? (p !== 0 && Math.abs(p) < 1 ? 2 : 1))}%`;
}

/** Requests per second: `0.25 req/s`, `1,234 req/s`. */
export function rps(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${v < 10 ? v.toFixed(2) : Math.round(v).toLocaleString('en')} req/s`;
}

/** A count with thousands separators. */
export function count(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.round(v).toLocaleString('en');
}

/** A byte count scaled to its binary unit: `{ x: 1.5, unit: 'KiB', sign: '' }` (x < 1024 but for PiB). */
export function scaleBytes(v: number): { x: number; unit: string; sign: string } {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return { x, unit: units[i]!, sign: v < 0 ? '-' : '' };
}

/** Bytes: `512 B`, `1.5 KiB`, `2.0 GiB` (whole bytes below 1 KiB, one decimal above). */
export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const { x, unit, sign } = scaleBytes(v);
  return `${sign}${unit === 'B' ? Math.round(x) : x.toFixed(1)} ${unit}`;
}

/** A plain number with up to `digits` decimals. */
export function num(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Number(v.toFixed(digits)).toLocaleString('en', { maximumFractionDigits: digits });
}

/** An ISO time as local `HH:MM:SS` (with the date when not today). */
export function time(iso: string | undefined | null): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString('en-GB')
    : `${d.toLocaleDateString('en-CA')} ${d.toLocaleTimeString('en-GB')}`;
}
