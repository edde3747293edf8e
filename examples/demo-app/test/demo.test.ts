/**
 * `npm run demo` end to end: the demo's known behaviour must come back through the API, and every figure
 * the report prints must be the answer of the request it names, for the same window.
 * `GET /tasks/:id` loads a task, its first 12 annotations (every seeded task has 500), and each author
 * with its own query: 14 database calls per request, 12 of them the same statement. Every other endpoint
 * makes at most one. Every session is one `annotate` transaction with four named steps. `GET /results`
 * filters 100,000 annotations on `created_by`, which has no index: the advisor reads that plan on the
 * demo's database — PGlite by default, served over the wire protocol — and proposes the index.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  buildReport,
  type DemoFixReport,
  type DemoReport,
  formatMs,
  formatPct,
  SESSION_ENDPOINTS,
} from '../src/report.ts';

const run = promisify(execFile);
const DEMO = fileURLToPath(new URL('../src/run-demo.ts', import.meta.url));
const SERVICE = 'annotate-api';
const INDEX =
  'CREATE INDEX CONCURRENTLY IF NOT EXISTS annotations_created_by_idx ON annotations (created_by)';

/** Flags of every run: a short load, any free port, nothing kept, and no overload guard. */
const DEMO_FLAGS = [
  '--duration',
  '8s',
  '--port',
  '0',
  '--data-dir',
  ':memory:',
  '--no-browser',
  // Not a test of overload: a busy machine must not turn the demo's exporters away with 503.
  '--max-event-loop-delay-ms',
  '0',
];
/** The API's answers are checked against their schemas while the demo reads them. */
const DEMO_ENV = { SIPERF_VALIDATE_RESPONSES: '1' };

interface Load {
  sessions: number;
  requests: number;
  failures: number;
}

/** The demo's known behaviour, from its report. */
function checkKnownBehaviour(load: Load, report: DemoReport): void {
  assert.ok(load.sessions > 5, `only ${load.sessions} sessions`);
  const byName = new Map(report.endpoints.map((e) => [e.endpoint, e]));
  const tasks = byName.get('GET /tasks/:id')!;
  assert.equal(report.nPlusOneSuspect, 'GET /tasks/:id');
  assert.equal(tasks.dbCallsPerRequest, 14);
  for (const name of ['POST /login', 'POST /tasks/:id/annotations', 'GET /results']) {
    assert.equal(byName.get(name)?.dbCallsPerRequest, 1, name);
  }
  assert.ok((byName.get('GET /tasks/:id/summary')?.dbCallsPerRequest ?? 0) <= 1);
  // One request per session to each endpoint; the author lookup runs 12 times per task request.
  assert.equal(tasks.requests, load.sessions);
  const authors = report.queries.find((q) => q.statement === 'SELECT name FROM users WHERE id = $1')!;
  assert.equal(authors.calls, 12 * tasks.requests);
  assert.deepEqual(authors.endpoints, ['GET /tasks/:id']);
  const tx = report.transaction!;
  assert.equal(tx.count, load.sessions);
  assert.deepEqual(tx.steps.map((s) => s.step).sort(), [
    'list results',
    'load task',
    'log in',
    'save annotation',
  ]);
  for (const s of tx.steps) assert.equal(s.count, load.sessions, s.step);
  // Sessions whose save failed (3% send no label) fail their transaction.
  const save = tx.steps.find((s) => s.step === 'save annotation')!;
  assert.ok(Math.abs(tx.successRate - (1 - save.failureRate)) < 1e-9);
  // The steps run one after another: their shares and the time between them make the whole, and so do
  // their means (each step once per transaction) — within 0.5%: a step's edge that falls outside its
  // transaction's first and last mark (timestamps a fraction of a ms apart) counts in its own share only.
  const shares = tx.steps.reduce((sum, s) => sum + s.shareOfTime, 0) + tx.betweenSteps.shareOfTime;
  assert.ok(Math.abs(shares - 1) < 0.005, `shares add up to ${shares}`);
  const means = tx.steps.reduce((sum, s) => sum + s.meanMs, 0) + tx.betweenSteps.meanMs;
  assert.ok(Math.abs(means / tx.meanMs - 1) < 0.005, `${means} ms against a mean of ${tx.meanMs} ms`);
  assert.deepEqual(report.customMetrics.map((m) => m.name).sort(), [
    'demo.annotation.box_area',
    'demo.annotations.saved',
    'demo.cache.lookups',
  ]);
  // The advice names the N+1 with its fix (batch the author lookups), and the missing index with its
  // statement: these two come first, in either order.
  const n1 = report.recommendations.findIndex((r) =>
    r.key.startsWith('n-plus-one:annotate-api/GET /tasks/:id:'),
  );
  const index = report.recommendations.findIndex((r) => r.change === INDEX);
  const ids = JSON.stringify(report.recommendations.map((r) => r.id));
  assert.deepEqual([n1, index].sort(), [0, 1], ids);
  assert.match(
    report.recommendations[n1]!.title,
    /SELECT name FROM users WHERE id = \$1 runs 12 times per request/,
  );
  assert.match(report.recommendations[n1]!.action, /= ANY\(\$1\)/);
}

/** `npm run demo -- --exit --json [flags]`: the load, the report, and what `--fix` did. */
async function runJson(
  databaseUrl: string,
  flags: string[] = [],
): Promise<{ load: Load; report: DemoReport; fixes?: DemoFixReport }> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', DEMO, ...DEMO_FLAGS, '--exit', '--json', ...flags],
    {
      env: { ...process.env, ...DEMO_ENV, DATABASE_URL: databaseUrl },
      maxBuffer: 16 * 1024 * 1024,
      // Killed before the test's own timeout, so a stuck demo fails the test instead of outliving it.
      timeout: flags.includes('--fix') ? 330_000 : 170_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/**
 * `npm run demo` as a person runs it (text, no `--exit`): resolves with what it printed once it says the
 * server keeps running; the demo is still up, for the test to ask the API.
 */
function startText(env: NodeJS.ProcessEnv): { child: ChildProcess; printed: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...DEMO_FLAGS], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const printed = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no report within 170 s:\n${out}\n${err}`)), 170_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C stops it.')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with code ${code}:\n${out}\n${err}`));
    });
  });
  return { child, printed };
}

/** Stops the demo as Ctrl-C does, and waits for it (SIGKILL after 20 s). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** The lines of the section whose title starts with `title`, and the request it names. */
function section(lines: string[], title: string): { path: string; rest: string; body: string[] } {
  const at = lines.findIndex((l) => l.startsWith(title));
  assert.ok(at >= 0, `no section "${title}"`);
  const m = / — GET (\S+?)(?::\s(.*))?$/.exec(lines[at]!);
  assert.ok(m, `section "${title}" names no request: ${lines[at]}`);
  const end = lines.findIndex((l, i) => i > at && (l === '' || / — GET /.test(l)));
  return { path: m[1]!, rest: m[2] ?? '', body: lines.slice(at + 1, end < 0 ? undefined : end) };
}

test('PGlite: every figure the report prints is the answer of the request it names; the index advice comes from PGlite plans', {
  timeout: 240_000,
}, async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...DEMO_ENV };
  delete env.DATABASE_URL;
  const { child, printed } = startText(env);
  try {
    const text = await printed;
    const lines = text.split('\n');
    const base = /siperf server: (\S+) /.exec(text)![1]!;
    const api = async (path: string): Promise<any> => {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, `GET ${path}: ${res.status}`);
      return res.json();
    };
    const [, sessions, requests, failures] = /(\d+) sessions, (\d+) requests, (\d+) failed/.exec(text)!;
    const load = { sessions: Number(sessions), requests: Number(requests), failures: Number(failures) };
    const [, from, to] = /Report of the load, (\S+) to (\S+) \(/.exec(text)!;
    const w = `from=${from}&to=${to}`;

    // Slowest endpoints: requests, mean, p50, p95, errors as metrics/api answers them.
    const ep = section(lines, 'Slowest endpoints (p95)');
    assert.equal(ep.path, `/api/v1/apm/metrics/api?service=${SERVICE}&kind=server&${w}`);
    const endpoints = (await api(ep.path)).endpoints as any[];
    const rows = ep.body.slice(1).filter((l) => /^ {2}(GET|POST) /.test(l));
    assert.equal(rows.length, endpoints.length);
    for (const row of rows) {
      const name = row.slice(2, 30).trim();
      const [reqs, mean, p50, p95, errors, dbCalls] = row.slice(30).trim().split(/\s+/);
      const e = endpoints.find((x) => x.endpoint === name);
      assert.ok(e, `${name} is not in the API's answer`);
      assert.deepEqual(
        [reqs, mean, p50, p95, errors],
        [
          String(e.requests),
          formatMs(e.meanMs),
          formatMs(e.p50Ms),
          formatMs(e.p95Ms),
          formatPct(e.errorRate),
        ],
        name,
      );
      // db calls/request: the median over the recent traces the section names.
      const recent = await api(
        `/api/v1/apm/traces/recent?service=${SERVICE}&endpoint=${encodeURIComponent(name)}&limit=5&${w}`,
      );
      const counts: number[] = [];
      for (const t of recent.traces) {
        const tree = await api(`/api/v1/apm/traces/${t.traceId}`);
        const count = (nodes: any[]): number =>
          nodes.reduce((n, x) => n + (x.kind === 'client' && x.db?.statement ? 1 : 0) + count(x.children), 0);
        counts.push(count(tree.roots));
      }
      counts.sort((a, b) => a - b);
      const mid = Math.floor(counts.length / 2);
      const median = counts.length % 2 ? counts[mid] : (counts[mid - 1]! + counts[mid]!) / 2;
      assert.equal(dbCalls, String(median ?? '-'), `${name}: db calls/request`);
    }

    // Top queries: total, calls and p95 of the statement, as metrics/database answers them.
    const qs = section(lines, 'Top queries by total time');
    assert.equal(qs.path, `/api/v1/apm/metrics/database?service=${SERVICE}&${w}`);
    const queries = (await api(qs.path)).queries as any[];
    assert.ok(qs.body.length >= 2);
    for (let i = 0; i < qs.body.length; i += 2) {
      const m = /^\s+(\S+) ms total\s+(\d+) calls\s+p95 (\S+) ms\s+from (.+)$/.exec(qs.body[i]!)!;
      const q = queries.find((x) => x.statement.replace(/\s+/g, ' ') === qs.body[i + 1]!.trim());
      assert.ok(q, qs.body[i + 1]);
      assert.deepEqual(
        [m[1], m[2], m[3], m[4]],
        [formatMs(q.totalMs), String(q.calls), formatMs(q.p95Ms), q.endpoints.join(', ')],
      );
    }

    // Recommendations: titles, time saved per hour and the API's account of it, in the API's order.
    const rec = section(lines, 'Recommendations, by time saved per hour');
    assert.equal(rec.path, `/api/v1/recommendations?service=${SERVICE}&${w}`);
    const advice = await api(rec.path);
    const items = rec.body.filter((l) => /^ {2}\d+\. /.test(l));
    assert.ok(items.length >= 2);
    items.forEach((title, i) => {
      const a = advice.recommendations[i];
      const at = rec.body.indexOf(title);
      assert.equal(title, `  ${i + 1}. ${a.title}`);
      const gain = a.gain.timeSavedSecondsPerHour;
      assert.equal(
        rec.body[at + 1],
        `     ${gain === null ? 'time saved: not estimated' : `saves ${gain >= 100 ? gain.toFixed(0) : gain.toPrecision(3)} s per hour`} — ${a.gain.description}`,
      );
      assert.equal(rec.body[at + 2], `     → ${a.apply.change ?? a.apply.how}`);
    });
    const notes = rec.body.filter((l) => l.startsWith('  note: ')).map((l) => l.slice(8));
    assert.deepEqual(notes, advice.notes.slice(0, 3));
    // On PGlite: the index, from its plan over the wire, with an unverified estimate (PGlite has no HypoPG).
    const index = advice.recommendations.find((r: any) => r.apply.change === INDEX);
    assert.ok(index, JSON.stringify(advice.recommendations.map((r: any) => r.id)));
    assert.equal(index.evidence.measured.verifiedWith, 'estimate');
    assert.match(index.gain.description, /^an estimate \(no hypothetical-index check\)/);
    assert.ok(
      advice.notes.some((n: string) => /^pool demo: PGlite has no HypoPG/.test(n)),
      advice.notes,
    );

    // The transaction: its figures, each step's, and the time between the steps.
    const txs = section(lines, 'Business transaction "annotate"');
    assert.equal(txs.path, `/api/v1/apm/transactions?service=${SERVICE}&${w}`);
    const tx = (await api(txs.path)).transactions.find((t: any) => t.name === 'annotate');
    assert.equal(
      txs.body[0],
      `  ${tx.count} completed, ${formatPct(tx.successRate)} succeeded, mean ${formatMs(tx.meanMs)} ms, p95 ${formatMs(tx.p95Ms)} ms; slowest step: ${tx.slowestStep}`,
    );
    const stepRows = txs.body.slice(2, 2 + tx.steps.length + 1);
    for (const row of stepRows) {
      const name = row.slice(2, 20).trim();
      const cells = row.slice(20).trim().split(/\s+/);
      if (name === 'between the steps') {
        assert.deepEqual(cells, [
          '-',
          formatMs(tx.betweenSteps.meanMs),
          formatPct(tx.betweenSteps.shareOfTime),
          '-',
        ]);
        continue;
      }
      const s = tx.steps.find((x: any) => x.step === name);
      assert.ok(s, name);
      assert.deepEqual(cells, [
        formatMs(s.p95Ms),
        formatMs(s.meanMs),
        formatPct(s.shareOfTime),
        formatPct(s.failureRate),
      ]);
    }
    assert.ok(stepRows.some((r) => r.startsWith('  between the steps ')));
    // Where the time between the steps goes, from the API's means: the five requests of a session less
    // their steps are in the service, the rest is outside it.
    const inService = SESSION_ENDPOINTS.reduce(
      (sum, name) => sum + endpoints.find((e) => e.endpoint === name).meanMs,
      0,
    );
    const inSteps = tx.steps.reduce((sum: number, s: any) => sum + s.meanMs, 0);
    const outside = tx.betweenSteps.meanMs - (inService - inSteps);
    if (outside >= 0) {
      const account = txs.body.join('\n');
      assert.ok(
        account.includes(
          `about ${formatMs(inService - inSteps)} ms are the service's requests outside their steps`,
        ),
      );
      assert.ok(
        account.includes(
          `add up to ${formatMs(inService)}, the steps' to ${formatMs(inSteps)}) and about ${formatMs(outside)} ms`,
        ),
        account,
      );
    }

    // Custom metrics and web vitals (none: no browser).
    const custom = section(lines, 'Custom metrics');
    assert.equal(custom.path, `/api/v1/apm/metrics/custom?${w}`);
    const metrics = (await api(custom.path)).metrics.filter((m: any) => m.name.startsWith('demo.'));
    assert.equal(custom.rest, metrics.map((m: any) => `${m.name} (${m.points} points)`).join(', '));
    const vitals = section(lines, 'Web vitals');
    assert.equal(vitals.path, `/api/v1/apm/metrics/user-experience?${w}`);
    assert.deepEqual((await api(vitals.path)).overall.metrics, {});

    // The known behaviour, from the same window.
    checkKnownBehaviour(load, await buildReport(base, SERVICE, new Date(from!), new Date(to!)));
  } finally {
    await stop(child);
  }
});

const ADMIN_URL = process.env.SIPERF_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

test('PostgreSQL (pg, traced by the pg instrumentation): the same report; --fix applies the index and the batched query, and both are confirmed', {
  timeout: 360_000,
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
    const { load, report, fixes } = await runJson(url.toString(), ['--fix']);
    checkKnownBehaviour(load, report);
    // --fix: the index created and the author lookups batched, both marked applied; after a like window
    // each is confirmed, its "before" the p95 the report shows for the same window, its "after" lower.
    assert.ok(fixes, 'no --fix section');
    const p95 = new Map(report.endpoints.map((e) => [e.endpoint, e.p95Ms]));
    const byEndpoint = new Map<string, DemoFixReport['items'][number]>();
    for (const item of fixes.items) {
      const r = item.recommendation;
      assert.equal(r.state, 'confirmed', `${r.title}: ${r.outcome?.verdict}`);
      const m = /^p95 of (GET \S+) \(annotate-api\)$/.exec(r.outcome!.figure);
      assert.ok(m, r.outcome!.figure);
      byEndpoint.set(m[1]!, item);
      assert.ok(
        Math.abs(r.outcome!.before! - p95.get(m[1]!)!) <= 1e-6 * p95.get(m[1]!)!,
        `${m[1]}: before ${r.outcome!.before} against the report's p95 ${p95.get(m[1]!)}`,
      );
      assert.ok(r.outcome!.after! < r.outcome!.before!, r.outcome!.verdict);
    }
    assert.equal(byEndpoint.get('GET /results')?.recommendation.kind, 'index');
    assert.equal(byEndpoint.get('GET /results')?.recommendation.change, INDEX);
    assert.equal(byEndpoint.get('GET /tasks/:id')?.recommendation.kind, 'n-plus-one');
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
});
