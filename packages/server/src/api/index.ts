export type { AlertDeps } from './alert-routes.ts';
export { alertRoutes } from './alert-routes.ts';
export type { ApmDeps } from './apm-routes.ts';
export { apmRoutes } from './apm-routes.ts';
export type { CacheDeps } from './cache-routes.ts';
export { cacheRoutes } from './cache-routes.ts';
export { DASHBOARD_CSP, dashboardDist, dashboardRoutes } from './dashboard-routes.ts';
export { docsRoutes, ERRORS_DOC, renderErrorsPage } from './docs-routes.ts';
export type { IngestDeps } from './ingest-routes.ts';
export { ingestRoutes } from './ingest-routes.ts';
export type { OptimizationDeps } from './optimization-routes.ts';
export { optimizationRoutes, rankRecommendations } from './optimization-routes.ts';
export type { OtlpGrpcDeps } from './otlp-grpc.ts';
export {
  grpcStatusOf,
  METRICS_SERVICE,
  OtlpGrpcServer,
  retryDelaySeconds,
  TRACE_SERVICE,
} from './otlp-grpc.ts';
export { installProblemHandlers, type PageFallback, sendProblem } from './problem.ts';
export type { PrometheusDeps } from './prometheus-routes.ts';
export { DURATION_BUCKETS_SECONDS, MAX_RED_SERIES, prometheusRoutes } from './prometheus-routes.ts';
export type { RecommendationDeps } from './recommendation-routes.ts';
export { recommendationRoutes } from './recommendation-routes.ts';
export type { ResourceDeps } from './resource-routes.ts';
export { hostOf, resourceRoutes } from './resource-routes.ts';
export { SHARED_SCHEMAS } from './schemas/index.ts';
export type { TransactionDeps } from './transaction-routes.ts';
export { transactionRoutes } from './transaction-routes.ts';
export { addSharedSchema, refuseMissingBody, serializerCompiler, validatorCompiler } from './validation.ts';
export type { VitalsDeps } from './vitals-routes.ts';
export { vitalsRoutes } from './vitals-routes.ts';
