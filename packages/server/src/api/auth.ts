/**
 * API keys. With no key configured the server only listens on loopback (enforced by config). With keys,
 * ingest routes need the ingest key and API routes the API (read/admin) key, as `Authorization: Bearer
 * <key>` (what `OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<key>` sends) or `X-Api-Key: <key>`.
 * The API key is accepted for ingest too. Comparison is constant-time. Each plugin checks the key in its
 * `onRequest` hook ({@link requireKey}), before the body is read and before anything is validated, so a
 * request without a key gets 401 whatever else is wrong with it.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SiperfError } from '../errors.ts';

/** The key of an `Authorization: Bearer <key>` value, else undefined. */
export function bearerKey(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  return m ? m[1] : undefined;
}

function presentedKey(request: FastifyRequest, queryKey: boolean): string | undefined {
  const bearer = bearerKey(request.headers.authorization);
  if (bearer !== undefined) return bearer;
  const x = request.headers['x-api-key'];
  if (typeof x === 'string') return x;
  const q = queryKey ? (request.query as Record<string, unknown> | undefined)?.key : undefined;
  return typeof q === 'string' ? q : undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks the request's key against the allowed keys (undefined entries are ignored). With `queryKey`, a
 * `?key=` query parameter is accepted too (browser beacons cannot set headers).
 * @throws SiperfError `ERR_AUTH_MISSING` (401) without a key, `ERR_AUTH_FORBIDDEN` (403) with a wrong one.
 */
export function requireKey(
  request: FastifyRequest,
  allowed: readonly (string | undefined)[],
  what: string,
  queryKey = false,
): void {
  checkKey(() => presentedKey(request, queryKey), allowed, what);
}

/**
 * Checks a presented key (read only when a key is configured) against the allowed keys (undefined
 * entries are ignored); for transports other than HTTP (OTLP/gRPC metadata).
 * @throws SiperfError `ERR_AUTH_MISSING` without a key, `ERR_AUTH_FORBIDDEN` with a wrong one.
 */
export function checkKey(
  presented: () => string | undefined,
  allowed: readonly (string | undefined)[],
  what: string,
): void {
  const keys = allowed.filter((k): k is string => k !== undefined);
  if (keys.length === 0) return;
  const key = presented();
  if (key === undefined) {
    throw new SiperfError('ERR_AUTH_MISSING', `${what} requires a key: send Authorization: Bearer <key>`);
  }
  if (!keys.some((k) => same(k, key)))
    throw new SiperfError('ERR_AUTH_FORBIDDEN', `the key sent is not valid for ${what}`);
}
