/**
 * Parsers of Linux `/proc` files (proc(5)) into plain numbers, and a reader that takes them from a root
 * folder (`/` on a host; a fixture folder in tests). Each parser takes the file's text and never throws on
 * a missing field: it leaves it out. Units: bytes, seconds, and kernel ticks (`USER_HZ`, 100 per second on
 * every mainstream architecture) for CPU times.
 * @module
 */
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** CPU time per mode, in ticks (`USER_HZ`), summed over all CPUs (the `cpu` line of /proc/stat). */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** The CPU modes of {@link CpuTimes}, in /proc/stat order. */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** `/proc/stat`: total CPU times and the number of CPUs (`cpuN` lines). */
export function parseProcStat(text: string): { total: CpuTimes; cpus: number } {
  const total: CpuTimes = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 };
  let cpus = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      const v = line.trim().split(/\s+/).slice(1).map(Number);
      CPU_MODES.forEach((m, i) => {
        total[m] = Number.isFinite(v[i]) ? v[i]! : 0;
      });
    } else if (/^cpu\d+ /.test(line)) cpus += 1;
  }
  return { total, cpus };
}

/** `/proc/loadavg`: run-queue averages over 1, 5 and 15 minutes. */
export function parseLoadavg(text: string): { load1: number; load5: number; load15: number } {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  return { load1: a ?? 0, load5: b ?? 0, load15: c ?? 0 };
}

/** Memory in bytes, from `/proc/meminfo` (kB there). */
export interface MemInfo {
  totalBytes: number;
  freeBytes: number;
  availableBytes: number;
  buffersBytes: number;
  /** Page cache plus reclaimable slab (what `free` shows as buff/cache, minus buffers). */
  cachedBytes: number;
  /** total − available: what cannot be reclaimed without swapping. */
  usedBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
}

/** `/proc/meminfo`. `MemAvailable` (Linux ≥ 3.14) is the kernel's estimate of reclaimable memory. */
export function parseMeminfo(text: string): MemInfo {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]) * 1024);
  }
  const get = (k: string): number => kb.get(k) ?? 0;
  const total = get('MemTotal');
  const free = get('MemFree');
  const buffers = get('Buffers');
  const cached = get('Cached') + get('SReclaimable');
  const available = kb.get('MemAvailable') ?? free + buffers + cached;
  return {
    totalBytes: total,
    freeBytes: free,
    availableBytes: available,
    buffersBytes: buffers,
    cachedBytes: cached,
    usedBytes: Math.max(0, total - available),
    swapTotalBytes: get('SwapTotal'),
    swapFreeBytes: get('SwapFree'),
  };
}

/** Cumulative I/O of one block device (`/proc/diskstats`; sectors are 512 bytes whatever the device). */
export interface DiskStats {
  device: string;
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
  /** Time the device had I/O in flight, seconds (the basis of `%util`). */
  busySeconds: number;
  /** Requests in flight now (the queue). */
  inFlight: number;
  /** Weighted time in queue, seconds (the basis of `avgqu-sz`). */
  weightedSeconds: number;
}

/**
 * `/proc/diskstats`, whole devices only: partitions (`sda1`, `nvme0n1p1`), loop, ram and zram devices
 * are left out, so bytes are not counted twice.
 */
export function parseDiskstats(text: string): DiskStats[] {
  const out: DiskStats[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const device = f[2]!;
    if (/^(loop|ram|zram|fd|sr)\d/.test(device)) continue;
    if (
      /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+)\d+$/.test(device) ||
      /^(nvme\d+n\d+|mmcblk\d+)p\d+$/.test(device)
    )
      continue;
    const n = f.map(Number);
    out.push({
      device,
      readOps: n[3]!,
      readBytes: n[5]! * 512,
      writeOps: n[7]!,
      writeBytes: n[9]! * 512,
      inFlight: n[11]!,
      busySeconds: n[12]! / 1000,
      weightedSeconds: n[13]! / 1000,
    });
  }
  return out;
}

/** Cumulative counters of one network interface (`/proc/net/dev`). */
export interface NetDevStats {
  iface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** `/proc/net/dev`, without the loopback interface (traffic that never leaves the host). */
export function parseNetDev(text: string): NetDevStats[] {
  const out: NetDevStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const iface = m[1]!.trim();
    if (iface === 'lo') continue;
    const n = m[2]!.trim().split(/\s+/).map(Number);
    if (n.length < 12) continue;
    out.push({
      iface,
      rxBytes: n[0]!,
      rxPackets: n[1]!,
      rxErrors: n[2]!,
      rxDropped: n[3]!,
      txBytes: n[8]!,
      txPackets: n[9]!,
      txErrors: n[10]!,
      txDropped: n[11]!,
    });
  }
  return out;
}

/** Pressure stall information of one resource: share of time some (or all) tasks were stalled. */
export interface Pressure {
  /** `some avg10/avg60/avg300` as ratios 0..1 (the file has percentages). */
  some: { avg10: number; avg60: number; avg300: number };
  /** `full` line (absent for CPU on kernels before 5.13: then zeros). */
  full: { avg10: number; avg60: number; avg300: number };
}

/** `/proc/pressure/{cpu,memory,io}` (Linux ≥ 4.20 with PSI enabled). */
export function parsePressure(text: string): Pressure {
  const line = (kind: string) => {
    const m = new RegExp(`^${kind} avg10=([\\d.]+) avg60=([\\d.]+) avg300=([\\d.]+)`, 'm').exec(text);
    return m
      ? { avg10: Number(m[1]) / 100, avg60: Number(m[2]) / 100, avg300: Number(m[3]) / 100 }
      : { avg10: 0, avg60: 0, avg300: 0 };
  };
  return { some: line('some'), full: line('full') };
}

/** A mounted filesystem worth reporting. */
export interface Mount {
  device: string;
  mountpoint: string;
  type: string;
}

/** Filesystem types that hold no user data (kernel interfaces, in-memory, overlays of images). */
const PSEUDO_FS = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'tmpfs',
  'cgroup',
  'cgroup2',
  'securityfs',
  'debugfs',
  'tracefs',
  'pstore',
  'bpf',
  'mqueue',
  'hugetlbfs',
  'fusectl',
  'configfs',
  'autofs',
  'binfmt_misc',
  'rpc_pipefs',
  'nsfs',
  'squashfs',
  'ramfs',
  'efivarfs',
  'selinuxfs',
]);

/** `/proc/self/mounts`: real filesystems, each mountpoint once (the first mount of a device wins). */
export function parseMounts(text: string): Mount[] {
  const out: Mount[] = [];
  const seenDevices = new Set<string>();
  const seenPoints = new Set<string>();
  for (const line of text.split('\n')) {
    const [device, rawPoint, type] = line.split(' ');
    if (!device || !rawPoint || !type || PSEUDO_FS.has(type)) continue;
    // Octal escapes of spaces and tabs in mount points.
    const mountpoint = rawPoint.replace(/\\(\d{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    if (seenDevices.has(device) || seenPoints.has(mountpoint)) continue;
    seenDevices.add(device);
    seenPoints.add(mountpoint);
    out.push({ device, mountpoint, type });
  }
  return out;
}

/**
 * Size and usage of one filesystem, bytes, from `statfs(2)` as `df` and node_exporter read it: size =
 * blocks × block size (`node_filesystem_size_bytes`), used = (blocks − free) × block size, available =
 * bavail × block size (`node_filesystem_avail_bytes`), and the blocks reserved for root (free but not
 * available, ext4's 5% by default) apart, so used + available + reserved = size.
 */
export interface FilesystemUsage extends Mount {
  sizeBytes: number;
  usedBytes: number;
  /** What an unprivileged user can still write. */
  availableBytes: number;
  /** Free blocks only root may use: (bfree − bavail) × block size. */
  reservedBytes: number;
}

/** The block counts of `fs.statfs` (Node gives the block size as `bsize`, which Linux counts blocks in). */
export interface StatfsBlocks {
  blocks: number;
  bfree: number;
  bavail: number;
  bsize: number;
}

/** {@link FilesystemUsage} of a mount from its statfs block counts. */
export function filesystemUsage(mount: Mount, s: StatfsBlocks): FilesystemUsage {
  return {
    ...mount,
    sizeBytes: s.blocks * s.bsize,
    usedBytes: (s.blocks - s.bfree) * s.bsize,
    availableBytes: s.bavail * s.bsize,
    reservedBytes: Math.max(0, s.bfree - s.bavail) * s.bsize,
  };
}

/** Reads `/proc` files under a root folder. */
export class ProcReader {
  /** @param root - the folder holding `proc/` (default `/`). */
  constructor(private readonly root = '/') {}

  /** A file's text, or `undefined` when it does not exist or cannot be read. */
  async text(path: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.root, path), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** statfs of each real mount (mounts that cannot be read are skipped). */
  async filesystems(): Promise<FilesystemUsage[]> {
    const mounts = parseMounts((await this.text('proc/self/mounts')) ?? '');
    const out: FilesystemUsage[] = [];
    for (const m of mounts) {
      try {
        const s = await statfs(this.root === '/' ? m.mountpoint : join(this.root, m.mountpoint));
        if (s.blocks === 0) continue;
        out.push(filesystemUsage(m, s));
      } catch {
        // unreadable mount (permissions, stale NFS): skipped
      }
    }
    return out;
  }
}
