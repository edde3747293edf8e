/**
 * The dashboard (`@siperf/dashboard`, built to static files by `npm run build`) at `/`: its files with a
 * Content-Security-Policy that allows only this server's origin, and `index.html` for any other GET of a
 * page path (the dashboard routes in the browser), so a copied link opens the same view. Nothing is
 * compiled while a request waits: without a build, `/` says how to make one.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The policy of every dashboard file: this origin only; no inline script, no other host. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The folder of the built dashboard: `@siperf/dashboard`'s `dist/` in the repository, else the copy an
 * installed `@siperf/server` carries (`dist/bundled/dashboard`, made by `npm pack`); `undefined` when neither
 * is there.
 */
export function dashboardDist(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@siperf/dashboard/package.json');
    return join(dirname(pkg), 'dist');
  } catch {
    const bundled = fileURLToPath(new URL('../bundled/dashboard', import.meta.url));
    return existsSync(bundled) ? bundled : undefined;
  }
}

/** Paths that are never dashboard pages. */
const NOT_PAGES = /^\/(api|v1|docs|healthz|rum\.js|metrics)(\/|$|\?)/;

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/**
 * Registers the dashboard's files at `/` and returns a handler that answers page paths with `index.html`
 * (for the app's not-found handler), or `undefined` when the request is not a page.
 */
export async function dashboardRoutes(
  app: FastifyInstance,
): Promise<(request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined> {
  const dist = dashboardDist();
  const index =
    dist && existsSync(join(dist, 'index.html')) ? readFileSync(join(dist, 'index.html')) : undefined;
  if (!dist || !index) {
    const page =
      '<!doctype html><meta charset="utf-8"><title>siperf</title><p>The dashboard is not built. Run <code>npm run build</code> in the siperf folder, then restart. The API is at <a href="/docs">/docs</a>.</p>';
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      secure(reply).type('text/html; charset=utf-8').send(page),
    );
    return () => undefined;
  }
  await app.register(fastifyStatic, {
    root: dist,
    prefix: '/',
    wildcard: true,
    index: ['index.html'],
    // Hashed assets never change; index.html is read again on each visit.
    setHeaders: (res, path) => {
      res.header('content-security-policy', DASHBOARD_CSP);
      res.header('x-content-type-options', 'nosniff');
      res.header('referrer-policy', 'no-referrer');
      res.header(
        'cache-control',
        /[/\\]assets[/\\]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
    schemaHide: true,
  });
  return (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (request.method !== 'GET' || NOT_PAGES.test(path) || /\.[a-z0-9]+$/i.test(path)) return undefined;
    if (!String(request.headers.accept ?? '').includes('text/html')) return undefined;
    return secure(reply)
      .code(200)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(index);
  };
}
