/**
 * Log digest throughput against the peers on the same files in the same run, per format: `siperf report`
 * (the compiled command, `bin/siperf.js` → `dist/`, as a user runs it; `--source=1` runs the TypeScript
 * sources through tsx instead) against pgBadger (`-j 1`: one core, as siperf) on PostgreSQL stderr, csvlog and jsonlog, and against
 * pt-query-digest on a MySQL slow log; each a whole command from start to exit, run `--runs` times
 * (min/median/max seconds, peak RSS from /usr/bin/time). Inputs repeat the largest fixtures of ../shared
 * (pgBadger's light.postgres.log, written here also as csvlog and jsonlog rows with the same messages, and
 * pt-query-digest's slow002.txt) to about `--mb` MB. Also siperf in-process (no start-up). MB/s are of the
 * uncompressed input. Targets (issue 17): siperf report ≥ 20× pgBadger, ≥ 5× pt-query-digest; siperf's
 * peak RSS under 300 MB at 200 MB.
 *
 * The peers: pgbadger and pt-query-digest on PATH (Debian's packages are installed when missing; their
 * versions are printed — the fixtures' expected outputs were made with pgBadger 13.2 and pt-query-digest
 * 3.5.7 from source, which need network access to fetch).
 *
 * Usage: npm run build && nice -n 10 npm run bench:logs -- [--mb=200] [--runs=3] [--source=1]
 * (refuses a dist/ older than the log reader's sources). Writes bench/results/log-throughput.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestLogFiles } from '../../packages/server/src/ingest/logs/index.ts';
import { loadSqlParser } from '../../packages/server/src/ingest/sql-fingerprint.ts';
import { gitCommit, option, writeResults } from '../lib/run-info.ts';

const MB = Number(option('mb', 'BENCH_MB', '200'));
const RUNS = Number(option('runs', 'BENCH_RUNS', '3'));
const SHARED = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
if (!existsSync(SHARED)) {
  out(`../shared/fixtures is absent (${SHARED}): nothing to measure`);
  process.exit(1);
}
for (const [cmd, pkg] of [
  ['pgbadger', 'pgbadger'],
  ['pt-query-digest', 'percona-toolkit'],
] as const) {
  if (spawnSync('which', [cmd]).status !== 0)
    execFileSync('apt-get', ['install', '-y', '-q', pkg], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
}
const version = (cmd: string, args: string[]) =>
  `${spawnSync(cmd, args).stdout}`
    .trim()
    .split('\n')
    .find((l) => /\d+\.\d+/.test(l)) ?? '?';
const versions = {
  pgbadger: version('pgbadger', ['--version']),
  'pt-query-digest': version('pt-query-digest', ['--version']),
};

const dir = mkdtempSync(join(tmpdir(), 'siperf-logbench-'));
function repeated(source: Buffer, name: string): string {
  const copies = Math.max(1, Math.round((MB * 1048576) / source.length));
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat(Array.from({ length: copies }, () => source)));
  return file;
}
const light = execFileSync('bzip2', ['-dc', join(SHARED, 'pgbadger/logs/light.postgres.log.bz2')]);
const PREFIX = '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ';
const LINE =
  /^(\S+ \S+) (\S+) \[(\d+)\]: \[(\d+)-1\] user=([^,]*),db=([^,]*),app=([^,]*),client=(\S*) (\w+): {2}(.*)$/;
/** light.postgres.log's messages as csvlog (PostgreSQL 12's 23 columns) and jsonlog rows. */
function rewritten(kind: 'csv' | 'json'): Buffer {
  const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const rows: string[] = [];
  for (const line of light.toString('utf8').split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, time, zone, pid, n, user, db, app, client, severity, message] = m as unknown as string[];
    const ts = `${time}.000 ${zone}`;
    if (kind === 'csv')
      rows.push(
        [
          ts,
          q(user!),
          q(db!),
          pid,
          q(`${client}:5000`),
          `59afb4b5.${pid}`,
          n,
          q('SELECT'),
          `${time} ${zone}`,
          '3/0',
          '0',
          severity,
          '00000',
          q(message!),
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          q(app!),
        ].join(','),
      );
    else
      rows.push(
        JSON.stringify({
          timestamp: ts,
          user,
          dbname: db,
          pid: Number(pid),
          remote_host: client,
          session_id: `59afb4b5.${pid}`,
          line_num: Number(n),
          ps: 'SELECT',
          session_start: `${time} ${zone}`,
          vxid: '3/0',
          txid: 0,
          error_severity: severity,
          message,
          application_name: app,
          backend_type: 'client backend',
          query_id: 0,
        }),
      );
  }
  return Buffer.from(`${rows.join('\n')}\n`);
}

interface Run {
  seconds: number;
  rssMb: number;
}
/** One command from start to exit: wall seconds and peak RSS (GNU time's %M). */
function timed(cmd: string, args: string[]): Run {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M', cmd, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - t0) / 1000;
  const err = r.stderr.toString();
  if (r.status !== 0) throw new Error(`${cmd} failed: ${err.slice(0, 500)}`);
  return { seconds, rssMb: Number(/RSS_KB=(\d+)/.exec(err)?.[1] ?? 0) / 1024 };
}

await loadSqlParser();
const FROM_SOURCE = option('source', 'BENCH_SOURCE', '') === '1';
if (!FROM_SOURCE) {
  // The compiled command measures what was last built: refuse one older than the sources it runs.
  const built = join(REPO, 'packages/server/dist/ingest/logs/pg-log.js');
  const sources = [
    'ingest/logs/pg-log.ts',
    'ingest/logs/read-log.ts',
    'ingest/logs/digest.ts',
    'cli/import-log.ts',
  ];
  const newest = Math.max(...sources.map((f) => statSync(join(REPO, 'packages/server/src', f)).mtimeMs));
  if (!existsSync(built) || statSync(built).mtimeMs < newest) {
    out(
      'packages/server/dist is missing or older than the log reader: run `npm run build` first (or --source=1)',
    );
    process.exit(1);
  }
}
const siperfCli = (file: string, format: string, prefix?: string): string[] => [
  process.execPath,
  ...(FROM_SOURCE
    ? ['--import', 'tsx', join(REPO, 'packages/server/src/cli/main.ts')]
    : [join(REPO, 'packages/server/bin/siperf.js')]),
  'report',
  file,
  '--format',
  format,
  '--json',
  ...(prefix ? ['--prefix', prefix] : []),
];
interface Row {
  input: string;
  tool: string;
  runs: Run[];
  min: number;
  median: number;
  max: number;
  mbPerSec: number;
  peakRssMb: number;
  events?: number;
}
const rows: Row[] = [];
const summary = (input: string, tool: string, runs: Run[], size: number, events?: number): Row => {
  const s = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)]!;
  return {
    input,
    tool,
    runs,
    min: s[0]!,
    median,
    max: s[s.length - 1]!,
    mbPerSec: size / median,
    peakRssMb: Math.max(...runs.map((r) => r.rssMb)),
    ...(events === undefined ? {} : { events }),
  };
};

const cases: [string, string, string | undefined, string, (file: string) => string[]][] = [
  [
    repeated(light, 'pg.log'),
    'pg-stderr',
    PREFIX,
    'pgbadger',
    (f) => [
      '-j',
      '1',
      '-q',
      '-f',
      'stderr',
      '--prefix',
      PREFIX,
      '-x',
      'json',
      '-o',
      join(dir, 'pgbadger.json'),
      f,
    ],
  ],
  [
    repeated(rewritten('csv'), 'pg.csv'),
    'pg-csv',
    undefined,
    'pgbadger',
    (f) => ['-j', '1', '-q', '-f', 'csv', '-x', 'json', '-o', join(dir, 'pgbadger.json'), f],
  ],
  [
    repeated(rewritten('json'), 'pg.json'),
    'pg-json',
    undefined,
    'pgbadger',
    (f) => ['-j', '1', '-q', '-f', 'jsonlog', '-x', 'json', '-o', join(dir, 'pgbadger.json'), f],
  ],
  [
    repeated(readFileSync(join(SHARED, 'slowlogs/logs/slow002.txt')), 'slow.log'),
    'mysql-slow',
    undefined,
    'pt-query-digest',
    (f) => ['--output', 'json', f],
  ],
];
for (const [file, format, prefix, peer, peerArgs] of cases) {
  const size = statSync(file).size / 1048576;
  const input = `${format} ${size.toFixed(1)} MB`;
  const t0 = performance.now();
  const d = await digestLogFiles([file], { format: format as 'pg-stderr', prefix });
  const inProcess = (performance.now() - t0) / 1000;
  rows.push(summary(input, 'siperf (in process)', [{ seconds: inProcess, rssMb: 0 }], size, d.events));
  const [node, ...args] = siperfCli(file, format, prefix);
  const cli: Run[] = [];
  const theirs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    cli.push(timed(node!, args));
    theirs.push(timed(peer, peerArgs(file)));
  }
  rows.push(summary(input, `siperf report (command${FROM_SOURCE ? ', tsx' : ''})`, cli, size));
  rows.push(summary(input, `${peer} ${versions[peer as keyof typeof versions]}`, theirs, size));
  for (const r of rows.slice(-3))
    process.stderr.write(
      `${r.input} ${r.tool}: ${r.runs.map((x) => `${x.seconds.toFixed(2)} s/${x.rssMb.toFixed(0)} MB`).join(', ')}\n`,
    );
  rmSync(file);
}

out(
  `# Log digest throughput (commit ${gitCommit()}); inputs repeat the fixtures to ~${MB} MB; ${RUNS} runs each`,
);
out();
out('| input | tool | min s | median s | max s | MB/s (median) | peak RSS MB | events |');
out('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  out(
    `| ${r.input} | ${r.tool} | ${r.min.toFixed(2)} | ${r.median.toFixed(2)} | ${r.max.toFixed(2)} | ${r.mbPerSec.toFixed(1)} | ${r.peakRssMb ? r.peakRssMb.toFixed(0) : '–'} | ${r.events ?? ''} |`,
  );
out();
for (let i = 0; i < rows.length; i += 3) {
  const [own, cli, peer] = [rows[i]!, rows[i + 1]!, rows[i + 2]!];
  const target = peer.tool.startsWith('pgbadger') ? 20 : 5;
  const x = cli.mbPerSec / peer.mbPerSec;
  out(
    `${own.input}: siperf report ${x.toFixed(1)}× ${peer.tool} (in process ${(own.mbPerSec / peer.mbPerSec).toFixed(1)}×), target ≥ ${target}×: ${x >= target ? 'pass' : 'FAIL'}; siperf peak RSS ${cli.peakRssMb.toFixed(0)} MB (target < 300): ${cli.peakRssMb < 300 ? 'pass' : 'FAIL'}`,
  );
}
writeResults('log-throughput.json', {
  commit: gitCommit(),
  mb: MB,
  runs: RUNS,
  command: FROM_SOURCE ? 'tsx src/cli/main.ts' : 'bin/siperf.js (dist)',
  versions,
  rows,
});
rmSync(dir, { recursive: true, force: true });
