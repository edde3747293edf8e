/**
 * `traceRequest`: run a piece of work inside a span (the seed's `trace_request`).
 * @module
 */
import {
  type Attributes,
  type Span,
  SpanKind,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { refineStartTime } from './precise-start.ts';
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
 * exception event, the span's status becomes ERROR, and the error is re-thrown unchanged. The span's start
 * keeps sub-millisecond digits (see `precise-start.ts`), with or without `init()`.
 */
export function traceRequest<T>(name: string, fn: (span: Span) => T, options?: TraceRequestOptions): T {
  const tracer = currentTracer();
  if (options === undefined || (options.attributes === undefined && options.kind === undefined)) {
    return tracer.startActiveSpan(name, (span) => {
      refineStartTime(span);
      return runInSpan(span, fn);
    });
  }
  return tracer.startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    (span) => {
      refineStartTime(span);
      return runInSpan(span, fn);
    },
  );
}

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The SDK's tracer, looked up once per global provider (`trace.disable()` installs a new global proxy,
 * so a change of provider is seen). The proxy tracer forwards to the SDK's once it is registered.
 */
function currentTracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== cachedProvider || cachedTracer === undefined) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(TRACER);
  }
  return cachedTracer;
}
