/**
 * The API contract: every route declares its schemas, `/docs/json` is a valid OpenAPI document, the error
 * codes and docs/errors.md agree both ways, problem types resolve on the server, and unknown fields and
 * parameters are refused by name.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { FASTIFY_CODES } from '../src/api/problem.ts';
import { compilePendingValidators } from '../src/api/validation.ts';
import { registeredRoutes } from '../src/app.ts';
import { ERROR_CODES } from '../src/errors.ts';
import { startTestApp } from './helpers.ts';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const ERRORS_MD = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));

/** Routes served by @fastify/swagger-ui (its static files) carry `hide: true` and are not API. */
function apiRoutes(app: Parameters<typeof registeredRoutes>[0]) {
  return registeredRoutes(app).filter((r) => !(r.schema as { hide?: boolean } | undefined)?.hide);
}

const methodsOf = (r: { method: string | string[] }) => (Array.isArray(r.method) ? r.method : [r.method]);

describe('route schemas', () => {
  test('every route declares a summary, its query, path parameters, body and answers (2xx and problems)', async () => {
    const t = await startTestApp();
    try {
      const missing: string[] = [];
      const routes = apiRoutes(t.app).filter((r) => !methodsOf(r).every((m) => m === 'HEAD'));
      assert.ok(routes.length >= 40, `expected the whole API, found ${routes.length} routes`);
      for (const r of routes) {
        const s = (r.schema ?? {}) as Record<string, any>;
        const name = `${methodsOf(r).join(',')} ${r.url}`;
        if (!s.summary) missing.push(`${name}: summary`);
        if (!s.querystring) missing.push(`${name}: querystring`);
        if (r.url.includes(':') && !s.params) missing.push(`${name}: params`);
        if (methodsOf(r).some((m) => ['POST', 'PUT', 'PATCH'].includes(m)) && !s.body)
          missing.push(`${name}: body`);
        const statuses = Object.keys(s.response ?? {});
        if (!statuses.some((c) => /^2\d\d$/.test(c))) missing.push(`${name}: a 2xx answer`);
        for (const c of ['400', '401', '403', '500']) {
          const problem = s.response?.[c]?.content?.['application/problem+json'];
          if (!problem) missing.push(`${name}: ${c} as application/problem+json`);
        }
      }
      assert.deepEqual(missing, []);
    } finally {
      await t.close();
    }
  });

  test('every schema the routes declare compiles (validators are compiled on first use, so check them all here)', async () => {
    const t = await startTestApp();
    try {
      // Query, params and body validators and, with validateResponses (on in tests), every answer's schema:
      // at least one per route.
      const routes = apiRoutes(t.app).length;
      const count = compilePendingValidators();
      assert.ok(count >= routes, `${count} schemas compiled for ${routes} routes`);
      assert.equal(compilePendingValidators(), 0, 'nothing is left to compile');
    } finally {
      await t.close();
    }
  });

  test('/docs/json is a valid OpenAPI 3.1 document that lists every route with its schemas', async () => {
    const t = await startTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json();
      const validator = new Validator();
      const result = await validator.validate(doc);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 3000));
      assert.equal(validator.version, '3.1');
      for (const r of apiRoutes(t.app)) {
        const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        for (const m of methodsOf(r)) {
          if (m === 'HEAD') continue;
          const op = doc.paths[path]?.[m.toLowerCase()];
          assert.ok(op, `${m} ${path} is in the document`);
          assert.ok(op.responses['400'], `${m} ${path} documents its 400`);
        }
      }
      // A schema for a known answer made it through: the trace tree's recursive span node.
      assert.equal(
        doc.components.schemas.SpanNode.properties.children.items.$ref,
        '#/components/schemas/SpanNode',
      );
    } finally {
      await t.close();
    }
  });
});

describe('error codes', () => {
  const doc = readFileSync(ERRORS_MD, 'utf8');
  const sections = [...doc.matchAll(/^## (err_[a-z_]+)\n\n`(ERR_[A-Z_]+)` \((\d{3})/gm)].map((m) => ({
    anchor: m[1]!,
    code: m[2]!,
    status: Number(m[3]),
  }));

  test('docs/errors.md has one section per code, with the code and status of the catalogue', () => {
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    assert.equal(sections.length, headings.length, 'every section opens with `CODE` (status)');
    for (const s of sections) {
      assert.equal(s.anchor.toUpperCase(), s.code, `${s.anchor} names its own code`);
      const entry = ERROR_CODES[s.code as keyof typeof ERROR_CODES];
      assert.ok(entry, `${s.code} in docs/errors.md exists in errors.ts`);
      assert.equal(
        s.status,
        entry.status,
        `${s.code}: the page says ${s.status}, the catalogue ${entry.status}`,
      );
    }
    assert.deepEqual(sections.map((s) => s.code).sort(), Object.keys(ERROR_CODES).sort());
  });

  test('every ERR_ code written in the source, and every Fastify mapping, exists in the catalogue', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
      });
    const used = new Set<string>();
    for (const f of files(SRC)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/['"`](ERR_[A-Z_]+)['"`]/g)) used.add(m[1]!);
    }
    for (const v of Object.values(FASTIFY_CODES)) if (v !== 'decode') used.add(v);
    // Node's own codes, compared against in catch blocks, are not ours.
    for (const nodeCode of ['ERR_BUFFER_TOO_LARGE', 'ERR_WORKER_OUT_OF_MEMORY']) used.delete(nodeCode);
    const unknown = [...used].filter((c) => !(c in ERROR_CODES));
    assert.deepEqual(unknown, []);
    assert.ok(used.size >= 20, `the scan found ${used.size} codes`);
  });

  test('a problem type resolves on the server to the anchor of its code', async () => {
    const t = await startTestApp();
    try {
      const bad = await t.app.inject({ method: 'GET', url: '/api/v1/apm/traces/recent?limit=0' });
      assert.equal(bad.statusCode, 400);
      const type = bad.json().type as string;
      assert.equal(type, '/docs/errors#err_query_param');
      const [path, anchor] = type.split('#');
      const page = await t.app.inject({ method: 'GET', url: path! });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      for (const code of Object.keys(ERROR_CODES)) {
        assert.ok(page.body.includes(`id="${code.toLowerCase()}"`), `the page has an anchor for ${code}`);
      }
      assert.ok(page.body.includes(`id="${anchor}"`));
    } finally {
      await t.close();
    }
  });
});

describe('unknown fields and parameters', () => {
  test('a step sent with `ok` instead of `success` is refused naming `ok`, and nothing is stored', async () => {
    const t = await startTestApp();
    try {
      const started = await t.app.inject({
        method: 'POST',
        url: '/api/v1/apm/transactions/start',
        payload: { name: 'checkout', id: 'tx-1' },
      });
      assert.equal(started.statusCode, 201);
      const step = await t.app.inject({
        method: 'POST',
        url: '/api/v1/apm/transactions/tx-1/steps',
        payload: { name: 'pay', durationMs: 12, ok: false },
      });
      assert.equal(step.statusCode, 400);
      const problem = step.json();
      assert.equal(problem.code, 'ERR_API_BODY');
      assert.equal(problem.field, 'ok');
      assert.match(problem.detail, /^ok: unknown field; expected one of name, durationMs, success$/);
      const marks = await t.store.transactionMarks({ transactionId: 'tx-1' });
      assert.deepEqual(
        marks.map((m) => m.event),
        ['start'],
        'the refused step left no mark',
      );
    } finally {
      await t.close();
    }
  });

  test('a wrong type names the field, the expectation and what was given; limits are reported', async () => {
    const t = await startTestApp();
    try {
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/apm/transactions/start',
        payload: { name: 'checkout', id: 'tx-2' },
      });
      const send = (payload: unknown) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/apm/transactions/tx-2/steps',
          payload: payload as object,
        });
      const wrongType = (await send({ name: 'pay', durationMs: '12' })).json();
      assert.equal(wrongType.detail, 'durationMs: expected a number 0..2592000000, got "12"');
      const tooLong = (await send({ name: 'p'.repeat(300), durationMs: 1 })).json();
      assert.equal(tooLong.detail, 'name: expected a string of 1..256 characters, got 300 characters');
      assert.equal(tooLong.limit, '1..256');
      const missing = (await send({ durationMs: 1 })).json();
      assert.equal(missing.detail, 'name: required, a string of 1..256 characters');
      assert.equal(missing.field, 'name');
    } finally {
      await t.close();
    }
  });

  test('an unknown query parameter is refused naming it; numbers must be decimal', async () => {
    const t = await startTestApp();
    try {
      const unknown = (await t.app.inject({ method: 'GET', url: '/api/v1/apm/metrics/api?limt=5' })).json();
      assert.equal(unknown.code, 'ERR_QUERY_PARAM');
      assert.equal(unknown.field, 'limt');
      assert.match(
        unknown.detail,
        /^limt: unknown parameter; expected one of service, from, to, window, kind$/,
      );
      const hex = await t.app.inject({ method: 'GET', url: '/api/v1/apm/traces/recent?limit=0x10' });
      assert.equal(hex.statusCode, 400);
      assert.equal(hex.json().detail, 'limit: expected an integer 1..1000, got "0x10"');
      const ok = await t.app.inject({ method: 'GET', url: '/api/v1/apm/traces/recent?limit=10&error=false' });
      assert.equal(ok.statusCode, 200);
    } finally {
      await t.close();
    }
  });
});
