export type { DatabaseMetricsOptions, QueryMetrics } from './db-metrics.ts';
export { databaseMetrics } from './db-metrics.ts';
export type { EndpointMetrics, EndpointMetricsOptions } from './red-metrics.ts';
export { apdexOfSketch, clampedQuantile, endpointMetrics } from './red-metrics.ts';
export type { ClockSkew, SpanNode, TraceTree } from './trace-tree.ts';
export { buildTraceTree, selfTimeNs } from './trace-tree.ts';
export type { StepStats, TransactionStats } from './transactions.ts';
export { transactionStats } from './transactions.ts';
export type { LoadBreakdown, PageExperience, UserExperienceReport, VitalSummary } from './web-vitals.ts';
export {
  BREAKDOWN_FIELDS,
  experienceScore,
  logNormalScore,
  userExperienceReport,
  VITALS_SCORE_WEIGHTS,
  VITALS_THRESHOLDS,
} from './web-vitals.ts';
