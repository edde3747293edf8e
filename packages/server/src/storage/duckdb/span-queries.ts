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
  TimeWindow,
  TraceSummary,
  TransactionMarkRow,
} from '../store.ts';
import type { Connections } from './connections.ts';
import {
  big,
  listOf,
  rowToSpan,
  rowToTraceSummary,
  rowToTransactionMark,
  structOf,
  text,
} from './row-mapping.ts';

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

/**
 * Ends of the slices {@link recentEndpointSpans} reads, newest first, as time before the window's end: the
 * last hour, then the five before it, then the rest of the window.
 */
const RECENT_SLICES_NS = [3_600_000_000_000n, 6n * 3_600_000_000_000n];

/**
 * See `SpanReader.recentEndpointSpans`. The window is read newest first in slices
 * ({@link RECENT_SLICES_NS}); an endpoint that has its `perEndpoint` spans from the newer slices is left
 * out of the older ones (an anti join), so a day's busy endpoints are ranked over their last hour and only
 * the sparse ones over the whole day. Each slice keeps a top-n per endpoint (`arg_max(…, n)`, a heap per
 * group): no sort of the window's spans, as `row_number()` over a partition needs.
 */
export async function recentEndpointSpans(
  conn: Connections,
  q: RecentEndpointSpansQuery,
): Promise<EndpointSpanRef[]> {
  const found = new Map<string, EndpointSpanRef[]>();
  const full: [string, string][] = [];
  const { fromNs, toNs } = q.window;
  const ends = [toNs, ...RECENT_SLICES_NS.map((d) => toNs - d).filter((t) => t > fromNs), fromNs];
  for (let i = 0; i + 1 < ends.length; i++) {
    const [sliceTo, sliceFrom] = [ends[i]!, ends[i + 1]!];
    const params: DuckDBValue[] = [sliceFrom, sliceTo, q.perEndpoint];
    let filter = '';
    if (q.service !== undefined) {
      params.push(q.service);
      filter += ` AND s.service = $${params.length}`;
    }
    if (q.errorOnly) filter += ' AND s.is_error';
    let anti = '';
    if (full.length > 0) {
      const values = full.map(([svc, ep]) => {
        params.push(svc, ep);
        return `($${params.length - 1}, $${params.length})`;
      });
      anti = `ANTI JOIN (VALUES ${values.join(', ')}) AS f(service, endpoint)
              ON f.service = s.service AND f.endpoint = s.endpoint`;
    }
    const rows = await conn.rows(
      `SELECT s.service, s.endpoint,
              arg_max({'t': s.trace_id, 's': s.start_ns, 'd': s.duration_ns, 'e': s.is_error, 'id': s.span_id},
                      s.start_ns, $3) AS top
       FROM spans s ${anti}
       WHERE s.start_ns >= $1 AND s.start_ns < $2 AND s.kind IN (2, 5)${filter}
       GROUP BY s.service, s.endpoint`,
      params,
    );
    for (const row of rows) {
      const service = text(row.service);
      const endpoint = text(row.endpoint);
      const key = `${service}\u0000${endpoint}`;
      const list = found.get(key) ?? [];
      const top = listOf(row.top).map((v) => structOf(v));
      // Newest first; equal starts by span id, as the contract orders them.
      top.sort((x, y) => {
        const [xs, ys] = [big(x.s), big(y.s)];
        if (xs !== ys) return xs > ys ? -1 : 1;
        return text(x.id) < text(y.id) ? -1 : 1;
      });
      for (const e of top.slice(0, q.perEndpoint - list.length))
        list.push({
          traceId: text(e.t),
          service,
          endpoint,
          startNs: big(e.s),
          durationNs: big(e.d),
          isError: e.e === true,
        });
      found.set(key, list);
      if (list.length >= q.perEndpoint) full.push([service, endpoint]);
    }
  }
  const keys = [...found.keys()].sort((a, b) => {
    const [as, ae] = a.split('\u0000') as [string, string];
    const [bs, be] = b.split('\u0000') as [string, string];
    return as !== bs ? (as < bs ? -1 : 1) : ae < be ? -1 : ae > be ? 1 : 0;
  });
  return keys.flatMap((k) => found.get(k)!);
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
