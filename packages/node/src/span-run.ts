/**
 * Running a function inside a started span: shared by `traceRequest` and `BusinessTransaction.step`.
 * @module
 */
import { type Span, SpanStatusCode } from '@opentelemetry/api';

/**
 * Calls `fn(span)` and ends `span` when it returns or its promise settles. A throw or rejection is
 * recorded as an exception event with status ERROR and re-thrown unchanged. `settled(span, ok)` runs
 * just before the span ends (to add outcome attributes).
 */
export function runInSpan<T>(
  span: Span,
  fn: (span: Span) => T,
  settled?: (span: Span, ok: boolean) => void,
): T {
  let result: T;
  try {
    result = fn(span);
  } catch (err) {
    failed(span, err, settled);
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (value) => {
        succeeded(span, settled);
        return value;
      },
      (err) => {
        failed(span, err, settled);
        throw err;
      },
    ) as T;
  }
  // The synchronous path allocates no closures: it is the one hot loops take.
  succeeded(span, settled);
  return result;
}

function succeeded(span: Span, settled: ((span: Span, ok: boolean) => void) | undefined): void {
  settled?.(span, true);
  span.end();
}

function failed(span: Span, err: unknown, settled: ((span: Span, ok: boolean) => void) | undefined): void {
  settled?.(span, false);
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}
