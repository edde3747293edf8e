/**
 * DuckDB rows → model objects: the cell conversions (BIGINT, NULL, LIST) and one mapper per row shape the
 * queries of this store return (spans, replayed spans, trace summaries, transaction marks, metric points).
 * Column names are those of `schema.ts` or the aliases of the query that uses the mapper.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { Attributes, DbCall, MetricPoint, Span, SpanKind, StatusCode } from '../../model/index.ts';
import type { RollupSpan } from '../rollup-aggregator.ts';
import type { TraceSummary, TransactionMarkRow } from '../store.ts';
import type { Row } from './connections.ts';

type Cell = DuckDBValue | undefined;

/** A numeric cell as a number (BIGINT → number; NULL → 0). */
export const num = (v: Cell): number => (typeof v === 'bigint' ? Number(v) : ((v ?? 0) as number));
/** A numeric cell as a bigint (NULL → 0n). */
export const big = (v: Cell): bigint => (typeof v === 'bigint' ? v : BigInt((v ?? 0) as number));
/** A cell as a string (NULL → `''`). */
export const text = (v: Cell): string => (v === null || v === undefined ? '' : String(v));

/** The items of a LIST cell (none for NULL). */
export function listOf(v: Cell): DuckDBValue[] {
  if (v === null || v === undefined) return [];
  return (v as unknown as { items: DuckDBValue[] }).items;
}

/** The fields of a STRUCT cell. */
export function structOf(v: Cell): Record<string, DuckDBValue> {
  return (v as unknown as { entries: Record<string, DuckDBValue> }).entries;
}

/** A nullable BOOLEAN cell (NULL → undefined). */
const optionalBool = (v: Cell): boolean | undefined => ((v ?? null) === null ? undefined : v === true);

/** The `db_*` columns of a span row, or undefined when the span calls no database. */
function dbCallOf(r: Row): DbCall | undefined {
  return (r.db_fingerprint ?? null) === null
    ? undefined
    : {
        system: text(r.db_system),
        database: text(r.db_name),
        statement: text(r.db_statement),
        fingerprint: text(r.db_fingerprint),
      };
}

/** A `spans` row (all columns) with its resource's `resource_json` → the span. */
export function rowToSpan(r: Row): Span {
  const start = big(r.start_ns);
  const duration = big(r.duration_ns);
  return {
    traceId: text(r.trace_id),
    spanId: text(r.span_id),
    parentSpanId: text(r.parent_span_id),
    service: text(r.service),
    name: text(r.name),
    endpoint: text(r.endpoint),
    kind: num(r.kind) as SpanKind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + duration,
    durationNano: duration,
    statusCode: num(r.status_code) as StatusCode,
    statusMessage: text(r.status_message),
    httpStatusCode: num(r.http_status),
    isError: r.is_error === true,
    db: dbCallOf(r),
    clockFlagged: r.clock_flagged === true,
    transaction:
      (r.tx_id ?? null) === null
        ? undefined
        : {
            id: text(r.tx_id),
            name: text(r.tx_name),
            event: text(r.tx_event) as 'start' | 'step' | 'end',
            step: text(r.tx_step),
            success: optionalBool(r.tx_success),
          },
    scope: text(r.scope),
    resourceAttributes: JSON.parse(text(r.resource_json) || '{}'),
    attributes: JSON.parse(text(r.attributes_json) || '{}'),
    events: JSON.parse(text(r.events_json) || '[]'),
    links: JSON.parse(text(r.links_json) || '[]'),
  };
}

/** A `spans` row (the columns rollups need) → the fields a rollup replay adds. */
export function rowToRollupSpan(r: Row): RollupSpan {
  return {
    service: text(r.service),
    endpoint: text(r.endpoint),
    kind: num(r.kind) as SpanKind,
    parentSpanId: text(r.parent_span_id),
    startTimeUnixNano: big(r.start_ns),
    durationNano: big(r.duration_ns),
    isError: r.is_error === true,
    clockFlagged: r.clock_flagged === true,
    db: dbCallOf(r),
  };
}

/** A row of the recent-traces query (`root_service`, `root_endpoint`, `spans`, `errors`, `services`). */
export function rowToTraceSummary(r: Row): TraceSummary {
  return {
    traceId: text(r.trace_id),
    service: text(r.root_service),
    endpoint: text(r.root_endpoint),
    startNs: big(r.start_ns),
    durationNs: big(r.duration_ns),
    spanCount: num(r.spans),
    errorCount: num(r.errors),
    services: listOf(r.services).map(text),
  };
}

/** A `spans` row with its `tx_*` columns → a transaction mark. */
export function rowToTransactionMark(r: Row): TransactionMarkRow {
  return {
    id: text(r.tx_id),
    name: text(r.tx_name),
    event: text(r.tx_event) as TransactionMarkRow['event'],
    step: text(r.tx_step),
    success: optionalBool(r.tx_success),
    service: text(r.service),
    startNs: big(r.start_ns),
    durationNs: big(r.duration_ns),
    isError: r.is_error === true,
  };
}

/** A `metric_points` row → the point. */
export function rowToMetricPoint(r: Row): MetricPoint {
  return {
    name: text(r.name),
    service: text(r.service),
    unit: text(r.unit),
    type: text(r.type) as MetricPoint['type'],
    monotonic: r.monotonic === true,
    temporality: num(r.temporality),
    timeUnixNano: big(r.time_ns),
    startTimeUnixNano: big(r.start_time_ns),
    value: num(r.value),
    count: num(r.count),
    sum: num(r.sum),
    min: (r.min ?? null) === null ? undefined : num(r.min),
    max: (r.max ?? null) === null ? undefined : num(r.max),
    buckets: JSON.parse(text(r.buckets_json) || 'null'),
    attributes: JSON.parse(text(r.attributes_json) || '{}') as Attributes,
    resourceAttributes: JSON.parse(text(r.resource_json) || '{}') as Attributes,
  };
}

/** A row of the bucketed metric query (`bucket`, averaged `value`) → a point at the bucket's start. */
export function rowToMetricBucket(r: Row, name: string): MetricPoint {
  return {
    name,
    service: text(r.service),
    unit: text(r.unit),
    type: text(r.type) as MetricPoint['type'],
    monotonic: r.monotonic === true,
    temporality: 0,
    timeUnixNano: big(r.bucket),
    startTimeUnixNano: big(r.bucket),
    value: num(r.value),
    count: 0,
    sum: 0,
    min: undefined,
    max: undefined,
    buckets: null,
    attributes: JSON.parse(text(r.attributes_json) || '{}') as Attributes,
    resourceAttributes: JSON.parse(text(r.resource_json) || '{}') as Attributes,
  };
}
