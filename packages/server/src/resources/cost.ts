/**
 * Cost optimisation: what the host (or container) costs a month at the configured prices, and what each
 * change would save or cost — the scaling recommendations priced, plus over-provisioned filesystems.
 * A month is 730 hours (the cloud providers' convention). Amounts in the configured currency.
 * @module
 */
import type { MetricReader, TimeWindow } from '../storage/index.ts';
import { resourceSeries } from './resource-series.ts';
import type { ScalingRecommendation } from './scaling.ts';

/** Unit prices. */
export interface PriceTable {
  currency: string;
  vcpuHour: number;
  memoryGibHour: number;
  diskGibMonth: number;
}

/** One priced finding. `monthlySavings` < 0 is a cost increase. */
export interface CostItem {
  resource: 'cpu' | 'memory' | 'filesystem';
  kind: 'over-provisioned' | 'under-provisioned' | 'idle';
  current: string;
  proposed: string;
  monthlySavings: number;
  evidence: string;
}

/** Answer of `GET /api/v1/resources/cost-optimization`. */
export interface CostReport {
  currency: string;
  prices: PriceTable;
  monthlyCost: { cpu: number; memory: number; disk: number; total: number };
  items: CostItem[];
  /** Sum of positive savings. */
  potentialMonthlySavings: number;
}

const HOURS_PER_MONTH = 730;
const GIB = 2 ** 30;

/**
 * Prices the host's capacity and the given recommendations.
 * @param recommendations - from `scalingRecommendations` over the same host and window.
 */
export async function costReport(
  store: MetricReader,
  host: string,
  window: TimeWindow,
  recommendations: readonly ScalingRecommendation[],
  prices: PriceTable,
): Promise<CostReport> {
  const cpu = recommendations.find((r) => r.resource === 'cpu');
  const mem = recommendations.find((r) => r.resource === 'memory');
  const items: CostItem[] = [];
  const cpuMonth = (cores: number) => cores * prices.vcpuHour * HOURS_PER_MONTH;
  const memMonth = (bytes: number) => (bytes / GIB) * prices.memoryGibHour * HOURS_PER_MONTH;
  const diskMonth = (bytes: number) => (bytes / GIB) * prices.diskGibMonth;
  if (cpu && (cpu.action === 'scale-up' || cpu.action === 'scale-down')) {
    items.push({
      resource: 'cpu',
      kind: cpu.action === 'scale-down' ? 'over-provisioned' : 'under-provisioned',
      current: `${cpu.current.toFixed(2)} cores`,
      proposed: `${cpu.recommended.toFixed(2)} cores`,
      monthlySavings: cpuMonth(cpu.current) - cpuMonth(cpu.recommended),
      evidence: cpu.why,
    });
  }
  if (mem && (mem.action === 'scale-up' || mem.action === 'scale-down')) {
    items.push({
      resource: 'memory',
      kind: mem.action === 'scale-down' ? 'over-provisioned' : 'under-provisioned',
      current: `${(mem.current / GIB).toFixed(2)} GiB`,
      proposed: `${(mem.recommended / GIB).toFixed(2)} GiB`,
      monthlySavings: memMonth(mem.current) - memMonth(mem.recommended),
      evidence: mem.why,
    });
  }
  let diskBytes = 0;
  const usage = await store.metricPoints({ name: 'system.filesystem.usage', window, host, limit: 2_000_000 });
  for (const fs of await resourceSeries(store, { resourceType: 'disk', host, window })) {
    const util = fs.values[fs.values.length - 1] ?? 0;
    const mine = usage.filter((p) => p.attributes['system.filesystem.mountpoint'] === fs.labels.mountpoint);
    const newest = mine.reduce((m, p) => (p.timeUnixNano > m ? p.timeUnixNano : m), 0n);
    const size = mine.filter((p) => p.timeUnixNano === newest).reduce((s, p) => s + p.value, 0);
    diskBytes += size;
    // Below 40% full over at least a day: a volume sized to be 70% full would do (growth headroom kept).
    const days = fs.times.length > 1 ? (fs.times[fs.times.length - 1]! - fs.times[0]!) / 86_400_000 : 0;
    if (util < 0.4 && size > 0 && days >= 1) {
      const proposed = (util * size) / 0.7;
      items.push({
        resource: 'filesystem',
        kind: 'idle',
        current: `${fs.labels.mountpoint} ${(size / GIB).toFixed(0)} GiB`,
        proposed: `${(proposed / GIB).toFixed(0)} GiB (70% full)`,
        monthlySavings: diskMonth(size) - diskMonth(proposed),
        evidence: `${fs.labels.mountpoint} is ${(100 * util).toFixed(1)}% full`,
      });
    }
  }
  const monthlyCost = {
    cpu: cpu ? cpuMonth(cpu.current) : 0,
    memory: mem ? memMonth(mem.current) : 0,
    disk: diskMonth(diskBytes),
    total: 0,
  };
  monthlyCost.total = monthlyCost.cpu + monthlyCost.memory + monthlyCost.disk;
  items.sort((a, b) => b.monthlySavings - a.monthlySavings);
  return {
    currency: prices.currency,
    prices,
    monthlyCost,
    items,
    potentialMonthlySavings: items.reduce((s, i) => s + Math.max(0, i.monthlySavings), 0),
  };
}
