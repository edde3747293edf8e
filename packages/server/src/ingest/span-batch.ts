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

/** Clock limits for ingest. Spans outside them are kept with `clockFlagged` set. */
export interface ClockPolicy {
  /** Server time, ns since the epoch. */
  nowNs: bigint;
  /** A span starting more than this after `nowNs` is flagged. ns. */
  maxFutureSkewNs: bigint;
  /** A span starting more than this before `nowNs` is flagged. ns. */
  maxPastSkewNs: bigint;
}

/** Whether a start time is outside the clock policy. */
export function isClockFlagged(startNs: bigint, clock: ClockPolicy): boolean {
  return startNs > clock.nowNs + clock.maxFutureSkewNs || startNs < clock.nowNs - clock.maxPastSkewNs;
}

/** The message sent back in `partialSuccess.errorMessage`: the first few rejections, then a count. */
export function rejectionMessage(rejected: readonly SpanRejection[], max = 5): string {
  const shown = rejected.slice(0, max).map((r) => `${r.field}: ${r.reason}`);
  if (rejected.length > max) shown.push(`… and ${rejected.length - max} more`);
  return shown.join('; ');
}
