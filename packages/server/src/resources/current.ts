/**
 * The latest state of one host: CPU, memory, filesystems, network and disk I/O, from the newest points
 * of the last few minutes. Utilisations are 0..1 of the container's limit when there is one.
 * @module
 */
import type { MetricPoint } from '../model/index.ts';
import type { MetricReader } from '../storage/index.ts';
import { attr, rateOf, resourceSeries, seriesOf } from './resource-series.ts';

/** Answer of `GET /api/v1/resources/current`. Bytes, bytes per second, ratios 0..1. */
export interface CurrentResources {
  host: string;
  timestamp: string | null;
  cpu: { utilization: number | null; cores: number | null; limitCores: number | null; load1: number | null };
  memory: { utilization: number | null; usedBytes: number | null; limitBytes: number | null };
  filesystems: FilesystemNow[];
  network: { rxBytesPerSec: number | null; txBytesPerSec: number | null };
  disk: { readBytesPerSec: number | null; writeBytesPerSec: number | null; busyRatio: number | null };
}

/**
 * One filesystem now, bytes. `sizeBytes` is the filesystem's size (blocks × block size, what `df` and
 * node_exporter's `node_filesystem_size_bytes` report) = used + available + reserved; without a
 * `reserved` state in the points (a source that does not report it) it is used + available and
 * `reservedBytes` is null. `utilization` is df's Use%: used / (used + available).
 */
export interface FilesystemNow {
  mount: string;
  device: string;
  utilization: number;
  usedBytes: number;
  /** What unprivileged users can still write (state `free`). */
  availableBytes: number;
  /** Free space only root may use (ext4 reserves 5% by default); null when the source does not say. */
  reservedBytes: number | null;
  sizeBytes: number;
}

const last = <T>(xs: readonly T[]): T | undefined => xs[xs.length - 1];

/** Newest point per attribute set. */
function newest(points: readonly MetricPoint[]): MetricPoint[] {
  const by = new Map<string, MetricPoint>();
  for (const p of points) {
    const k = JSON.stringify(p.attributes);
    const cur = by.get(k);
    if (!cur || p.timeUnixNano > cur.timeUnixNano) by.set(k, p);
  }
  return [...by.values()];
}

/**
 * Reads the current state of `host` from points newer than `nowMs − lookbackMs`.
 * @param lookbackMs - how far back a sample still counts as current (default 5 min).
 */
export async function currentResources(
  store: MetricReader,
  host: string,
  nowMs: number,
  lookbackMs = 300_000,
): Promise<CurrentResources> {
  const window = {
    fromNs: BigInt(nowMs - lookbackMs) * 1_000_000n,
    toNs: BigInt(nowMs + 60_000) * 1_000_000n,
  };
  const read = (name: string) => store.metricPoints({ name, window, host, limit: 200_000 });
  const value = async (name: string, match: (p: MetricPoint) => boolean = () => true) =>
    last(newest(await read(name)).filter(match))?.value ?? null;
  const [cpu, memory, fsUse, fsUtil] = await Promise.all([
    resourceSeries(store, { resourceType: 'cpu', host, window }),
    resourceSeries(store, { resourceType: 'memory', host, window }),
    read('system.filesystem.usage'),
    resourceSeries(store, { resourceType: 'disk', host, window }),
  ]);
  const labelsOf = (p: MetricPoint) =>
    Object.fromEntries(Object.entries(p.attributes).map(([k, v]) => [k, String(v)]));
  const cores = await value('system.cpu.logical.count');
  const limitCores = await value('container.cpu.limit');
  const containerLimit = await value('container.memory.limit');
  const memUsed =
    containerLimit !== null
      ? await value('container.memory.working_set')
      : await value(
          'system.memory.usage',
          (p) => attr(labelsOf(p), 'system.memory.state', 'state') === 'used',
        );
  const filesystems = fsUtil.map((u) => {
    const mount = u.labels.mountpoint ?? '';
    const usage = newest(fsUse).filter(
      (p) => attr(labelsOf(p), 'system.filesystem.mountpoint', 'mountpoint') === mount,
    );
    const state = (p: MetricPoint) => attr(labelsOf(p), 'system.filesystem.state', 'state');
    const used = usage.find((p) => state(p) === 'used')?.value ?? 0;
    const free = usage.find((p) => state(p) === 'free')?.value ?? 0;
    const reserved = usage.find((p) => state(p) === 'reserved')?.value;
    return {
      mount,
      device: u.labels.device ?? '',
      utilization: last(u.values) ?? 0,
      usedBytes: used,
      availableBytes: free,
      reservedBytes: reserved ?? null,
      sizeBytes: used + free + (reserved ?? 0),
    };
  });
  const rates = async (name: string, key: string, a: string, b: string) => {
    const series = seriesOf(await read(name)).map(rateOf);
    const lastRate = (dir: string) => {
      const vals = series.filter((s) => attr(s.labels, key, 'direction') === dir).map((s) => last(s.values));
      return vals.length === 0 || vals.some((v) => v === undefined)
        ? null
        : vals.reduce((x, y) => x! + y!, 0)!;
    };
    return [lastRate(a), lastRate(b)] as const;
  };
  const [rx, tx] = await rates('system.network.io', 'network.io.direction', 'receive', 'transmit');
  const [rd, wr] = await rates('system.disk.io', 'disk.io.direction', 'read', 'write');
  const busy = seriesOf(await read('system.disk.io_time')).map(rateOf);
  const busyRatio = busy.length === 0 ? null : Math.max(...busy.map((s) => last(s.values) ?? 0));
  const newestNs = [
    ...(await read('system.cpu.logical.count')),
    ...(await read('system.memory.limit')),
  ].reduce((m, p) => (p.timeUnixNano > m ? p.timeUnixNano : m), 0n);
  const memLimit = containerLimit ?? (await value('system.memory.limit'));
  return {
    host,
    timestamp: newestNs === 0n ? null : new Date(Number(newestNs / 1_000_000n)).toISOString(),
    cpu: {
      utilization: last(cpu[0]?.values ?? []) ?? null,
      cores,
      limitCores,
      load1: await value('system.cpu.load_average.1m'),
    },
    memory: { utilization: last(memory[0]?.values ?? []) ?? null, usedBytes: memUsed, limitBytes: memLimit },
    filesystems,
    network: { rxBytesPerSec: rx, txBytesPerSec: tx },
    disk: { readBytesPerSec: rd, writeBytesPerSec: wr, busyRatio },
  };
}
