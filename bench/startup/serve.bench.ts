/**
 * Start-up of `siperf serve`: milliseconds from spawning the process to its first 200 on `/healthz`, and
 * its idle RSS a few seconds later, for the compiled server (`bin/siperf.js` → `dist/bundle/`, what `npm start`
 * runs) against the same sources run through tsx (`node --import tsx src/cli/main.ts`, how it ran before).
 * Each run is its own process on an empty data folder (or on `--data-dir`, e.g. a store `bench:query
 * --keep` filled, for the issue's "10 M spans" figure); the two subjects alternate so a busy machine slows
 * both alike. Targets (issue 19): ≤ 1 s on an empty data folder, ≤ 3 s on 10 M spans.
 *
 * Usage: npm run bench:startup -- [--runs=7] [--idle-ms=5000] [--data-dir=<dir>]
 * (run it with `nice -n 10` on a shared machine). Needs `npm run build`.
 * Writes bench/results/startup.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitCommit, numberOption, option, writeResults } from '../lib/run-info.ts';

const RUNS = numberOption('runs', 'BENCH_RUNS', 7, true);
const IDLE_MS = numberOption('idle-ms', 'BENCH_IDLE_MS', 5000, true);
const DATA_DIR = option('data-dir', 'BENCH_DATA_DIR', '');
const SERVER = fileURLToPath(new URL('../../packages/server/', import.meta.url));

const SUBJECTS = {
  compiled: [join(SERVER, 'bin/siperf.js')],
  tsx: ['--import', 'tsx', join(SERVER, 'src/cli/main.ts')],
} as const;
type Subject = keyof typeof SUBJECTS;

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** VmRSS of a process, MiB, from /proc. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** One start: spawn → first 200 on /healthz (ms), then the RSS after `IDLE_MS` of idling; then SIGTERM. */
async function once(subject: Subject): Promise<{ startMs: number; idleRssMiB: number }> {
  const port = await freePort();
  const dir = DATA_DIR || mkdtempSync(join(tmpdir(), 'siperf-bench-startup-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SIPERF_LOG_LEVEL: 'warn' };
  delete env.NODE_OPTIONS;
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...SUBJECTS[subject], 'serve', '--port', String(port), '--grpc-port', '0', '--data-dir', dir],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  try {
    let startMs: number | undefined;
    while (startMs === undefined) {
      if (child.exitCode !== null) throw new Error(`${subject} exited (${child.exitCode}): ${stderr}`);
      if (performance.now() - t0 > 120_000) throw new Error(`${subject} did not start in 120 s: ${stderr}`);
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        await r.arrayBuffer();
        if (r.status === 200) startMs = performance.now() - t0;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { startMs, idleRssMiB: rssMiB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    if (!DATA_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

if (!existsSync(join(SERVER, 'dist/bundle/cli-main.js'))) {
  throw new Error('packages/server/dist is missing: run `npm run build` first');
}
const runs: Record<Subject, { startMs: number; idleRssMiB: number }[]> = { compiled: [], tsx: [] };
// One unmeasured start of each first: the OS file cache and tsx's transform cache warm, as after install.
for (const subject of Object.keys(SUBJECTS) as Subject[]) await once(subject);
for (let i = 0; i < RUNS; i++) {
  for (const subject of (i % 2 === 0 ? ['compiled', 'tsx'] : ['tsx', 'compiled']) as Subject[]) {
    runs[subject].push(await once(subject));
  }
}

out('# siperf serve start-up: spawn → first 200 on /healthz, and idle RSS');
out(
  `commit ${gitCommit()}, node ${process.version}, ${RUNS} runs each, alternating, ${DATA_DIR ? `data folder ${DATA_DIR}` : 'empty data folder each run'}, RSS after ${IDLE_MS} ms idle`,
);
const results: Record<string, unknown> = {};
for (const subject of Object.keys(SUBJECTS) as Subject[]) {
  const start = summary(runs[subject].map((r) => r.startMs));
  const rss = summary(runs[subject].map((r) => r.idleRssMiB));
  results[subject] = { startMs: start, idleRssMiB: rss, runs: runs[subject] };
  out(
    `${subject.padEnd(8)} start ${start.min.toFixed(0)} / ${start.median.toFixed(0)} / ${start.max.toFixed(0)} ms (min/median/max)` +
      `   idle RSS ${rss.min.toFixed(0)} / ${rss.median.toFixed(0)} / ${rss.max.toFixed(0)} MiB`,
  );
}
const c = results.compiled as { startMs: { median: number }; idleRssMiB: { median: number } };
const t = results.tsx as { startMs: { median: number }; idleRssMiB: { median: number } };
out(
  `compiled/tsx medians: start ${(c.startMs.median / t.startMs.median).toFixed(2)}×, idle RSS ${(c.idleRssMiB.median / t.idleRssMiB.median).toFixed(2)}×; ` +
    `target ≤ ${DATA_DIR ? 3000 : 1000} ms: compiled median ${c.startMs.median <= (DATA_DIR ? 3000 : 1000) ? 'met' : 'missed'}`,
);
writeResults('startup.json', {
  commit: gitCommit(),
  runs: RUNS,
  idleMs: IDLE_MS,
  dataDir: DATA_DIR || null,
  ...results,
});
