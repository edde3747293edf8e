/**
 * The span of data a figure was computed from, in words for evidence: a p95 "over 24 h" that came from
 * nine minutes of samples says "over 9 min of data (10 samples) of the 24 h asked", so nobody reads a
 * day into nine minutes.
 * @module
 */

/** A duration in the unit a person reads it in: `45 s`, `9 min`, `5.5 h`, `2.3 days`. */
export function durationText(ms: number): string {
  const one = (v: number) => String(Math.round(v * 10) / 10);
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 48 * 3_600_000) return `${one(ms / 3_600_000)} h`;
  return `${one(ms / 86_400_000)} days`;
}

/** First and last sample time (ms) and the number of samples behind a figure. */
export interface DataSpan {
  fromMs: number;
  toMs: number;
  samples: number;
}

/** The span of the samples at `times` (ascending or not); `undefined` without samples. */
export function dataSpan(...times: readonly (readonly number[])[]): DataSpan | undefined {
  let fromMs = Number.POSITIVE_INFINITY;
  let toMs = Number.NEGATIVE_INFINITY;
  let samples = 0;
  for (const ts of times) {
    for (const t of ts) {
      if (t < fromMs) fromMs = t;
      if (t > toMs) toMs = t;
    }
    samples = Math.max(samples, ts.length);
  }
  return samples === 0 ? undefined : { fromMs, toMs, samples };
}

/**
 * "over 9 min of data (10 samples)", with "of the 24 h asked" when the data covers less than 90% of the
 * window asked for; "from 1 sample" for a single one.
 * @param askedMs - the length of the window asked for (omit when there is none).
 */
export function overData(span: DataSpan | undefined, askedMs?: number): string {
  if (!span) return 'without data';
  const asked =
    askedMs !== undefined && span.toMs - span.fromMs < 0.9 * askedMs
      ? ` of the ${durationText(askedMs)} asked`
      : '';
  if (span.samples === 1 || span.toMs === span.fromMs)
    return `from ${span.samples === 1 ? '1 sample' : `${span.samples} samples at one time`}${asked}`;
  return `over ${durationText(span.toMs - span.fromMs)} of data (${span.samples} samples)${asked}`;
}
