/**
 * Join (d): a host or container over- or under-sized (the VPA-style right-sizing of `resources/scaling.ts`)
 * → the scaling advice with its money per month (`resources/cost.ts`) and the CPU capacity it frees or adds.
 *
 * Arithmetic: CPU-seconds per hour = (cores now − cores recommended) × 3600; money per month = the cost
 * report's saving for the same change (capacity × unit price × 730 h). Only `scale-up` and `scale-down`
 * become recommendations (`keep` asks nothing; `wait` has under a day of history).
 *
 * Not done yet: correcting a host's forecast for the savings of the other recommendations on the same host
 * (an index that removes a sequential scan lowers the database host's CPU).
 * @module
 */
import type { CostReport, ScalingRecommendation } from '../resources/index.ts';
import { type Draft, draft, evidence, figure, gain, target, type WindowMs } from './shape.ts';

const GIB = 2 ** 30;
const r2 = figure;

/**
 * The right-sizing recommendations of one host.
 * @param scaling - `scalingRecommendations` of the host over `w`.
 * @param cost - `costReport` of the same host, window and recommendations.
 */
export function hostRecommendations(
  host: string,
  scaling: readonly ScalingRecommendation[],
  cost: CostReport,
  w: WindowMs,
): Draft[] {
  const out: Draft[] = [];
  for (const s of scaling) {
    if (s.action !== 'scale-up' && s.action !== 'scale-down') continue;
    const item = cost.items.find((i) => i.resource === s.resource);
    const money = item?.monthlySavings ?? null;
    const cpu = s.resource === 'cpu';
    const unit = (v: number) => (cpu ? `${r2(v)} cores` : `${r2(v / GIB)} GiB`);
    const lines = [
      s.why,
      `${unit(s.current)} → ${unit(s.recommended)} (bounds ${unit(s.lowerBound)} … ${unit(s.upperBound)}); utilisation ${(100 * s.performance.utilizationNow).toFixed(1)}% → ${(100 * s.performance.utilizationAfter).toFixed(1)}%`,
    ];
    if (cpu)
      lines.push(
        `(${r2(s.current)} − ${r2(s.recommended)}) cores × 3600 s = ${r2((s.current - s.recommended) * 3600)} CPU-seconds per hour ${s.current >= s.recommended ? 'freed' : 'added'}`,
      );
    if (money !== null)
      lines.push(
        cpu
          ? `(${r2(s.current)} − ${r2(s.recommended)}) cores × ${cost.prices.vcpuHour} ${cost.currency} per vCPU-hour × 730 h = ${r2(money)} ${cost.currency} per month`
          : `(${r2(s.current / GIB)} − ${r2(s.recommended / GIB)}) GiB × ${cost.prices.memoryGibHour} ${cost.currency} per GiB-hour × 730 h = ${r2(money)} ${cost.currency} per month`,
      );
    const risky = s.action === 'scale-up' && s.risk > 0.1;
    out.push(
      draft({
        key: `right-size:${host}:${s.resource}:${s.scope}`,
        kind: 'right-size',
        area: 'host',
        severity: risky ? 'warning' : 'info',
        title: `${s.action === 'scale-up' ? 'Give' : 'Shrink'} ${s.scope} ${host} ${cpu ? 'CPU' : 'memory'} ${unit(s.current)} → ${unit(s.recommended)}${money !== null ? `: ${r2(money)} ${cost.currency} per month ${money >= 0 ? 'saved' : 'more'}` : ''}`,
        target: target({ host }),
        evidence: evidence(w, {
          series: [
            {
              name: `${s.resource} of ${host}`,
              query: `/api/v1/resources/statistics?host=${encodeURIComponent(host)}&from=${new Date(w.fromMs).toISOString()}&to=${new Date(w.toMs).toISOString()}`,
            },
          ],
          measured: {
            resource: s.resource,
            scope: s.scope,
            current: s.current,
            recommended: s.recommended,
            lowerBound: s.lowerBound,
            upperBound: s.upperBound,
            historyDays: s.historyDays,
            samples: s.samples,
            risk: s.risk,
            performance: s.performance,
          },
        }),
        gain: gain({
          cpuSecondsPerHour: cpu ? (s.current - s.recommended) * 3600 : null,
          memoryBytes: cpu ? null : s.recommended - s.current,
          moneyPerMonth: money,
          currency: cost.currency,
          arithmetic: lines,
          confidence: s.historyDays >= 7 ? 'high' : 'medium',
          confidenceReason: `${r2(s.historyDays)} days of history (${s.samples} samples); the bounds widen with less than a week`,
          description:
            s.action === 'scale-down'
              ? `the p90 of use with a 15% margin fits in ${unit(s.recommended)}; risk at that size ${(100 * s.risk).toFixed(1)}%`
              : `use above the capacity: ${(100 * s.risk).toFixed(1)}% of the decayed samples exceed even the recommended ${unit(s.recommended)}`,
        }),
        apply: {
          kind: 'config',
          how:
            s.scope === 'container'
              ? `Set the container's ${cpu ? 'CPU' : 'memory'} limit to ${unit(s.recommended)}.`
              : `Move ${host} to a machine with ${unit(s.recommended)} of ${cpu ? 'CPU' : 'memory'}.`,
          change:
            s.scope === 'container'
              ? cpu
                ? `resources.limits.cpu: ${Math.ceil(s.recommended * 1000)}m`
                : `resources.limits.memory: ${Math.ceil(s.recommended / 2 ** 20)}Mi`
              : null,
        },
      }),
    );
  }
  return out;
}
