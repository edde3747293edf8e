/**
 * Resource series read from metric points: what "cpu", "memory", "disk" and "network" mean as time
 * series, for one host. Utilisation is of the container's limit when the host reports one (the
 * `container.*` points of a cgroup with a limit), of the host otherwise. Cumulative counters become
 * per-second rates (a counter reset — a smaller value — starts over without a negative rate).
 * @module
 */
import type { MetricPoint } from '../model/index.ts';
import type { MetricReader, TimeWindow } from '../storage/index.ts';

/** One series: times in ms since the epoch, ascending; `labels` tell series of one resource apart. */
export interface Series {
  labels: Record<string, string>;
  /** `1` (a ratio 0..1), `By`, `By/s`, or the metric's own unit. */
  unit: string;
  times: number[];
  values: number[];
}

/** The resource types with a meaning of their own; any other name is a stored metric. */
export const RESOURCE_TYPES = ['cpu', 'memory', 'disk', 'network', 'disk_io'] as const;

/** Most points read per metric and request. */
const MAX_POINTS = 2_000_000;

const ms = (ns: bigint): number => Number(ns / 1_000_000n);

/** Points grouped by attribute set, each as a series (sorted by time). */
export function seriesOf(points: readonly MetricPoint[], unit?: string): Series[] {
  const groups = new Map<string, Series>();
  for (const p of points) {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(p.attributes)) labels[k] = String(v);
    const key = JSON.stringify(labels);
    let s = groups.get(key);
    if (!s) {
      s = { labels, unit: unit ?? p.unit, times: [], values: [] };
      groups.set(key, s);
    }
    s.times.push(ms(p.timeUnixNano));
    s.values.push(p.value);
  }
  for (const s of groups.values()) sortSeries(s);
  return [...groups.values()];
}

function sortSeries(s: Series): void {
  let sorted = true;
  for (let i = 1; i < s.times.length; i++) if (s.times[i]! < s.times[i - 1]!) sorted = false;
  if (sorted) return;
  const idx = s.times.map((_, i) => i).sort((a, b) => s.times[a]! - s.times[b]!);
  s.times = idx.map((i) => s.times[i]!);
  s.values = idx.map((i) => s.values[i]!);
}

/** Per-second rates of a cumulative series; a reset (a drop) restarts from the new value. */
export function rateOf(s: Series): Series {
  const out: Series = { labels: s.labels, unit: `${s.unit}/s`, times: [], values: [] };
  for (let i = 1; i < s.times.length; i++) {
    const dt = (s.times[i]! - s.times[i - 1]!) / 1000;
    const dv = s.values[i]! - s.values[i - 1]!;
    if (dt <= 0 || dv < 0) continue;
    out.times.push(s.times[i]!);
    out.values.push(dv / dt);
  }
  return out;
}

/** Sums series point by point at equal timestamps (the sampler writes one timestamp per sample). */
export function sumByTime(series: readonly Series[], labels: Record<string, string> = {}): Series {
  const acc = new Map<number, number>();
  for (const s of series) {
    for (let i = 0; i < s.times.length; i++) acc.set(s.times[i]!, (acc.get(s.times[i]!) ?? 0) + s.values[i]!);
  }
  const times = [...acc.keys()].sort((a, b) => a - b);
  return { labels, unit: series[0]?.unit ?? '1', times, values: times.map((t) => acc.get(t)!) };
}

/** Reads the series of a resource type (or of a stored metric name) for one host over a window. */
export async function resourceSeries(
  store: MetricReader,
  q: { resourceType: string; host?: string | undefined; window: TimeWindow },
): Promise<Series[]> {
  const read = (name: string) =>
    store.metricPoints({ name, window: q.window, host: q.host, limit: MAX_POINTS });
  switch (q.resourceType) {
    case 'cpu': {
      const container = await read('container.cpu.utilization');
      if (container.length > 0 && (await read('container.cpu.limit')).length > 0) {
        return seriesOf(container, '1').map((s) => ({ ...s, labels: { scope: 'container' } }));
      }
      // Busy = every mode but idle and iowait (iowait is idle time with I/O outstanding).
      const modes = seriesOf(await read('system.cpu.utilization'), '1').filter(
        (s) => s.labels['cpu.mode'] !== 'idle' && s.labels['cpu.mode'] !== 'iowait',
      );
      return modes.length === 0 ? [] : [sumByTime(modes, { scope: 'host' })];
    }
    case 'memory': {
      const container = await read('container.memory.utilization');
      if (container.length > 0)
        return seriesOf(container, '1').map((s) => ({ ...s, labels: { scope: 'container' } }));
      return seriesOf(await read('system.memory.utilization'), '1').map((s) => ({
        ...s,
        labels: { scope: 'host' },
      }));
    }
    case 'disk':
      return seriesOf(await read('system.filesystem.utilization'), '1').map((s) => ({
        ...s,
        labels: {
          mountpoint: s.labels['system.filesystem.mountpoint'] ?? '',
          device: s.labels['system.device'] ?? '',
        },
      }));
    case 'network': {
      const rates = seriesOf(await read('system.network.io'), 'By').map(rateOf);
      const dir = (d: string) => rates.filter((s) => s.labels['network.io.direction'] === d);
      return [
        sumByTime(dir('receive'), { direction: 'receive' }),
        sumByTime(dir('transmit'), { direction: 'transmit' }),
      ].filter((s) => s.times.length > 0);
    }
    case 'disk_io': {
      const rates = seriesOf(await read('system.disk.io'), 'By').map(rateOf);
      const dir = (d: string) => rates.filter((s) => s.labels['disk.io.direction'] === d);
      return [
        sumByTime(dir('read'), { direction: 'read' }),
        sumByTime(dir('write'), { direction: 'write' }),
      ].filter((s) => s.times.length > 0);
    }
    default: {
      const points = await read(q.resourceType);
      const monotonic = points.some((p) => p.type === 'sum' && p.monotonic);
      const series = seriesOf(points);
      return monotonic ? series.map(rateOf) : series;
    }
  }
}
