/// <reference path="./parse-prometheus-text-format.d.ts" />
/**
 * Scraping a Prometheus `node_exporter`: its text exposition (parsed by `parse-prometheus-text-format`)
 * mapped to the OpenTelemetry `system.*` names the rest of siperf reads, so a host that runs
 * node_exporter shows up like one running the sampler or a Collector.
 *
 * | node_exporter | siperf |
 * | --- | --- |
 * | `node_cpu_seconds_total{cpu,mode}` | `system.cpu.time{cpu,state}` (sum) |
 * | `node_load1`, `node_load5`, `node_load15` | `system.cpu.load_average.1m/.5m/.15m` |
 * | `node_memory_{MemTotal,MemAvailable,MemFree,Cached,Buffers}_bytes` | `system.memory.limit`, `system.memory.usage{state=used,free,cached,buffered}` (used = total − available) |
 * | `node_filesystem_{size,avail,free}_bytes{device,mountpoint,fstype}` | `system.filesystem.usage{state=used,free,reserved}` (used = size − free) |
 * | `node_disk_{read,written}_bytes_total{device}`, `node_disk_io_time_seconds_total` | `system.disk.io{direction}`, `system.disk.io_time` (sums) |
 * | `node_network_{receive,transmit}_bytes_total{device}` (not `lo`) | `system.network.io{direction}` (sum) |
 *
 * The host is `node_uname_info{nodename}` when exported, else the target's host name.
 * @module
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { type Attributes, type MetricPoint, scalarPoint } from '../model/index.ts';

/** The `service.name` of scraped points. */
export const NODE_EXPORTER_SERVICE = 'node-exporter';

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

const PSEUDO_FS = new Set([
  'tmpfs',
  'devtmpfs',
  'overlay',
  'squashfs',
  'proc',
  'sysfs',
  'nsfs',
  'ramfs',
  'autofs',
]);

/**
 * Maps one exposition to metric points at `timeNs`.
 * @param target - the scraped URL (its host names the machine when `node_uname_info` is absent).
 * @throws Error when the text is not a Prometheus exposition.
 */
export function nodeExporterPoints(text: string, target: string, timeNs: bigint): MetricPoint[] {
  const families = parsePrometheusTextFormat(text) as Family[];
  const byName = new Map(families.map((f) => [f.name, f]));
  const samples = (name: string) =>
    (byName.get(name)?.metrics ?? [])
      .map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }))
      .filter((m) => Number.isFinite(m.value));
  const one = (name: string) => samples(name)[0]?.value;
  const host = samples('node_uname_info')[0]?.labels.nodename ?? new URL(target).hostname;
  const resource: Attributes = { 'host.name': host, 'service.name': NODE_EXPORTER_SERVICE };
  const out: MetricPoint[] = [];
  const push = (name: string, unit: string, value: number, attributes: Attributes, sum: boolean) =>
    out.push(
      scalarPoint({
        name,
        service: NODE_EXPORTER_SERVICE,
        unit,
        type: sum ? 'sum' : 'gauge',
        value,
        timeUnixNano: timeNs,
        attributes,
        resourceAttributes: resource,
      }),
    );
  for (const s of samples('node_cpu_seconds_total')) {
    push(
      'system.cpu.time',
      's',
      s.value,
      { cpu: `cpu${s.labels.cpu ?? ''}`, state: s.labels.mode ?? '' },
      true,
    );
  }
  const cpus = new Set(samples('node_cpu_seconds_total').map((s) => s.labels.cpu));
  if (cpus.size > 0) push('system.cpu.logical.count', '{cpu}', cpus.size, {}, false);
  for (const [metric, name] of [
    ['node_load1', 'system.cpu.load_average.1m'],
    ['node_load5', 'system.cpu.load_average.5m'],
    ['node_load15', 'system.cpu.load_average.15m'],
  ] as const) {
    const v = one(metric);
    if (v !== undefined) push(name, '{thread}', v, {}, false);
  }
  const total = one('node_memory_MemTotal_bytes');
  const available = one('node_memory_MemAvailable_bytes');
  if (total !== undefined && available !== undefined) {
    push('system.memory.limit', 'By', total, {}, false);
    push('system.memory.usage', 'By', Math.max(0, total - available), { state: 'used' }, false);
    const free = one('node_memory_MemFree_bytes');
    const cached = one('node_memory_Cached_bytes');
    const buffers = one('node_memory_Buffers_bytes');
    if (free !== undefined) push('system.memory.usage', 'By', free, { state: 'free' }, false);
    if (cached !== undefined) push('system.memory.usage', 'By', cached, { state: 'cached' }, false);
    if (buffers !== undefined) push('system.memory.usage', 'By', buffers, { state: 'buffered' }, false);
  }
  const fsKey = (l: Record<string, string>) => `${l.device}|${l.mountpoint}`;
  const avail = new Map(samples('node_filesystem_avail_bytes').map((s) => [fsKey(s.labels), s.value]));
  const freeFs = new Map(samples('node_filesystem_free_bytes').map((s) => [fsKey(s.labels), s.value]));
  for (const s of samples('node_filesystem_size_bytes')) {
    if (PSEUDO_FS.has(s.labels.fstype ?? '') || s.value <= 0) continue;
    const k = fsKey(s.labels);
    const a = avail.get(k);
    const f = freeFs.get(k);
    if (a === undefined || f === undefined) continue;
    const attrs = {
      device: s.labels.device ?? '',
      mountpoint: s.labels.mountpoint ?? '',
      type: s.labels.fstype ?? '',
    };
    push('system.filesystem.usage', 'By', s.value - f, { ...attrs, state: 'used' }, false);
    push('system.filesystem.usage', 'By', a, { ...attrs, state: 'free' }, false);
    push('system.filesystem.usage', 'By', Math.max(0, f - a), { ...attrs, state: 'reserved' }, false);
  }
  for (const [metric, direction] of [
    ['node_disk_read_bytes_total', 'read'],
    ['node_disk_written_bytes_total', 'write'],
  ] as const) {
    for (const s of samples(metric))
      push('system.disk.io', 'By', s.value, { device: s.labels.device ?? '', direction }, true);
  }
  for (const s of samples('node_disk_io_time_seconds_total')) {
    push('system.disk.io_time', 's', s.value, { device: s.labels.device ?? '' }, true);
  }
  for (const [metric, direction] of [
    ['node_network_receive_bytes_total', 'receive'],
    ['node_network_transmit_bytes_total', 'transmit'],
  ] as const) {
    for (const s of samples(metric)) {
      if (s.labels.device === 'lo') continue;
      push('system.network.io', 'By', s.value, { device: s.labels.device ?? '', direction }, true);
    }
  }
  return out;
}

/**
 * Fetches one target.
 * @throws Error naming the target on a network error, a non-200 answer or a timeout (5 s).
 */
export async function scrapeNodeExporter(target: string, timeNs: bigint): Promise<MetricPoint[]> {
  const res = await fetch(target, { signal: AbortSignal.timeout(5000), headers: { accept: 'text/plain' } });
  if (!res.ok) throw new Error(`${target}: HTTP ${res.status}`);
  return nodeExporterPoints(await res.text(), target, timeNs);
}
