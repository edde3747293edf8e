/**
 * The history of a host's resources for the charts of the resources page, read from the one documented
 * route that gives a metric's points, `GET /api/v1/apm/metrics/custom?name=…`, and turned into the
 * series the resource routes mean (the same reading as the server's `resources/resource-series.ts`):
 * CPU busy share (non-idle modes, or the container's utilisation when it has a CPU limit), memory used
 * share, filesystem used share per mount, network and disk I/O bytes per second per direction, or any
 * metric by name (rates for counters).
 *
 * Limits of that route, which the charts say when they apply: it has no host filter (the page reads it
 * only when one host reports, or for an imported series with `service=siperf-import`), no step (raw
 * points, averaged here into at most {@link MAX_CHART_POINTS} buckets), and it answers the oldest
 * `limit` points of the window, so a dense window is read again over its newest part.
 * @module
 */
import { get } from '../api.ts';

/** One line of a history chart: times in ms since the epoch, ascending. */
export interface HistorySeries {
  label: string;
  /** The label value the line is of: a mount point, a direction (empty for a single line). */
  key: string;
  times: number[];
  values: number[];
}

/** A resource's history: its lines, their unit, and the part of the window they cover. */
export interface History {
  series: HistorySeries[];
  /** `1` (ratio), `By/s`, or the metric's own unit. */
  unit: string;
  /** Start of the points read, ms: later than the window's start when the route's point limit cut it. */
  fromMs: number;
  /** True when the window held more points than the route answers (the oldest part is left out). */
  cut: boolean;
}

/** Most points a chart draws per line (longer histories are averaged into buckets). */
export const MAX_CHART_POINTS = 720;
/** Most points asked of the route per metric. */
const LIMIT = 50_000;

/** A point of a metric: time in ms since the epoch, value. */
export type Point = { t: number; v: number };
/** One attribute set's points of a metric. */
export type RawSeries = { attributes: Record<string, unknown>; points: Point[] };
/** A metric's points over a window, as {@link readMetric} answers. */
export interface Raw {
  unit: string;
  monotonic: boolean;
  series: RawSeries[];
  fromMs: number;
  cut: boolean;
}

/** Points of one metric over [fromMs, toMs]; a window denser than the limit is read over its newest part. */
export async function readMetric(name: string, fromMs: number, toMs: number, service?: string): Promise<Raw> {
  const ask = async (from: number) => {
    const a = await get('/api/v1/apm/metrics/custom', {
      name,
      from: new Date(from).toISOString(),
      to: new Date(toMs).toISOString(),
      limit: LIMIT,
      service,
    });
    if (!('series' in a)) return { unit: '', monotonic: false, series: [], n: 0 };
    let n = 0;
    const series = a.series.map((s) => ({
      attributes: s.attributes,
      points: s.points
        .filter((p) => p.value !== null)
        .map((p) => {
          n++;
          return { t: Date.parse(p.timestamp), v: p.value as number };
        }),
    }));
    return { unit: a.unit, monotonic: a.monotonic, series, n };
  };
  let r = await ask(fromMs);
  let from = fromMs;
  let cut = false;
  if (r.n >= LIMIT) {
    // The oldest LIMIT points came back: read again from where the newest 90% of LIMIT points start.
    const times = r.series.flatMap((s) => s.points.map((p) => p.t));
    const span = Math.max(...times) - Math.min(...times);
    const perMs = r.n / Math.max(span, 1);
    from = Math.max(fromMs, Math.floor(toMs - (0.9 * LIMIT) / perMs));
    r = await ask(from);
    cut = true;
  }
  return { unit: r.unit, monotonic: r.monotonic, series: r.series, fromMs: from, cut };
}

const attr = (a: Record<string, unknown>, ...names: string[]): string | undefined => {
  for (const n of names) if (a[n] !== undefined) return String(a[n]);
  return undefined;
};

/** Per-second rates of a cumulative series (a drop is a reset: no rate for that step). */
function rate(points: Point[]): Point[] {
  const out: Point[] = [];
  const sorted = [...points].sort((a, b) => a.t - b.t);
  for (let i = 1; i < sorted.length; i++) {
    const dt = (sorted[i]!.t - sorted[i - 1]!.t) / 1000;
    const dv = sorted[i]!.v - sorted[i - 1]!.v;
    if (dt > 0 && dv >= 0) out.push({ t: sorted[i]!.t, v: dv / dt });
  }
  return out;
}

/** Sums points at equal times (one sample writes one time for all its series). */
function sumByTime(series: Point[][]): Point[] {
  const acc = new Map<number, number>();
  for (const s of series) for (const p of s) acc.set(p.t, (acc.get(p.t) ?? 0) + p.v);
  return [...acc.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, v }));
}

const IDLE = new Set(['idle', 'iowait', 'wait']);

/** Busy share at each time: non-idle modes over all modes, per CPU, averaged over CPUs. */
function busy(series: RawSeries[], normalise: boolean): Point[] {
  const at = new Map<number, Map<string, { busy: number; all: number }>>();
  for (const s of series) {
    const mode = attr(s.attributes, 'cpu.mode', 'state', 'system.cpu.state') ?? '';
    const cpu = attr(s.attributes, 'cpu.logical_number', 'cpu') ?? '';
    const pts = normalise ? rate(s.points) : s.points;
    for (const p of pts) {
      let cpus = at.get(p.t);
      if (!cpus) {
        cpus = new Map();
        at.set(p.t, cpus);
      }
      const c = cpus.get(cpu) ?? { busy: 0, all: 0 };
      c.all += p.v;
      if (!IDLE.has(mode)) c.busy += p.v;
      cpus.set(cpu, c);
    }
  }
  return [...at.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, cpus]) => {
      const shares = [...cpus.values()].map((c) => (normalise ? (c.all > 0 ? c.busy / c.all : 0) : c.busy));
      return { t, v: shares.reduce((a, b) => a + b, 0) / shares.length };
    });
}

/** At each time, the sum of `num` points over the sum of `den` points. */
function share(num: Point[][], den: Point[][]): Point[] {
  const d = new Map(sumByTime(den).map((p) => [p.t, p.v]));
  return sumByTime(num)
    .filter((p) => (d.get(p.t) ?? 0) > 0)
    .map((p) => ({ t: p.t, v: p.v / d.get(p.t)! }));
}

/** Averages points into at most `max` equal buckets of the window (bucket middle as the time). */
export function downsample(points: Point[], fromMs: number, toMs: number, max = MAX_CHART_POINTS): Point[] {
  if (points.length <= max) return points;
  const width = Math.max(1, (toMs - fromMs) / max);
  const buckets = new Map<number, { sum: number; n: number }>();
  for (const p of points) {
    const b = Math.floor((p.t - fromMs) / width);
    const x = buckets.get(b) ?? { sum: 0, n: 0 };
    x.sum += p.v;
    x.n++;
    buckets.set(b, x);
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, x]) => ({ t: fromMs + (b + 0.5) * width, v: x.sum / x.n }));
}

const line = (label: string, pts: Point[], fromMs: number, toMs: number, key = ''): HistorySeries => {
  const d = downsample(pts, fromMs, toMs);
  return { label, key, times: d.map((p) => p.t), values: d.map((p) => p.v) };
};

/** The built-in resource types whose history this module reads (others are metric names). */
export const BUILT_IN = ['cpu', 'memory', 'disk', 'network', 'disk_io'] as const;

/**
 * The history of `resource` (a built-in type or a metric name) over [fromMs, toMs]. `service` restricts
 * the points to one reporter (`siperf-import` for imported series).
 */
export async function resourceHistory(
  resource: string,
  fromMs: number,
  toMs: number,
  service?: string,
): Promise<History> {
  const read = (name: string) => readMetric(name, fromMs, toMs, service);
  const done = (unit: string, raw: Raw[], series: HistorySeries[]): History => ({
    unit,
    series: series.filter((s) => s.times.length > 0),
    fromMs: Math.max(...raw.map((r) => r.fromMs)),
    cut: raw.some((r) => r.cut),
  });
  switch (resource) {
    case 'cpu': {
      const limit = await readMetric('container.cpu.limit', fromMs, toMs, service);
      if (limit.series.length > 0) {
        const c = await read('container.cpu.utilization');
        if (c.series.length > 0)
          return done(
            '1',
            [c],
            [line('container CPU', sumByTime(c.series.map((s) => s.points)), fromMs, toMs)],
          );
      }
      const u = await read('system.cpu.utilization');
      if (u.series.length > 0) return done('1', [u], [line('CPU busy', busy(u.series, false), fromMs, toMs)]);
      const t = await read('system.cpu.time');
      return done('1', [t], [line('CPU busy', busy(t.series, true), fromMs, toMs)]);
    }
    case 'memory': {
      const c = await read('container.memory.utilization');
      if (c.series.length > 0)
        return done(
          '1',
          [c],
          [line('container memory', sumByTime(c.series.map((s) => s.points)), fromMs, toMs)],
        );
      const u = await read('system.memory.utilization');
      const used = u.series.filter(
        (s) => (attr(s.attributes, 'system.memory.state', 'state') ?? 'used') === 'used',
      );
      if (used.length > 0)
        return done('1', [u], [line('memory used', sumByTime(used.map((s) => s.points)), fromMs, toMs)]);
      const usage = await read('system.memory.usage');
      const isUsed = (s: RawSeries) => attr(s.attributes, 'system.memory.state', 'state') === 'used';
      const pts = share(
        usage.series.filter(isUsed).map((s) => s.points),
        usage.series.map((s) => s.points),
      );
      return done('1', [usage], [line('memory used', pts, fromMs, toMs)]);
    }
    case 'disk': {
      const mount = (s: RawSeries) => attr(s.attributes, 'system.filesystem.mountpoint', 'mountpoint') ?? '';
      const u = await read('system.filesystem.utilization');
      if (u.series.length > 0) {
        const mounts = [...new Set(u.series.map(mount))].sort();
        return done(
          '1',
          [u],
          mounts.map((m) =>
            line(
              `mount ${m}`,
              sumByTime(u.series.filter((s) => mount(s) === m).map((s) => s.points)),
              fromMs,
              toMs,
              m,
            ),
          ),
        );
      }
      const usage = await read('system.filesystem.usage');
      const state = (s: RawSeries) => attr(s.attributes, 'system.filesystem.state', 'state');
      const mounts = [...new Set(usage.series.map(mount))].sort();
      return done(
        '1',
        [usage],
        mounts.map((m) => {
          const mine = usage.series.filter((s) => mount(s) === m);
          return line(
            `mount ${m}`,
            share(
              mine.filter((s) => state(s) === 'used').map((s) => s.points),
              mine.filter((s) => state(s) === 'used' || state(s) === 'free').map((s) => s.points),
            ),
            fromMs,
            toMs,
            m,
          );
        }),
      );
    }
    case 'network':
    case 'disk_io': {
      const net = resource === 'network';
      const r = await read(net ? 'system.network.io' : 'system.disk.io');
      const dirs = net ? ['receive', 'transmit'] : ['read', 'write'];
      const dirOf = (s: RawSeries) =>
        attr(s.attributes, net ? 'network.io.direction' : 'disk.io.direction', 'direction');
      return done(
        'By/s',
        [r],
        dirs.map((d) =>
          line(
            d,
            sumByTime(r.series.filter((s) => dirOf(s) === d).map((s) => rate(s.points))),
            fromMs,
            toMs,
            d,
          ),
        ),
      );
    }
    default: {
      const r = await read(resource);
      const label = (s: RawSeries) =>
        Object.entries(s.attributes)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ') || resource;
      return done(
        r.monotonic ? `${r.unit}/s` : r.unit,
        [r],
        r.series.map((s) => line(label(s), r.monotonic ? rate(s.points) : s.points, fromMs, toMs)),
      );
    }
  }
}
