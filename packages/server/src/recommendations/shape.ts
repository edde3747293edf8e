/**
 * Building blocks of the one {@link Recommendation} shape: an empty target, a gain with every unit unset,
 * the evidence over a window, the series queries that read a figure again, and the generic conversion of an
 * analysis folder's {@link Advice} for kinds that have no join of their own.
 * @module
 */
import type {
  Advice,
  EvidenceSeries,
  Recommendation,
  RecommendationApply,
  RecommendationEvidence,
  RecommendationGain,
  RecommendationKind,
  RecommendationTarget,
} from '../model/index.ts';
import { recommendationId } from './ids.ts';

/** A window as the engine passes it: ms since the epoch, `from < to`. */
export interface WindowMs {
  fromMs: number;
  toMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A target with every field `null`, overridden by `t`. */
export function target(t: Partial<RecommendationTarget> = {}): RecommendationTarget {
  return {
    service: null,
    endpoint: null,
    fingerprint: null,
    statement: null,
    cache: null,
    host: null,
    pool: null,
    table: null,
    ...t,
  };
}

/** A gain with every unit `null` and no endpoint, overridden by `g`. */
export function gain(
  g: Partial<RecommendationGain> &
    Pick<RecommendationGain, 'arithmetic' | 'confidence' | 'confidenceReason' | 'description'>,
): RecommendationGain {
  return {
    timeSavedSecondsPerHour: null,
    msPerRequest: null,
    databaseSecondsPerHour: null,
    cpuSecondsPerHour: null,
    moneyPerMonth: null,
    currency: null,
    hitRatioPoints: null,
    memoryBytes: null,
    endpoints: [],
    ...g,
  };
}

/** Evidence over `w`, overridden by `e`. */
export function evidence(w: WindowMs, e: Partial<RecommendationEvidence> = {}): RecommendationEvidence {
  return {
    window: { from: iso(w.fromMs), to: iso(w.toMs) },
    traceIds: [],
    fingerprint: null,
    planExcerpt: null,
    series: [],
    measured: {},
    ...e,
  };
}

const query = (params: Record<string, string | undefined>) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');

/** The per-minute RED series of an endpoint over the window (its p95 among them). */
export function endpointSeries(w: WindowMs, service: string, endpoint: string): EvidenceSeries {
  return {
    name: `p95 and requests of ${endpoint} (${service})`,
    query: `/api/v1/apm/metrics/series?${query({ service, endpoint, groupBy: 'endpoint', from: iso(w.fromMs), to: iso(w.toMs) })}`,
  };
}

/** The statement figures of a service over the window. */
export function statementSeries(w: WindowMs, service: string | null, statement: string): EvidenceSeries {
  return {
    name: `calls, mean and p95 of ${statement.slice(0, 80)}`,
    query: `/api/v1/apm/metrics/database?${query({ service: service ?? undefined, from: iso(w.fromMs), to: iso(w.toMs) })}`,
  };
}

/** The kind of a piece of advice that has no join of its own, from its key and rule. */
export function kindOfAdvice(a: Advice & { rule?: string }): RecommendationKind {
  const prefix = a.id.split(':')[0]!;
  switch (prefix) {
    case 'cache-size':
      return 'cache-size';
    case 'cache-shrink':
      return 'cache-shrink';
    case 'cache-ttl':
      return 'cache-ttl';
    case 'cache-low-hit-ratio':
      return 'cache-hit-ratio';
    case 'cache-load-failures':
      return 'cache-load-failures';
    case 'n-plus-one':
      return 'n-plus-one';
    case 'sequential-queries':
      return 'sequential-queries';
    case 'fk_without_index':
    case 'unused_index':
    case 'duplicate_index':
      return 'schema';
  }
  return /^\s*CREATE INDEX/i.test(a.change ?? '') ? 'index' : 'plan';
}

/** How to apply a piece of advice: SQL when its change is a statement, a setting for caches, else words. */
export function applyOfAdvice(a: Advice): RecommendationApply {
  const sql = a.change !== null && /^\s*(CREATE|DROP|ANALYZE|SET|ALTER)\b/i.test(a.change);
  return {
    kind: a.change === null ? 'investigate' : sql ? 'sql' : a.area === 'cache' ? 'config' : 'code',
    how: a.action,
    change: a.change,
  };
}

/** Fields of a new recommendation before the engine stamps its state and times. */
export type Draft = Omit<
  Recommendation,
  'state' | 'stateChangedAt' | 'stateReason' | 'outcome' | 'firstSeen' | 'lastSeen'
>;

/** A draft with its id drawn from `kind` and `key` (fields in the order the API shows them). */
export function draft(d: Omit<Draft, 'id' | 'alternatives' | 'related'> & Partial<Draft>): Draft {
  return {
    id: d.id ?? recommendationId(d.kind, d.key),
    key: d.key,
    kind: d.kind,
    area: d.area,
    severity: d.severity,
    title: d.title,
    target: d.target,
    evidence: d.evidence,
    gain: d.gain,
    apply: d.apply,
    alternatives: d.alternatives ?? [],
    related: d.related ?? [],
  };
}

/**
 * A figure as the arithmetic writes it: whole numbers from 100 up, else 3 significant digits
 * (0.08, 1.51, 75.6).
 */
export function figure(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? Math.round(v).toString() : Number(v.toPrecision(3)).toString();
}

/**
 * A piece of advice without a join of its own, as a recommendation: the same key, title and change, its
 * evidence as the measured figures, its time saved per hour in seconds.
 */
export function fromAdvice(
  a: Advice,
  w: WindowMs,
  extra: {
    target?: Partial<RecommendationTarget>;
    evidence?: Partial<RecommendationEvidence>;
    gain?: Partial<RecommendationGain>;
    kind?: RecommendationKind;
  } = {},
): Draft {
  const ms = a.expectedGain.timeSavedMsPerHour;
  const arithmetic = Array.isArray(a.evidence.arithmetic)
    ? (a.evidence.arithmetic as unknown[]).map(String)
    : [a.expectedGain.description];
  return draft({
    key: a.id,
    kind: extra.kind ?? kindOfAdvice(a),
    area: a.area,
    severity: a.severity,
    title: a.title,
    target: target(extra.target),
    evidence: evidence(w, { measured: a.evidence, ...extra.evidence }),
    gain: gain({
      timeSavedSecondsPerHour: ms === null ? null : ms / 1000,
      arithmetic,
      confidence: ms === null ? 'low' : 'medium',
      confidenceReason:
        ms === null
          ? 'no time saved can be estimated from what was measured'
          : 'measured rates, estimated effect',
      description: a.expectedGain.description,
      ...extra.gain,
    }),
    apply: applyOfAdvice(a),
  });
}
