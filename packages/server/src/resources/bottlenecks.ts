/**
 * Resource bottlenecks by the USE method (Brendan Gregg, "Thinking Methodically about Performance",
 * ACM Queue 2012): for each resource, Utilisation, Saturation and Errors over a window, each finding with
 * its evidence (the figure and the threshold it crossed) and a suggested action.
 *
 * | resource | utilisation | saturation | errors |
 * | --- | --- | --- | --- |
 * | CPU | busy share p95 ≥ 0.8 | load per core ≥ 1.5; CPU PSI some ≥ 10%; CFS throttled periods ≥ 5% | — |
 * | memory | used p95 ≥ 0.9 | memory PSI some ≥ 5%; swap in use | OOM kills |
 * | filesystem | used ≥ 0.85 | — | — |
 * | disk | busy ≥ 0.8 (io_time rate) | I/O PSI some ≥ 10%; pending operations ≥ 4 | — |
 * | network | — | — | interface errors and drops |
 * @module
 */
import type { MetricReader, TimeWindow } from '../storage/index.ts';
import { quantileSorted } from '../util/stats.ts';
import { dataSpan, overData } from './data-span.ts';
import { rateOf, resourceSeries, type Series, seriesOf } from './resource-series.ts';

/** One USE finding. */
export interface Bottleneck {
  resource: 'cpu' | 'memory' | 'filesystem' | 'disk' | 'network';
  /** `utilization`, `saturation` or `errors` (the USE letter). */
  kind: 'utilization' | 'saturation' | 'errors';
  severity: 'warning' | 'critical';
  /**
   * What was measured and over how much data, e.g. "CPU busy p95 93.0% over 9 min of data (10 samples)
   * of the 24 h asked": the span is that of the samples used, not the window asked for.
   */
  evidence: string;
  value: number;
  threshold: number;
  action: string;
  labels?: Record<string, string>;
}

const p95 = (values: readonly number[]): number =>
  quantileSorted(
    [...values].sort((a, b) => a - b),
    0.95,
  );
const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** USE findings of `host` over `window`, most severe first. */
export async function findBottlenecks(
  store: MetricReader,
  host: string,
  window: TimeWindow,
): Promise<Bottleneck[]> {
  const askedMs = Number((window.toNs - window.fromNs) / 1_000_000n);
  /** The span of the samples behind a figure, in words. */
  const over = (...series: readonly (Series | undefined)[]) =>
    overData(dataSpan(...series.map((s) => s?.times ?? [])), askedMs);
  const read = async (name: string) =>
    seriesOf(await store.metricPoints({ name, window, host, limit: 2_000_000 }));
  const out: Bottleneck[] = [];
  const add = (b: Bottleneck, warn: number, crit: number) => {
    if (b.value >= warn)
      out.push({ ...b, threshold: warn, severity: b.value >= crit ? 'critical' : 'warning' });
  };

  const cpu = (await resourceSeries(store, { resourceType: 'cpu', host, window }))[0];
  if (cpu && cpu.values.length > 0) {
    const v = p95(cpu.values);
    add(
      {
        resource: 'cpu',
        kind: 'utilization',
        severity: 'warning',
        evidence: `CPU busy p95 ${pct(v)} ${over(cpu)}${cpu.labels.scope === 'container' ? ' (of the container limit)' : ''}`,
        value: v,
        threshold: 0.8,
        action: 'add CPU (see scaling-recommendations) or find the hot endpoints in the APM view',
      },
      0.8,
      0.95,
    );
  }
  const cores = (await read('system.cpu.logical.count'))[0]?.values.at(-1) ?? 0;
  const load = (await read('system.cpu.load_average.1m'))[0];
  if (load && cores > 0) {
    const v = p95(load.values) / cores;
    add(
      {
        resource: 'cpu',
        kind: 'saturation',
        severity: 'warning',
        evidence: `run queue (1-min load) p95 ${v.toFixed(2)} per core on ${cores} cores ${over(load)}`,
        value: v,
        threshold: 1.5,
        action: 'threads wait for a CPU: add cores, or lower the concurrency of CPU-bound work',
      },
      1.5,
      3,
    );
  }
  const psi = await read('system.pressure.stall');
  const psiOf = (resource: string) =>
    psi.find((s) => s.labels['pressure.resource'] === resource && s.labels['pressure.kind'] === 'some');
  for (const [resource, warn, crit, action] of [
    ['cpu', 0.1, 0.3, 'tasks stall waiting for CPU: add CPU or spread the load'],
    ['memory', 0.05, 0.2, 'tasks stall on memory reclaim: add memory or cut the working set (caches, heap)'],
    ['io', 0.1, 0.3, 'tasks stall on I/O: faster storage, fewer synchronous writes, or more page cache'],
  ] as const) {
    const s = psiOf(resource);
    if (!s || s.values.length === 0) continue;
    const v = p95(s.values);
    add(
      {
        resource: resource === 'io' ? 'disk' : resource,
        kind: 'saturation',
        severity: 'warning',
        evidence: `pressure stall (some, avg10) p95 ${pct(v)} ${over(s)}`,
        value: v,
        threshold: warn,
        action,
      },
      warn,
      crit,
    );
  }
  const periodSeries = await read('container.cpu.periods');
  const periods = counterIncrease(periodSeries);
  const throttled = counterIncrease(await read('container.cpu.throttled_periods'));
  if (periods > 0) {
    const v = throttled / periods;
    add(
      {
        resource: 'cpu',
        kind: 'saturation',
        severity: 'warning',
        evidence: `CFS throttled ${throttled} of ${periods} periods (${pct(v)}) ${over(...periodSeries)}`,
        value: v,
        threshold: 0.05,
        action: 'the container hits its CPU quota: raise the CPU limit (or remove it and keep the request)',
      },
      0.05,
      0.25,
    );
  }
  const mem = (await resourceSeries(store, { resourceType: 'memory', host, window }))[0];
  if (mem && mem.values.length > 0) {
    const v = p95(mem.values);
    add(
      {
        resource: 'memory',
        kind: 'utilization',
        severity: 'warning',
        evidence: `memory used p95 ${pct(v)} ${over(mem)}${mem.labels.scope === 'container' ? ' (of the container limit)' : ''}`,
        value: v,
        threshold: 0.9,
        action: 'add memory before the OOM killer acts, or find what grows (heap, caches)',
      },
      0.9,
      0.97,
    );
  }
  const swap = (await read('system.paging.usage')).find((s) => s.labels['system.paging.state'] === 'used');
  if (swap && mean(swap.values) > 0) {
    out.push({
      resource: 'memory',
      kind: 'saturation',
      severity: 'warning',
      evidence: `swap in use: mean ${(mean(swap.values) / 2 ** 20).toFixed(0)} MiB ${over(swap)}`,
      value: mean(swap.values),
      threshold: 0,
      action: 'memory pages go to disk: add memory; latency suffers while swapping',
    });
  }
  const oomSeries = await read('container.memory.oom_kills');
  const ooms = counterIncrease(oomSeries);
  if (ooms > 0) {
    out.push({
      resource: 'memory',
      kind: 'errors',
      severity: 'critical',
      evidence: `${ooms} OOM kill(s) in the container ${over(...oomSeries)}`,
      value: ooms,
      threshold: 0,
      action: 'processes were killed for memory: raise the memory limit or fix the leak',
    });
  }
  for (const fs of await resourceSeries(store, { resourceType: 'disk', host, window })) {
    const v = fs.values.at(-1) ?? 0;
    add(
      {
        resource: 'filesystem',
        kind: 'utilization',
        severity: 'warning',
        evidence: `${fs.labels.mountpoint} is ${pct(v)} full`,
        value: v,
        threshold: 0.85,
        action: `free space or grow ${fs.labels.mountpoint}; see predictions/disk?select=${fs.labels.mountpoint} for when it fills`,
        labels: fs.labels,
      },
      0.85,
      0.95,
    );
  }
  for (const counter of await read('system.disk.io_time')) {
    const busy = rateOf(counter);
    if (busy.values.length === 0) continue;
    const v = p95(busy.values);
    add(
      {
        resource: 'disk',
        kind: 'utilization',
        severity: 'warning',
        evidence: `${busy.labels['system.device']} busy p95 ${pct(Math.min(1, v))} ${over(counter)}`,
        value: v,
        threshold: 0.8,
        action: 'the device is busy most of the time: faster storage, or less I/O (indexes, caching)',
        labels: busy.labels,
      },
      0.8,
      0.95,
    );
  }
  for (const name of ['system.network.errors', 'system.network.dropped']) {
    for (const s of await read(name)) {
      const n = counterIncrease([s]);
      if (n <= 0) continue;
      out.push({
        resource: 'network',
        kind: 'errors',
        severity: 'warning',
        evidence: `${n} ${name.endsWith('errors') ? 'errors' : 'dropped packets'} (${s.labels['network.io.direction']}) on ${s.labels['network.interface.name']} ${over(s)}`,
        value: n,
        threshold: 0,
        action: 'check the link, the driver and the receive buffers (ring size, net.core.rmem_max)',
        labels: s.labels,
      });
    }
  }
  const rank = { critical: 0, warning: 1 };
  return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

/** Increase of cumulative counters over their series (resets restart from the new value). */
function counterIncrease(series: readonly Series[]): number {
  let total = 0;
  for (const s of series) {
    for (let i = 1; i < s.values.length; i++) {
      const d = s.values[i]! - s.values[i - 1]!;
      total += d >= 0 ? d : s.values[i]!;
    }
  }
  return total;
}
