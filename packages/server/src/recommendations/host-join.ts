/**
 * Join (d): a host or container over- or under-sized (the VPA-style right-sizing of `resources/scaling.ts`)
 * → the scaling advice with its money per month (`resources/cost.ts`) and the CPU capacity it frees or adds.
 *
 * Arithmetic: CPU-seconds per hour = (cores now − cores recommended) × 3600; money per month = the cost
 * report's saving for the same change (capacity × unit price × 730 h). Only `scale-up` and `scale-down`
 * become recommendations (`keep` asks nothing; `wait` has under a day of history).
 *
 * Corrected for the other recommendations on the same host: an index (or plan advice) on a database that
 * runs on this host saves `databaseSecondsPerHour` of its busy time, taken as CPU time (an upper bound:
 * time a scan spends waiting on the disk is not CPU). The p90 use falls by at most those cores, so the
 * recommended size becomes `recommended − (1 + 15% margin) × saved cores` (never below 0.01 core), and the
 * action, CPU-seconds and money follow from the corrected size with the same rule as `resources/scaling.ts`
 * (scale down under 0.8 of the current size, up over 1). Both sizes, and the ids of the recommendations
 * whose savings were counted, are in the evidence and the arithmetic.
 * @module
 */
import type { CostReport, ScalingRecommendation } from '../resources/index.ts';
import { type Draft, draft, evidence, figure, gain, target, type WindowMs } from './shape.ts';

const GIB = 2 ** 30;
const r2 = figure;
/** The safety margin of `resources/scaling.ts`, applied to the cores the other recommendations free. */
const MARGIN = 0.15;
const HOURS_PER_MONTH = 730;

/** Database busy time another recommendation saves on a host (an index on a database the host serves). */
export interface HostSaving {
  /** The recommendation's id. */
  id: string;
  title: string;
  /** Seconds of database time saved per hour (its `gain.databaseSecondsPerHour`). */
  databaseSecondsPerHour: number;
}

/** The scaling action for a size factor (corrected / current), as `resources/scaling.ts` decides it. */
function actionOf(factor: number): ScalingRecommendation['action'] {
  return factor > 1 ? 'scale-up' : factor < 0.8 ? 'scale-down' : 'keep';
}

/**
 * The right-sizing recommendations of one host.
 * @param host - the host's name (`host.name`), as the resource sampler reports it.
 * @param scaling - `scalingRecommendations` of the host over `w`.
 * @param cost - `costReport` of the same host, window and recommendations.
 * @param w - the window the advice is judged over, ms since the epoch.
 * @param savings - the index and plan advice on pools whose database runs on this host: CPU
 *   right-sizing is corrected by `1.15 ×` the cores their `databaseSecondsPerHour` frees.
 * @returns the scale-up and scale-down drafts (a `keep` or `wait` advice yields none).
 */
export function hostRecommendations(
  host: string,
  scaling: readonly ScalingRecommendation[],
  cost: CostReport,
  w: WindowMs,
  savings: readonly HostSaving[] = [],
): Draft[] {
  const out: Draft[] = [];
  const savedSeconds = savings.reduce((sum, x) => sum + Math.max(0, x.databaseSecondsPerHour), 0);
  for (const given of scaling) {
    const cpu = given.resource === 'cpu';
    const s = cpu && savedSeconds > 0 && given.action !== 'wait' ? corrected(given, savedSeconds) : given;
    if (s.action !== 'scale-up' && s.action !== 'scale-down') continue;
    const item = cost.items.find((i) => i.resource === s.resource);
    const money =
      s === given
        ? (item?.monthlySavings ?? null)
        : (s.current - s.recommended) * cost.prices.vcpuHour * HOURS_PER_MONTH;
    const unit = (v: number) => (cpu ? `${r2(v)} cores` : `${r2(v / GIB)} GiB`);
    const lines = [
      given.why,
      ...(s === given
        ? []
        : [
            `other recommendations on ${host} save ${r2(savedSeconds)} s of database time per hour (${savings.map((x) => x.id).join(', ')}), at most ${r2(savedSeconds)} / 3600 = ${r2(savedSeconds / 3600)} cores`,
            `${r2(given.recommended)} − ${1 + MARGIN} × ${r2(savedSeconds / 3600)} = ${r2(s.recommended)} cores once they are applied`,
          ]),
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
        related: s === given ? [] : savings.map((x) => x.id),
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
            ...(s === given
              ? {}
              : {
                  recommendedBeforeCorrection: given.recommended,
                  savedCores: savedSeconds / 3600,
                  savingsCounted: savings.map((x) => x.id),
                }),
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

/** The CPU recommendation once `savedSeconds` of database time per hour no longer runs on the host. */
function corrected(s: ScalingRecommendation, savedSeconds: number): ScalingRecommendation {
  const savedCores = savedSeconds / 3600;
  const recommended = Math.max(0.01, s.recommended - (1 + MARGIN) * savedCores);
  const meanNow = s.performance.utilizationNow * s.current;
  const meanAfter = Math.max(0, meanNow - savedCores);
  return {
    ...s,
    recommended,
    lowerBound: Math.max(0.01, s.lowerBound - (1 + MARGIN) * savedCores),
    upperBound: Math.max(0.01, s.upperBound - (1 + MARGIN) * savedCores),
    scalingFactor: recommended / s.current,
    action: actionOf(recommended / s.current),
    performance: { ...s.performance, utilizationAfter: meanAfter / recommended },
  };
}
