/**
 * `traceRequest`: run a piece of work inside a span (the seed's `trace_request`).
 * @module
 */
import { type Attributes, type Span, SpanKind, trace } from '@opentelemetry/api';
import { runInSpan } from './span-run.ts';

const TRACER = '@siperf/node';

/** Options of {@link traceRequest}. */
export interface TraceRequestOptions {
  /** Span attributes (OpenTelemetry semantic-convention names where they fit). */
  attributes?: Attributes;
  /** Span kind. Default INTERNAL. */
  kind?: SpanKind;
}

/**
 * Runs `fn(span)` inside a new active span named `name`, ends the span when `fn` returns or its promise
 * settles, and returns what `fn` returns. A thrown error (or rejection) is recorded on the span as an
 * exception event, the span's status becomes ERROR, and the error is re-thrown unchanged.
 */
export function traceRequest<T>(name: string, fn: (span: Span) => T, options: TraceRequestOptions = {}): T {
  return trace.getTracer(TRACER).startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    (span) => runInSpan(span, fn),
  );
}
