export type { DatabaseMetricsOptions, QueryMetrics } from './db-metrics.ts';
export { databaseMetrics } from './db-metrics.ts';
export type { EndpointSeriesOptions, SeriesGroup, SeriesPoint } from './endpoint-series.ts';
export { endpointSeries, seriesStepNs } from './endpoint-series.ts';
export type { QueryFinding, QueryFindingsOptions, RejectedGroup } from './query-findings.ts';
export { nPlusOneFix, queryFindings } from './query-findings.ts';
export type { EndpointMetrics, EndpointMetricsOptions } from './red-metrics.ts';
export { apdexOfSketch, clampedQuantile, endpointMetrics } from './red-metrics.ts';
export type { SequentialQueries, SiblingGroup } from './repeated-calls.ts';
export { sequentialQueries, siblingGroups } from './repeated-calls.ts';
export type { RankedSpanNode, RankedTraceTree } from './span-percentiles.ts';
export { percentileOf, rankTraceSpans } from './span-percentiles.ts';
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
