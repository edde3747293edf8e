export type { ApmDeps } from './apm-routes.ts';
export { apmRoutes } from './apm-routes.ts';
export type { IngestDeps } from './ingest-routes.ts';
export { ingestRoutes } from './ingest-routes.ts';
export { installProblemHandlers, sendProblem } from './problem.ts';
export type { TransactionDeps } from './transaction-routes.ts';
export { transactionRoutes } from './transaction-routes.ts';
export type { VitalsDeps } from './vitals-routes.ts';
export { vitalsRoutes } from './vitals-routes.ts';
