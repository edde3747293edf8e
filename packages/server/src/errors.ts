/**
 * The one catalogue of siperf errors (after Fastify's `lib/errors.js`).
 *
 * Every error a client may see carries a stable `code` (`ERR_<AREA>_<WHAT>`), the HTTP status it maps to,
 * and a `detail` a person can act on. Codes are public API: `docs/errors.md` lists every one of them and a
 * test fails when the two disagree. A retired code is never reused.
 *
 * @module
 */

/** Code → HTTP status and short title (RFC 9457 `title`). */
export const ERROR_CODES = {
  ERR_CONFIG_INVALID: { status: 500, title: 'Invalid configuration' },
  ERR_AUTH_MISSING: { status: 401, title: 'Authentication required' },
  ERR_AUTH_FORBIDDEN: { status: 403, title: 'Key not allowed here' },
  ERR_INGEST_CONTENT_TYPE: { status: 415, title: 'Unsupported content type' },
  ERR_INGEST_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  ERR_INGEST_DECODE: { status: 400, title: 'Request body could not be decoded' },
  ERR_INGEST_OVERLOADED: { status: 503, title: 'Ingest queue full, retry later' },
  ERR_INGEST_SPAN_ID: { status: 400, title: 'Invalid trace or span id' },
  ERR_INGEST_SPAN_TIME: { status: 400, title: 'Invalid span time' },
  ERR_INGEST_SPAN_FIELD: { status: 400, title: 'Invalid span field' },
  ERR_INGEST_METRIC: { status: 400, title: 'Invalid metric data point' },
  ERR_QUERY_PARAM: { status: 400, title: 'Invalid query parameter' },
  ERR_QUERY_NOT_FOUND: { status: 404, title: 'Not found' },
  ERR_API_BODY: { status: 400, title: 'Invalid request body' },
  ERR_INGEST_VITALS: { status: 400, title: 'Invalid web-vitals item' },
  ERR_CACHE_NOT_FOUND: { status: 404, title: 'No such cache' },
  ERR_CACHE_CONFLICT: { status: 409, title: 'Cache exists or too many caches' },
  ERR_CACHE_MISS: { status: 404, title: 'Cache miss' },
  ERR_CACHE_NOT_STORED: { status: 413, title: 'Value not stored' },
  ERR_POOL_NOT_FOUND: { status: 404, title: 'No such database pool' },
  ERR_QUERY_NOT_ALLOWED: { status: 400, title: 'Statement not allowed' },
  ERR_DB_QUERY: { status: 502, title: 'The database failed' },
  ERR_DB_STATEMENT: { status: 422, title: 'The database could not run the statement' },
  ERR_QUERY_RESULT_TOO_LARGE: { status: 422, title: 'Result over the row or byte cap' },
  ERR_POOL_WRITABLE: { status: 403, title: 'The pool can write' },
  ERR_ALERT_RULES_LIMIT: { status: 409, title: 'Too many alert rules' },
  ERR_STORE_CLOSED: { status: 503, title: 'Store is closed' },
  ERR_STORE_DISK_FULL: { status: 503, title: 'Disk full, retry later' },
  ERR_STORE_UNAVAILABLE: { status: 503, title: 'Store unreachable, retry later' },
  ERR_SERVER_BUSY: { status: 503, title: 'Server busy, retry later' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

/** One of the codes of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options of {@link SiperfError}: the field at fault, the limit it broke, and the underlying cause. */
export interface SiperfErrorOptions {
  /** Name of the input field at fault, e.g. `resourceSpans[0].scopeSpans[0].spans[3].traceId`. */
  field?: string;
  /** The limit that was broken, e.g. `16 bytes` or `10485760 bytes`. */
  limit?: string | number;
  /** Seconds a client should wait before retrying (sent as `Retry-After` with 429/503). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * The error type of siperf: a code from {@link ERROR_CODES}, its HTTP status, and a detail message.
 * Thrown by config validation, ingest decoding, query parsing and the store; the API turns it into
 * `application/problem+json`.
 */
export class SiperfError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly field: string | undefined;
  readonly limit: string | number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, detail: string, options: SiperfErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SiperfError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = detail;
    this.field = options.field;
    this.limit = options.limit;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True when `value` is a {@link SiperfError}. */
export function isSiperfError(value: unknown): value is SiperfError {
  return value instanceof SiperfError;
}
