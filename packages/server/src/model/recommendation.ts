/**
 * A recommendation: one finding with its evidence, the change that fixes it, the gain expected in the units
 * that fit, how sure that gain is, and what the user did with it. It is the unit of
 * `GET /api/v1/recommendations`, made by `recommendations/` from the findings of the analysis folders.
 *
 * Two shapes live here:
 * - {@link Advice}: what an analysis folder finds (cache advice, the database advisor's plans), in the shape of
 *   the seed's `GET /api/v1/cache-db/optimization/recommendations`, which answers it unchanged;
 * - {@link Recommendation}: the one shape of every recommendation, an {@link Advice} joined to its
 *   target (service, endpoint, statement, cache, host), its evidence, its gain and its state.
 *
 * Units are in the field names: `…Ms` milliseconds, `…SecondsPerHour` seconds saved per hour of traffic as
 * observed in the window, `…Bytes` bytes, `moneyPerMonth` in `currency` over a 730-hour month,
 * `hitRatioPoints` percentage points (0..100).
 * @module
 */

/**
 * One finding of an analysis folder, as the seed's optimization route answers it (cache advice, the
 * database advisor, the query findings).
 */
export interface Advice {
  /** Stable, readable key (same finding, same key), e.g. `cache-size:checkout/products`. */
  id: string;
  area: 'cache' | 'database' | 'query';
  severity: 'info' | 'warning' | 'critical';
  title: string;
  /** What was measured, with units in the field names. */
  evidence: Record<string, unknown>;
  /** What to do, in words; `change` is the exact setting or statement when there is one. */
  action: string;
  change: string | null;
  expectedGain: {
    /** Load time avoided per hour, ms (null when it cannot be estimated). */
    timeSavedMsPerHour: number | null;
    description: string;
  };
}

/** What a recommendation is about; each kind has its join in `recommendations/`. */
export const RECOMMENDATION_KINDS = [
  /** An index a plan asks for (HypoPG-verified where it can be), joined to the endpoints that wait on it. */
  'index',
  /** Another plan finding (a sort or hash that spills, stale statistics). */
  'plan',
  /** A catalog finding (a foreign key without an index, an unused or duplicate index). */
  'schema',
  /** The same statement run once per item under one parent span: batch it, or cache it with getOrLoad. */
  'n-plus-one',
  /** Independent statements run one after another. */
  'sequential-queries',
  /** A cache whose miss-ratio curve says it is too small: the memory against the time it saves. */
  'cache-size',
  /** A cache that could be smaller for almost the same hit ratio. */
  'cache-shrink',
  /** A key group whose learned TTL is far from the configured one. */
  'cache-ttl',
  /** A cache with a low hit ratio, and why. */
  'cache-hit-ratio',
  /** A cache whose loader fails often. */
  'cache-load-failures',
  /** A host or container over- or under-sized, with its money per month. */
  'right-size',
  /** An endpoint whose p95 or error rate regressed after its service's `service.version` changed. */
  'regression',
  /** The span that fails first in failing traces, with the failing requests it explains. */
  'error-origin',
] as const;
/** One of {@link RECOMMENDATION_KINDS}. */
export type RecommendationKind = (typeof RECOMMENDATION_KINDS)[number];

/**
 * What became of a recommendation: `open` until the user acts; `dismissed` by the user; `applied` when
 * its change was made; `confirmed` or `not-confirmed` once the figure was measured again after it.
 */
export const RECOMMENDATION_STATES = ['open', 'applied', 'confirmed', 'not-confirmed', 'dismissed'] as const;
/** One of {@link RECOMMENDATION_STATES}. */
export type RecommendationState = (typeof RECOMMENDATION_STATES)[number];

/** The figure an outcome is measured by; see `recommendations/outcome.ts` for which kind gets which. */
export const OUTCOME_METRICS = [
  'endpoint-p95',
  'endpoint-error-rate',
  'statement-mean',
  'cache-hit-ratio',
] as const;
/** One of {@link OUTCOME_METRICS}. */
export type OutcomeMetric = (typeof OUTCOME_METRICS)[number];

/**
 * What became of an applied recommendation: one figure measured over its evidence window (before) and over a
 * window of the same length after it was applied (after), and the verdict's rule, e.g. `p95 of GET /results
 * (shop)` 180 → 12 ms.
 */
export interface RecommendationOutcome {
  metric: OutcomeMetric;
  /** What the figure is, in words: `p95 of GET /results (shop)`. */
  figure: string;
  /** `ms`, or `%` for error rates and hit ratios (0..100). */
  unit: 'ms' | '%';
  /** Which way is an improvement. */
  better: 'lower' | 'higher';
  /** When it was marked applied, ISO-8601. */
  appliedAt: string;
  /** The figure over `beforeWindow` (null when nothing was measured there). */
  before: number | null;
  /** The figure over `afterWindow`, null until it can be judged. */
  after: number | null;
  beforeWindow: { from: string; to: string };
  afterWindow: { from: string; to: string } | null;
  /** Requests (endpoint figures), calls (statements) or lookups (caches) the figure is over. */
  samplesBefore: number;
  samplesAfter: number | null;
  /** The improvement the gain promised in `unit` (null when the gain has no number for this figure). */
  expectedImprovement: number | null;
  /** The rule the verdict follows, in words. */
  rule: string;
  /** The verdict with its figures once judged, else what it waits for. */
  verdict: string;
  /** When a like window after applying will have passed, ISO-8601. */
  judgeableAt: string;
}

/** What a recommendation is about; `null` where it does not apply. */
export interface RecommendationTarget {
  service: string | null;
  /** `METHOD route` of the SERVER spans that pay for it. */
  endpoint: string | null;
  /** Hex fingerprint of the normalised statement. */
  fingerprint: string | null;
  /** The normalised statement. */
  statement: string | null;
  cache: string | null;
  /** `host.name` of the machine or container. */
  host: string | null;
  /** The database pool (a name of the `pools` setting). */
  pool: string | null;
  table: string | null;
}

/** A series to read again, e.g. `GET /api/v1/apm/metrics/series?…` for an endpoint's p95. */
export interface EvidenceSeries {
  /** What the series shows, e.g. `p95 of GET /orders (shop)`. */
  name: string;
  /** The API path and query that answer it for the recommendation's window. */
  query: string;
}

/** What a recommendation rests on. */
export interface RecommendationEvidence {
  /** The window the figures are over, ISO-8601. */
  window: { from: string; to: string };
  /** Traces that show it (a few examples). */
  traceIds: string[];
  fingerprint: string | null;
  /** The plan node it was drawn from, in EXPLAIN's words. */
  planExcerpt: string | null;
  series: EvidenceSeries[];
  /** The finding's own figures, with units in the field names. */
  measured: Record<string, unknown>;
}

/** What a recommendation changes for one endpoint: its p95 now and expected after the change. */
export interface EndpointEffect {
  service: string;
  endpoint: string;
  requestsPerHour: number;
  /** p95 in the window (DDSketch rollups, within 1%). */
  p95Ms: number;
  /** p95 × (sample p95 after ÷ sample p95 before): each sampled request less its time saved. */
  expectedP95Ms: number;
  /** The statement's share of the sampled requests' time, 0..1. */
  statementShare: number;
  /** Whether the statement takes the largest share of the endpoint's time among its statements. */
  dominant: boolean;
  /** Time saved per request, ms (mean over the sampled requests). */
  msPerRequest: number;
  /** Requests sampled (the most recent traces of the endpoint in the window). */
  sampledRequests: number;
}

/**
 * The gain expected, in the units that fit (`null` where a unit does not apply or cannot be estimated),
 * with the arithmetic line by line and how sure it is.
 */
export interface RecommendationGain {
  /** Time saved per hour at the window's rate, s: the figure the list is ranked by. */
  timeSavedSecondsPerHour: number | null;
  /** Time saved per affected request, ms. */
  msPerRequest: number | null;
  /** Database (or loader) busy time saved per hour, s. */
  databaseSecondsPerHour: number | null;
  /** CPU capacity freed (> 0) or added (< 0), CPU-seconds per hour. */
  cpuSecondsPerHour: number | null;
  /** Money saved (> 0) or spent (< 0) per 730-hour month, in `currency`. */
  moneyPerMonth: number | null;
  currency: string | null;
  /** Hit-ratio change, percentage points. */
  hitRatioPoints: number | null;
  /** Memory it costs (> 0) or frees (< 0), bytes. */
  memoryBytes: number | null;
  /** The endpoints whose p95 it changes. */
  endpoints: EndpointEffect[];
  arithmetic: string[];
  /**
   * `high`: measured rates and a verified effect (HypoPG plan costs, a curve at observed rates); `medium`:
   * measured rates and an estimated effect; `low`: a rule of thumb or sampled evidence.
   */
  confidence: 'high' | 'medium' | 'low';
  confidenceReason: string;
  description: string;
}

/** How to apply a recommendation. */
export interface RecommendationApply {
  /** `sql`: a statement to run; `config`: a setting; `code`: a change in the application; `investigate`. */
  kind: 'sql' | 'config' | 'code' | 'investigate';
  /** What to do, in words. */
  how: string;
  /** The exact statement, setting or code, when there is one. */
  change: string | null;
}

/** Another way to the same end (e.g. a cache instead of a batched query), with its own gain. */
export interface RecommendationAlternative {
  title: string;
  apply: RecommendationApply;
  gain: RecommendationGain;
}

/** One recommendation, the same shape whatever its kind. */
export interface Recommendation {
  /** Stable id: `<kind>.<16 hex>` from the finding's key, so the same finding keeps its id. */
  id: string;
  /** The readable key the id is drawn from (the seed's id for the advice it answered). */
  key: string;
  kind: RecommendationKind;
  /** `endpoint`: an endpoint's latency or errors as its traces show them (regressions, error origins). */
  area: 'query' | 'database' | 'cache' | 'host' | 'endpoint';
  severity: 'info' | 'warning' | 'critical';
  title: string;
  target: RecommendationTarget;
  evidence: RecommendationEvidence;
  gain: RecommendationGain;
  apply: RecommendationApply;
  alternatives: RecommendationAlternative[];
  /** Ids of recommendations about the same thing (an N+1 and the cache it would go through). */
  related: string[];
  state: RecommendationState;
  /** When the state last changed, ISO-8601 (null while open and never changed). */
  stateChangedAt: string | null;
  stateReason: string | null;
  /**
   * Once applied: the figure before and after (null when never applied, or when its kind has no figure
   * to judge it by: it then stays `applied`).
   */
  outcome: RecommendationOutcome | null;
  /** When this server first and last computed it, ISO-8601. */
  firstSeen: string;
  lastSeen: string;
}
