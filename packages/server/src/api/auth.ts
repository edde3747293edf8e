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

function presentedKey(request: FastifyRequest, queryKey: boolean): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
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
  const keys = allowed.filter((k): k is string => k !== undefined);
  if (keys.length === 0) return;
  const key = presentedKey(request, queryKey);
  if (key === undefined) {
    throw new SiperfError('ERR_AUTH_MISSING', `${what} requires a key: send Authorization: Bearer <key>`);
  }
  if (!keys.some((k) => same(k, key)))
    throw new SiperfError('ERR_AUTH_FORBIDDEN', `the key sent is not valid for ${what}`);
}
