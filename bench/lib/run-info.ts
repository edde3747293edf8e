/**
 * What the benchmarks record about the run itself: the commit they measured and how busy the rest of the
 * machine was (a benchmark on a shared 2-core machine is only worth its contention figure).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** CPU time of the whole machine (from /proc/stat, Linux) and of this process, to see contention. */
export function cpuSnapshot(): { machineBusyMs: number; processMs: number; atMs: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait; USER_HZ = 100.
    const busy = f[0]! + f[1]! + f[2]! + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    const cpu = process.cpuUsage();
    return { machineBusyMs: busy * 10, processMs: (cpu.user + cpu.system) / 1000, atMs: performance.now() };
  } catch {
    return undefined;
  }
}

/** Cores used on average by other processes between two snapshots (`undefined` off Linux). */
export function otherCores(
  a: ReturnType<typeof cpuSnapshot>,
  b: ReturnType<typeof cpuSnapshot>,
): { otherCores: number; thisProcessCores: number } | undefined {
  if (!a || !b || b.atMs <= a.atMs) return undefined;
  const wall = b.atMs - a.atMs;
  const mine = b.processMs - a.processMs;
  const all = b.machineBusyMs - a.machineBusyMs;
  return { otherCores: Math.max(0, (all - mine) / wall), thisProcessCores: mine / wall };
}

/** The commit the benchmark ran against (`+dirty` when packages/ has uncommitted changes). */
export function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** A command-line option `--name=value` (or bare `--name` = "true"), else the environment variable, else the fallback. */
export function option(name: string, env: string, fallback: string): string {
  const prefix = `--${name}=`;
  const arg = process.argv.find((a) => a === `--${name}` || a.startsWith(prefix));
  if (arg !== undefined) return arg === `--${name}` ? 'true' : arg.slice(prefix.length);
  return process.env[env] ?? fallback;
}

/** A positive number option (see {@link option}); `integer` demands a whole number. @throws Error naming the option. */
export function numberOption(name: string, env: string, fallback: number, integer = false): number {
  const v = Number(option(name, env, String(fallback)));
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`--${name} / ${env}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return v;
}

/** Writes `bench/results/<file>` as pretty JSON. @returns the path written. */
export function writeResults(file: string, results: unknown): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
