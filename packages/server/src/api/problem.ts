/**
 * Errors as `application/problem+json` (RFC 9457, https://www.rfc-editor.org/rfc/rfc9457): `type` links
 * to the code's entry in docs/errors.md, `title` and `status` come from the catalogue, `detail` says
 * what to fix; extension members `code`, `field`, `limit`. 429/503 carry `Retry-After`.
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode, SiperfError } from '../errors.ts';

/** Fastify's own error codes that map to a siperf code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_INGEST_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_INGEST_CONTENT_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_INGEST_DECODE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_INGEST_DECODE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_INGEST_DECODE',
  FST_ERR_VALIDATION: 'ERR_QUERY_PARAM',
};

/** Sends a problem document for `err`. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: SiperfError): FastifyReply {
  const body: Record<string, unknown> = {
    type: `docs/errors.md#${err.code.toLowerCase()}`,
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

/** Installs the one error handler and the 404 handler of the app. Unknown throws become ERR_INTERNAL. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | SiperfError, request, reply) => {
    if (error instanceof SiperfError) {
      if (error.status >= 500) request.log.error({ err: error }, error.detail);
      return sendProblem(reply, request, error);
    }
    let mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    // API routes that take JSON say so in `config.apiBody`: their decode errors are body errors.
    if (
      mapped === 'ERR_INGEST_DECODE' &&
      (request.routeOptions.config as { apiBody?: boolean } | undefined)?.apiBody
    ) {
      mapped = 'ERR_API_BODY';
    }
    if (mapped) {
      const limit =
        mapped === 'ERR_INGEST_BODY_TOO_LARGE' ? (request.routeOptions.bodyLimit ?? undefined) : undefined;
      const detail =
        mapped === 'ERR_INGEST_CONTENT_TYPE'
          ? `content type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted here; send ${acceptsOf(request)}`
          : mapped === 'ERR_INGEST_BODY_TOO_LARGE'
            ? `request body exceeds the limit of ${limit} bytes of ${request.url.split('?')[0]}`
            : error.message;
      return sendProblem(reply, request, new SiperfError(mapped, detail, { limit }));
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, request, new SiperfError('ERR_INGEST_DECODE', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      request,
      new SiperfError('ERR_INTERNAL', 'internal error; the server log has the cause'),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      new SiperfError('ERR_QUERY_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
