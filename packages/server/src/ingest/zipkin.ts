/**
 * Zipkin API v2 JSON (`POST /api/v2/spans`, https://zipkin.io/zipkin-api/#/default/post_spans) → spans.
 *
 * Mapping (after the OpenTelemetry Collector's zipkin receiver): `timestamp`/`duration` are µs;
 * `localEndpoint.serviceName` is the service (`unknown_service` when absent, as Envoy sends it);
 * tags become attributes; a tag `error` makes the status ERROR; `sql.query` is the database statement;
 * annotations become events; a 64-bit trace id is left-padded to 128 bits; the server half of a
 * `shared` span gets its own id (derived from the shared one) and the client half as its parent.
 * @module
 */
import { createHash } from 'node:crypto';
import { SiperfError } from '../errors.ts';
import { type Attributes, isErrorSpan, type Span, SpanKind, StatusCode } from '../model/index.ts';
import { normaliseHexId } from '../util/hex-id.ts';
import { dbCallOf, endpointOf, httpStatusOf, transactionOf } from './semconv.ts';
import { type ClockPolicy, isClockFlagged, type SpanBatch } from './span-batch.ts';

const KINDS: Record<string, SpanKind> = {
  CLIENT: SpanKind.CLIENT,
  SERVER: SpanKind.SERVER,
  PRODUCER: SpanKind.PRODUCER,
  CONSUMER: SpanKind.CONSUMER,
};

type Obj = Record<string, unknown>;

/**
 * Converts a Zipkin v2 span list (or one bare span object) into spans.
 * @throws SiperfError `ERR_INGEST_DECODE` when the body is neither an array nor a span object.
 */
export function zipkinToSpans(body: unknown, clock: ClockPolicy): SpanBatch {
  const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null ? [body] : undefined;
  if (!list) throw new SiperfError('ERR_INGEST_DECODE', 'expected a JSON array of Zipkin v2 spans');
  const out: SpanBatch = { spans: [], rejected: [] };
  list.forEach((item, index) => {
    let r: ReturnType<typeof convert>;
    try {
      r = convert(typeof item === 'object' && item !== null ? (item as Obj) : {}, `[${index}]`, clock);
    } catch (err) {
      r = { field: `[${index}]`, code: 'ERR_INGEST_SPAN_FIELD', reason: (err as Error).message };
    }
    if ('reason' in r) out.rejected.push({ index, ...r });
    else out.spans.push(r);
  });
  return out;
}

function convert(
  z: Obj,
  path: string,
  clock: ClockPolicy,
):
  | Span
  | {
      field: string;
      code: 'ERR_INGEST_SPAN_ID' | 'ERR_INGEST_SPAN_TIME' | 'ERR_INGEST_SPAN_FIELD';
      reason: string;
    } {
  const rawTrace = typeof z.traceId === 'string' ? z.traceId : '';
  const traceId = normaliseHexId(rawTrace.length === 16 ? rawTrace.padStart(32, '0') : rawTrace, 16);
  if (traceId.startsWith('!'))
    return { field: `${path}.traceId`, code: 'ERR_INGEST_SPAN_ID', reason: traceId.slice(1) };
  let spanId = normaliseHexId(typeof z.id === 'string' ? z.id : '', 8);
  if (spanId.startsWith('!'))
    return { field: `${path}.id`, code: 'ERR_INGEST_SPAN_ID', reason: spanId.slice(1) };
  let parentSpanId = '';
  if (typeof z.parentId === 'string' && z.parentId !== '') {
    parentSpanId = normaliseHexId(z.parentId, 8);
    if (parentSpanId.startsWith('!'))
      return { field: `${path}.parentId`, code: 'ERR_INGEST_SPAN_ID', reason: parentSpanId.slice(1) };
  }
  if (z.shared === true) {
    // The server half of a span shared with its client (B3 single-host style) has the client half's id.
    // Give it its own id and make it the client half's child, so both halves are kept (as Jaeger's and the
    // OpenTelemetry Collector's Zipkin receivers do).
    parentSpanId = spanId;
    spanId = sharedSpanId(spanId, JSON.stringify([z.localEndpoint ?? null, z.timestamp]));
  }
  const ts = z.timestamp;
  const dur = z.duration ?? 0;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts <= 0) {
    return {
      field: `${path}.timestamp`,
      code: 'ERR_INGEST_SPAN_TIME',
      reason: `must be a positive integer of µs since the epoch, got ${JSON.stringify(ts)}`,
    };
  }
  if (typeof dur !== 'number' || !Number.isSafeInteger(dur) || dur < 0) {
    return {
      field: `${path}.duration`,
      code: 'ERR_INGEST_SPAN_TIME',
      reason: `must be a non-negative integer of µs, got ${JSON.stringify(dur)}`,
    };
  }
  const start = BigInt(ts) * 1000n;
  const end = start + BigInt(dur) * 1000n;
  if (end > 2n ** 63n - 1n) {
    return {
      field: `${path}.duration`,
      code: 'ERR_INGEST_SPAN_TIME',
      reason: 'timestamp + duration is past the year 2262 (2^63 − 1 ns)',
    };
  }
  const kind = (typeof z.kind === 'string' ? KINDS[z.kind] : undefined) ?? SpanKind.INTERNAL;
  const attrs: Attributes = {};
  const tags = typeof z.tags === 'object' && z.tags !== null ? (z.tags as Obj) : {};
  for (const [k, v] of Object.entries(tags)) {
    if (k === '__proto__') continue;
    attrs[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const local = (z.localEndpoint ?? {}) as Obj;
  const remote = (z.remoteEndpoint ?? {}) as Obj;
  if (typeof remote.serviceName === 'string') attrs['peer.service'] = remote.serviceName;
  const service =
    typeof local.serviceName === 'string' && local.serviceName !== '' ? local.serviceName : 'unknown_service';
  const name = typeof z.name === 'string' ? z.name : '';
  const statusCode = tags.error !== undefined ? StatusCode.ERROR : StatusCode.UNSET;
  const httpStatusCode = httpStatusOf(attrs);
  const annotations = (Array.isArray(z.annotations) ? z.annotations : []).filter(
    (a): a is Obj => typeof a === 'object' && a !== null,
  );
  return {
    traceId,
    spanId,
    parentSpanId,
    service,
    name,
    endpoint: endpointOf(kind, name, attrs),
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    durationNano: end - start,
    statusCode,
    statusMessage: typeof tags.error === 'string' ? tags.error : '',
    httpStatusCode,
    isError: isErrorSpan(kind, statusCode, httpStatusCode),
    db: dbCallOf(name, attrs),
    transaction: transactionOf(attrs),
    clockFlagged: isClockFlagged(start, clock),
    resourceAttributes: { 'service.name': service },
    attributes: attrs,
    events: annotations.map((a) => ({
      timeUnixNano: String(BigInt(Number.isSafeInteger(a.timestamp) ? (a.timestamp as number) : 0) * 1000n),
      name: String(a.value ?? ''),
      attributes: {},
    })),
    links: [],
    scope: 'zipkin',
  };
}

/**
 * A stable 8-byte id for the server half of a shared Zipkin span, from the shared id and what tells
 * the halves apart (local endpoint and start time: a message consumed by several hosts shares one id).
 * A retry of the same span gets the same id, so de-duplication still works.
 */
export function sharedSpanId(spanId: string, distinct: string): string {
  const id = createHash('sha1').update(`shared:${spanId}:${distinct}`).digest('hex').slice(0, 16);
  return /^0+$/.test(id) ? '0000000000000001' : id;
}
