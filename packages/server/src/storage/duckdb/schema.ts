/**
 * DuckDB schema of the embedded store. Plain types only (VARCHAR, BIGINT, DOUBLE, BLOB, BOOLEAN and
 * small unsigned ints) so the same tables translate to ClickHouse. Times: BIGINT ns since the epoch.
 * @module
 */

import { DB_CALLERS_SCHEMA } from './db-callers.ts';
import { REPEATED_CALLS_SCHEMA } from './repeated-calls.ts';
import { DB_ROLLUP, ENDPOINT_ROLLUP, rollupSchema } from './rollup-tables.ts';

/** Column order of `spans`, as the appender writes it. */
export const SPAN_COLUMNS = [
  'trace_id VARCHAR',
  'span_id VARCHAR',
  'parent_span_id VARCHAR',
  'service VARCHAR',
  'name VARCHAR',
  'endpoint VARCHAR',
  'kind UTINYINT',
  'start_ns BIGINT',
  'duration_ns BIGINT',
  'status_code UTINYINT',
  'status_message VARCHAR',
  'http_status USMALLINT',
  'is_error BOOLEAN',
  'db_system VARCHAR',
  'db_name VARCHAR',
  'db_statement VARCHAR',
  'db_fingerprint VARCHAR',
  'clock_flagged BOOLEAN',
  'scope VARCHAR',
  'resource_id BIGINT',
  'attributes_json VARCHAR',
  'events_json VARCHAR',
  'links_json VARCHAR',
  'ingest_ns BIGINT',
  'batch_id BIGINT',
  // Added after the first release: appended last so that ALTER TABLE upgrades older files.
  'tx_id VARCHAR',
  'tx_name VARCHAR',
  'tx_event VARCHAR',
  'tx_step VARCHAR',
  'tx_success BOOLEAN',
] as const;

/** Columns added to `spans` after the first release (older files get them by ALTER TABLE). */
const SPAN_COLUMNS_ADDED = [
  'tx_id VARCHAR',
  'tx_name VARCHAR',
  'tx_event VARCHAR',
  'tx_step VARCHAR',
  'tx_success BOOLEAN',
];

/** Statements that create every table (idempotent). */
export const SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS spans (${SPAN_COLUMNS.join(', ')})`,
  ...SPAN_COLUMNS_ADDED.map((c) => `ALTER TABLE spans ADD COLUMN IF NOT EXISTS ${c}`),
  ...rollupSchema(ENDPOINT_ROLLUP),
  ...rollupSchema(DB_ROLLUP),
  `CREATE TABLE IF NOT EXISTS metric_points (
     name VARCHAR, service VARCHAR, unit VARCHAR, type VARCHAR, monotonic BOOLEAN, temporality UTINYINT,
     time_ns BIGINT, start_time_ns BIGINT, value DOUBLE, count DOUBLE, sum DOUBLE, min DOUBLE, max DOUBLE,
     buckets_json VARCHAR, attributes_json VARCHAR, resource_json VARCHAR, ingest_ns BIGINT)`,
  // Web-vitals beacons: one row per item; time_ns is the server receive time.
  `CREATE TABLE IF NOT EXISTS vitals (
     time_ns BIGINT, service VARCHAR, page VARCHAR, name VARCHAR, value DOUBLE, delta DOUBLE, id VARCHAR,
     navigation_type VARCHAR, attribution_json VARCHAR)`,
  'CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value BIGINT)',
  // Resource attributes once per distinct resource; spans refer to them by a 52-bit hash of the JSON.
  'CREATE TABLE IF NOT EXISTS resources (resource_id BIGINT, attributes_json VARCHAR, ingest_ns BIGINT)',
  // Answers kept per closed hour once computed (`kept-hours.ts`): the caller endpoints of statements and
  // the N+1 candidates.
  ...DB_CALLERS_SCHEMA,
  ...REPEATED_CALLS_SCHEMA,
];
