/**
 * Outcome tracking of applied recommendations: which figure judges a recommendation, the "before" record
 * made when it is marked applied, the "like window" after it, and the verdict. Pure: the engine measures the
 * figures (over the store) and passes them and the clock in.
 *
 * The figure, the most direct one the engine can measure for the kind:
 * - `cache-hit-ratio` (%, higher is better) for `cache-size`, `cache-hit-ratio` and `cache-ttl` with a cache;
 * - `endpoint-error-rate` (%, lower is better) for `error-origin`, and a `regression` of errors only;
 * - `endpoint-p95` (ms, lower is better) for any other kind with a service and an endpoint (index, N+1,
 *   sequential queries, a latency regression), from the per-minute rollups (DDSketch, within 1%);
 * - `statement-mean` (ms, lower is better) for `index`, `plan` and `schema` with a statement and no endpoint;
 * - none for the rest (hosts, cache-shrink, cache-load-failures, an N+1 whose endpoint is unknown): such a
 *   recommendation is marked applied with no outcome and is never judged.
 *
 * The windows: `before` is the recommendation's evidence window. `after` starts at the first whole minute
 * after it was applied (the rollups are per minute) and is as long as `before`; it can be judged once it has
 * passed with at least {@link OUTCOME_RULE}.minSamples requests (calls, lookups). When that first like
 * window has fewer, the latest like window (ending at the last whole minute) is tried at each read, until
 * one has enough.
 *
 * The verdict: the improvement (before − after when lower is better, after − before when higher is) is
 * `confirmed` when it is at least half the improvement the gain expects for that figure
 * ({@link RecommendationOutcome.expectedImprovement}); where the gain has no number for it, when it is at
 * least 20% of the before figure (and more than 0). Otherwise `not-confirmed`.
 * @module
 */
import type { OutcomeMetric, Recommendation, RecommendationOutcome } from '../model/index.ts';
import { figure as fmt, type WindowMs } from './shape.ts';

/** The verdict's numbers. */
export const OUTCOME_RULE = {
  /** Requests (calls, lookups) a like window after applying must have to be judged. */
  minSamples: 30,
  /** Share of the expected improvement that confirms it. */
  shareOfExpected: 0.5,
  /** Relative improvement that confirms it where the gain has no number for the figure. */
  relativeWithoutExpected: 0.2,
} as const;

/** What is measured, and where. */
export interface FigureSpec {
  metric: OutcomeMetric;
  figure: string;
  unit: 'ms' | '%';
  better: 'lower' | 'higher';
  service: string | null;
  endpoint: string | null;
  fingerprint: string | null;
  cache: string | null;
  expectedImprovement: number | null;
}

/** A figure over a window and how many requests (calls, lookups) it rests on. */
export interface Measured {
  value: number | null;
  samples: number;
}

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const positive = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
const CACHE_HIT_KINDS = new Set(['cache-size', 'cache-hit-ratio', 'cache-ttl']);
const STATEMENT_KINDS = new Set(['index', 'plan', 'schema']);

/** The figure that judges `rec`, or null when its kind has none (see the module's list). */
export function figureOf(rec: Recommendation): FigureSpec | null {
  const t = rec.target;
  const m = rec.evidence.measured;
  const none = { service: null, endpoint: null, fingerprint: null, cache: null };
  if (CACHE_HIT_KINDS.has(rec.kind) && t.cache) {
    return {
      ...none,
      metric: 'cache-hit-ratio',
      figure: `hit ratio of cache ${t.cache}${t.service ? ` (${t.service})` : ''}`,
      unit: '%',
      better: 'higher',
      service: t.service,
      cache: t.cache,
      expectedImprovement: positive(rec.gain.hitRatioPoints),
    };
  }
  if (t.endpoint && rec.kind !== 'right-size') {
    const effect = rec.gain.endpoints.find((e) => e.endpoint === t.endpoint);
    const service = effect?.service ?? t.service;
    if (service) {
      const errorsOnly =
        rec.kind === 'error-origin' ||
        (rec.kind === 'regression' && m.p95Regressed !== true && m.errorsRegressed === true);
      if (errorsOnly) {
        return {
          ...none,
          metric: 'endpoint-error-rate',
          figure: `error rate of ${t.endpoint} (${service})`,
          unit: '%',
          better: 'lower',
          service,
          endpoint: t.endpoint,
          expectedImprovement: rec.kind === 'regression' ? positive(m.errorRateChangePoints) : null,
        };
      }
      const expected =
        rec.kind === 'regression'
          ? positive(m.p95ChangeMs)
          : effect
            ? positive(effect.p95Ms - effect.expectedP95Ms)
            : positive(rec.gain.msPerRequest);
      return {
        ...none,
        metric: 'endpoint-p95',
        figure: `p95 of ${t.endpoint} (${service})`,
        unit: 'ms',
        better: 'lower',
        service,
        endpoint: t.endpoint,
        expectedImprovement: expected,
      };
    }
  }
  if (STATEMENT_KINDS.has(rec.kind) && t.fingerprint) {
    return {
      ...none,
      metric: 'statement-mean',
      figure: `mean of ${(t.statement ?? t.fingerprint).slice(0, 80)}${t.service ? ` (${t.service})` : ''}`,
      unit: 'ms',
      better: 'lower',
      service: t.service,
      fingerprint: t.fingerprint,
      expectedImprovement: null,
    };
  }
  return null;
}

/** The unit of samples of a metric, for the texts. */
function samplesName(metric: OutcomeMetric): string {
  return metric === 'statement-mean' ? 'calls' : metric === 'cache-hit-ratio' ? 'lookups' : 'requests';
}

/** A duration in words: `1 h`, `90 min`, `2 d`. */
function duration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${fmt(ms / MINUTE)} min`;
}

/** The before window of an outcome, ms. */
export function beforeWindowMs(o: Pick<RecommendationOutcome, 'beforeWindow'>): WindowMs {
  return { fromMs: Date.parse(o.beforeWindow.from), toMs: Date.parse(o.beforeWindow.to) };
}

/**
 * The outcome of a recommendation marked applied at `appliedAtMs`, with its before figure measured over
 * its evidence window; not judged yet.
 */
export function startOutcome(
  spec: FigureSpec,
  rec: Recommendation,
  appliedAtMs: number,
  before: Measured,
): RecommendationOutcome {
  const bw = { fromMs: Date.parse(rec.evidence.window.from), toMs: Date.parse(rec.evidence.window.to) };
  const length = bw.toMs - bw.fromMs;
  const afterFrom = Math.ceil(appliedAtMs / MINUTE) * MINUTE;
  const way = spec.better === 'lower' ? 'falls' : 'rises';
  const threshold =
    spec.expectedImprovement !== null
      ? `by at least half the ${fmt(spec.expectedImprovement)} ${spec.unit} the gain expects (${fmt(OUTCOME_RULE.shareOfExpected * spec.expectedImprovement)} ${spec.unit})`
      : `by at least ${100 * OUTCOME_RULE.relativeWithoutExpected}% of its before figure (the gain has no number for it)`;
  const o: RecommendationOutcome = {
    metric: spec.metric,
    figure: spec.figure,
    unit: spec.unit,
    better: spec.better,
    appliedAt: iso(appliedAtMs),
    before: before.value,
    after: null,
    beforeWindow: { ...rec.evidence.window },
    afterWindow: null,
    samplesBefore: before.samples,
    samplesAfter: null,
    expectedImprovement: spec.expectedImprovement,
    rule: `confirmed when the ${spec.figure} ${way} ${threshold}, measured over ${duration(length)} from ${iso(afterFrom)} (as long as the before window) with at least ${OUTCOME_RULE.minSamples} ${samplesName(spec.metric)}; else not-confirmed`,
    verdict: '',
    judgeableAt: iso(afterFrom + length),
  };
  return { ...o, verdict: waitingVerdict(o, appliedAtMs, null) };
}

/** What an applied outcome waits for at `nowMs` (`samples`: those of the best like window so far). */
export function waitingVerdict(o: RecommendationOutcome, nowMs: number, samples: number | null): string {
  if (o.before === null)
    return `not judged: no ${samplesName(o.metric)} in the before window, so there is nothing to compare with`;
  const at = Date.parse(o.judgeableAt);
  if (nowMs < at) {
    return `applied: can be judged from ${o.judgeableAt} (in ${fmt((at - nowMs) / MINUTE)} min), once a like window after it has at least ${OUTCOME_RULE.minSamples} ${samplesName(o.metric)}`;
  }
  return `applied: the like window after it has ${samples ?? 0} of the ${OUTCOME_RULE.minSamples} ${samplesName(o.metric)} needed; judged once one has them`;
}

/**
 * The like windows to measure after applying at `nowMs`, in order of preference: none before
 * {@link RecommendationOutcome.judgeableAt}; then the first one, and the latest (ending at the last whole
 * minute) when it is not the first.
 */
export function afterWindows(o: RecommendationOutcome, nowMs: number): WindowMs[] {
  const end = Date.parse(o.judgeableAt);
  if (nowMs < end || o.before === null) return [];
  const b = beforeWindowMs(o);
  const length = b.toMs - b.fromMs;
  const first = { fromMs: end - length, toMs: end };
  const lastEnd = Math.floor(nowMs / MINUTE) * MINUTE;
  return lastEnd > end ? [first, { fromMs: lastEnd - length, toMs: lastEnd }] : [first];
}

/**
 * The verdict of an outcome given the figure over a like window after it; `applied` (with what it waits
 * for) when that window has fewer than {@link OUTCOME_RULE}.minSamples.
 */
export function judgeOutcome(
  o: RecommendationOutcome,
  window: WindowMs,
  after: Measured,
  nowMs: number,
): { state: 'applied' | 'confirmed' | 'not-confirmed'; outcome: RecommendationOutcome } {
  if (o.before === null || after.value === null || after.samples < OUTCOME_RULE.minSamples)
    return { state: 'applied', outcome: { ...o, verdict: waitingVerdict(o, nowMs, after.samples) } };
  const improvement = o.better === 'lower' ? o.before - after.value : after.value - o.before;
  const required =
    o.expectedImprovement !== null
      ? OUTCOME_RULE.shareOfExpected * o.expectedImprovement
      : OUTCOME_RULE.relativeWithoutExpected * Math.abs(o.before);
  const ok = improvement > 0 && improvement >= required;
  const state = ok ? 'confirmed' : 'not-confirmed';
  const why =
    o.expectedImprovement !== null
      ? `half the ${fmt(o.expectedImprovement)} ${o.unit} expected`
      : `${100 * OUTCOME_RULE.relativeWithoutExpected}% of the before figure`;
  const change =
    improvement >= 0 ? `${fmt(improvement)} ${o.unit} better` : `${fmt(-improvement)} ${o.unit} worse`;
  return {
    state,
    outcome: {
      ...o,
      after: after.value,
      afterWindow: { from: iso(window.fromMs), to: iso(window.toMs) },
      samplesAfter: after.samples,
      verdict: `${o.figure} ${fmt(o.before)} → ${fmt(after.value)} ${o.unit}: ${change}, ${ok ? 'at least' : 'less than'} the ${fmt(required)} ${o.unit} required (${why}): ${state}`,
    },
  };
}
