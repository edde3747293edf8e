/**
 * The API contract: every route's params, query, body and answers as TypeBox schemas (JSON Schema), from
 * which the server validates requests, `/docs/json` is generated, and the dashboard and SDK take their
 * types. Imports nothing from the project but itself and `model/`, whose schema files are plain TypeBox
 * and import nothing at all (`model/alert-rule.ts`: a rule is validated by the same schema in the API and
 * in the alert rules file, and `alerts/` may not import `api/`; `model/cache-spec.ts`: a cache definition,
 * checked by the same schema in the API and when `caches.json` is read back by `cache/`).
 * @module
 */
import { SpanNode } from './apm.ts';
import { Problem } from './common.ts';

export {
  ALERT_EXPRESSION_KINDS,
  AlertEvent,
  AlertExpressionInput,
  AlertHistoryAnswer,
  AlertRule,
  AlertRuleInput,
  AlertRulesAnswer,
  AlertStatus,
  AlertsAnswer,
  alertRouteSchemas,
  ReceiverInput,
  Silence,
  SilenceInput,
  SilencesAnswer,
} from './alerts.ts';
export type { SpanNodeShape } from './apm.ts';
export {
  apmRouteSchemas,
  BottlenecksAnswer,
  CustomMetricsAnswer,
  DatabaseMetricsAnswer,
  EndpointMetrics,
  EndpointMetricsAnswer,
  EndpointSeriesAnswer,
  EndpointSeriesQuery,
  QueryFinding,
  QueryMetrics,
  RecentTracesAnswer,
  SeriesGroup,
  ServicesAnswer,
  SPAN_KINDS,
  SpanNode,
  TraceQuery,
  TraceTree,
} from './apm.ts';
export {
  CacheEntryParams,
  CacheEntryQuery,
  CacheGroupStats,
  CacheListAnswer,
  CacheListQuery,
  CacheParams,
  CacheStatistics,
  CacheSummary,
  CreatedCache,
  cacheRouteSchemas,
  MAX_CACHE_KEY_LENGTH,
  MissRatioPoint,
  TtlEstimate,
} from './caches.ts';
export {
  Closed,
  Nullable,
  OpenObject,
  Problem,
  problems,
  StringEnum,
  WindowAnswer,
  WindowQuery,
} from './common.ts';
export { ingestRouteSchemas, ZipkinAnswer } from './ingest.ts';
export {
  AdviceQuery,
  CachedQueryAnswer,
  CachedQueryBody,
  ComprehensiveAnswer,
  LOG_FORMAT_NAMES,
  LogDigestAnswer,
  LogImportBody,
  LogImportQuery,
  optimizationRouteSchemas,
  PoolFigures,
  PoolSizingAdvice,
  PoolStats,
  PoolsAnswer,
  QueryDigest,
  Recommendation,
  RecommendationsAnswer,
} from './optimization.ts';
export { prometheusRouteSchemas } from './prometheus.ts';
export {
  DismissBody,
  EndpointEffect,
  EvidenceSeries,
  JoinedRecommendation,
  RecommendationAnswer,
  RecommendationApply,
  RecommendationEvidence,
  RecommendationGain,
  RecommendationListAnswer,
  RecommendationListQuery,
  RecommendationParams,
  RecommendationQuery,
  RecommendationTarget,
  recommendationRouteSchemas,
} from './recommendations.ts';
export {
  CapacityAnswer,
  CostAnswer,
  CurrentResourcesAnswer,
  Exhaustion,
  FORECAST_HORIZONS,
  HostsAnswer,
  ImportAnswer,
  ImportQuery,
  PredictionAnswer,
  ResourceBottleneck,
  ResourceBottlenecksAnswer,
  resourceRouteSchemas,
  ScalingAnswer,
  ScalingRecommendation,
  SeriesStatistics,
  StatisticsAnswer,
} from './resources.ts';
export {
  EndAnswer,
  StartTransactionAnswer,
  StartTransactionBody,
  StepAnswer,
  StepBody,
  TransactionStats,
  TransactionsAnswer,
  transactionRouteSchemas,
} from './transactions.ts';
export {
  BeaconAnswer,
  BeaconItem,
  PageExperience,
  UserExperienceAnswer,
  UserExperienceQuery,
  VITALS_METRIC_NAMES,
  vitalsRouteSchemas,
} from './vitals.ts';

/** Schemas referenced by `$ref` from route schemas, registered once with the app and the validators. */
export const SHARED_SCHEMAS: readonly object[] = [Problem, SpanNode];
