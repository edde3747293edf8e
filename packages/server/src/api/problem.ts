/**
 * Errors as `application/problem+json` (RFC 9457, https://www.rfc-editor.org/rfc/rfc9457): `type` links
 * to the code's entry in docs/errors.md, `title` and `status` come from the catalogue, `detail` says
 * what to fix; extension members `code`, `field`, `limit`. 429/503 carry `Retry-After`.
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode, SiperfError } from '../errors.ts';

/**
 * Every error Fastify raises while handling a request, mapped to a siperf code (after tRPC's
 * `getHTTPStatusCode`: one table). `decode` marks body-decoding errors, whose code depends on the route:
 * `ERR_INGEST_DECODE` on ingest routes, `ERR_API_BODY` on API routes.
 */
export const FASTIFY_CODES: Readonly<Record<string, ErrorCode | 'decode'>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_INGEST_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_INGEST_CONTENT_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'decode',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'decode',
  FST_ERR_CTP_INVALID_JSON_BODY: 'decode',
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'decode',
  FST_ERR_ROUTE_MISSING_CONTENT: 'decode',
  FST_ERR_VALIDATION: 'ERR_QUERY_PARAM',
  FST_ERR_BAD_URL: 'ERR_QUERY_PARAM',
  FST_ERR_INVALID_URL: 'ERR_QUERY_PARAM',
  FST_ERR_MAX_PARAM_LENGTH: 'ERR_QUERY_PARAM',
  FST_ERR_NOT_FOUND: 'ERR_QUERY_NOT_FOUND',
  FST_ERR_HANDLER_TIMEOUT: 'ERR_SERVER_BUSY',
  FST_ERR_CTP_INSTANCE_ALREADY_STARTED: 'ERR_INTERNAL',
};

/** Whether a request is on an ingest route (OTLP, Zipkin, beacons), whose decode errors are `ERR_INGEST_DECODE`. */
function onIngestRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { ingest?: boolean } | undefined)?.ingest === true;
}

/** The problem `type` of a code: its section of the errors page the server serves (`/docs/errors#err_…`). */
export function problemType(code: ErrorCode): string {
  return `/docs/errors#${code.toLowerCase()}`;
}

/** Sends a problem document for `err`. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: SiperfError): FastifyReply {
  const body: Record<string, unknown> = {
    type: problemType(err.code),
    title: ERROR_CODES[err.code].title,
    status: err.status,
    detail: err.detail,
    instance: request.url,
    code: err.code,
  };
  if (err.field !== undefined) body.field = err.field;
  if (err.limit !== undefined) body.limit = err.limit;
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(err.status).type('application/problem+json').send(body);
}

/** The content types a route accepts, from its `config.accepts` (default: OTLP's two). */
function acceptsOf(request: FastifyRequest): string {
  const accepts = (request.routeOptions.config as { accepts?: unknown } | undefined)?.accepts;
  return typeof accepts === 'string' ? accepts : 'application/x-protobuf or application/json';
}

/** Answers a request that no route took, when it is a dashboard page (else `undefined`). */
export type PageFallback = (request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined;

/**
 * Installs the one error handler and the 404 handler of the app. Unknown throws become ERR_INTERNAL. A GET
 * that no route takes goes to `pages.fallback` first (the dashboard's page paths), set once it is known.
 */
export function installProblemHandlers(app: FastifyInstance, pages: { fallback?: PageFallback } = {}): void {
  app.setErrorHandler((error: FastifyError | SiperfError, request, reply) => {
    if (error instanceof SiperfError) {
      if (error.status >= 500) request.log.error({ err: error }, error.detail);
      return sendProblem(reply, request, error);
    }
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    // A 4xx without a code of Fastify's (a body parser's SyntaxError, a plugin's error) is a decode error.
    const fallback =
      known === undefined &&
      typeof error.statusCode === 'number' &&
      error.statusCode >= 400 &&
      error.statusCode < 500
        ? 'decode'
        : undefined;
    const picked = known ?? fallback;
    const mapped: ErrorCode | undefined =
      picked === 'decode' ? (onIngestRoute(request) ? 'ERR_INGEST_DECODE' : 'ERR_API_BODY') : picked;
    if (mapped && mapped !== 'ERR_INTERNAL') {
      const limit =
        mapped === 'ERR_INGEST_BODY_TOO_LARGE' ? (request.routeOptions.bodyLimit ?? undefined) : undefined;
      const detail =
        mapped === 'ERR_INGEST_CONTENT_TYPE'
          ? `content type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted here; send ${acceptsOf(request)}`
          : mapped === 'ERR_INGEST_BODY_TOO_LARGE'
            ? `request body exceeds the limit of ${limit} bytes of ${request.url.split('?')[0]}`
            : mapped === 'ERR_SERVER_BUSY'
              ? 'the request took too long to handle; retry after 1 s'
              : picked === 'decode'
                ? `body: ${error.message}`
                : error.message;
      return sendProblem(
        reply,
        request,
        new SiperfError(mapped, detail, {
          limit,
          ...(mapped === 'ERR_SERVER_BUSY' ? { retryAfterSeconds: 1 } : {}),
        }),
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      request,
      new SiperfError('ERR_INTERNAL', 'internal error; the server log has the cause'),
    );
  });
  app.setNotFoundHandler(
    (request, reply) =>
      pages.fallback?.(request, reply) ??
      sendProblem(
        reply,
        request,
        new SiperfError('ERR_QUERY_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
      ),
  );
}
