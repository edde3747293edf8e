/**
 * `npm run demo`: starts a siperf server (in this process), starts the demo service (a child process
 * instrumented with `@siperf/node`), drives sessions of the `annotate` workflow against it for the given
 * duration with a progress bar (and, where Chromium is installed, a few page loads in a headless browser
 * for web vitals), then prints a report read from the API. The server keeps running with its URL printed,
 * unless `--exit`.
 *
 * The advisor reads the plans of the demo's database through the server's `pools` setting: PostgreSQL at
 * `DATABASE_URL`, or by default the service's PGlite, which the service serves over the PostgreSQL wire
 * protocol on a loopback port (`PGLITE_PORT`, see `pglite-wire.ts`). After the load the service is
 * drained (HTTP stopped, spans and metrics flushed) but keeps its database open for the advisor until
 * the server stops.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig, startServer } from '@siperf/server';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../packages/browser/chromium.ts';
import {
  buildReport,
  type DemoFixReport,
  demoRecommendation,
  formatFixes,
  formatReport,
  type RecommendationJson,
} from './report.ts';

const SERVICE = 'annotate-api';

/** `30s`, `2m`, `90` (seconds) → ms. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 30s, 2m or 90');
  const v = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (v < 1000 || v > 3_600_000) throw new InvalidArgumentError('expected a duration between 1s and 60m');
  return v;
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0..65535');
  return n;
}

/** A whole number of milliseconds, 0 or more. */
function parseMs(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a whole number of ms, 0 or more');
  return n;
}

/** A free loopback port (the app's origin must be known before the server's CORS list is set). */
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

/** Starts the demo service and waits for its `listening` line. */
async function startApp(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string; database: string; stderr: string[] }> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo service did not start within 120 s')), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo service exited with code ${code}:\n${stderr.join('')}`));
    });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { listening?: string; database?: string };
        if (msg.listening) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve({ child, url: msg.listening, database: msg.database ?? '?', stderr });
        }
      } catch {
        // not a JSON line
      }
    });
  });
}

/**
 * Stops the service's HTTP side and flushes its SDK, keeping its database open (see main.ts); resolves
 * once it says so, or after 30 s.
 */
function drainApp(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', done);
      resolve();
    };
    const onMessage = (m: unknown) => {
      if (m === 'drained') done();
    };
    const timer = setTimeout(done, 30_000);
    child.on('message', onMessage);
    child.once('exit', done);
    child.send('drain');
  });
}

/** Sends `message` to the service and resolves with its first answer that `accept` takes (or after 120 s). */
function ask<T>(child: ChildProcess, message: unknown, accept: (m: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`the demo service did not answer ${JSON.stringify(message)} within 120 s`));
    }, 120_000);
    const onMessage = (m: unknown) => {
      const answer = accept(m);
      if (answer === undefined) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send(message as string);
  });
}

/** Flushes the service's SDK (spans and metrics exported now); the service keeps serving. */
function flushApp(child: ChildProcess): Promise<true> {
  return ask(child, 'flush', (m) => (m === 'flushed' ? true : undefined));
}

/**
 * Applies fixes in the running service: `sql` on its database, and/or the batched author query.
 * @throws Error with the database's message when the statement fails.
 */
async function fixApp(child: ChildProcess, fix: { sql?: string; batchAuthors?: boolean }): Promise<void> {
  const answer = await ask(child, { fix }, (m) =>
    typeof m === 'object' && m !== null && 'fixed' in m
      ? (m as { fixed: boolean; error?: string })
      : undefined,
  );
  if (!answer.fixed) throw new Error(`the fix failed: ${answer.error}`);
}

/** Stops the service (SIGTERM) and resolves once it has exited. */
function stopApp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Load statistics. */
interface Load {
  requests: number;
  failures: number;
  sessions: number;
}

/**
 * One session of the workflow, as a user's client would make it: log in, load a task, look at its
 * summary (cached), save an annotation (3% have no label and fail), list results. The transaction id the
 * login returns goes back in W3C baggage on every later request.
 */
async function session(app: string, load: Load): Promise<void> {
  let failed = false;
  const call = async (path: string, init: RequestInit = {}): Promise<unknown> => {
    load.requests += 1;
    const res = await fetch(`${app}${path}`, init);
    if (res.status >= 400) {
      load.failures += 1;
      failed = true;
    }
    return res.json().catch(() => undefined);
  };
  const user = 1 + Math.floor(Math.random() * 50);
  const json = { 'content-type': 'application/json' };
  const login = await call('/login', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username: `annotator${user}` }),
  });
  const tx = (login as { transaction?: { id: string; name: string } } | undefined)?.transaction;
  const baggage: Record<string, string> = tx
    ? { baggage: `siperf.transaction.id=${tx.id},siperf.transaction.name=${encodeURIComponent(tx.name)}` }
    : {};
  const task = 1 + Math.floor(Math.random() * 200);
  await call(`/tasks/${task}`, { headers: baggage });
  await call(`/tasks/${1 + Math.floor(Math.random() * 20)}/summary`, { headers: baggage });
  const label = Math.random() < 0.03 ? '' : ['car', 'bus', 'bike', 'person', 'truck'][task % 5];
  await call(`/tasks/${task}/annotations`, {
    method: 'POST',
    headers: { ...json, ...baggage },
    body: JSON.stringify({ userId: user, label, box: { x: 10, y: 20, w: 40 + (task % 30), h: 30 } }),
  });
  await call(`/results?userId=${user}${failed ? '&outcome=failed' : ''}`, { headers: baggage });
  load.sessions += 1;
}

/** Loads the app's page a few times in headless Chromium so the RUM script reports web vitals. */
async function browse(app: string, visits: number, chromiumPath: string): Promise<number> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [...CHROMIUM_ARGS],
  });
  let done = 0;
  try {
    const page = await browser.newPage();
    for (let i = 0; i < visits; i++) {
      await page.goto(`${app}/`, { waitUntil: 'load' });
      await page.waitForTimeout(600);
      await page.click('#save');
      await page.waitForTimeout(300);
      done += 1;
    }
    await page.goto('about:blank');
    await page.waitForTimeout(300);
  } finally {
    await browser.close();
  }
  return done;
}

/** What the load phases need of the options. */
interface DriveOptions {
  concurrency: number;
  json: boolean;
}

/** Drives `concurrency` sessions in a loop for `durationMs`, with a progress bar unless `json`. */
async function drive(
  appUrl: string,
  load: Load,
  durationMs: number,
  label: string,
  opts: DriveOptions,
): Promise<void> {
  const seconds = Math.round(durationMs / 1000);
  const bar = new SingleBar({
    format: `${label} |{bar}| {value}/{total} s | {requests} requests | {rps} req/s | {failures} failed`,
    noTTYOutput: !opts.json,
    notTTYSchedule: 10_000,
    stream: opts.json ? process.stderr : process.stdout,
    hideCursor: true,
  });
  const first = { requests: load.requests, failures: load.failures };
  if (!opts.json) bar.start(seconds, 0, { requests: 0, rps: 0, failures: 0 });
  const t0 = Date.now();
  const deadline = t0 + durationMs;
  const figures = (elapsedS: number) => ({
    requests: load.requests - first.requests,
    rps: Math.round((load.requests - first.requests) / Math.max(elapsedS, 0.001)),
    failures: load.failures - first.failures,
  });
  const tick = setInterval(() => {
    const elapsed = (Date.now() - t0) / 1000;
    if (!opts.json) bar.update(Math.min(seconds, Math.floor(elapsed)), figures(elapsed));
  }, 250);
  const workers = Array.from({ length: opts.concurrency }, async () => {
    while (Date.now() < deadline) await session(appUrl, load).catch(() => undefined);
  });
  await Promise.all(workers);
  clearInterval(tick);
  if (!opts.json) {
    bar.update(seconds, figures(durationMs / 1000));
    bar.stop();
  }
}

/** JSON of `path` on the server, or an Error naming the path and the answer. */
async function call<T>(base: string, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${base}${path}`, init);
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body as T;
}

/**
 * `--fix`: takes the N+1 of `GET /tasks/:id` and the index of the list over `window`, applies both in the
 * running service (the index's own statement on its database; the batched author query in its code), marks
 * them applied (`POST /api/v1/recommendations/{id}/applied`: the server measures each one's figure over
 * `window`), drives load until a like window has passed (the server's `judgeableAt`), then reads each by id:
 * confirmed or not, with its figure before and after.
 * @throws Error when either recommendation is missing or a fix fails.
 */
async function applyFixes(
  server: { url: string; store: { flushRollups(): Promise<void> } },
  app: { url: string; child: ChildProcess },
  window: { from: Date; to: Date },
  opts: DriveOptions,
  say: (line: string) => void,
): Promise<DemoFixReport> {
  const w = `from=${window.from.toISOString()}&to=${window.to.toISOString()}`;
  const list = await call<{ recommendations: RecommendationJson[] }>(
    server.url,
    `/api/v1/recommendations?service=${SERVICE}&${w}`,
  );
  const nPlusOne = list.recommendations.find(
    (r) => r.kind === 'n-plus-one' && r.target.endpoint === 'GET /tasks/:id',
  );
  const index = list.recommendations.find((r) => r.kind === 'index' && r.apply.change);
  if (!nPlusOne || !index)
    throw new Error(
      `--fix: the list has ${nPlusOne ? '' : 'no N+1 on GET /tasks/:id'}${!nPlusOne && !index ? ' and ' : ''}${index ? '' : 'no index'} (${list.recommendations.map((r) => r.kind).join(', ')})`,
    );
  const did = new Map<string, string>([
    [index.id, `ran ${index.apply.change} on the demo's database`],
    [nPlusOne.id, "changed GET /tasks/:id to load a task's authors with one WHERE id = ANY($1) query"],
  ]);
  say('');
  say(`--fix: ${did.get(index.id)}; ${did.get(nPlusOne.id)}`);
  await fixApp(app.child, { sql: index.apply.change!, batchAuthors: true });
  const appliedAt = new Date();
  let judgeableAt = 0;
  for (const r of [index, nPlusOne]) {
    const a = await call<{ recommendation: RecommendationJson }>(
      server.url,
      `/api/v1/recommendations/${r.id}/applied?service=${SERVICE}&${w}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: `npm run demo -- --fix: ${did.get(r.id)}` }),
      },
    );
    const at = a.recommendation.outcome ? Date.parse(a.recommendation.outcome.judgeableAt) : 0;
    judgeableAt = Math.max(judgeableAt, at);
  }
  // The like window: as long as the report's, from the first whole minute after applying (the rollups are
  // per minute); a few seconds more so its last minute is exported and written.
  const waitMs = Math.max(1000, judgeableAt - Date.now() + 3000);
  say(`marked applied; load until ${new Date(judgeableAt).toISOString()}, when a like window has passed`);
  await drive(app.url, { requests: 0, failures: 0, sessions: 0 }, waitMs, 'after --fix', opts);
  await drainApp(app.child);
  await server.store.flushRollups();
  const items: DemoFixReport['items'] = [];
  for (const r of [nPlusOne, index]) {
    const source = `/api/v1/recommendations/${r.id}?service=${SERVICE}&${w}`;
    const one = await call<{ recommendation: RecommendationJson }>(server.url, source);
    items.push({ source, did: did.get(r.id)!, recommendation: demoRecommendation(one.recommendation) });
  }
  return {
    appliedAt: appliedAt.toISOString(),
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    items,
  };
}

async function main(): Promise<void> {
  const program = new Command('demo')
    .description('Run the siperf demo: a server, an instrumented service, load, and a report')
    .option('--duration <time>', 'how long to drive load (30s, 2m)', parseDuration, 60_000)
    .option('--exit', 'stop everything after the report (for CI and scripts)', false)
    .option('--port <port>', 'siperf server port (0 = any free port)', parsePort, 4318)
    .option(
      '--data-dir <dir>',
      'siperf data folder; default :memory: (each run starts empty, nothing kept)',
      ':memory:',
    )
    .option('--concurrency <n>', 'sessions in flight', (v) => parsePort(v) || 1, 4)
    .option('--no-browser', 'skip the headless-Chromium page loads')
    .option('--json', 'print the report as JSON (implies no progress bar)', false)
    .option(
      '--fix',
      'after the report, apply the first index and N+1 recommendations (create the index, batch the author lookups), mark them applied, drive load for a like window, and show whether each is confirmed',
      false,
    )
    .option(
      '--max-event-loop-delay-ms <ms>',
      "the server's overload guard: ingest answers 503 past this event-loop delay; 0 turns it off (default 1000)",
      parseMs,
    )
    .parse();
  const opts = program.opts<{
    duration: number;
    exit: boolean;
    port: number;
    dataDir: string;
    concurrency: number;
    browser: boolean;
    json: boolean;
    fix: boolean;
    maxEventLoopDelayMs?: number;
  }>();
  const say = (line: string): void => {
    if (!opts.json) process.stdout.write(`${line}\n`);
  };
  const appPort = await freePort();
  const appOrigin = `http://127.0.0.1:${appPort}`;
  // Without DATABASE_URL the service serves its PGlite on this port, for the advisor's `demo` pool.
  const pglitePort = process.env.DATABASE_URL ? undefined : await freePort();
  const demoPool = process.env.DATABASE_URL ?? `postgresql://postgres@127.0.0.1:${pglitePort}/postgres`;
  const config = loadConfig({
    // SIPERF_* settings of the environment apply too (e.g. SIPERF_VALIDATE_RESPONSES=1 in the tests).
    env: process.env,
    flags: {
      port: opts.port,
      dataDir: opts.dataDir,
      corsOrigins: appOrigin,
      logLevel: 'warn',
      ...(opts.maxEventLoopDelayMs !== undefined ? { maxEventLoopDelayMs: opts.maxEventLoopDelayMs } : {}),
      // The advisor reads the demo's plans: PostgreSQL (indexes checked with HypoPG where it is
      // created) or the service's PGlite over the wire protocol (no HypoPG: index gains are estimates).
      pools: `demo=${demoPool}`,
      // The demo's database is its own scratch database (PGlite in memory, or the DATABASE_URL it fills
      // with its own tables), reached as a superuser: the advisor may EXPLAIN on it. Never set this for a
      // production database's pool.
      allowWritablePools: 1,
    },
  });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(
        `port ${opts.port} is in use (is \`npm start\` running?): stop it, or run \`npm run demo -- --port 0\`\n`,
      );
      process.exit(1);
    }
    throw err;
  }
  say(`siperf server: ${server.url} (data: ${opts.dataDir}); dashboard: ${server.url}/`);
  say('starting the demo service (seeding 100,000 annotations)…');
  const app = await startApp({
    ...process.env,
    SIPERF_ENDPOINT: server.url,
    PORT: String(appPort),
    ...(pglitePort !== undefined ? { PGLITE_PORT: String(pglitePort) } : {}),
  });
  say(
    `demo service: ${app.url} on ${app.database === 'pglite' ? `PGlite, served to the advisor at ${demoPool} (set DATABASE_URL for PostgreSQL)` : 'PostgreSQL'}`,
  );

  const load: Load = { requests: 0, failures: 0, sessions: 0 };
  // The report covers the load only (not the seeding), so rates per hour are rates of the load.
  const loadStarted = new Date();
  const chromiumPath = CHROMIUM_PATH;
  const browsing =
    opts.browser && existsSync(chromiumPath)
      ? browse(app.url, Math.max(1, Math.min(5, Math.floor(opts.duration / 6000))), chromiumPath).catch(
          (err) => {
            process.stderr.write(`browser visits failed: ${(err as Error).message}\n`);
            return 0;
          },
        )
      : Promise.resolve(0);
  await drive(app.url, load, opts.duration, 'load', opts);
  const pageLoads = await browsing;
  say(
    `${load.sessions} sessions, ${load.requests} requests, ${load.failures} failed${pageLoads ? `, ${pageLoads} page loads in Chromium` : ''}`,
  );

  // Drain the service so its SDK exports its last spans and metrics (its database stays open for the
  // advisor), then write the rollups. With --fix it keeps serving: its SDK is flushed instead.
  if (opts.fix) await flushApp(app.child);
  else await drainApp(app.child);
  await server.store.flushRollups();
  const window = { from: new Date(loadStarted.getTime() - 1000), to: new Date() };
  const report = await buildReport(server.url, SERVICE, window.from, window.to);
  const fixes = opts.fix ? await applyFixes(server, app, window, opts, say) : undefined;
  if (opts.json) process.stdout.write(`${JSON.stringify({ load, pageLoads, report, fixes })}\n`);
  else {
    process.stdout.write(`${formatReport(report)}\n`);
    if (fixes) process.stdout.write(`${formatFixes(fixes)}\n`);
  }
  if (opts.exit) {
    await server.stop();
    await stopApp(app.child);
    return;
  }
  say('');
  say(`siperf keeps running: open the dashboard at ${server.url}/ (the API docs are at ${server.url}/docs)`);
  say('Ctrl-C stops it.');
  const stop = (): void => {
    server
      .stop()
      .then(() => stopApp(app.child))
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
