/**
 * OTLP trace requests (`ExportTraceServiceRequest`, decoded from JSON or protobuf) → siperf spans.
 *
 * Each span is checked on its own and a bad one is rejected alone (OTLP partial success: counted in
 * `rejectedSpans`, named in `errorMessage`), the rest of the request is kept: an id that is not hex (in
 * OTLP/JSON usually base64, the protobuf JSON default that OTLP forbids), of the wrong length or all zero;
 * zero or missing times, an end before the start, a span longer than `maxSpanDurationMs`; a kind or status
 * code out of range or an enum name that does not exist (never read as 0).
 * Spec: https://opentelemetry.io/docs/specs/otlp/ (partial success: #partial-success)
 * @module
 */
import { type ErrorCode, SiperfError } from '../errors.ts';
import { isErrorSpan, SPAN_KIND_NAMES, type Span, type SpanKind, type StatusCode } from '../model/index.ts';
import { normaliseHexId } from '../util/hex-id.ts';
import { attributes, enumValue, idText, toBigInt } from './otlp-values.ts';
import { dbCallOf, endpointOf, httpStatusOf, transactionOf } from './semconv.ts';
import { type ClockPolicy, durationProblem, isClockFlagged, type SpanBatch } from './span-batch.ts';

const KIND_ENUM = SPAN_KIND_NAMES.map((n) => `SPAN_KIND_${n.toUpperCase()}`);
const STATUS_ENUM = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
/** The largest time a span may carry: ns since the epoch in a signed 64-bit integer (year 2262). */
const MAX_TIME_NS = 2n ** 63n - 1n;

type Obj = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});

/**
 * Converts a decoded `ExportTraceServiceRequest` into spans.
 *
 * @param request - the request object; `resourceSpans[].scopeSpans[].spans[]` (`instrumentationLibrarySpans`,
 *   the pre-1.0 name, is read too).
 * @param clock - clock policy: spans far from the server time are flagged, spans too long rejected.
 * @throws SiperfError `ERR_INGEST_DECODE` when the request is not an object.
 */
export function otlpTracesToSpans(request: unknown, clock: ClockPolicy): SpanBatch {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new SiperfError(
      'ERR_INGEST_DECODE',
      'expected an ExportTraceServiceRequest object with resourceSpans',
    );
  }
  const out: SpanBatch = { spans: [], rejected: [] };
  let index = 0;
  const resourceSpans = asArray((request as Obj).resourceSpans);
  for (let r = 0; r < resourceSpans.length; r++) {
    const rs = asObj(resourceSpans[r]);
    let resourceAttributes: Span['resourceAttributes'];
    let resourceError: string | undefined;
    try {
      resourceAttributes = attributes(asObj(rs.resource).attributes);
    } catch (err) {
      resourceAttributes = {};
      resourceError = (err as Error).message;
    }
    const sn = resourceAttributes['service.name'];
    const service = typeof sn === 'string' && sn !== '' ? sn.toWellFormed() : 'unknown_service';
    const scopes = asArray(rs.scopeSpans ?? rs.instrumentationLibrarySpans);
    for (let s = 0; s < scopes.length; s++) {
      const ss = asObj(scopes[s]);
      const scope = asObj(ss.scope ?? ss.instrumentationLibrary);
      const scopeName = typeof scope.name === 'string' ? scope.name : '';
      const spans = asArray(ss.spans);
      for (let k = 0; k < spans.length; k++, index++) {
        const path = `resourceSpans[${r}].scopeSpans[${s}].spans[${k}]`;
        const raw = asObj(spans[k]);
        const result = resourceError
          ? bad(`resourceSpans[${r}].resource.attributes`, 'ERR_INGEST_SPAN_FIELD', resourceError)
          : convertGuarded(raw, path, clock, service, resourceAttributes, scopeName);
        if ('reason' in result) out.rejected.push({ index, ...result });
        else out.spans.push(result);
      }
    }
  }
  return out;
}

/** Why one span was rejected (becomes a {@link SpanRejection} once its index is known). */
interface Bad {
  field: string;
  code: ErrorCode;
  reason: string;
}

const bad = (field: string, code: ErrorCode, reason: string): Bad => ({ field, code, reason });

/** An absent field: `undefined`, `null`, or protobufjs' default for absent bytes (an empty array). */
function isAbsent(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0);
}

/** A trace or span id as lower-case hex, or why it is refused (not hex, wrong length, all zero, not text). */
function checkId(value: unknown, bytes: number, field: string): string | Bad {
  if (!isAbsent(value) && typeof value !== 'string' && !(value instanceof Uint8Array)) {
    return bad(field, 'ERR_INGEST_SPAN_ID', `must be ${bytes * 2} hex characters, got ${show(value)}`);
  }
  const id = normaliseHexId(idText(value), bytes);
  return id.startsWith('!') ? bad(field, 'ERR_INGEST_SPAN_ID', id.slice(1)) : id;
}

function convertSpan(
  raw: Obj,
  path: string,
  clock: ClockPolicy,
  service: string,
  resourceAttributes: Span['resourceAttributes'],
  scope: string,
): Span | Bad {
  const traceId = checkId(raw.traceId, 16, `${path}.traceId`);
  if (typeof traceId !== 'string') return traceId;
  const spanId = checkId(raw.spanId, 8, `${path}.spanId`);
  if (typeof spanId !== 'string') return spanId;
  let parentSpanId: string | Bad = '';
  const parentText = idText(raw.parentSpanId);
  const parentIsText = typeof raw.parentSpanId === 'string' || raw.parentSpanId instanceof Uint8Array;
  // Absent, empty or all zero: a root. Anything else must be a valid id (a number is not read as absent).
  if ((parentText !== '' && !/^0+$/.test(parentText)) || (!isAbsent(raw.parentSpanId) && !parentIsText)) {
    parentSpanId = checkId(raw.parentSpanId, 8, `${path}.parentSpanId`);
    if (typeof parentSpanId !== 'string') return parentSpanId;
  }
  const start = toBigInt(raw.startTimeUnixNano);
  const end = toBigInt(raw.endTimeUnixNano);
  if (start !== undefined && start > MAX_TIME_NS) {
    return bad(
      `${path}.startTimeUnixNano`,
      'ERR_INGEST_SPAN_TIME',
      `must be at most ${MAX_TIME_NS} (2^63 − 1 ns), got ${start}`,
    );
  }
  if (end !== undefined && end > MAX_TIME_NS) {
    return bad(
      `${path}.endTimeUnixNano`,
      'ERR_INGEST_SPAN_TIME',
      `must be at most ${MAX_TIME_NS} (2^63 − 1 ns), got ${end}`,
    );
  }
  if (start === undefined || start <= 0n) {
    return bad(
      `${path}.startTimeUnixNano`,
      'ERR_INGEST_SPAN_TIME',
      `must be a positive integer of ns since the epoch, got ${show(raw.startTimeUnixNano)}`,
    );
  }
  if (end === undefined || end <= 0n) {
    return bad(
      `${path}.endTimeUnixNano`,
      'ERR_INGEST_SPAN_TIME',
      `must be a positive integer of ns since the epoch, got ${show(raw.endTimeUnixNano)}`,
    );
  }
  if (end < start) {
    return bad(`${path}.endTimeUnixNano`, 'ERR_INGEST_SPAN_TIME', `end ${end} precedes start ${start}`);
  }
  const tooLong = durationProblem(end - start, clock);
  if (tooLong) return bad(`${path}.endTimeUnixNano`, 'ERR_INGEST_SPAN_TIME', tooLong);
  const kind = enumValue(raw.kind, KIND_ENUM);
  if (!Number.isInteger(kind) || kind < 0 || kind >= KIND_ENUM.length) {
    return bad(
      `${path}.kind`,
      'ERR_INGEST_SPAN_FIELD',
      `must be a SpanKind 0..5, got ${show(raw.kind)} (a number or a name such as SPAN_KIND_SERVER)`,
    );
  }
  const status = asObj(raw.status);
  const statusCode = enumValue(status.code, STATUS_ENUM);
  if (!Number.isInteger(statusCode) || statusCode < 0 || statusCode >= STATUS_ENUM.length) {
    return bad(
      `${path}.status.code`,
      'ERR_INGEST_SPAN_FIELD',
      `must be a StatusCode 0..2, got ${show(status.code)} (a number or a name such as STATUS_CODE_ERROR)`,
    );
  }
  const name = typeof raw.name === 'string' ? raw.name : '';
  const attrs = attributes(raw.attributes);
  const httpStatusCode = httpStatusOf(attrs);
  return {
    traceId,
    spanId,
    parentSpanId,
    service,
    name,
    endpoint: endpointOf(kind as SpanKind, name, attrs),
    kind: kind as SpanKind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    durationNano: end - start,
    statusCode: statusCode as StatusCode,
    statusMessage: typeof status.message === 'string' ? status.message : '',
    httpStatusCode,
    isError: isErrorSpan(kind as SpanKind, statusCode as StatusCode, httpStatusCode),
    db: dbCallOf(name, attrs),
    transaction: transactionOf(attrs),
    clockFlagged: isClockFlagged(start, clock),
    resourceAttributes,
    attributes: attrs,
    events: asArray(raw.events).map((e) => {
      const ev = asObj(e);
      return {
        timeUnixNano: String(toBigInt(ev.timeUnixNano) ?? 0n),
        name: typeof ev.name === 'string' ? ev.name : '',
        attributes: attributes(ev.attributes),
      };
    }),
    links: asArray(raw.links).map((l) => {
      const link = asObj(l);
      return {
        traceId: idText(link.traceId).toLowerCase(),
        spanId: idText(link.spanId).toLowerCase(),
        attributes: attributes(link.attributes),
      };
    }),
    scope,
  };
}

/**
 * {@link convertSpan}, with any failure of one span's content (an attribute nested too deep, a value of the
 * wrong type) turned into that span's rejection.
 */
function convertGuarded(...args: Parameters<typeof convertSpan>): Span | Bad {
  try {
    return convertSpan(...args);
  } catch (err) {
    return bad(args[1], 'ERR_INGEST_SPAN_FIELD', (err as Error).message);
  }
}

function show(v: unknown): string {
  const b = toBigInt(v);
  if (b !== undefined && typeof v === 'object') return String(b);
  if (v === undefined) return 'nothing';
  const text = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
