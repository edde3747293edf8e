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

/** The first of several attribute names present (semantic-convention names changed over releases). */
export function attr(labels: Record<string, string>, ...names: string[]): string | undefined {
  for (const n of names) if (labels[n] !== undefined) return labels[n];
  return undefined;
}

const IDLE_MODES = new Set(['idle', 'iowait', 'wait']);

/**
 * Busy share of the CPUs at each time: the non-idle modes summed per CPU, averaged over CPUs. With
 * `normalise`, each CPU's values are first divided by their sum over modes (for CPU time rates).
 */
function busyShare(series: readonly Series[], normalise: boolean): Series {
  const perTime = new Map<number, Map<string, { busy: number; all: number }>>();
  for (const s of series) {
    const mode = attr(s.labels, 'cpu.mode', 'state', 'system.cpu.state') ?? '';
    const cpu = attr(s.labels, 'cpu.logical_number', 'cpu') ?? '';
    for (let i = 0; i < s.times.length; i++) {
      let cpus = perTime.get(s.times[i]!);
      if (!cpus) {
        cpus = new Map();
        perTime.set(s.times[i]!, cpus);
      }
      const c = cpus.get(cpu) ?? { busy: 0, all: 0 };
      c.all += s.values[i]!;
      if (!IDLE_MODES.has(mode)) c.busy += s.values[i]!;
      cpus.set(cpu, c);
    }
  }
  const times = [...perTime.keys()].sort((a, b) => a - b);
  const values = times.map((t) => {
    const cpus = [...perTime.get(t)!.values()];
    const shares = cpus.map((c) => (normalise ? (c.all > 0 ? c.busy / c.all : 0) : c.busy));
    return shares.reduce((a, b) => a + b, 0) / shares.length;
  });
  return { labels: { scope: 'host' }, unit: '1', times, values };
}

/** At each time, the sum of the series matching `num` over the sum of those matching `den`. */
function shareOf(
  series: readonly Series[],
  num: (l: Record<string, string>) => boolean,
  den: (l: Record<string, string>) => boolean,
): Series {
  const n = sumByTime(series.filter((s) => num(s.labels)));
  const d = sumByTime(series.filter((s) => den(s.labels)));
  const byTime = new Map(d.times.map((t, i) => [t, d.values[i]!]));
  const times: number[] = [];
  const values: number[] = [];
  n.times.forEach((t, i) => {
    const total = byTime.get(t);
    if (total !== undefined && total > 0) {
      times.push(t);
      values.push(n.values[i]! / total);
    }
  });
  return { labels: {}, unit: '1', times, values };
}

/** Reads the series of a resource type (or of a stored metric name) for one host over a window. */
export async function resourceSeries(
  store: MetricReader,
  q: { resourceType: string; host?: string | undefined; window: TimeWindow; bucketMs?: number | undefined },
): Promise<Series[]> {
  // Averaged per bucket in the store when a bucket is given (long histories for forecasts).
  const bucketNs =
    q.bucketMs !== undefined && q.bucketMs > 0 ? BigInt(Math.round(q.bucketMs)) * 1_000_000n : 0n;
  const read = (name: string) =>
    bucketNs > 0n
      ? store.metricBuckets({ name, window: q.window, host: q.host, limit: MAX_POINTS, bucketNs })
      : store.metricPoints({ name, window: q.window, host: q.host, limit: MAX_POINTS });
  switch (q.resourceType) {
    case 'cpu': {
      const container = await read('container.cpu.utilization');
      if (container.length > 0 && (await read('container.cpu.limit')).length > 0) {
        return seriesOf(container, '1').map((s) => ({ ...s, labels: { scope: 'container' } }));
      }
      const util = seriesOf(await read('system.cpu.utilization'), '1');
      if (util.length > 0) return [busyShare(util, false)];
      // A Collector's hostmetrics receiver sends CPU time (cumulative seconds per CPU and mode) by default.
      const time = seriesOf(await read('system.cpu.time'), 's').map(rateOf);
      return time.length > 0 ? [busyShare(time, true)] : [];
    }
    case 'memory': {
      const container = await read('container.memory.utilization');
      if (container.length > 0)
        return seriesOf(container, '1').map((s) => ({ ...s, labels: { scope: 'container' } }));
      const util = seriesOf(await read('system.memory.utilization'), '1').filter(
        (s) => (attr(s.labels, 'system.memory.state', 'state') ?? 'used') === 'used',
      );
      if (util.length > 0) return util.map((s) => ({ ...s, labels: { scope: 'host' } }));
      // From usage: used over the total (`system.memory.limit` when reported, else the sum of the states,
      // as a Collector's default metrics give it).
      const usage = seriesOf(await read('system.memory.usage'), 'By');
      const isUsed = (l: Record<string, string>) => attr(l, 'system.memory.state', 'state') === 'used';
      const limit = seriesOf(await read('system.memory.limit'), 'By').map((x) => ({
        ...x,
        labels: { total: '1' },
      }));
      const ratio =
        limit.length > 0
          ? shareOf([...usage.filter((x) => isUsed(x.labels)), ...limit], isUsed, (l) => l.total === '1')
          : shareOf(usage, isUsed, () => true);
      return ratio.times.length > 0 ? [{ ...ratio, labels: { scope: 'host' } }] : [];
    }
    case 'disk': {
      const util = seriesOf(await read('system.filesystem.utilization'), '1');
      const mountOf = (l: Record<string, string>) =>
        attr(l, 'system.filesystem.mountpoint', 'mountpoint') ?? '';
      const deviceOf = (l: Record<string, string>) => attr(l, 'system.device', 'device') ?? '';
      if (util.length > 0) {
        return util.map((s) => ({
          ...s,
          labels: { mountpoint: mountOf(s.labels), device: deviceOf(s.labels) },
        }));
      }
      // From usage by state: used / (used + free), as `df` shows it (root's reserve not counted as free).
      const usage = seriesOf(await read('system.filesystem.usage'), 'By');
      const mounts = [...new Set(usage.map((s) => mountOf(s.labels)))];
      return mounts
        .map((m) => {
          const mine = usage.filter((s) => mountOf(s.labels) === m);
          const state = (l: Record<string, string>) => attr(l, 'system.filesystem.state', 'state');
          const r = shareOf(
            mine,
            (l) => state(l) === 'used',
            (l) => state(l) === 'used' || state(l) === 'free',
          );
          return { ...r, labels: { mountpoint: m, device: deviceOf(mine[0]?.labels ?? {}) } };
        })
        .filter((s) => s.times.length > 0);
    }
    case 'network': {
      const rates = seriesOf(await read('system.network.io'), 'By').map(rateOf);
      const dir = (d: string) =>
        rates.filter((s) => attr(s.labels, 'network.io.direction', 'direction') === d);
      return [
        sumByTime(dir('receive'), { direction: 'receive' }),
        sumByTime(dir('transmit'), { direction: 'transmit' }),
      ].filter((s) => s.times.length > 0);
    }
    case 'disk_io': {
      const rates = seriesOf(await read('system.disk.io'), 'By').map(rateOf);
      const dir = (d: string) => rates.filter((s) => attr(s.labels, 'disk.io.direction', 'direction') === d);
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
