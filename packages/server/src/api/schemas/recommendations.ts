/**
 * Schemas of `/api/v1/recommendations`: the one ranked list of recommendations across APM, database,
 * caches and hosts, each joined to its target, its evidence, its gain (in the units that fit, with the
 * arithmetic and a confidence), how to apply it, and its state. Units are in the field names: `…Ms`
 * milliseconds, `…SecondsPerHour` seconds per hour at the window's rate, `…Bytes` bytes, `moneyPerMonth`
 * in `currency` over a 730-hour month, `hitRatioPoints` percentage points.
 * @module
 */
import { type Static, Type } from 'typebox';
import { OUTCOME_METRICS, RECOMMENDATION_KINDS, RECOMMENDATION_STATES } from '../../model/recommendation.ts';
import { Closed, Ms, Nullable, problems, StringEnum, WindowAnswer, WindowQuery } from './common.ts';

/** The pattern of a recommendation id: `<kind>.<16 hex>`. */
const ID_PATTERN = '^[a-z][a-z-]*\\.[0-9a-f]{16}$';

const text = (description: string) => Type.String({ description });
const nullableText = (description: string) => Nullable(Type.String({ description }));
const nullableNumber = (description: string) => Nullable(Type.Number({ description }));

export const RecommendationTarget = Closed({
  service: nullableText('service.name'),
  endpoint: nullableText('METHOD route of the SERVER spans that pay for it'),
  fingerprint: nullableText('hex fingerprint of the normalised statement'),
  statement: nullableText('the normalised statement'),
  cache: nullableText('the cache'),
  host: nullableText('host.name of the machine or container'),
  pool: nullableText('the database pool (a name of the pools setting)'),
  table: nullableText('the table'),
});

export const EvidenceSeries = Closed({
  name: text('what the series shows'),
  query: text('the API path and query that answer it for the window'),
});

export const RecommendationEvidence = Closed({
  window: Closed({ from: text('ISO-8601'), to: text('ISO-8601') }),
  traceIds: Type.Array(Type.String(), { description: 'traces that show it (up to 5)' }),
  fingerprint: nullableText('the statement’s fingerprint'),
  planExcerpt: nullableText('the plan node it was drawn from, in EXPLAIN’s words'),
  series: Type.Array(EvidenceSeries),
  measured: Type.Record(Type.String(), Type.Unknown(), {
    description: 'the finding’s own figures, with units in the field names',
  }),
});

export const EndpointEffect = Closed({
  service: Type.String(),
  endpoint: Type.String(),
  requestsPerHour: Type.Number(),
  p95Ms: Ms('p95 in the window (DDSketch rollups, within 1%)'),
  expectedP95Ms: Ms('p95 × (sample p95 after ÷ sample p95 before)'),
  statementShare: Type.Number({ description: 'the statement’s share of the sampled requests’ time, 0..1' }),
  dominant: Type.Boolean({ description: 'no other statement takes more of the endpoint’s time' }),
  msPerRequest: Ms('time saved per request (mean over the sample)'),
  sampledRequests: Type.Integer({ description: 'requests sampled from the most recent traces' }),
});

export const RecommendationGain = Closed({
  timeSavedSecondsPerHour: nullableNumber('time saved per hour at the window’s rate, s: the rank'),
  msPerRequest: nullableNumber('time saved per affected request, ms'),
  databaseSecondsPerHour: nullableNumber('database (or loader) busy time saved per hour, s'),
  cpuSecondsPerHour: nullableNumber('CPU capacity freed (> 0) or added (< 0), CPU-seconds per hour'),
  moneyPerMonth: nullableNumber('saved (> 0) or spent (< 0) per 730-hour month, in currency'),
  currency: nullableText('currency of moneyPerMonth'),
  hitRatioPoints: nullableNumber('hit-ratio change, percentage points'),
  memoryBytes: nullableNumber('memory it costs (> 0) or frees (< 0), bytes'),
  endpoints: Type.Array(EndpointEffect, { description: 'the endpoints whose p95 it changes' }),
  arithmetic: Type.Array(Type.String(), { description: 'how the figures were reached, line by line' }),
  confidence: StringEnum(['high', 'medium', 'low'] as const, {
    description:
      'high: measured rates and a verified effect; medium: measured rates, estimated effect; low: a rule of thumb or sampled evidence',
  }),
  confidenceReason: Type.String(),
  description: Type.String(),
});

export const RecommendationApply = Closed({
  kind: StringEnum(['sql', 'config', 'code', 'investigate'] as const),
  how: text('what to do, in words'),
  change: nullableText('the exact statement, setting or code'),
});

const IsoWindow = Closed({ from: text('ISO-8601'), to: text('ISO-8601') });

/** What became of an applied recommendation: its figure before and after (see recommendations/outcome.ts). */
export const RecommendationOutcome = Closed({
  metric: StringEnum(OUTCOME_METRICS, {
    description:
      'endpoint-p95 (ms), endpoint-error-rate (%), statement-mean (ms, mean per call), cache-hit-ratio (%)',
  }),
  figure: text('what the figure is, e.g. p95 of GET /results (shop)'),
  unit: StringEnum(['ms', '%'] as const),
  better: StringEnum(['lower', 'higher'] as const, { description: 'which way is an improvement' }),
  appliedAt: text('when it was marked applied, ISO-8601'),
  before: nullableNumber('the figure over beforeWindow (null when nothing was measured there)'),
  after: nullableNumber('the figure over afterWindow, null until judged'),
  beforeWindow: IsoWindow,
  afterWindow: Nullable(IsoWindow),
  samplesBefore: Type.Integer({ description: 'requests, calls or lookups in beforeWindow' }),
  samplesAfter: Nullable(Type.Integer({ description: 'requests, calls or lookups in afterWindow' })),
  expectedImprovement: nullableNumber('the improvement the gain expects, in unit (null: it has no number)'),
  rule: text('the rule of the verdict'),
  verdict: text('the verdict with its figures, or what it waits for'),
  judgeableAt: text('when a window as long as the before window will have passed since applying, ISO-8601'),
});

/** One recommendation of the one list (the shape of `model/recommendation.ts`). */
export const JoinedRecommendation = Closed({
  id: Type.String({ pattern: ID_PATTERN, description: 'stable: <kind>.<16 hex> of the finding’s key' }),
  key: text('the readable key the id is drawn from (the id of the cache-db advice it answers)'),
  kind: StringEnum(RECOMMENDATION_KINDS),
  area: StringEnum(['query', 'database', 'cache', 'host', 'endpoint'] as const, {
    description: 'endpoint: latency or errors of endpoints as their traces show them',
  }),
  severity: StringEnum(['info', 'warning', 'critical'] as const),
  title: Type.String(),
  target: RecommendationTarget,
  evidence: RecommendationEvidence,
  gain: RecommendationGain,
  apply: RecommendationApply,
  alternatives: Type.Array(
    Closed({ title: Type.String(), apply: RecommendationApply, gain: RecommendationGain }),
    { description: 'other ways to the same end (a cache instead of a batched query)' },
  ),
  related: Type.Array(Type.String(), { description: 'ids of recommendations about the same thing' }),
  state: StringEnum(RECOMMENDATION_STATES),
  stateChangedAt: nullableText('when the state last changed, ISO-8601'),
  stateReason: nullableText('why, as the user said (the note when applied)'),
  /** Once applied: the figure before and after; null when never applied or its kind has no figure. */
  outcome: Nullable(RecommendationOutcome),
  firstSeen: text('when this server first computed it, ISO-8601'),
  lastSeen: text('when this server last computed it, ISO-8601'),
});
export type JoinedRecommendation = Static<typeof JoinedRecommendation>;

export const RecommendationListQuery = Closed({
  ...WindowQuery,
  kind: Type.Optional(StringEnum(RECOMMENDATION_KINDS, { description: 'only this kind' })),
  state: Type.Optional(StringEnum(RECOMMENDATION_STATES, { description: 'only this state' })),
});
export type RecommendationListQuery = Static<typeof RecommendationListQuery>;

export const RecommendationListAnswer = Closed({
  ...WindowAnswer,
  recommendations: Type.Array(JoinedRecommendation, {
    description:
      'by time saved per hour, then money per month, then hit-ratio points (known gains first), then severity; then the applied, confirmed and not-confirmed ones whose evidence left the window, as last computed',
  }),
  totals: Closed({
    timeSavedSecondsPerHour: Type.Number({ description: 'summed over the list (open ones only)' }),
    moneyPerMonth: Type.Number({ description: 'summed over the list (open ones only)' }),
  }),
  notes: Type.Array(Type.String(), {
    description: 'what could not be checked (a pool down, a statement that does not prepare)',
  }),
});
export type RecommendationListAnswer = Static<typeof RecommendationListAnswer>;

export const RecommendationParams = Closed({
  id: Type.String({
    pattern: ID_PATTERN,
    maxLength: 64,
    description: 'a recommendation id, <kind>.<16 hex>',
  }),
});
export type RecommendationParams = Static<typeof RecommendationParams>;

/** The window (and service) a recommendation is looked for in. */
export const RecommendationQuery = Closed(WindowQuery);
export type RecommendationQuery = Static<typeof RecommendationQuery>;

export const RecommendationAnswer = Closed({
  ...WindowAnswer,
  inWindow: Type.Boolean({ description: 'found in a computation over this window' }),
  note: nullableText('why it is shown as last computed (its evidence left the window or the retention)'),
  recommendation: JoinedRecommendation,
});
export type RecommendationAnswer = Static<typeof RecommendationAnswer>;

export const DismissBody = Closed({
  reason: Type.Optional(Type.String({ maxLength: 1000, description: 'why (kept with the state)' })),
});
export type DismissBody = Static<typeof DismissBody>;

export const AppliedBody = Closed({
  note: Type.Optional(
    Type.String({ maxLength: 1000, description: 'what was changed (kept with the state)' }),
  ),
});
export type AppliedBody = Static<typeof AppliedBody>;

const tags = ['recommendations'];

/** Route schemas of the recommendation routes. */
export const recommendationRouteSchemas = {
  list: {
    summary: 'Every recommendation, ranked by its gain, each with its evidence, arithmetic and state',
    tags,
    querystring: RecommendationListQuery,
    response: { 200: RecommendationListAnswer, ...problems() },
  },
  one: {
    summary: 'One recommendation by id (as last computed when its evidence left the window)',
    tags,
    params: RecommendationParams,
    querystring: RecommendationQuery,
    response: { 200: RecommendationAnswer, ...problems(404) },
  },
  dismiss: {
    summary: 'Dismiss a recommendation (kept across restarts; idempotent)',
    tags,
    params: RecommendationParams,
    querystring: RecommendationQuery,
    body: DismissBody,
    response: { 200: RecommendationAnswer, ...problems(404, 415) },
  },
  applied: {
    summary:
      'Mark a recommendation applied: its figure is measured before and, once a like window has passed, after (confirmed or not-confirmed)',
    tags,
    params: RecommendationParams,
    querystring: RecommendationQuery,
    body: AppliedBody,
    response: { 200: RecommendationAnswer, ...problems(404, 415) },
  },
} as const;
