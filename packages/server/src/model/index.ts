export {
  AdaptiveTtlBounds,
  CACHE_BACKENDS,
  CACHE_POLICIES,
  CacheName,
  CacheSpec,
  CacheSpecInput,
} from './cache-spec.ts';
export type { LogDigest, QueryDigest } from './log-digest.ts';
export type { MetricPoint, MetricType, ScalarPointInit } from './metric-point.ts';
export { scalarPoint } from './metric-point.ts';
export type { QueryLogEvent } from './query-log-event.ts';
export type {
  Advice,
  EndpointEffect,
  EvidenceSeries,
  OutcomeMetric,
  Recommendation,
  RecommendationAlternative,
  RecommendationApply,
  RecommendationEvidence,
  RecommendationGain,
  RecommendationKind,
  RecommendationOutcome,
  RecommendationState,
  RecommendationTarget,
} from './recommendation.ts';
export { OUTCOME_METRICS, RECOMMENDATION_KINDS, RECOMMENDATION_STATES } from './recommendation.ts';
export { isSharedServerHalf, sharedSpanId } from './shared-span.ts';
export type {
  Attributes,
  AttributeValue,
  DbCall,
  Span,
  SpanEvent,
  SpanLink,
  TransactionMark,
} from './span.ts';
export { isErrorSpan, SPAN_KIND_NAMES, SpanKind, StatusCode } from './span.ts';
export type { VitalsEvent, VitalsMetric } from './vitals-event.ts';
export { VITALS_METRICS } from './vitals-event.ts';
