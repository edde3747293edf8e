/**
 * Zipkin shared spans: the server half of an RPC whose client half has the same span id (B3's original
 * single-span RPC model: Brave, py_zipkin, Finagle; `"shared": true` in Zipkin v2 JSON).
 *
 * siperf keeps both halves as separate spans. The server half gets its own id, derived from the shared id,
 * its service and its start time, and the shared id (the client half) as its parent. Because the id is a
 * function of what is stored with the span, a reader can tell a server half from any other span without a
 * flag (see {@link isSharedServerHalf}), and a re-sent span gets the same id again (de-duplication holds).
 * References: Zipkin v2 API, `Span.shared` (https://zipkin.io/zipkin-api/#/default/post_spans); Zipkin's
 * tree builder, `zipkin2.internal.SpanNode` (openzipkin/zipkin).
 * @module
 */
import { createHash } from 'node:crypto';
import { type Span, SpanKind } from './span.ts';

/**
 * The 8-byte id (16 lower-case hex characters) of the server half of a shared span.
 *
 * @param sharedId - the id both halves were sent with (16 lower-case hex characters).
 * @param service - the server half's service (its `localEndpoint.serviceName`, or `unknown_service`).
 * @param startTimeUnixNano - the server half's start, ns since the epoch: several servers answering one
 *   shared id (a retry, a broadcast) each get their own id.
 */
export function sharedSpanId(sharedId: string, service: string, startTimeUnixNano: bigint): string {
  const id = createHash('sha1')
    .update(`zipkin-shared\u0000${sharedId}\u0000${service}\u0000${startTimeUnixNano}`)
    .digest('hex')
    .slice(0, 16);
  return /^0+$/.test(id) ? '0000000000000001' : id;
}

/**
 * Whether a stored span is the server half of a Zipkin shared span (never a CLIENT span): its id is the one
 * {@link sharedSpanId} derives from its parent (the shared id), service and start. The chance that another
 * span's random 64-bit id matches by accident is 2⁻⁶⁴.
 */
export function isSharedServerHalf(
  span: Pick<Span, 'spanId' | 'parentSpanId' | 'service' | 'startTimeUnixNano' | 'scope' | 'kind'>,
): boolean {
  return (
    span.scope === 'zipkin' &&
    span.kind !== SpanKind.CLIENT &&
    span.parentSpanId !== '' &&
    span.spanId === sharedSpanId(span.parentSpanId, span.service, span.startTimeUnixNano)
  );
}
