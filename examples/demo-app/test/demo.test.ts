/**
 * `npm run demo -- --exit --json` end to end: the demo's known behaviour must come back through the API.
 * `GET /tasks/:id` loads a task, its first 12 annotations (every seeded task has 500), and each author
 * with its own query: 14 database calls per request, 12 of them the same statement. Every other endpoint
 * makes at most one. Every session is one `annotate` transaction with four named steps.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const DEMO = fileURLToPath(new URL('../src/run-demo.ts', import.meta.url));

/** Runs the demo for a few seconds and checks its report against what the demo is known to do. */
async function checkDemo(databaseUrl: string): Promise<{ report: any }> {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      DEMO,
      '--duration',
      '8s',
      '--exit',
      '--json',
      '--port',
      '0',
      '--data-dir',
      ':memory:',
      '--no-browser',
      // Not a test of overload: a busy machine must not turn the demo's exporters away with 503.
      '--max-event-loop-delay-ms',
      '0',
    ],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      maxBuffer: 16 * 1024 * 1024,
      // Killed before the test's own timeout, so a stuck demo fails the test instead of outliving it.
      timeout: 170_000,
    },
  );
  const { load, report } = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.ok(load.sessions > 5, `only ${load.sessions} sessions`);
  const byName = new Map(report.endpoints.map((e: any) => [e.endpoint, e]));
  const tasks: any = byName.get('GET /tasks/:id');
  assert.equal(report.nPlusOneSuspect, 'GET /tasks/:id');
  assert.equal(tasks.dbCallsPerRequest, 14);
  for (const name of ['POST /login', 'POST /tasks/:id/annotations', 'GET /results']) {
    assert.equal((byName.get(name) as any)?.dbCallsPerRequest, 1, name);
  }
  assert.ok((byName.get('GET /tasks/:id/summary') as any).dbCallsPerRequest <= 1);
  // One request per session to each endpoint; the author lookup runs 12 times per task request.
  assert.equal(tasks.requests, load.sessions);
  const authors = report.queries.find((q: any) => q.statement === 'SELECT name FROM users WHERE id = $1');
  assert.equal(authors.calls, 12 * tasks.requests);
  assert.deepEqual(authors.endpoints, ['GET /tasks/:id']);
  const tx = report.transaction;
  assert.equal(tx.count, load.sessions);
  assert.deepEqual(tx.steps.map((s: any) => s.step).sort(), [
    'list results',
    'load task',
    'log in',
    'save annotation',
  ]);
  for (const s of tx.steps) assert.equal(s.count, load.sessions, s.step);
  // Sessions whose save failed (3% send no label) fail their transaction.
  const save = tx.steps.find((s: any) => s.step === 'save annotation');
  assert.ok(Math.abs(tx.successRate - (1 - save.failureRate)) < 1e-9);
  assert.deepEqual(report.customMetrics.map((m: any) => m.name).sort(), [
    'demo.annotation.box_area',
    'demo.annotations.saved',
    'demo.cache.lookups',
  ]);
  // The advice names the N+1 with its fix (batch the author lookups); it is among the first two.
  const n1 = report.recommendations.findIndex((r: any) =>
    r.id.startsWith('n-plus-one:annotate-api/GET /tasks/:id:'),
  );
  assert.ok(n1 === 0 || n1 === 1, JSON.stringify(report.recommendations.map((r: any) => r.id)));
  assert.match(
    report.recommendations[n1].title,
    /SELECT name FROM users WHERE id = \$1 runs 12 times per request/,
  );
  assert.match(report.recommendations[n1].action, /= ANY\(\$1\)/);
  return { report };
}

test('PGlite: the demo reports the N+1 endpoint, the transaction and the custom metrics', {
  timeout: 180_000,
}, async () => {
  await checkDemo('');
});

const ADMIN_URL = process.env.SIPERF_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

test('PostgreSQL (pg, traced by the pg instrumentation): the same report', {
  timeout: 180_000,
}, async (t) => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    t.skip(`PostgreSQL not reachable at ${ADMIN_URL} (${(err as Error).message}): test skipped`);
    return;
  }
  const db = `siperf_demo_${process.pid}`;
  try {
    await admin.query(`CREATE DATABASE ${db}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${db}`;
    const { report } = await checkDemo(url.toString());
    // With PostgreSQL the advisor reads the plan of the results query: the missing index, with its
    // statement, is ranked with the N+1 in the first two.
    const index = report.recommendations.findIndex(
      (r: any) =>
        r.change ===
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS annotations_created_by_idx ON annotations (created_by)',
    );
    assert.ok(index === 0 || index === 1, JSON.stringify(report.recommendations.map((r: any) => r.id)));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
});
