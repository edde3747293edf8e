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
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@siperf/browser/chromium';
import { loadConfig, startServer } from '@siperf/server';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { buildReport, formatReport } from './report.ts';

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
  const call = async (path: string, init: RequestInit = {}): Promise<any> => {
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
  const tx = login?.transaction;
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
  const seconds = Math.round(opts.duration / 1000);
  const bar = new SingleBar({
    format: 'load |{bar}| {value}/{total} s | {requests} requests | {rps} req/s | {failures} failed',
    noTTYOutput: !opts.json,
    notTTYSchedule: 10_000,
    stream: opts.json ? process.stderr : process.stdout,
    hideCursor: true,
  });
  if (!opts.json) bar.start(seconds, 0, { requests: 0, rps: 0, failures: 0 });
  const t0 = Date.now();
  const deadline = t0 + opts.duration;
  const tick = setInterval(() => {
    const elapsed = (Date.now() - t0) / 1000;
    if (!opts.json)
      bar.update(Math.min(seconds, Math.floor(elapsed)), {
        requests: load.requests,
        rps: Math.round(load.requests / Math.max(elapsed, 0.001)),
        failures: load.failures,
      });
  }, 250);
  const workers = Array.from({ length: opts.concurrency }, async () => {
    while (Date.now() < deadline) await session(app.url, load).catch(() => undefined);
  });
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
  await Promise.all(workers);
  const pageLoads = await browsing;
  clearInterval(tick);
  if (!opts.json) {
    bar.update(seconds, {
      requests: load.requests,
      rps: Math.round((load.requests * 1000) / opts.duration),
      failures: load.failures,
    });
    bar.stop();
  }
  say(
    `${load.sessions} sessions, ${load.requests} requests, ${load.failures} failed${pageLoads ? `, ${pageLoads} page loads in Chromium` : ''}`,
  );

  // Drain the service so its SDK exports its last spans and metrics (its database stays open for the
  // advisor), then write the rollups.
  await drainApp(app.child);
  await server.store.flushRollups();
  const report = await buildReport(server.url, SERVICE, new Date(loadStarted.getTime() - 1000), new Date());
  if (opts.json) process.stdout.write(`${JSON.stringify({ load, pageLoads, report })}\n`);
  else process.stdout.write(`${formatReport(report)}\n`);
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
