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
import {
  big,
  listOf,
  rowToSpan,
  rowToTraceSummary,
  rowToTransactionMark,
  structOf,
  text,
} from './row-mapping.ts';

/** Slice of the window that one caller-endpoint join covers. */
const CALLER_SLICE_NS = 3_600_000_000_000n;
/** How long before a statement its enclosing request may have started (longer requests are not seen). */
const CALLER_SLACK_NS = 15n * 60_000_000_000n;

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
  // A top-n aggregate per endpoint (a heap per group): no sort of the window's spans, as row_number()
  // over a window partition needs (2.6 s against 6.9 s for a day of 10 M spans).
  const rows = await conn.rows(
    `SELECT service, endpoint,
            arg_max({'t': trace_id, 's': start_ns, 'd': duration_ns, 'e': is_error, 'id': span_id}, start_ns, $3) AS top
     FROM spans
     WHERE start_ns >= $1 AND start_ns < $2 AND kind IN (2, 5)${filter}
     GROUP BY service, endpoint`,
    params,
  );
  const out: EndpointSpanRef[] = [];
  for (const row of rows) {
    const service = text(row.service);
    const endpoint = text(row.endpoint);
    const top = listOf(row.top).map((v) => structOf(v));
    // Newest first; equal starts by span id, as the contract orders them.
    top.sort((x, y) => {
      const [xs, ys] = [big(x.s), big(y.s)];
      if (xs !== ys) return xs > ys ? -1 : 1;
      return text(x.id) < text(y.id) ? -1 : 1;
    });
    for (const e of top)
      out.push({
        traceId: text(e.t),
        service,
        endpoint,
        startNs: big(e.s),
        durationNs: big(e.d),
        isError: e.e === true,
      });
  }
  return out.sort((x, y) =>
    x.service !== y.service
      ? x.service < y.service
        ? -1
        : 1
      : x.endpoint !== y.endpoint
        ? x.endpoint < y.endpoint
          ? -1
          : 1
        : 0,
  );
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
  // Newest hour first, each read with the 15 minutes before it (a repeat that straddles the hour), each
  // trace counted in the hour of its last repeated call: once `limit` traces are found, no older hour can
  // hold a more recent one, so a day's window reads its last hour only when that hour has enough.
  const found: string[] = [];
  for (let to = q.window.toNs; to > q.window.fromNs && found.length < q.limit; to -= CALLER_SLICE_NS) {
    const from = to - CALLER_SLICE_NS > q.window.fromNs ? to - CALLER_SLICE_NS : q.window.fromNs;
    const readFrom = from - CALLER_SLACK_NS > q.window.fromNs ? from - CALLER_SLACK_NS : q.window.fromNs;
    const params: DuckDBValue[] = [readFrom, to, q.minRepeats, from];
    let svc = '';
    if (q.service !== undefined) {
      params.push(q.service);
      svc = `AND trace_id IN (SELECT trace_id FROM spans WHERE service = $${params.length} AND start_ns >= $1 AND start_ns < $2)`;
    }
    params.push(q.limit - found.length);
    const rows = await conn.rows(
      `SELECT trace_id, max(start_ns) AS last_ns FROM (
         SELECT trace_id, parent_span_id, service, coalesce(db_fingerprint, name) AS op, max(start_ns) AS start_ns
         FROM spans
         WHERE start_ns >= $1 AND start_ns < $2 AND parent_span_id <> '' AND kind <> 2 ${svc}
         GROUP BY trace_id, parent_span_id, service, op
         HAVING count(*) >= $3)
       GROUP BY trace_id HAVING max(start_ns) >= $4 ORDER BY last_ns DESC LIMIT $${params.length}`,
      params,
    );
    for (const r of rows) {
      // A trace with repeats in two hours was counted in the newer one.
      const traceId = text(r.trace_id);
      if (!found.includes(traceId)) found.push(traceId);
    }
  }
  return found.slice(0, q.limit);
}

/**
 * See `SpanReader.dbCallerEndpoints`: per fingerprint of the db spans starting in the window (of the
 * service, when given), the endpoints of the latest-starting SERVER span of the same trace enclosing each call.
 */
export async function dbCallerEndpoints(conn: Connections, q: RollupQuery): Promise<Map<string, string[]>> {
  // The join holds the server spans of its slice in memory: slices of an hour keep that to a few MiB per
  // 10 M spans a day, where one join over a day's spans needed more than the store's memory_limit.
  const found = new Map<string, Set<string>>();
  for (let from = q.window.fromNs; from < q.window.toNs; from += CALLER_SLICE_NS) {
    const to = from + CALLER_SLICE_NS < q.window.toNs ? from + CALLER_SLICE_NS : q.window.toNs;
    const params: DuckDBValue[] = [from, to, from - CALLER_SLACK_NS];
    let svc = '';
    if (q.service !== undefined) {
      params.push(q.service);
      svc = `AND d.service = $${params.length}`;
    }
    const rows = await conn.rows(
      `SELECT fp, list(DISTINCT ep) AS endpoints FROM (
         SELECT d.db_fingerprint AS fp, arg_max(s.endpoint, s.start_ns) AS ep
         FROM spans d JOIN spans s
           ON s.trace_id = d.trace_id AND s.kind = 2
          AND s.start_ns <= d.start_ns AND s.start_ns + s.duration_ns >= d.start_ns
         WHERE d.db_fingerprint IS NOT NULL AND d.start_ns >= $1 AND d.start_ns < $2 ${svc}
           AND s.start_ns >= $3 AND s.start_ns < $2
         GROUP BY d.trace_id, d.span_id, d.db_fingerprint)
       GROUP BY fp`,
      params,
    );
    for (const r of rows) {
      const fp = text(r.fp);
      const set = found.get(fp) ?? new Set<string>();
      for (const ep of listOf(r.endpoints)) set.add(text(ep));
      found.set(fp, set);
    }
  }
  return new Map([...found].map(([fp, eps]) => [fp, [...eps].sort()]));
}
