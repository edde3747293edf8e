/**
 * What a decoder produces from one request: the accepted spans and the rejected ones, each rejection
 * naming its field (OTLP partial success, https://opentelemetry.io/docs/specs/otlp/#partial-success).
 * @module
 */
import type { ErrorCode } from '../errors.ts';
import type { Span } from '../model/index.ts';

/** One rejected span: its position in the request, the field at fault, a code and a reason. */
export interface SpanRejection {
  /** 0-based position of the span in the request, counting across resources and scopes. */
  index: number;
  field: string;
  code: ErrorCode;
  reason: string;
}

/** Accepted spans plus the rejections of one request. */
export interface SpanBatch {
  spans: Span[];
  rejected: SpanRejection[];
}

/**
 * Clock limits for ingest. Spans starting outside the skew limits are kept with `clockFlagged` set; spans
 * lasting longer than `maxSpanDurationNs` are rejected.
 */
export interface ClockPolicy {
  /** Server time, ns since the epoch. */
  nowNs: bigint;
  /** A span starting more than this after `nowNs` is flagged. ns. */
  maxFutureSkewNs: bigint;
  /** A span starting more than this before `nowNs` is flagged. ns. */
  maxPastSkewNs: bigint;
  /** A span lasting longer than this is rejected (`ERR_INGEST_SPAN_TIME`). ns. */
  maxSpanDurationNs: bigint;
}

/** Whether a start time is outside the clock policy. */
export function isClockFlagged(startNs: bigint, clock: ClockPolicy): boolean {
  return startNs > clock.nowNs + clock.maxFutureSkewNs || startNs < clock.nowNs - clock.maxPastSkewNs;
}

/**
 * Why a span's duration is refused, or `undefined` when it is within `clock.maxSpanDurationNs`. A span of
 * days is a broken clock or a span never ended properly (an end of "now" on a span started at boot), not a
 * request: kept, it would dominate its endpoint's mean and sum.
 */
export function durationProblem(durationNs: bigint, clock: ClockPolicy): string | undefined {
  if (durationNs <= clock.maxSpanDurationNs) return undefined;
  return `lasts ${formatNs(durationNs)}, more than maxSpanDurationMs = ${formatNs(clock.maxSpanDurationNs)}`;
}

/** A duration in ms, with hours or days when it is long: `2500 ms`, `691200000 ms (8 days)`. */
function formatNs(ns: bigint): string {
  const ms = Number(ns) / 1e6;
  const h = ms / 3_600_000;
  if (h >= 48) return `${ms} ms (${Number((h / 24).toPrecision(4))} days)`;
  if (h >= 1) return `${ms} ms (${Number(h.toPrecision(4))} h)`;
  return `${ms} ms`;
}

/** The message sent back in `partialSuccess.errorMessage`: the first few rejections, then a count. */
export function rejectionMessage(rejected: readonly SpanRejection[], max = 5): string {
  const shown = rejected.slice(0, max).map((r) => `${r.field}: ${r.reason}`);
  if (rejected.length > max) shown.push(`… and ${rejected.length - max} more`);
  return shown.join('; ');
}
