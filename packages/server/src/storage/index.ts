export type { ClickHouseStoreOptions } from './clickhouse/clickhouse-store.ts';
export { createClickHouseStore } from './clickhouse/clickhouse-store.ts';
export type { DuckDbStoreOptions } from './duckdb/duckdb-store.ts';
export { createDuckDbStore } from './duckdb/duckdb-store.ts';
export type {
  DbAggregate,
  EndpointAggregate,
  EndpointSeriesQuery,
  EndpointSpanRef,
  EndpointStepAggregate,
  MetricQuery,
  MetricReader,
  MetricWriter,
  RecentEndpointSpansQuery,
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
  VitalsAggregate,
  VitalsQuery,
  VitalsReader,
  VitalsWriter,
} from './store.ts';
