/**
 * The dashboard over the demo's data: `run-demo.ts` (examples/demo-app) is run as `npm run demo` runs it,
 * for 8 s of load (PGlite, no browser visits), and left running; every page of the navigation then renders
 * with no error shown, no console error and no serious axe violation (screenshots `demo-*`), and the
 * Overview and Database pages show what the demo is known to do: every request the load generator made is
 * a request of `annotate-api`, and `GET /tasks/:id` looks up 12 authors one by one per request.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import {
  apiAnswer,
  artifactName,
  assertBuilt,
  assertShows,
  auditView,
  launchChromium,
  NEEDS_CHROMIUM,
  navLinks,
  newContext,
  open,
  panel,
  readTable,
  textOf,
  WAIT_MS,
  watchErrors,
} from './harness.ts';

const DEMO = fileURLToPath(new URL('../../../examples/demo-app/src/run-demo.ts', import.meta.url));
const AUTHORS = 'SELECT name FROM users WHERE id = $1';

/** A free loopback port for the demo's server (its URL must be known: the JSON report does not carry it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The environment of the demo: this one without DATABASE_URL (the demo's PGlite, not a PostgreSQL). */
function demoEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return env;
}

/** Runs the demo (no `--exit`: its server stays up) and resolves with its JSON report once the load is done. */
function runDemo(port: number): { child: ChildProcess; done: Promise<{ load: any; report: any }> } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      DEMO,
      '--duration',
      '8s',
      '--json',
      '--port',
      String(port),
      '--data-dir',
      ':memory:',
      '--no-browser',
      // Not a test of overload: a busy machine must not turn the demo's exporters away with 503.
      '--max-event-loop-delay-ms',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: demoEnv() },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const done = new Promise<{ load: any; report: any }>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the demo exited (${code}) before its report:\n${stderr.join('')}`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        // The server's own log lines are JSON too: the report is the line with the load and the report.
        const msg = JSON.parse(line);
        if (msg.load && msg.report) resolve(msg);
      } catch {
        // not JSON
      }
    });
  });
  return { child, done };
}

test("the demo's data: every page renders without error or serious axe violation; the Overview and Database show the demo's known figures", {
  skip: NEEDS_CHROMIUM,
  timeout: 600_000,
}, async (t) => {
  assertBuilt();
  let demo: ReturnType<typeof runDemo> | undefined;
  let browser: Browser | undefined;
  try {
    const port = await freePort();
    demo = runDemo(port);
    const { load } = await demo.done;
    assert.ok(load.sessions > 0, JSON.stringify(load));
    const base = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
    const context = await newContext(browser);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const log = watchErrors(page);

    // Overview: annotate-api's requests are the load generator's (5 calls per session).
    const series = apiAnswer(page, '/api/v1/apm/metrics/series', { groupBy: 'service' });
    await open(page, `${base}/`);
    const api = (await series).groups.find((g: any) => g.service === 'annotate-api');
    assert.ok(api, 'the API answers annotate-api');
    const rows = await readTable(page.locator('section[aria-labelledby="services-h"] table'));
    const row = rows.find((r) => r.Service === 'annotate-api');
    assert.ok(row, JSON.stringify(rows));
    assertShows(row.Requests!, api.requests, 'annotate-api requests', load.requests);
    assertShows(row.Throughput!, api.throughputRps, 'annotate-api throughput', load.requests / 3600);
    assertShows(row['Error rate']!, api.errorRate, 'annotate-api error rate');
    assertShows(row.p95!, api.p95Ms, 'annotate-api p95');

    const problems: string[] = [];
    const links = await navLinks(page);
    for (const link of links) {
      try {
        await open(page, `${base}${link.href}`);
        await auditView(page, artifactName('demo', link.path), problems);
      } catch (err) {
        problems.push(`${link.path}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    t.diagnostic(
      `demo: ${load.sessions} sessions, ${load.requests} requests; pages: ${links.map((l) => l.path).join(' ')}`,
    );

    // Database: the author lookup runs 12 times per GET /tasks/:id, one such request per session.
    if (links.some((l) => l.path === '/database')) {
      const db = apiAnswer(page, '/api/v1/apm/metrics/database');
      await open(page, `${base}/database`);
      const q = (await db).queries.find((x: any) => x.statement === AUTHORS);
      assert.ok(q, 'the API answers the author lookup');
      const statements = await readTable(panel(page, 'Statements').locator('table'));
      const authors = statements.find((r) => r.Statement === AUTHORS);
      assert.ok(authors, JSON.stringify(statements.map((r) => r.Statement)));
      assertShows(authors.Calls!, q.calls, 'author lookups', 12 * load.sessions);
      const advice = await textOf(panel(page, 'Advice'));
      assert.ok(advice.includes('GET /tasks/:id') && advice.includes(AUTHORS), advice.slice(0, 500));
    } else {
      t.diagnostic('the Database page is not in the navigation yet: its demo check was skipped');
    }
    problems.push(...log.errors);
    assert.deepEqual(problems, [], problems.join('\n'));
    await context.close();
  } finally {
    await browser?.close();
    if (demo && demo.child.exitCode === null) {
      const exited = new Promise((r) => demo!.child.once('exit', r));
      demo.child.kill('SIGTERM');
      await exited;
    }
  }
});
