/**
 * The span as siperf stores and analyses it: one OpenTelemetry span, flattened, with the fields that
 * the APM analysis needs lifted out of the attributes (endpoint, HTTP status, database statement).
 * @module
 */

/** Span kind, as OTLP numbers it (`SPAN_KIND_*`): 0 unspecified, 1 internal … 5 consumer. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;
/** One of the {@link SpanKind} numbers. */
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** Lower-case names of {@link SpanKind}, indexed by its number. */
export const SPAN_KIND_NAMES = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
] as const;

/** Span status code, as OTLP numbers it: 0 unset, 1 ok, 2 error. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
/** One of the {@link StatusCode} numbers. */
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

/** An attribute value after decoding: OTLP `AnyValue` as plain JSON. 64-bit ints stay strings if unsafe. */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

/** A flat attribute map (`key` → value). */
export type Attributes = Record<string, AttributeValue>;

/** Database facts of a span that calls a database (`db.*` attributes, old and new conventions). */
export interface DbCall {
  /** `db.system.name` / `db.system`, e.g. `postgresql`, `mysql`, `redis`. */
  system: string;
  /** `db.namespace` / `db.name`, or `''`. */
  database: string;
  /** The normalised statement: literals replaced by `$n` (PostgreSQL) or `?` (others). */
  statement: string;
  /** Hex fingerprint of the normalised statement (libpg-query's for PostgreSQL). */
  fingerprint: string;
}

/**
 * A span's part in a business transaction (a multi-step workflow that may cross requests and jobs), from
 * its `siperf.transaction.*` attributes: `id`, `name`, `event` (`start`, `step` or `end`), `step` (the
 * step's name) and `success`.
 */
export interface TransactionMark {
  /** The transaction's id (1–64 characters, usually 32 hex). */
  id: string;
  name: string;
  event: 'start' | 'step' | 'end';
  /** Step name (`''` for start and end). */
  step: string;
  /** Outcome of a step or of the whole transaction; `undefined` when not stated. */
  success: boolean | undefined;
}

/** One span, ready to store. Times are ns since the Unix epoch. */
export interface Span {
  /** 32 lower-case hex characters. */
  traceId: string;
  /** 16 lower-case hex characters. */
  spanId: string;
  /** 16 lower-case hex characters, or `''` for a root span. */
  parentSpanId: string;
  /** `service.name` of the resource; `unknown_service` when absent. */
  service: string;
  /** The span name as sent. */
  name: string;
  /** The endpoint: `METHOD route` for HTTP server spans with a route, else the span name. */
  endpoint: string;
  kind: SpanKind;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** `endTimeUnixNano - startTimeUnixNano`, ns, ≥ 0. */
  durationNano: bigint;
  statusCode: StatusCode;
  statusMessage: string;
  /** HTTP response status code, 0 when not an HTTP span. */
  httpStatusCode: number;
  /** True when the span counts as an error by the siperf rule (see `isErrorSpan`). */
  isError: boolean;
  /** Database call facts, when the span is a database call. */
  db: DbCall | undefined;
  /** Business-transaction facts, when the span carries `siperf.transaction.*` attributes. */
  transaction?: TransactionMark | undefined;
  /** True when the span's time is further from the server clock than allowed (kept, but flagged). */
  clockFlagged: boolean;
  /** Resource attributes, span attributes, events and links, as JSON text. */
  resourceAttributes: Attributes;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  /** Instrumentation scope name. */
  scope: string;
}

/** A span event (e.g. an exception). `timeUnixNano` in ns since the epoch. */
export interface SpanEvent {
  timeUnixNano: string;
  name: string;
  attributes: Attributes;
}

/** A link to another span. */
export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

/**
 * Whether a span counts as an error.
 *
 * A SERVER (or CONSUMER) span is an error when its status is ERROR or its HTTP status is 5xx: a 4xx is the
 * client's fault. A CLIENT span is an error on status ERROR or any HTTP status ≥ 400 (the call failed for
 * the caller). Other kinds: status ERROR. Follows the OpenTelemetry HTTP semantic conventions
 * ("Status" section of https://opentelemetry.io/docs/specs/semconv/http/http-spans/).
 */
export function isErrorSpan(kind: SpanKind, statusCode: StatusCode, httpStatusCode: number): boolean {
  if (statusCode === StatusCode.ERROR) return true;
  if (httpStatusCode === 0) return false;
  if (kind === SpanKind.CLIENT) return httpStatusCode >= 400;
  if (kind === SpanKind.SERVER) return httpStatusCode >= 500;
  return false;
}
