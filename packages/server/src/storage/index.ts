export type { DuckDbStoreOptions } from './duckdb/duckdb-store.ts';
export { createDuckDbStore } from './duckdb/duckdb-store.ts';
export type {
  DbAggregate,
  EndpointAggregate,
  MetricQuery,
  MetricReader,
  MetricWriter,
  RecentTracesQuery,
  RetentionPolicy,
  RollupQuery,
  RollupReader,
  ServiceSummary,
  SpanReader,
  SpanWriter,
  Store,
  StoreMaintenance,
  TimeWindow,
  TraceSummary,
  TransactionMarkRow,
} from './store.ts';
