/**
 * ClickHouse schema of the scale-out store. Only what ClickHouse 18.16 (Debian's) has: MergeTree engines
 * with a custom `PARTITION BY`, `ReplacingMergeTree`, plain types, `Nullable`. No `Map`, `TTL`,
 * `DateTime64`, `CODEC` or `LowCardinality`. Times are Int64 ns since the epoch, as in the DuckDB store.
 *
 * Every table is partitioned by the day of its retention clock (`ingest_ns`, `written_ns`, `time_ns`), so
 * retention drops whole partitions and deletes only inside the one day that straddles the cut.
 *
 * - `spans`: ReplacingMergeTree ordered by (trace_id, span_id): a span written twice (two nodes taking the
 *   same exporter retry at the same moment) collapses to one row when parts merge, and trace reads take
 *   one row per span id (`LIMIT 1 BY`) before that.
 * - `*_rollups` (minute tier) and `*_rollups_hourly`/`_tenminute`: one row per (key, bucket, slot) with a
 *   `version`; a read takes the newest version of each slot and skips the deleted ones. Writers add rows
 *   with new random slots (partial states: DDSketch bytes, hex-encoded, and counters); compaction
 *   replaces several slots by one in a single INSERT (a merged row plus a deletion mark per old slot), so
 *   a read never sees both.
 * - `store_meta`: the tier watermarks, newest version per key.
 * @module
 */

/** Days since the epoch of an Int64 ns column, the partition key. */
const DAY = (column: string) => `intDiv(${column}, 86400000000000)`;

/** A rollup family: identity columns, carried columns, counters. */
export interface ChRollupSpec {
  table: string;
  keys: readonly string[];
  carried: readonly string[];
  sums: readonly string[];
  errorSketch: boolean;
}

/** Per (service, endpoint, kind): requests, errors, total ms, and the failed requests' sketch. */
export const CH_ENDPOINT_ROLLUP: ChRollupSpec = {
  table: 'endpoint_rollups',
  keys: ['service', 'endpoint', 'kind'],
  carried: [],
  sums: ['requests', 'errors', 'sum_ms'],
  errorSketch: true,
};

/** Per (service, db system, database, fingerprint): calls and total ms, with the statement. */
export const CH_DB_ROLLUP: ChRollupSpec = {
  table: 'db_rollups',
  keys: ['service', 'system', 'database', 'fingerprint'],
  carried: ['statement'],
  sums: ['calls', 'sum_ms'],
  errorSketch: false,
};

/** Coarser tiers, coarsest first (as the DuckDB store's). */
export const CH_TIERS = [
  { suffix: 'hourly', stepNs: 3_600_000_000_000n, watermarkKey: 'hourly_watermark' },
  { suffix: 'tenminute', stepNs: 600_000_000_000n, watermarkKey: 'tenminute_watermark' },
] as const;

/** A tier's table. */
export const tierTableOf = (spec: ChRollupSpec, suffix: string) => `${spec.table}_${suffix}`;

function rollupTables(spec: ChRollupSpec): string[] {
  const type = (c: string) =>
    c === 'kind' ? 'UInt8' : c === 'sum_ms' ? 'Float64' : spec.sums.includes(c) ? 'Int64' : 'String';
  const cols = [
    ...[...spec.keys, ...spec.carried].map((c) => `${c} ${type(c)}`),
    'bucket_ns Int64',
    'slot UInt64',
    'version UInt64',
    'deleted UInt8',
    ...spec.sums.map((c) => `${c} ${type(c)}`),
    'min_ms Float64',
    'max_ms Float64',
    'sketch String',
    ...(spec.errorSketch ? ['error_sketch String'] : []),
    'first_minute_ns Int64',
    'last_minute_ns Int64',
    'written_ns Int64',
  ].join(', ');
  return [spec.table, ...CH_TIERS.map((t) => tierTableOf(spec, t.suffix))].map(
    (t) =>
      `CREATE TABLE IF NOT EXISTS ${t} (${cols}) ENGINE = ReplacingMergeTree(version)
       PARTITION BY ${DAY('written_ns')} ORDER BY (${spec.keys.join(', ')}, bucket_ns, slot)`,
  );
}

/** Statements that create every table (idempotent). */
export const CH_SCHEMA_SQL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS spans (
     trace_id String, span_id String, parent_span_id String, service String, name String, endpoint String,
     kind UInt8, start_ns Int64, duration_ns Int64, status_code UInt8, status_message String,
     http_status UInt16, is_error UInt8, db_system Nullable(String), db_name Nullable(String),
     db_statement Nullable(String), db_fingerprint Nullable(String), clock_flagged UInt8, scope String,
     resource_id UInt64, attributes_json String, events_json String, links_json String, ingest_ns Int64,
     tx_id Nullable(String), tx_name Nullable(String), tx_event Nullable(String), tx_step Nullable(String),
     tx_success Nullable(UInt8))
   ENGINE = ReplacingMergeTree PARTITION BY ${DAY('ingest_ns')} ORDER BY (trace_id, span_id)`,
  ...rollupTables(CH_ENDPOINT_ROLLUP),
  ...rollupTables(CH_DB_ROLLUP),
  `CREATE TABLE IF NOT EXISTS metric_points (
     name String, service String, unit String, type String, monotonic UInt8, temporality UInt8,
     time_ns Int64, start_time_ns Int64, value Float64, count Float64, sum Float64,
     min Nullable(Float64), max Nullable(Float64), buckets_json String, attributes_json String,
     resource_json String, host Nullable(String), ingest_ns Int64, point_id UInt64)
   ENGINE = MergeTree PARTITION BY ${DAY('ingest_ns')} ORDER BY (name, time_ns, point_id)`,
  `CREATE TABLE IF NOT EXISTS vitals (
     time_ns Int64, service String, page String, name String, value Float64, delta Float64, id String,
     navigation_type String, attribution_json String, seq UInt64)
   ENGINE = MergeTree PARTITION BY ${DAY('time_ns')} ORDER BY (service, page, name, id, time_ns, seq)`,
  // Resource attributes once per distinct resource; spans refer to them by a 52-bit hash of the JSON.
  `CREATE TABLE IF NOT EXISTS resources (resource_id UInt64, attributes_json String, ingest_ns Int64)
   ENGINE = ReplacingMergeTree ORDER BY resource_id`,
  `CREATE TABLE IF NOT EXISTS store_meta (key String, value Int64, version UInt64)
   ENGINE = ReplacingMergeTree(version) ORDER BY key`,
];
