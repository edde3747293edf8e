import type { ClickHouseStoreOptions } from './clickhouse/clickhouse-store.ts';
import type { Store } from './store.ts';

export type { ClickHouseStoreOptions } from './clickhouse/clickhouse-store.ts';

/**
 * Opens a ClickHouse store (see `clickhouse/clickhouse-store.ts`). The adapter and `@clickhouse/client`
 * are loaded on this call only: a server on the embedded DuckDB store never loads them (~10 MB of RSS and
 * 50 files read at start-up).
 * @throws SiperfError as `createClickHouseStore` of `clickhouse-store.ts` does.
 */
export async function createClickHouseStore(options: ClickHouseStoreOptions): Promise<Store> {
  const adapter = await import('./clickhouse/clickhouse-store.ts');
  return adapter.createClickHouseStore(options);
}
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
