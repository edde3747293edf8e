/**
 * Zipkin API v2 JSON (`POST /api/v2/spans`, https://zipkin.io/zipkin-api/#/default/post_spans) → spans.
 *
 * Mapping (after the OpenTelemetry Collector's zipkin receiver, `pkg/translator/zipkin/zipkinv2`):
 * - `timestamp`/`duration` are µs (a fraction is kept to the ns); a 64-bit trace id is left-padded to
 *   128 bits; a span longer than `maxSpanDurationMs` is rejected (`ERR_INGEST_SPAN_TIME`).
 * - `localEndpoint.serviceName` is the service (`unknown_service` when absent, as Envoy sends it); tags
 *   become attributes as sent; `sql.query` is the database statement; annotations become events.
 * - Status: ERROR when there is an `error` tag (Zipkin's rule: any value) or `otel.status_code` is ERROR
 *   (OpenTelemetry's Zipkin exporters add `error` only with a message, or send `error=true` and the message
 *   apart); OK when `otel.status_code` is OK. The message is `otel.status_description`, else the `error`
 *   tag's value (Brave, the JS and Python exporters put the message there) unless it is `true`, `false`
 *   or empty.
 * - Endpoints become the OpenTelemetry network attributes, unless a tag already sets them (the Collector's
 *   receiver writes the pre-1.21 names `net.host.ip`/`net.peer.ip`/`net.peer.port`; these are their
 *   current names, https://opentelemetry.io/docs/specs/semconv/general/attributes/): the address is
 *   `ipv4`, else `ipv6`.
 *   - `localEndpoint` → `network.local.address`, `network.local.port`; on a SERVER span also
 *     `server.address`, `server.port` (the server that received the request).
 *   - `remoteEndpoint` → `network.peer.address`, `network.peer.port`, and `serviceName` → `peer.service`;
 *     on CLIENT, PRODUCER and CONSUMER spans (the remote side is the server or the broker) also
 *     `server.address`, `server.port`; on SERVER spans (the remote side is the client) `client.address`,
 *     `client.port`.
 * - The server half of a `shared` span (any kind but CLIENT, as Zipkin's span cleaner reads the flag) gets
 *   its own id, derived from the shared one (`sharedSpanId`), and the client half as its parent; the
 *   trace tree then puts the server's own spans under it (`apm/span-parents.ts`).
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SiperfError } from '../errors.ts';
import {
  type Attributes,
  isErrorSpan,
  type Span,
  SpanKind,
  StatusCode,
  sharedSpanId,
} from '../model/index.ts';
import { normaliseHexId } from '../util/hex-id.ts';
import { dbCallOf, endpointOf, httpStatusOf, transactionOf } from './semconv.ts';
import { type ClockPolicy, durationProblem, isClockFlagged, type SpanBatch } from './span-batch.ts';

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
  const ts = z.timestamp;
  const dur = z.duration ?? 0;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 1 || ts > Number.MAX_SAFE_INTEGER) {
    return {
      field: `${path}.timestamp`,
      code: 'ERR_INGEST_SPAN_TIME',
      reason: `must be a positive number of µs since the epoch, got ${JSON.stringify(ts)}`,
    };
  }
  if (typeof dur !== 'number' || !Number.isFinite(dur) || dur < 0 || dur > Number.MAX_SAFE_INTEGER) {
    return {
      field: `${path}.duration`,
      code: 'ERR_INGEST_SPAN_TIME',
      reason: `must be a non-negative number of µs, got ${JSON.stringify(dur)}`,
    };
  }
  const start = microsToNanos(ts);
  const end = start + microsToNanos(dur);
  if (end > 2n ** 63n - 1n) {
    return {
      field: `${path}.duration`,
      code: 'ERR_INGEST_SPAN_TIME',
      reason: 'timestamp + duration is past the year 2262 (2^63 − 1 ns)',
    };
  }
  const tooLong = durationProblem(end - start, clock);
  if (tooLong) return { field: `${path}.duration`, code: 'ERR_INGEST_SPAN_TIME', reason: tooLong };
  const kind = (typeof z.kind === 'string' ? KINDS[z.kind] : undefined) ?? SpanKind.INTERNAL;
  const attrs: Attributes = {};
  const tags = typeof z.tags === 'object' && z.tags !== null ? (z.tags as Obj) : {};
  for (const [k, v] of Object.entries(tags)) {
    if (k === '__proto__') continue;
    attrs[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const local = asEndpoint(z.localEndpoint);
  const remote = asEndpoint(z.remoteEndpoint);
  if (typeof remote.serviceName === 'string') attrs['peer.service'] = remote.serviceName;
  endpointAttributes(attrs, kind, local, remote);
  const service =
    typeof local.serviceName === 'string' && local.serviceName !== '' ? local.serviceName : 'unknown_service';
  if (z.shared === true && kind !== SpanKind.CLIENT) {
    // The server half of a span shared with its client (B3's single-span RPC): it has the client half's id.
    // Give it its own id and make it the client half's child, so both halves are kept (as Jaeger's and the
    // OpenTelemetry Collector's Zipkin receivers do), and the id stays the same when the span is re-sent.
    parentSpanId = spanId;
    spanId = sharedSpanId(spanId, service, start);
  }
  const name = typeof z.name === 'string' ? z.name : '';
  const { statusCode, statusMessage } = statusOf(attrs);
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
    statusMessage,
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
 * µs (Zipkin's unit) → ns. A fraction is kept to the ns: the OpenTelemetry JS Zipkin exporter writes
 * `timestamp` as `hrTimeToMicroseconds(startTime)`, not rounded, so a start with sub-µs digits arrives as
 * e.g. `1700000000123456.75`.
 */
function microsToNanos(us: number): bigint {
  const whole = Math.trunc(us);
  return BigInt(whole) * 1000n + BigInt(Math.round((us - whole) * 1000));
}

/**
 * Status of a Zipkin span from its tags: ERROR on an `error` tag (any value, as Zipkin reads it) or
 * `otel.status_code` ERROR; OK on `otel.status_code` OK; the message from `otel.status_description`, else
 * the `error` tag unless it only says `true`/`false`.
 */
function statusOf(attrs: Attributes): { statusCode: StatusCode; statusMessage: string } {
  const code = String(attrs['otel.status_code'] ?? '')
    .toUpperCase()
    .replace(/^STATUS_CODE_/, '');
  const error = attrs.error;
  const description = attrs['otel.status_description'];
  const errorText = typeof error === 'string' && !/^(true|false)?$/i.test(error.trim()) ? error : '';
  if (error !== undefined || code === 'ERROR') {
    return {
      statusCode: StatusCode.ERROR,
      statusMessage: typeof description === 'string' && description !== '' ? description : errorText,
    };
  }
  return {
    statusCode: code === 'OK' ? StatusCode.OK : StatusCode.UNSET,
    statusMessage: typeof description === 'string' ? description : '',
  };
}

/** A Zipkin `Endpoint` (`serviceName`, `ipv4`, `ipv6`, `port`), `{}` when absent. */
function asEndpoint(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

/** The endpoint's address (`ipv4`, else `ipv6`) when it is a valid IP address. */
function addressOf(e: Obj): string | undefined {
  if (typeof e.ipv4 === 'string' && isIPv4(e.ipv4)) return e.ipv4;
  if (typeof e.ipv6 === 'string' && isIPv6(e.ipv6)) return e.ipv6;
  return undefined;
}

/** The endpoint's port when it is 1..65535 (Zipkin sends 0 or nothing when unknown). */
function portOf(e: Obj): number | undefined {
  return typeof e.port === 'number' && Number.isInteger(e.port) && e.port > 0 && e.port <= 65535
    ? e.port
    : undefined;
}

/** Adds the endpoints' addresses and ports as OpenTelemetry attributes (see the module comment). */
function endpointAttributes(attrs: Attributes, kind: SpanKind, local: Obj, remote: Obj): void {
  const set = (key: string, value: string | number | undefined) => {
    if (value !== undefined && attrs[key] === undefined) attrs[key] = value;
  };
  const localAddress = addressOf(local);
  const localPort = portOf(local);
  set('network.local.address', localAddress);
  set('network.local.port', localPort);
  if (kind === SpanKind.SERVER) {
    set('server.address', localAddress);
    set('server.port', localPort);
  }
  const peerAddress = addressOf(remote);
  const peerPort = portOf(remote);
  set('network.peer.address', peerAddress);
  set('network.peer.port', peerPort);
  if (kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER || kind === SpanKind.CONSUMER) {
    set('server.address', peerAddress);
    set('server.port', peerPort);
  } else if (kind === SpanKind.SERVER) {
    set('client.address', peerAddress);
    set('client.port', peerPort);
  }
}
