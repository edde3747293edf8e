/**
 * `timestamp,value` CSV series (the NAB layout; any header names, first column a time, second a number).
 * Times are ISO-8601 or `YYYY-MM-DD HH:MM:SS` (read as UTC: such files carry no zone) or epoch seconds /
 * milliseconds. Rows come back sorted by time (stable), with what was odd about the file counted — rows
 * out of order, timestamps repeated (NAB's files repeat 03:00 twelve times at a DST change) — so the
 * caller can report it. Parsing by `csv-parse`.
 * @module
 */
import { parse } from 'csv-parse/sync';

/** One parsed row. */
export interface CsvSample {
  timeMs: number;
  value: number;
}

/** What {@link parseMetricsCsv} returns. */
export interface CsvSeries {
  samples: CsvSample[];
  /** Rows whose time is earlier than the row before. */
  outOfOrder: number;
  /** Rows whose time equals another row's. */
  duplicateTimes: number;
}

/** Largest |time| in ms whose nanoseconds fit in an int64. */
const MAX_ABS_MS = 9_223_372_036_000;

/** Limits of one import. */
export const CSV_LIMITS = { rows: 5_000_000 } as const;

function timeOf(text: string): number | undefined {
  const t = text.trim();
  if (/^\d{9,10}(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (/^\d{12,13}$/.test(t)) return Number(t);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (!m) return undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7] ?? ''}${m[8] ?? 'Z'}`;
  const v = Date.parse(iso);
  return Number.isNaN(v) ? undefined : v;
}

/**
 * Parses the CSV text.
 * @throws RangeError naming the line and the column when a time or value cannot be read, or the file
 *   has more than {@link CSV_LIMITS}.rows rows.
 */
export function parseMetricsCsv(text: string): CsvSeries {
  const rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  const header = rows[0] && timeOf(rows[0][0] ?? '') === undefined ? 1 : 0;
  if (rows.length - header > CSV_LIMITS.rows) {
    throw new RangeError(`rows: at most ${CSV_LIMITS.rows} per import, got ${rows.length - header}`);
  }
  const samples: CsvSample[] = [];
  let outOfOrder = 0;
  for (let i = header; i < rows.length; i++) {
    const [ts, val] = rows[i]!;
    const timeMs = timeOf(ts ?? '');
    if (timeMs === undefined) {
      throw new RangeError(`line ${i + 1}: timestamp ${JSON.stringify(ts ?? '')} is not a time`);
    }
    // Stored as int64 nanoseconds: 1677-09-21 … 2262-04-11.
    if (Math.abs(timeMs) >= MAX_ABS_MS) {
      throw new RangeError(`line ${i + 1}: timestamp ${JSON.stringify(ts)} is outside 1678..2261`);
    }
    const value = Number(val);
    if (val === undefined || val === '' || !Number.isFinite(value)) {
      throw new RangeError(`line ${i + 1}: value ${JSON.stringify(val ?? '')} is not a finite number`);
    }
    const prev = samples[samples.length - 1];
    if (prev && timeMs < prev.timeMs) outOfOrder += 1;
    samples.push({ timeMs, value });
  }
  samples.sort((a, b) => a.timeMs - b.timeMs);
  let duplicateTimes = 0;
  for (let i = 1; i < samples.length; i++)
    if (samples[i]!.timeMs === samples[i - 1]!.timeMs) duplicateTimes += 1;
  return { samples, outOfOrder, duplicateTimes };
}
