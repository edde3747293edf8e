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
  const fail = (err: unknown): never => {
    settled?.(span, false);
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    span.end();
    throw err;
  };
  const ok = <V>(value: V): V => {
    settled?.(span, true);
    span.end();
    return value;
  };
  let result: T;
  try {
    result = fn(span);
  } catch (err) {
    return fail(err);
  }
  return result instanceof Promise ? (result.then(ok, fail) as T) : ok(result);
}
