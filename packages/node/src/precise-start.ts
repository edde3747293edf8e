/**
 * Sub-millisecond span start times for the spans OpenTelemetry JS starts without a time.
 *
 * OpenTelemetry JS 2.x (`@opentelemetry/sdk-trace` `SpanImpl`) stamps a span's start with `Date.now()` —
 * whole milliseconds — and measures its duration with `performance.now()`
 * (open-telemetry/opentelemetry-js#5019; the fix, PR #5804, is not released). Serial calls less than a
 * millisecond apart then share a start, and a serial N+1 loop looks like a parallel fan-out. Every span
 * of the instrumentations `init()` installs (HTTP, undici, pg, mysql2, ioredis, Fastify, Express) and of
 * `traceRequest` and `BusinessTransaction` is started that way.
 *
 * {@link refineStartTime} replaces such a start with the anchored clock's reading
 * (`util/precise-clock.ts`) at the span's own `performance.now()` start, before anyone reads it: the SDK
 * computes the end (and events without a time) as start + elapsed `performance.now()`, so they move with
 * it and the duration is unchanged. A span whose start was given by its caller, or whose start already has
 * sub-ms digits, or an SDK whose span does not have these fields, is left alone.
 * @module
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type HrTime, hrTimeAt } from './util/precise-clock.ts';

/** The `SpanImpl` fields this relies on (present in @opentelemetry/sdk-trace 2.x). */
interface SdkSpanFields {
  startTime?: unknown;
  _performanceStartTime?: unknown;
  _startTimeProvided?: unknown;
}

/**
 * Gives a span started without an explicit time a start with sub-millisecond digits (see the module
 * comment). Call it right after the span is created; calling it again does nothing.
 * @param span - an OpenTelemetry span; anything else (a non-recording span) is ignored.
 */
export function refineStartTime(span: unknown): void {
  const s = span as SdkSpanFields;
  if (typeof s !== 'object' || s === null || s._startTimeProvided !== false) return;
  const start = s.startTime;
  const perfStart = s._performanceStartTime;
  if (!Array.isArray(start) || typeof perfStart !== 'number') return;
  const [sec, ns] = start as HrTime;
  if (ns % 1_000_000 !== 0) return;
  const precise = hrTimeAt(perfStart);
  // The precise start must fall in (or next to) the millisecond Date.now() gave: never move a span further.
  const shiftNs = (precise[0] - sec) * 1e9 + (precise[1] - ns);
  if (shiftNs < -1_500_000 || shiftNs > 2_500_000) return;
  s.startTime = precise;
}

/**
 * A span processor that gives every span started without a time a sub-millisecond start (put it first:
 * the processors after it see the new start). `init()` installs it; add it yourself when you set up the
 * OpenTelemetry SDK without `init()`.
 */
export class PreciseStartSpanProcessor implements SpanProcessor {
  onStart(span: Span, _parentContext: Context): void {
    refineStartTime(span);
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
