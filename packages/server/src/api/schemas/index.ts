/**
 * The API contract: every route's params, query, body and answers as TypeBox schemas (JSON Schema), from
 * which the server validates requests, `/docs/json` is generated, and the dashboard and SDK take their
 * types. Imports nothing from the project but itself.
 * @module
 */
import { SpanNode } from './apm.ts';
import { Problem } from './common.ts';

export type { SpanNodeShape } from './apm.ts';
export {
  apmRouteSchemas,
  BottlenecksAnswer,
  CustomMetricsAnswer,
  DatabaseMetricsAnswer,
  EndpointMetrics,
  EndpointMetricsAnswer,
  QueryFinding,
  QueryMetrics,
  RecentTracesAnswer,
  ServicesAnswer,
  SPAN_KINDS,
  SpanNode,
  TraceTree,
} from './apm.ts';
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
