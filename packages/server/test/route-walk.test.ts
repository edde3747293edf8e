/**
 * Walks every route the app registered (`registeredRoutes`) against a server with keys:
 * - without a key, every route that is not public answers 401 first, whatever else is wrong with the request
 *   (a malformed body, a wrong content type, an unknown query parameter); with a wrong key 403;
 * - with the key, a request without a body and without a Content-Type is a 4xx on every route that takes a
 *   body, never a 500: 415 naming the types on a route that decodes its body itself, 400 with a Content-Type.
 * A new route is covered as soon as it is registered; a public one must be added to PUBLIC on purpose.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteOptions } from 'fastify';
import { registeredRoutes } from '../src/app.ts';
import { startTestApp } from './helpers.ts';

/** Routes anyone may call: health, the API documentation, the RUM script, the dashboard and CORS preflights. */
const PUBLIC = new Set([
  'GET /healthz',
  'GET /docs',
  'GET /docs/',
  'GET /docs/errors',
  'GET /docs/json',
  'GET /docs/yaml',
  'GET /docs/static/*',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /rum.js',
  'GET /*',
  'OPTIONS *',
]);

const INGEST_KEY = 'ingest-key-0123456789';
const API_KEY = 'api-key-0123456789';

/** Each (method, url) of the app, HEAD left out (Fastify answers it from the GET route). */
function walk(routes: readonly RouteOptions[]): { method: string; url: string; route: RouteOptions }[] {
  return routes.flatMap((route) =>
    [route.method]
      .flat()
      .filter((m) => m !== 'HEAD')
      .map((method) => ({ method, url: route.url, route })),
  );
}

/** A concrete path for a route pattern: parameters and wildcards filled in. */
const pathOf = (url: string) => url.replace(/:\w+/g, 'x1').replace('*', 'anything');

const hasBody = (method: string) => method === 'POST' || method === 'PUT' || method === 'PATCH';

test('without a key every non-public route answers 401 before its body or query is looked at; a wrong key 403', async () => {
  const t = await startTestApp({ ingestKey: INGEST_KEY, apiKey: API_KEY, corsOrigins: '*' });
  try {
    const routes = walk(registeredRoutes(t.app));
    assert.ok(routes.length > 40, `only ${routes.length} routes found`);
    const wrong: string[] = [];
    let checked = 0;
    for (const { method, url } of routes) {
      if (PUBLIC.has(`${method} ${url}`)) continue;
      checked++;
      // Each way the request is malformed would give a 4xx of its own if it were looked at before the key.
      const variants: Record<string, string>[] = [
        { 'content-type': 'application/json' },
        { 'content-type': 'application/x-unknown' },
        {},
      ];
      for (const headers of variants) {
        for (const [key, expected] of [
          [undefined, 401],
          ['not-a-key', 403],
        ] as const) {
          const res = await t.app.inject({
            method: method as 'GET',
            url: `${pathOf(url)}?unknownParameter=1&from=yesterday`,
            headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
            ...(hasBody(method) ? { payload: '{"malformed": ' } : {}),
          });
          if (res.statusCode !== expected) {
            wrong.push(
              `${method} ${url} (${JSON.stringify(headers)}, key ${key}): ${res.statusCode} ${res.body.slice(0, 120)}`,
            );
          }
        }
      }
    }
    assert.deepEqual(wrong, [], `routes that did not check the key first:\n${wrong.join('\n')}`);
    assert.ok(checked > 30, `only ${checked} keyed routes checked`);
  } finally {
    await t.close();
  }
});

test('with the key, a request without a body and without a Content-Type is a 4xx on every route that takes a body', async () => {
  const t = await startTestApp({ ingestKey: INGEST_KEY, apiKey: API_KEY });
  try {
    const wrong: string[] = [];
    let decoded = 0;
    for (const { method, url, route } of walk(registeredRoutes(t.app))) {
      if (!hasBody(method)) continue;
      const byContentType =
        (route.schema as { body?: { content?: object } } | undefined)?.body?.content !== undefined;
      for (const headers of [{}, { 'content-type': 'application/json' }] as Record<string, string>[]) {
        const res = await t.app.inject({
          method: method as 'POST',
          url: pathOf(url),
          headers: { ...headers, authorization: `Bearer ${API_KEY}` },
        });
        const code = res.json().code;
        const expected = !byContentType
          ? res.statusCode >= 400 && res.statusCode < 500
          : headers['content-type'] === undefined
            ? res.statusCode === 415 && code === 'ERR_INGEST_CONTENT_TYPE'
            : res.statusCode === 400;
        if (!expected)
          wrong.push(
            `${method} ${url} ${JSON.stringify(headers)}: ${res.statusCode} ${res.body.slice(0, 160)}`,
          );
      }
      if (byContentType) decoded++;
    }
    assert.deepEqual(wrong, [], `body-less requests answered wrongly:\n${wrong.join('\n')}`);
    assert.ok(decoded >= 5, `only ${decoded} routes decode their own body`);
    const traces = await t.app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { authorization: `Bearer ${INGEST_KEY}` },
    });
    assert.equal(
      traces.json().detail,
      'the request has no body and no Content-Type; send application/x-protobuf or application/json',
    );
  } finally {
    await t.close();
  }
});
