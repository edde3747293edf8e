/**
 * Log digest throughput against the peers on the same files in the same run: `siperf report` against
 * pgBadger (PostgreSQL stderr log) and pt-query-digest (MySQL slow log), each a whole command from start to
 * exit, on inputs made by repeating the largest fixtures of ../shared (pgBadger's light.postgres.log and
 * pt-query-digest's slow002.txt) to about `--mb` MB. Also siperf in-process (no start-up). MB/s are of
 * the uncompressed input. Target (issue 6): ≥ 5× each peer.
 *
 * Usage: npm run bench:logs -- [--mb=40]   (pgbadger and percona-toolkit from Debian are installed when missing)
 * Writes bench/results/log-throughput.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestLogFiles } from '../../packages/server/src/ingest/logs/index.ts';
import { loadSqlParser } from '../../packages/server/src/ingest/sql-fingerprint.ts';
import { gitCommit, option, writeResults } from '../lib/run-info.ts';

const MB = Number(option('mb', 'BENCH_MB', '40'));
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

const dir = mkdtempSync(join(tmpdir(), 'siperf-logbench-'));
function repeated(source: Buffer, name: string): string {
  const copies = Math.max(1, Math.round((MB * 1048576) / source.length));
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat(Array.from({ length: copies }, () => source)));
  return file;
}
const pgLog = repeated(
  execFileSync('bzip2', ['-dc', join(SHARED, 'pgbadger/logs/light.postgres.log.bz2')]),
  'pg.log',
);
const slowLog = repeated(readFileSync(join(SHARED, 'slowlogs/logs/slow002.txt')), 'slow.log');
const PREFIX = '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ';

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString().slice(0, 500)}`);
  return (performance.now() - t0) / 1000;
}

await loadSqlParser();
const siperfCli = (file: string, format: string, prefix?: string) =>
  timed(process.execPath, [
    '--import',
    'tsx',
    join(REPO, 'packages/server/src/cli/main.ts'),
    'report',
    file,
    '--format',
    format,
    '--json',
    ...(prefix ? ['--prefix', prefix] : []),
  ]);
const rows: { input: string; tool: string; seconds: number; mbPerSec: number; events?: number }[] = [];
const mb = (file: string) => statSync(file).size / 1048576;

for (const [file, format, prefix, peer, peerArgs] of [
  [
    pgLog,
    'pg-stderr',
    PREFIX,
    'pgbadger',
    ['-q', '-f', 'stderr', '--prefix', PREFIX, '-x', 'json', '-o', join(dir, 'pgbadger.json'), pgLog],
  ],
  [slowLog, 'mysql-slow', undefined, 'pt-query-digest', ['--output', 'json', slowLog]],
] as const) {
  const size = mb(file);
  const t0 = performance.now();
  const d = await digestLogFiles([file], { format, prefix });
  const inProcess = (performance.now() - t0) / 1000;
  const cli = siperfCli(file, format, prefix);
  const peerSeconds = timed(peer, [...peerArgs]);
  rows.push({
    input: `${format} ${size.toFixed(1)} MB`,
    tool: 'siperf (in process)',
    seconds: inProcess,
    mbPerSec: size / inProcess,
    events: d.events,
  });
  rows.push({
    input: `${format} ${size.toFixed(1)} MB`,
    tool: 'siperf report (command)',
    seconds: cli,
    mbPerSec: size / cli,
  });
  rows.push({
    input: `${format} ${size.toFixed(1)} MB`,
    tool: peer,
    seconds: peerSeconds,
    mbPerSec: size / peerSeconds,
  });
}

out(`# Log digest throughput (commit ${gitCommit()}); inputs repeat the fixtures to ~${MB} MB`);
out();
out('| input | tool | seconds | MB/s | events |');
out('| --- | --- | ---: | ---: | ---: |');
for (const r of rows)
  out(`| ${r.input} | ${r.tool} | ${r.seconds.toFixed(2)} | ${r.mbPerSec.toFixed(1)} | ${r.events ?? ''} |`);
out();
for (let i = 0; i < rows.length; i += 3) {
  const [own, cli, peer] = [rows[i]!, rows[i + 1]!, rows[i + 2]!];
  out(
    `${peer.tool}: siperf report ${(cli.mbPerSec / peer.mbPerSec).toFixed(1)}× its MB/s (in process ${(own.mbPerSec / peer.mbPerSec).toFixed(1)}×); target ≥ 5×`,
  );
}
writeResults('log-throughput.json', { commit: gitCommit(), mb: MB, rows });
