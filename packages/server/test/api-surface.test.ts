/**
 * Auth (401/403 as problem+json) and the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestApp } from './helpers.ts';

describe('API keys', () => {
  test('ingest needs the ingest (or API) key, reads need the API key; 401 without, 403 with a wrong one', async () => {
    const t = await startTestApp({ ingestKey: 'ingest-secret', apiKey: 'api-secret' });
    try {
      const body = JSON.stringify({ resourceSpans: [] });
      const send = (headers: Record<string, string>) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/traces',
          payload: body,
          headers: { 'content-type': 'application/json', ...headers },
        });
      const none = await send({});
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(none.json().code, 'ERR_AUTH_MISSING');
      const wrong = await send({ authorization: 'Bearer nope' });
      assert.equal(wrong.statusCode, 403);
      assert.equal(wrong.json().code, 'ERR_AUTH_FORBIDDEN');
      assert.equal((await send({ authorization: 'Bearer ingest-secret' })).statusCode, 200);
      assert.equal((await send({ authorization: 'Bearer api-secret' })).statusCode, 200);
      const read = (headers: Record<string, string>) =>
        t.app.inject({ method: 'GET', url: '/api/v1/apm/services', headers });
      assert.equal((await read({})).statusCode, 401);
      assert.equal(
        (await read({ authorization: 'Bearer ingest-secret' })).statusCode,
        403,
        'the ingest key cannot read',
      );
      assert.equal((await read({ 'x-api-key': 'api-secret' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });
});

describe('OpenAPI', () => {
  test('/docs/json is an OpenAPI 3 document listing the APM and ingest paths', async () => {
    const t = await startTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json();
      assert.match(doc.openapi, /^3\./);
      for (const path of [
        '/api/v1/apm/metrics/api',
        '/api/v1/apm/metrics/database',
        '/api/v1/apm/traces/recent',
        '/api/v1/apm/traces/{traceId}',
        '/api/v1/apm/services',
        '/api/v1/apm/metrics/custom',
        '/v1/traces',
        '/v1/metrics',
        '/api/v2/spans',
      ]) {
        assert.ok(doc.paths[path], `${path} is documented`);
      }
      const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
      assert.equal(ui.statusCode, 200);
      assert.match(ui.headers['content-type'] as string, /text\/html/);
    } finally {
      await t.close();
    }
  });
});
