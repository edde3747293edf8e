/**
 * bench:recommendations (issue 15: "computing the list on a store of 10 M spans stays under 2 s"). The
 * subject is a real siperf server (its own process, started fresh for each run) over a store that
 * `bench:query` generated and kept: 10 M spans over 24 h, 10 services, their endpoints and statements. This
 * process asks `GET /api/v1/recommendations` for the last hour and the whole day of that data, once cold
 * (the first request of the process) and `--requests` times more, and prints min/median/max of each against
 * the 2 s limit, with the list's size and kinds (the work the answer holds).
 *
 *   npm run bench:query -- --data-dir=/tmp/siperf-q10m --runs=1     # once: generate and keep the store
 *   npm run bench:recommendations -- --data-dir=/tmp/siperf-q10m [--runs=3] [--requests=5]
 *
 * The server opens the store read-write (as `siperf serve` does) with the host sampler off, so the bench's
 * data stays what bench:query wrote; the windows end where that data ends (`bench-meta.json`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gitCommit, numberOption, option, writeResults } from '../lib/run-info.ts';

const ROLE = option('role', 'BENCH_ROLE', 'driver');
const DATA_DIR = option('data-dir', 'BENCH_DATA_DIR', '');
const RUNS = numberOption('runs', 'BENCH_RUNS', 3, true);
const REQUESTS = numberOption('requests', 'BENCH_REQUESTS', 5, true);
const LIMIT_MS = 2000;
const SELF = fileURLToPath(import.meta.url);
const WINDOWS = [
  { name: '1 h', ms: 3_600_000 },
  { name: '24 h', ms: 86_400_000 },
] as const;

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

/** The server, in its own process: prints `{"url": …}` once listening, stops on SIGTERM. */
async function serve(): Promise<void> {
  const { startServer } = await import('../../packages/server/src/app.ts');
  const { loadConfig } = await import('../../packages/server/src/config.ts');
  const config = loadConfig({
    env: process.env,
    flags: { port: 0, grpcPort: 0, dataDir: DATA_DIR, logLevel: 'warn', resourceSampleIntervalMs: 0 },
  });
  const server = await startServer(config);
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  process.once('SIGTERM', () => {
    server.stop().then(() => process.exit(0));
  });
}

function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SELF, '--role=server', `--data-dir=${DATA_DIR}`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
    rl.on('line', (line) => {
      try {
        const m = JSON.parse(line) as { url?: string };
        if (m.url) resolve({ child, url: m.url });
      } catch {
        // a log line
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Timed {
  ms: number;
  count: number;
  kinds: Record<string, number>;
}

async function timedList(url: string, fromMs: number, toMs: number): Promise<Timed> {
  const path = `/api/v1/recommendations?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`;
  const t0 = performance.now();
  const res = await fetch(`${url}${path}`);
  const body = (await res.json()) as { recommendations?: { kind: string }[] };
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
  const kinds: Record<string, number> = {};
  for (const r of body.recommendations ?? []) kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
  return { ms, count: body.recommendations?.length ?? 0, kinds };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor((s.length - 1) / 2)]!, max: s[s.length - 1]! };
};

async function drive(): Promise<void> {
  const metaPath = join(DATA_DIR, 'bench-meta.json');
  if (!DATA_DIR || !existsSync(metaPath)) {
    throw new Error(
      '--data-dir must name a store bench:query kept: npm run bench:query -- --data-dir=/tmp/siperf-q10m --runs=1',
    );
  }
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { endNs: string; spans: number };
  const endMs = Number(BigInt(meta.endNs) / 1_000_000n);
  out('# GET /api/v1/recommendations over a store of bench:query');
  out(
    `commit ${gitCommit()}, node ${process.version}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 20)} MiB RAM; ${fmt(meta.spans)} spans in ${DATA_DIR}`,
  );
  out(`${RUNS} server process(es), each: one cold request per window, then ${REQUESTS} more`);
  const cold: Record<string, number[]> = {};
  const warm: Record<string, number[]> = {};
  const answers: Record<string, Timed> = {};
  for (let run = 0; run < RUNS; run++) {
    const { child, url } = await startChild();
    try {
      for (const w of WINDOWS) {
        const first = await timedList(url, endMs - w.ms, endMs);
        cold[w.name] = [...(cold[w.name] ?? []), first.ms];
        answers[w.name] = first;
        const again: number[] = warm[w.name] ?? [];
        for (let i = 0; i < REQUESTS; i++) again.push((await timedList(url, endMs - w.ms, endMs)).ms);
        warm[w.name] = again;
      }
    } finally {
      await stopChild(child);
    }
    out(
      `  run ${run + 1}: ${WINDOWS.map((w) => `${w.name} cold ${fmt(cold[w.name]!.at(-1)!)} ms`).join(', ')}`,
    );
  }
  out('');
  out(
    '| window | recommendations (kinds) | cold ms min / median / max | warm ms min / median / max | limit | met |',
  );
  out('|---|---|---:|---:|---:|---|');
  const results: Record<string, unknown> = {};
  for (const w of WINDOWS) {
    const c = stats(cold[w.name]!);
    const h = stats(warm[w.name]!);
    const a = answers[w.name]!;
    const kinds = Object.entries(a.kinds)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const met = Math.max(c.max, h.max) <= LIMIT_MS;
    out(
      `| ${w.name} | ${a.count} (${kinds || 'none'}) | ${fmt(c.min)} / ${fmt(c.median)} / ${fmt(c.max)} | ${fmt(h.min)} / ${fmt(h.median)} / ${fmt(h.max)} | ${fmt(LIMIT_MS)} | ${met ? 'yes' : 'NO'} |`,
    );
    results[w.name] = { cold: c, warm: h, count: a.count, kinds: a.kinds, limitMs: LIMIT_MS, met };
  }
  const file = writeResults('recommendations-list.json', {
    commit: gitCommit(),
    spans: meta.spans,
    runs: RUNS,
    requests: REQUESTS,
    results,
  });
  out(`results: ${file}`);
}

(ROLE === 'server' ? serve() : drive()).catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
