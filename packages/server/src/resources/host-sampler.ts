/**
 * The host sampler: reads `/proc`, `statfs` and cgroups every interval and turns them into metric points
 * named like the OpenTelemetry Collector's hostmetrics receiver (`system.*`, semantic conventions 1.3x),
 * so points from this sampler and from a Collector land in the same series. Utilisations are gauges 0..1
 * over the last interval; I/O counters are cumulative sums (rates are taken at query time).
 *
 * | metric | attributes | unit |
 * | --- | --- | --- |
 * | `system.cpu.utilization` | `cpu.mode` | 1 (share of all CPUs) |
 * | `system.cpu.logical.count` | | {cpu} |
 * | `system.cpu.load_average.1m` / `.5m` / `.15m` | | {thread} |
 * | `system.memory.usage` | `system.memory.state` = used, free, cached, buffered | By |
 * | `system.memory.limit` | | By |
 * | `system.memory.utilization` | `system.memory.state` = used | 1 |
 * | `system.paging.usage` | `system.paging.state` = used, free | By |
 * | `system.filesystem.usage` | `system.device`, `system.filesystem.mountpoint`, `.type`, `.state` = used, free (available to users), reserved (root's) | By |
 * | `system.filesystem.utilization` | the same but state | 1 (used / (used + free), as df's Use%) |
 * | `system.disk.io` | `system.device`, `disk.io.direction` | By (sum) |
 * | `system.disk.operations` | `system.device`, `disk.io.direction` | {operation} (sum) |
 * | `system.disk.io_time` | `system.device` | s (sum) |
 * | `system.disk.pending_operations` | `system.device` | {operation} |
 * | `system.network.io` / `.packets` / `.errors` / `.dropped` | `network.interface.name`, `network.io.direction` | By, {packet}, {error}, {packet} (sums) |
 * | `system.pressure.stall` | `pressure.resource` = cpu, memory, io; `pressure.kind` = some, full | 1 (avg10) |
 * | `container.cpu.limit` | | {cpu} |
 * | `container.cpu.utilization` | | 1 (of the limit, or of the host's CPUs without one) |
 * | `container.cpu.throttled_periods`, `container.cpu.periods` | | {period} (sums) |
 * | `container.cpu.throttled_time` | | s (sum) |
 * | `container.memory.limit`, `container.memory.working_set` | | By |
 * | `container.memory.utilization` | | 1 (of the limit) |
 * | `container.memory.oom_kills` | | {kill} (sum) |
 *
 * Resource attributes: `host.name` (and `service.name` = `siperf-host-sampler`).
 * @module
 */
import { type Attributes, type MetricPoint, scalarPoint } from '../model/index.ts';
import { type CgroupStats, readCgroup } from './cgroup.ts';
import {
  CPU_MODES,
  type CpuTimes,
  type ProcReader,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parsePressure,
  parseProcStat,
} from './procfs.ts';

/** The `service.name` of the sampler's points. */
export const SAMPLER_SERVICE = 'siperf-host-sampler';

interface Previous {
  timeNs: bigint;
  cpu: CpuTimes | undefined;
  cgroupCpuSeconds: number | undefined;
}

/** Samples one host. Not re-entrant: call {@link sample} again only after the previous call resolved. */
export class HostSampler {
  private previous: Previous | undefined;
  private readonly startNs: bigint;

  constructor(
    private readonly proc: ProcReader,
    private readonly host: string,
    private readonly clockNs: () => bigint,
  ) {
    this.startNs = clockNs();
  }

  /**
   * Reads everything once.
   * @returns the points of this sample; CPU utilisations only from the second sample on (they need a delta).
   */
  async sample(): Promise<MetricPoint[]> {
    const timeNs = this.clockNs();
    const [statText, loadText, memText, diskText, netText] = await Promise.all([
      this.proc.text('proc/stat'),
      this.proc.text('proc/loadavg'),
      this.proc.text('proc/meminfo'),
      this.proc.text('proc/diskstats'),
      this.proc.text('proc/net/dev'),
    ]);
    const psi = await Promise.all(
      (['cpu', 'memory', 'io'] as const).map(
        async (r) => [r, await this.proc.text(`proc/pressure/${r}`)] as const,
      ),
    );
    const filesystems = await this.proc.filesystems();
    const cgroup = await readCgroup(this.proc);
    const out: MetricPoint[] = [];
    const resource: Attributes = { 'host.name': this.host, 'service.name': SAMPLER_SERVICE };
    const point = (
      type: 'gauge' | 'sum',
      name: string,
      unit: string,
      value: number,
      attributes: Attributes,
    ) =>
      scalarPoint({
        name,
        service: SAMPLER_SERVICE,
        unit,
        type,
        value,
        timeUnixNano: timeNs,
        ...(type === 'sum' ? { startTimeUnixNano: this.startNs } : {}),
        attributes,
        resourceAttributes: resource,
      });
    const gauge = (name: string, unit: string, value: number, attributes: Attributes = {}): void => {
      out.push(point('gauge', name, unit, value, attributes));
    };
    const sum = (name: string, unit: string, value: number, attributes: Attributes = {}): void => {
      out.push(point('sum', name, unit, value, attributes));
    };

    const stat = statText ? parseProcStat(statText) : undefined;
    const cores = stat?.cpus ?? 0;
    if (stat) {
      gauge('system.cpu.logical.count', '{cpu}', cores);
      const prev = this.previous?.cpu;
      if (prev) {
        const deltas = CPU_MODES.map((m) => Math.max(0, stat.total[m] - prev[m]));
        const total = deltas.reduce((a, b) => a + b, 0);
        if (total > 0) {
          CPU_MODES.forEach((m, i) => {
            gauge('system.cpu.utilization', '1', deltas[i]! / total, { 'cpu.mode': m });
          });
        }
      }
    }
    if (loadText) {
      const l = parseLoadavg(loadText);
      gauge('system.cpu.load_average.1m', '{thread}', l.load1);
      gauge('system.cpu.load_average.5m', '{thread}', l.load5);
      gauge('system.cpu.load_average.15m', '{thread}', l.load15);
    }
    if (memText) {
      const m = parseMeminfo(memText);
      const state = (s: string) => ({ 'system.memory.state': s });
      gauge('system.memory.usage', 'By', m.usedBytes, state('used'));
      gauge('system.memory.usage', 'By', m.freeBytes, state('free'));
      gauge('system.memory.usage', 'By', m.cachedBytes, state('cached'));
      gauge('system.memory.usage', 'By', m.buffersBytes, state('buffered'));
      gauge('system.memory.limit', 'By', m.totalBytes);
      if (m.totalBytes > 0)
        gauge('system.memory.utilization', '1', m.usedBytes / m.totalBytes, state('used'));
      if (m.swapTotalBytes > 0) {
        gauge('system.paging.usage', 'By', m.swapTotalBytes - m.swapFreeBytes, {
          'system.paging.state': 'used',
        });
        gauge('system.paging.usage', 'By', m.swapFreeBytes, { 'system.paging.state': 'free' });
      }
    }
    for (const f of filesystems) {
      const attrs = {
        'system.device': f.device,
        'system.filesystem.mountpoint': f.mountpoint,
        'system.filesystem.type': f.type,
      };
      gauge('system.filesystem.usage', 'By', f.usedBytes, { ...attrs, 'system.filesystem.state': 'used' });
      gauge('system.filesystem.usage', 'By', f.availableBytes, {
        ...attrs,
        'system.filesystem.state': 'free',
      });
      gauge('system.filesystem.usage', 'By', f.reservedBytes, {
        ...attrs,
        'system.filesystem.state': 'reserved',
      });
      // As df's Use%: of what users can fill (used + available), root's reserve left out.
      const fillable = f.usedBytes + f.availableBytes;
      gauge('system.filesystem.utilization', '1', fillable > 0 ? f.usedBytes / fillable : 0, attrs);
    }
    for (const d of diskText ? parseDiskstats(diskText) : []) {
      const dev = { 'system.device': d.device };
      sum('system.disk.io', 'By', d.readBytes, { ...dev, 'disk.io.direction': 'read' });
      sum('system.disk.io', 'By', d.writeBytes, { ...dev, 'disk.io.direction': 'write' });
      sum('system.disk.operations', '{operation}', d.readOps, { ...dev, 'disk.io.direction': 'read' });
      sum('system.disk.operations', '{operation}', d.writeOps, { ...dev, 'disk.io.direction': 'write' });
      sum('system.disk.io_time', 's', d.busySeconds, dev);
      gauge('system.disk.pending_operations', '{operation}', d.inFlight, dev);
    }
    for (const n of netText ? parseNetDev(netText) : []) {
      const rx = { 'network.interface.name': n.iface, 'network.io.direction': 'receive' };
      const tx = { 'network.interface.name': n.iface, 'network.io.direction': 'transmit' };
      sum('system.network.io', 'By', n.rxBytes, rx);
      sum('system.network.io', 'By', n.txBytes, tx);
      sum('system.network.packets', '{packet}', n.rxPackets, rx);
      sum('system.network.packets', '{packet}', n.txPackets, tx);
      sum('system.network.errors', '{error}', n.rxErrors, rx);
      sum('system.network.errors', '{error}', n.txErrors, tx);
      sum('system.network.dropped', '{packet}', n.rxDropped, rx);
      sum('system.network.dropped', '{packet}', n.txDropped, tx);
    }
    for (const [resourceName, text] of psi) {
      if (!text) continue;
      const p = parsePressure(text);
      gauge('system.pressure.stall', '1', p.some.avg10, {
        'pressure.resource': resourceName,
        'pressure.kind': 'some',
      });
      gauge('system.pressure.stall', '1', p.full.avg10, {
        'pressure.resource': resourceName,
        'pressure.kind': 'full',
      });
    }
    if (cgroup) this.container(cgroup, cores, timeNs, gauge, sum);
    this.previous = {
      timeNs,
      cpu: stat?.total ?? this.previous?.cpu,
      cgroupCpuSeconds: cgroup?.cpuUsageSeconds,
    };
    return out;
  }

  private container(
    c: CgroupStats,
    hostCores: number,
    timeNs: bigint,
    gauge: (n: string, u: string, v: number, a?: Attributes) => void,
    sum: (n: string, u: string, v: number, a?: Attributes) => void,
  ): void {
    const prev = this.previous;
    if (c.cpuLimitCores !== undefined) gauge('container.cpu.limit', '{cpu}', c.cpuLimitCores);
    if (prev?.cgroupCpuSeconds !== undefined && timeNs > prev.timeNs) {
      const seconds = Number(timeNs - prev.timeNs) / 1e9;
      const used = Math.max(0, c.cpuUsageSeconds - prev.cgroupCpuSeconds) / seconds;
      const capacity = c.cpuLimitCores ?? hostCores;
      if (capacity > 0) gauge('container.cpu.utilization', '1', used / capacity);
    }
    sum('container.cpu.periods', '{period}', c.periods);
    sum('container.cpu.throttled_periods', '{period}', c.throttledPeriods);
    sum('container.cpu.throttled_time', 's', c.throttledSeconds);
    if (c.memoryLimitBytes !== undefined) {
      gauge('container.memory.limit', 'By', c.memoryLimitBytes);
      gauge('container.memory.utilization', '1', c.memoryWorkingSetBytes / c.memoryLimitBytes);
    }
    gauge('container.memory.working_set', 'By', c.memoryWorkingSetBytes);
    sum('container.memory.oom_kills', '{kill}', c.oomKills);
  }
}
