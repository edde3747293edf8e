/**
 * Right-sizing the way the Kubernetes Vertical Pod Autoscaler's recommender does it
 * (kubernetes/autoscaler, `vertical-pod-autoscaler/pkg/recommender/logic`), for hosts and containers:
 * - CPU: usage samples (cores) weighted by an exponential decay with a 24 h half-life; the target is the
 *   weighted 90th percentile, the lower bound the 50th, the upper bound the 95th;
 * - memory: the peak of each day, weighted the same way; target the 90th percentile of the daily peaks;
 * - a 15% safety margin on all three (`recommendation-margin-fraction`);
 * - with little history the bounds widen like VPA's confidence: upper × (1 + 1/days), lower ×
 *   (1 + 0.001/days)^−2, where days is the span of the history.
 * VPA keeps decaying histograms (exponential buckets) to bound memory; here the samples of the window are
 * at hand, so the weighted percentiles are exact.
 *
 * Added to what VPA says: the expected utilisation after the change, the change of the mean queueing
 * delay from an M/M/c model (Erlang C; c = cores, offered load = mean busy cores; delay in units of the
 * mean service time), and the risk at the recommended size — the decayed share of CPU samples above it
 * (throttling) and of daily memory peaks above it (OOM).
 * @module
 */
import type { MetricReader, TimeWindow } from '../storage/index.ts';
import { dataSpan, durationText } from './data-span.ts';
import { resourceSeries, type Series, seriesOf } from './resource-series.ts';

const HALF_LIFE_MS = 24 * 3_600_000;
const MARGIN = 0.15;
const DAY_MS = 86_400_000;

/** One weighted sample. */
interface Weighted {
  value: number;
  weight: number;
}

/** Smallest value whose cumulative weight reaches `q` of the total (VPA's histogram percentile, exact). */
export function weightedPercentile(samples: readonly Weighted[], q: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((s, x) => s + x.weight, 0);
  let acc = 0;
  for (const s of sorted) {
    acc += s.weight;
    if (acc >= q * total - 1e-12) return s.value;
  }
  return sorted[sorted.length - 1]!.value;
}

/** Weights 2^((t − newest)/half-life): the newest sample weighs 1, one a day older ½. */
export function decayed(times: readonly number[], values: readonly number[]): Weighted[] {
  const newest = times.length === 0 ? 0 : Math.max(...times);
  return values.map((value, i) => ({ value, weight: 2 ** ((times[i]! - newest) / HALF_LIFE_MS) }));
}

/** Probability that an arrival waits in an M/M/c queue with offered load `a` (Erlang C). 1 when a ≥ c. */
export function erlangC(c: number, a: number): number {
  if (a <= 0) return 0;
  if (a >= c) return 1;
  // Erlang B by the stable recursion, then C from B.
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b / (1 - (a / c) * (1 - b));
}

/** Mean wait in queue of M/M/c in units of the mean service time: C(c, a) / (c − a). Infinity when a ≥ c. */
export function meanQueueDelay(c: number, a: number): number {
  return a >= c ? Number.POSITIVE_INFINITY : erlangC(c, a) / (c - a);
}

/** One recommendation. CPU in cores, memory in bytes. */
export interface ScalingRecommendation {
  resource: 'cpu' | 'memory';
  scope: 'container' | 'host';
  current: number;
  recommended: number;
  lowerBound: number;
  upperBound: number;
  /** recommended / current. */
  scalingFactor: number;
  /**
   * `scale-down` below 0.8, `scale-up` above 1.0, else `keep`; `wait` with less than a day of history
   * (a day's cycle not seen yet: the bounds say how unsure the number is).
   */
  action: 'scale-up' | 'scale-down' | 'keep' | 'wait';
  historyDays: number;
  samples: number;
  performance: {
    /** Mean and p90 use over capacity, now and at the recommended size. */
    utilizationNow: number;
    utilizationAfter: number;
    /** M/M/c mean queueing delay, in mean service times (CPU only). */
    queueDelayNow?: number;
    queueDelayAfter?: number;
  };
  /** Decayed share of samples (CPU) or daily peaks (memory) above the recommended size. */
  risk: number;
  why: string;
}

function action(factor: number, days: number): ScalingRecommendation['action'] {
  if (days < 1) return 'wait';
  return factor > 1 ? 'scale-up' : factor < 0.8 ? 'scale-down' : 'keep';
}

function bounds(lower: number, upper: number, days: number): { lower: number; upper: number } {
  const d = Math.max(days, 1e-3);
  return { lower: lower * (1 + 0.001 / d) ** -2, upper: upper * (1 + 1 / d) };
}

const latest = (s: Series | undefined): number | undefined => s?.values[s.values.length - 1];

/** The span of the history used, in words ("9 min", "2 days"); "one sample" for a single one. */
function historyText(times: readonly number[]): string {
  const span = dataSpan(times);
  return !span || span.toMs === span.fromMs ? 'one sample time' : durationText(span.toMs - span.fromMs);
}

/**
 * Recommendations for CPU and memory of `host` from the history in `window`.
 * @returns one per resource with usage history; none without history.
 */
export async function scalingRecommendations(
  store: MetricReader,
  host: string,
  window: TimeWindow,
): Promise<ScalingRecommendation[]> {
  const read = async (name: string) =>
    seriesOf(await store.metricPoints({ name, window, host, limit: 2_000_000 }));
  const out: ScalingRecommendation[] = [];
  const limitCores = latest((await read('container.cpu.limit'))[0]);
  const hostCores = latest((await read('system.cpu.logical.count'))[0]);
  const cpu = (await resourceSeries(store, { resourceType: 'cpu', host, window }))[0];
  const cpuCapacity = cpu?.labels.scope === 'container' ? (limitCores ?? hostCores) : hostCores;
  if (cpu && cpu.values.length > 0 && cpuCapacity) {
    const cores = cpu.values.map((u) => u * cpuCapacity);
    const w = decayed(cpu.times, cores);
    const days = (cpu.times[cpu.times.length - 1]! - cpu.times[0]!) / DAY_MS;
    const target = weightedPercentile(w, 0.9) * (1 + MARGIN);
    const b = bounds(
      weightedPercentile(w, 0.5) * (1 + MARGIN),
      weightedPercentile(w, 0.95) * (1 + MARGIN),
      days,
    );
    const recommended = Math.max(target, 0.01);
    const mean = cores.reduce((a, c) => a + c, 0) / cores.length;
    const total = w.reduce((s, x) => s + x.weight, 0);
    const risk = w.filter((x) => x.value > recommended).reduce((s, x) => s + x.weight, 0) / total;
    const cNow = Math.max(1, Math.round(cpuCapacity));
    const cAfter = Math.max(1, Math.ceil(recommended));
    out.push({
      resource: 'cpu',
      scope: cpu.labels.scope === 'container' ? 'container' : 'host',
      current: cpuCapacity,
      recommended,
      lowerBound: b.lower,
      upperBound: b.upper,
      scalingFactor: recommended / cpuCapacity,
      action: action(recommended / cpuCapacity, days),
      historyDays: days,
      samples: cores.length,
      performance: {
        utilizationNow: mean / cpuCapacity,
        utilizationAfter: mean / recommended,
        queueDelayNow: meanQueueDelay(cNow, mean),
        queueDelayAfter: meanQueueDelay(cAfter, mean),
      },
      risk,
      why: `p90 of ${cores.length} samples over ${historyText(cpu.times)} (24 h half-life) is ${(target / (1 + MARGIN)).toFixed(2)} cores; +15% margin`,
    });
  }
  const containerMem = await read('container.memory.working_set');
  const memLimit = latest((await read('container.memory.limit'))[0]);
  const useContainer = containerMem.length > 0 && memLimit !== undefined;
  const used = useContainer
    ? containerMem[0]
    : (await read('system.memory.usage')).find((s) => s.labels['system.memory.state'] === 'used');
  const memCapacity = useContainer ? memLimit : latest((await read('system.memory.limit'))[0]);
  if (used && used.values.length > 0 && memCapacity) {
    const peaks = new Map<number, number>();
    used.times.forEach((t, i) => {
      const day = Math.floor(t / DAY_MS);
      peaks.set(day, Math.max(peaks.get(day) ?? 0, used.values[i]!));
    });
    const days = [...peaks.keys()].sort((a, b) => a - b);
    const w = decayed(
      days.map((d) => d * DAY_MS),
      days.map((d) => peaks.get(d)!),
    );
    const span = (used.times[used.times.length - 1]! - used.times[0]!) / DAY_MS;
    const target = weightedPercentile(w, 0.9) * (1 + MARGIN);
    const b = bounds(
      weightedPercentile(w, 0.5) * (1 + MARGIN),
      weightedPercentile(w, 0.95) * (1 + MARGIN),
      span,
    );
    const mean = used.values.reduce((a, c) => a + c, 0) / used.values.length;
    const total = w.reduce((s, x) => s + x.weight, 0);
    out.push({
      resource: 'memory',
      scope: useContainer ? 'container' : 'host',
      current: memCapacity,
      recommended: target,
      lowerBound: b.lower,
      upperBound: b.upper,
      scalingFactor: target / memCapacity,
      action: action(target / memCapacity, span),
      historyDays: span,
      samples: used.values.length,
      performance: { utilizationNow: mean / memCapacity, utilizationAfter: mean / target },
      risk: w.filter((x) => x.value > target).reduce((s, x) => s + x.weight, 0) / total,
      why: `p90 of ${days.length} daily peak(s) from ${used.values.length} samples over ${historyText(used.times)} (24 h half-life) is ${(target / (1 + MARGIN) / 2 ** 30).toFixed(2)} GiB; +15% margin`,
    });
  }
  return out;
}
