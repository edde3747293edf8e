/**
 * Span queries of the DuckDB store: the reads of `SpanReader` over the raw `spans` table (recent traces,
 * one trace, repeated calls under one parent, the endpoints calling a statement, business-transaction
 * marks). Windows are half-open `[fromNs, toNs)` on a span's start.
 * @module
 */
import { type DuckDBValue, listValue } from '@duckdb/node-api';
import type { Span } from '../../model/index.ts';
import type {
  EndpointSpanRef,
  RecentEndpointSpansQuery,
  RecentTracesQuery,
  RollupQuery,
  TimeWindow,
  TraceSummary,
  TransactionMarkRow,
} from '../store.ts';
import type { Connections } from './connections.ts';
import { listOf, rowToSpan, rowToTraceSummary, rowToTransactionMark, text } from './row-mapping.ts';

/** See `SpanReader.recentTraces`. */
export async function recentTraces(conn: Connections, q: RecentTracesQuery): Promise<TraceSummary[]> {
  const params: DuckDBValue[] = [q.window.fromNs, q.window.toNs];
  const having: string[] = [];
  if (q.service !== undefined) {
    params.push(q.service);
    having.push(`bool_or(service = $${params.length})`);
  }
  if (q.endpoint !== undefined) {
    params.push(q.endpoint);
    having.push(`bool_or(endpoint = $${params.length} AND kind IN (2, 5))`);
  }
  if (q.minDurationNs !== undefined) {
    params.push(q.minDurationNs);
    having.push(`max(start_ns + duration_ns) - min(start_ns) >= $${params.length}`);
  }
  if (q.error === true) having.push('bool_or(is_error)');
  if (q.error === false) having.push('NOT bool_or(is_error)');
  params.push(q.limit);
  const rows = await conn.rows(
    `SELECT trace_id, min(start_ns) AS start_ns, max(start_ns + duration_ns) - min(start_ns) AS duration_ns,
            count(*) AS spans, count(*) FILTER (WHERE is_error) AS errors,
            arg_min(service, (parent_span_id <> '')::INT * 1e19 + start_ns) AS root_service,
            arg_min(endpoint, (parent_span_id <> '')::INT * 1e19 + start_ns) AS root_endpoint,
            list(DISTINCT service ORDER BY service) AS services
     FROM spans
     WHERE trace_id IN (
       SELECT DISTINCT trace_id FROM spans
       WHERE (start_ns >= $1 AND start_ns < $2) OR (clock_flagged AND ingest_ns >= $1 AND ingest_ns < $2))
     GROUP BY trace_id
     ${having.length ? `HAVING ${having.join(' AND ')}` : ''}
     ORDER BY start_ns DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(rowToTraceSummary);
}

/** See `SpanReader.recentEndpointSpans`. */
export async function recentEndpointSpans(
  conn: Connections,
  q: RecentEndpointSpansQuery,
): Promise<EndpointSpanRef[]> {
  const params: DuckDBValue[] = [q.window.fromNs, q.window.toNs, q.perEndpoint];
  let filter = '';
  if (q.service !== undefined) {
    params.push(q.service);
    filter += ` AND service = $${params.length}`;
  }
  if (q.errorOnly) filter += ' AND is_error';
  const rows = await conn.rows(
    `SELECT trace_id, service, endpoint, start_ns, duration_ns, is_error FROM spans
     WHERE start_ns >= $1 AND start_ns < $2 AND kind IN (2, 5)${filter}
     QUALIFY row_number() OVER (PARTITION BY service, endpoint ORDER BY start_ns DESC, span_id) <= $3
     ORDER BY service, endpoint, start_ns DESC, span_id`,
    params,
  );
  return rows.map((r) => ({
    traceId: String(r.trace_id),
    service: String(r.service),
    endpoint: String(r.endpoint),
    startNs: BigInt(r.start_ns as bigint),
    durationNs: BigInt(r.duration_ns as bigint),
    isError: Boolean(r.is_error),
  }));
}

/** See `SpanReader.traceSpans`. */
export async function traceSpans(conn: Connections, traceId: string): Promise<Span[]> {
  const rows = await conn.rows(
    `SELECT s.*, r.attributes_json AS resource_json
     FROM spans s LEFT JOIN (SELECT resource_id, any_value(attributes_json) AS attributes_json FROM resources GROUP BY resource_id) r
       USING (resource_id)
     WHERE s.trace_id = $1 ORDER BY s.start_ns, s.span_id`,
    [traceId],
  );
  return rows.map(rowToSpan);
}

/** See `SpanReader.traceSpansIn`: one scan of the window (its zone maps on start_ns) for every trace. */
export async function traceSpansIn(
  conn: Connections,
  traceIds: readonly string[],
  window: TimeWindow,
): Promise<Map<string, Span[]>> {
  const out = new Map<string, Span[]>();
  if (traceIds.length === 0) return out;
  const rows = await conn.rows(
    `SELECT s.*, r.attributes_json AS resource_json
     FROM spans s LEFT JOIN (SELECT resource_id, any_value(attributes_json) AS attributes_json FROM resources GROUP BY resource_id) r
       USING (resource_id)
     WHERE s.start_ns >= $1 AND s.start_ns < $2 AND s.trace_id IN (SELECT unnest($3::VARCHAR[]))
     ORDER BY s.trace_id, s.start_ns, s.span_id`,
    [window.fromNs, window.toNs, listValue([...traceIds])],
  );
  for (const row of rows) {
    const span = rowToSpan(row);
    const list = out.get(span.traceId);
    if (list) list.push(span);
    else out.set(span.traceId, [span]);
  }
  return out;
}

/** See `SpanReader.transactionMarks`; with neither a window nor an id, every mark. */
export async function transactionMarks(
  conn: Connections,
  q: { window?: TimeWindow; transactionId?: string; service?: string | undefined },
): Promise<TransactionMarkRow[]> {
  const params: DuckDBValue[] = [];
  let which: string;
  if (q.transactionId !== undefined) {
    params.push(q.transactionId);
    which = 'tx_id = $1';
  } else {
    const w = q.window ?? { fromNs: 0n, toNs: 2n ** 62n };
    params.push(w.fromNs, w.toNs);
    let svc = '';
    if (q.service !== undefined) {
      params.push(q.service);
      svc = ' AND service = $3';
    }
    which = `tx_id IN (SELECT DISTINCT tx_id FROM spans WHERE tx_id IS NOT NULL AND start_ns >= $1 AND start_ns < $2${svc})`;
  }
  const rows = await conn.rows(
    `SELECT tx_id, tx_name, tx_event, tx_step, tx_success, service, start_ns, duration_ns, is_error
     FROM spans WHERE ${which} ORDER BY start_ns, span_id`,
    params,
  );
  return rows.map(rowToTransactionMark);
}

/** See `SpanReader.repeatedCallTraces`; SERVER children do not count (each is its own request). */
export async function repeatedCallTraces(
  conn: Connections,
  q: { window: TimeWindow; service?: string | undefined; minRepeats: number; limit: number },
): Promise<string[]> {
  const params: DuckDBValue[] = [q.window.fromNs, q.window.toNs, q.minRepeats];
  let svc = '';
  if (q.service !== undefined) {
    params.push(q.service);
    svc = `AND trace_id IN (SELECT trace_id FROM spans WHERE service = $${params.length} AND start_ns >= $1 AND start_ns < $2)`;
  }
  params.push(q.limit);
  const rows = await conn.rows(
    `SELECT trace_id, max(start_ns) AS last_ns FROM (
       SELECT trace_id, parent_span_id, service, coalesce(db_fingerprint, name) AS op, max(start_ns) AS start_ns
       FROM spans
       WHERE start_ns >= $1 AND start_ns < $2 AND parent_span_id <> '' AND kind <> 2 ${svc}
       GROUP BY trace_id, parent_span_id, service, op
       HAVING count(*) >= $3)
     GROUP BY trace_id ORDER BY last_ns DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => text(r.trace_id));
}

/**
 * See `SpanReader.dbCallerEndpoints`: per fingerprint of the db spans starting in the window (of the
 * service, when given), the endpoints of the latest-starting SERVER span of the same trace enclosing each call.
 */
export async function dbCallerEndpoints(conn: Connections, q: RollupQuery): Promise<Map<string, string[]>> {
  const params: DuckDBValue[] = [q.window.fromNs, q.window.toNs];
  let svc = '';
  if (q.service !== undefined) {
    params.push(q.service);
    svc = `AND d.service = $${params.length}`;
  }
  const rows = await conn.rows(
    `SELECT fp, list(DISTINCT ep ORDER BY ep) AS endpoints FROM (
       SELECT d.db_fingerprint AS fp, arg_max(s.endpoint, s.start_ns) AS ep
       FROM spans d JOIN spans s
         ON s.trace_id = d.trace_id AND s.kind = 2
        AND s.start_ns <= d.start_ns AND s.start_ns + s.duration_ns >= d.start_ns
       WHERE d.db_fingerprint IS NOT NULL AND d.start_ns >= $1 AND d.start_ns < $2 ${svc}
       GROUP BY d.trace_id, d.span_id, d.db_fingerprint)
     GROUP BY fp`,
    params,
  );
  return new Map(rows.map((r) => [text(r.fp), listOf(r.endpoints).map(text)]));
}
