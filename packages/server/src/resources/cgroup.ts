/**
 * Container limits and usage from cgroups, v2 (unified) or v1, as the kernel documents them
 * (Documentation/admin-guide/cgroup-v2.rst; cgroup-v1/{cpu,cpuacct,memory}.rst). The process's own
 * cgroup is found in `/proc/self/cgroup`; inside a cgroup namespace (a container) that is `/`, so the
 * files at the mount root are the container's. Memory "used" is the working set — usage minus inactive
 * file cache — the figure the kubelet evicts and the OOM killer acts on.
 * @module
 */
import { join } from 'node:path';
import type { ProcReader } from './procfs.ts';

/** Limits and cumulative usage of the process's cgroup. Bytes, seconds, cores. */
export interface CgroupStats {
  version: 1 | 2;
  /** The cgroup's path (`/` inside a container's namespace). */
  path: string;
  /** CPU quota in cores (quota / period), or `undefined` without a limit. */
  cpuLimitCores: number | undefined;
  /** CPU time used by the cgroup, seconds (cumulative). */
  cpuUsageSeconds: number;
  /** CFS periods elapsed and throttled, and the time throttled (cumulative). */
  periods: number;
  throttledPeriods: number;
  throttledSeconds: number;
  /** Memory limit in bytes, or `undefined` without one. */
  memoryLimitBytes: number | undefined;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  /** Processes killed by the OOM killer in this cgroup (cumulative; 0 where the kernel does not count). */
  oomKills: number;
}

/** Values at or above this are v1's way of saying "no limit" (PAGE_COUNTER_MAX rounded to pages). */
const V1_UNLIMITED = 2 ** 60;

/** `key value` lines (cpu.stat, memory.stat, memory.events) into a map. */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}

/** `/proc/self/cgroup`: the v2 path (`0::/x`) and the v1 path per controller (`4:memory:/x`). */
export function parseProcCgroup(text: string): { v2: string | undefined; v1: Map<string, string> } {
  let v2: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3];
    else for (const c of m[2]!.split(',')) if (c) v1.set(c, m[3]!);
  }
  return { v2, v1 };
}

/**
 * The cgroup's folder: under the first mount (of `mounts`) where `probe` exists at `<mount>/<path>`, or
 * else at the mount root (a container's namespace hides the host's path).
 */
async function folder(
  proc: ProcReader,
  mounts: string[],
  path: string,
  probe: string,
): Promise<string | undefined> {
  for (const mount of mounts) {
    if ((await proc.text(join(mount, path, probe))) !== undefined) return join(mount, path);
  }
  for (const mount of mounts) {
    if ((await proc.text(join(mount, probe))) !== undefined) return mount;
  }
  return undefined;
}

/**
 * Reads the process's cgroup under the reader's root (`sys/fs/cgroup`).
 * @returns `undefined` when no cgroup files are readable (not Linux, or hidden).
 */
export async function readCgroup(proc: ProcReader): Promise<CgroupStats | undefined> {
  const self = parseProcCgroup((await proc.text('proc/self/cgroup')) ?? '0::/');
  if ((await proc.text('sys/fs/cgroup/cgroup.controllers')) !== undefined) {
    const dir = (await folder(proc, ['sys/fs/cgroup'], self.v2 ?? '/', 'cpu.stat')) ?? 'sys/fs/cgroup';
    const cpuMax = (await proc.text(join(dir, 'cpu.max')))?.trim().split(/\s+/);
    const quota = cpuMax && cpuMax[0] !== 'max' ? Number(cpuMax[0]) : undefined;
    const period = cpuMax ? Number(cpuMax[1] ?? 100_000) : 100_000;
    const cpu = parseKeyValues(await proc.text(join(dir, 'cpu.stat')));
    const memMax = (await proc.text(join(dir, 'memory.max')))?.trim();
    const usage = Number((await proc.text(join(dir, 'memory.current')))?.trim() ?? 0);
    const stat = parseKeyValues(await proc.text(join(dir, 'memory.stat')));
    const events = parseKeyValues(await proc.text(join(dir, 'memory.events')));
    return {
      version: 2,
      path: self.v2 ?? '/',
      cpuLimitCores: quota !== undefined && quota > 0 && period > 0 ? quota / period : undefined,
      cpuUsageSeconds: (cpu.get('usage_usec') ?? 0) / 1e6,
      periods: cpu.get('nr_periods') ?? 0,
      throttledPeriods: cpu.get('nr_throttled') ?? 0,
      throttledSeconds: (cpu.get('throttled_usec') ?? 0) / 1e6,
      memoryLimitBytes: memMax === undefined || memMax === 'max' ? undefined : Number(memMax),
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - (stat.get('inactive_file') ?? 0)),
      oomKills: events.get('oom_kill') ?? 0,
    };
  }
  const cpuPath = self.v1.get('cpu') ?? self.v1.get('cpuacct') ?? '/';
  const memPath = self.v1.get('memory') ?? '/';
  const cpuMounts = ['sys/fs/cgroup/cpu,cpuacct', 'sys/fs/cgroup/cpu'];
  const cpuDir = await folder(proc, cpuMounts, cpuPath, 'cpu.cfs_quota_us');
  const acctDir = await folder(
    proc,
    ['sys/fs/cgroup/cpu,cpuacct', 'sys/fs/cgroup/cpuacct'],
    self.v1.get('cpuacct') ?? cpuPath,
    'cpuacct.usage',
  );
  const memDir = await folder(proc, ['sys/fs/cgroup/memory'], memPath, 'memory.usage_in_bytes');
  const read = (dir: string | undefined, file: string) =>
    dir === undefined ? Promise.resolve(undefined) : proc.text(join(dir, file));
  const quotaText = await read(cpuDir, 'cpu.cfs_quota_us');
  const memUsageText = await read(memDir, 'memory.usage_in_bytes');
  if (quotaText === undefined && memUsageText === undefined) return undefined;
  const quota = Number(quotaText?.trim() ?? -1);
  const period = Number((await read(cpuDir, 'cpu.cfs_period_us'))?.trim() ?? 100_000);
  const cpu = parseKeyValues(await read(cpuDir, 'cpu.stat'));
  const limit = Number((await read(memDir, 'memory.limit_in_bytes'))?.trim() ?? Number.NaN);
  const usage = Number(memUsageText?.trim() ?? 0);
  const stat = parseKeyValues(await read(memDir, 'memory.stat'));
  const oom = parseKeyValues(await read(memDir, 'memory.oom_control'));
  return {
    version: 1,
    path: memPath,
    cpuLimitCores: quota > 0 && period > 0 ? quota / period : undefined,
    cpuUsageSeconds: Number((await read(acctDir, 'cpuacct.usage'))?.trim() ?? 0) / 1e9,
    periods: cpu.get('nr_periods') ?? 0,
    throttledPeriods: cpu.get('nr_throttled') ?? 0,
    throttledSeconds: (cpu.get('throttled_time') ?? 0) / 1e9,
    memoryLimitBytes: Number.isFinite(limit) && limit < V1_UNLIMITED ? limit : undefined,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(
      0,
      usage - (stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0),
    ),
    oomKills: oom.get('oom_kill') ?? 0,
  };
}
