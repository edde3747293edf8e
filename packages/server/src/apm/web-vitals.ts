/**
 * Real-user experience: per page and overall p75 of each web vital, counts by the web.dev thresholds,
 * and a 0–100 score computed like Lighthouse's performance score (a log-normal curve per metric through
 * two control points, then a weighted mean), with control points and weights for field (RUM) data.
 *
 * Sources:
 * - Thresholds: web.dev "Web Vitals" (LCP 2.5 s / 4 s, INP 200 / 500 ms, CLS 0.1 / 0.25, FCP 1.8 / 3 s,
 *   TTFB 0.8 / 1.8 s, FID 100 / 300 ms), the same values the `web-vitals` library rates with. Google
 *   assesses them at the 75th percentile of page loads.
 * - Curve: Lighthouse scoring ("How Lighthouse calculates your overall Performance score"): each metric
 *   maps to a score by the complement of a log-normal CDF whose median and 10th percentile are control
 *   points, so a value at the p10 point scores 0.90 and a value at the median scores 0.50.
 * - Field control points: the p10 point is the web.dev "good" threshold and the median the "poor"
 *   threshold. Lighthouse 10+ uses exactly these pairs for LCP (2500/4000), FCP (1800/3000) and CLS
 *   (0.1/0.25) on mobile; INP (200/500) follows the same rule.
 * - Field weights: Lighthouse 10's weights (FCP 10, Speed Index 10, LCP 25, TBT 30, CLS 25) with TBT —
 *   the lab proxy of interactivity — replaced by INP, and Speed Index, which has no field counterpart,
 *   split between FCP and LCP: FCP 15, LCP 30, INP 30, CLS 25. FID stands in for INP only when a page
 *   has no INP data (old browsers); TTFB is reported but not weighted (a diagnostic, as in Lighthouse).
 *   Metrics without data are left out and the remaining weights renormalised; `scoreBasis` names them.
 * @module
 */
import { VITALS_METRICS, type VitalsMetric } from '../model/index.ts';
import type { TimeWindow, VitalsAggregate, VitalsReader } from '../storage/index.ts';

/** web.dev thresholds `[good, poor]`: ≤ good is good, > poor is poor. ms, CLS unitless. */
export const VITALS_THRESHOLDS: Readonly<Record<VitalsMetric, readonly [number, number]>> = {
  LCP: [2500, 4000],
  INP: [200, 500],
  CLS: [0.1, 0.25],
  FCP: [1800, 3000],
  TTFB: [800, 1800],
  FID: [100, 300],
};

/** Weights of the 0–100 score (see the module comment for their derivation). */
export const VITALS_SCORE_WEIGHTS: Readonly<Partial<Record<VitalsMetric, number>>> = {
  FCP: 0.15,
  LCP: 0.3,
  INP: 0.3,
  CLS: 0.25,
};

/** Attribution fields averaged per metric: LCP subparts, TTFB phases, FCP split (web-vitals names). */
export const BREAKDOWN_FIELDS: Readonly<Partial<Record<VitalsMetric, readonly string[]>>> = {
  LCP: ['timeToFirstByte', 'resourceLoadDelay', 'resourceLoadDuration', 'elementRenderDelay'],
  TTFB: ['waitingDuration', 'cacheDuration', 'dnsDuration', 'connectionDuration', 'requestDuration'],
  FCP: ['timeToFirstByte', 'firstByteToFCP'],
};

/** Φ⁻¹(0.9): the standard normal quantile of the p10 control point. */
const Z_P90 = 1.2815515655446004;

/**
 * Complementary error function, fractional error < 1.2e-7 everywhere (Chebyshev fit of Press et al.,
 * Numerical Recipes in C, 2nd ed., §6.2, `erfcc`).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * Lighthouse-style score of one value: `0.5·erfc(ln(value/median) / (σ√2))` with σ chosen so that
 * `p10` scores 0.9. Lower values score higher.
 * @param value the metric value (ms, or unitless for CLS); ≤ 0 scores 1.
 * @param p10 the value that scores 0.90; must be below `median`.
 * @param median the value that scores 0.50.
 * @returns a score in [0, 1].
 * @throws RangeError when the control points are not `0 < p10 < median`.
 */
export function logNormalScore(value: number, p10: number, median: number): number {
  if (!(p10 > 0 && median > p10)) {
    throw new RangeError(`control points must satisfy 0 < p10 < median, got p10=${p10}, median=${median}`);
  }
  if (value <= 0) return 1;
  const sigma = Math.log(median / p10) / Z_P90;
  const s = 0.5 * erfc(Math.log(value / median) / (sigma * Math.SQRT2));
  return Math.min(1, Math.max(0, s));
}

/** One metric of a page (or of all pages). Times in ms, CLS unitless. */
export interface VitalSummary {
  count: number;
  p75: number;
  /** Rating of the p75 by the web.dev thresholds. */
  rating: 'good' | 'needs-improvement' | 'poor';
  good: number;
  needsImprovement: number;
  poor: number;
  /** Score of the p75 on the field curve, 0..1 (also for unweighted metrics). */
  score: number;
}

/** Where a page load's time goes (means over the beacons that carry the attribution), ms. */
export interface LoadBreakdown {
  ttfbP75Ms: number | null;
  fcpP75Ms: number | null;
  lcpP75Ms: number | null;
  /** LCP subparts (web.dev "Optimize LCP"): TTFB, resource load delay, load duration, render delay. */
  lcpSubpartsMeanMs: Record<string, number>;
  /** TTFB phases: waiting (redirects), cache, DNS, connection, request. */
  ttfbPhasesMeanMs: Record<string, number>;
}

/** Web vitals of one page, or of all pages (`page: null`). */
export interface PageExperience {
  page: string | null;
  /** 0–100, or `null` when no weighted metric has data. */
  score: number | null;
  /** The metrics the score was computed from. */
  scoreBasis: VitalsMetric[];
  metrics: Partial<Record<VitalsMetric, VitalSummary>>;
  loadBreakdown: LoadBreakdown;
}

/** Answer of `GET /api/v1/apm/metrics/user-experience`. */
export interface UserExperienceReport {
  percentile: string;
  thresholds: Record<VitalsMetric, { good: number; poor: number }>;
  weights: Partial<Record<VitalsMetric, number>>;
  overall: PageExperience;
  pages: PageExperience[];
}

function rate(metric: VitalsMetric, v: number): VitalSummary['rating'] {
  const [good, poor] = VITALS_THRESHOLDS[metric];
  return v <= good ? 'good' : v <= poor ? 'needs-improvement' : 'poor';
}

/** The weighted 0–100 score of one page's p75 values, and the metrics it used. */
export function experienceScore(metrics: Partial<Record<VitalsMetric, VitalSummary>>): {
  score: number | null;
  basis: VitalsMetric[];
} {
  let sum = 0;
  let weights = 0;
  const basis: VitalsMetric[] = [];
  for (const [m, w] of Object.entries(VITALS_SCORE_WEIGHTS) as [VitalsMetric, number][]) {
    let v = metrics[m];
    let used: VitalsMetric = m;
    if (!v && m === 'INP' && metrics.FID) {
      v = metrics.FID;
      used = 'FID';
    }
    if (!v) continue;
    sum += w * v.score;
    weights += w;
    basis.push(used);
  }
  return { score: weights === 0 ? null : Math.round((100 * sum) / weights), basis };
}

function pageOf(page: string | null, rows: readonly VitalsAggregate[]): PageExperience {
  const metrics: Partial<Record<VitalsMetric, VitalSummary>> = {};
  const byMetric = new Map(rows.map((r) => [r.metric, r]));
  for (const r of rows) {
    const [p10, median] = VITALS_THRESHOLDS[r.metric];
    metrics[r.metric] = {
      count: r.count,
      p75: r.p75,
      rating: rate(r.metric, r.p75),
      good: r.good,
      needsImprovement: r.needsImprovement,
      poor: r.poor,
      score: logNormalScore(r.p75, p10, median),
    };
  }
  const { score, basis } = experienceScore(metrics);
  return {
    page,
    score,
    scoreBasis: basis,
    metrics,
    loadBreakdown: {
      ttfbP75Ms: metrics.TTFB?.p75 ?? null,
      fcpP75Ms: metrics.FCP?.p75 ?? null,
      lcpP75Ms: metrics.LCP?.p75 ?? null,
      lcpSubpartsMeanMs: byMetric.get('LCP')?.attributionMeans ?? {},
      ttfbPhasesMeanMs: byMetric.get('TTFB')?.attributionMeans ?? {},
    },
  };
}

/**
 * Builds the user-experience report of a window from the store's aggregates.
 * @param q window, optional service and page filters, and the most pages to list (by beacon count).
 */
export async function userExperienceReport(
  store: VitalsReader,
  q: { window: TimeWindow; service?: string | undefined; page?: string | undefined; maxPages: number },
): Promise<UserExperienceReport> {
  const rows = await store.vitalsAggregates({
    ...q,
    thresholds: VITALS_THRESHOLDS,
    attributionFields: BREAKDOWN_FIELDS,
  });
  const overallRows = rows.filter((r) => r.page === null);
  const perPage = new Map<string, VitalsAggregate[]>();
  for (const r of rows) {
    if (r.page === null) continue;
    const list = perPage.get(r.page) ?? [];
    list.push(r);
    perPage.set(r.page, list);
  }
  const pages = [...perPage].map(([page, list]) => pageOf(page, list));
  const total = (p: PageExperience): number => Object.values(p.metrics).reduce((s, m) => s + m.count, 0);
  pages.sort((a, b) => total(b) - total(a) || String(a.page).localeCompare(String(b.page)));
  return {
    percentile:
      'p75: linear interpolation between closest ranks (Hyndman–Fan type 7, like numpy and quantile_cont)',
    thresholds: Object.fromEntries(
      VITALS_METRICS.map((m) => [m, { good: VITALS_THRESHOLDS[m][0], poor: VITALS_THRESHOLDS[m][1] }]),
    ) as UserExperienceReport['thresholds'],
    weights: { ...VITALS_SCORE_WEIGHTS },
    overall: pageOf(null, overallRows),
    pages,
  };
}
