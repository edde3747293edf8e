/**
 * `SpanReader.repeatedCallTraces` for the DuckDB store: the newest traces in which one parent has at
 * least `minRepeats` children of one service with the same statement (or name): the N+1 candidates.
 *
 * The window is read newest first, an hour at a time, each hour with the 15 minutes before it (a repeat
 * that straddles the hour), each trace counted in the hour of its last repeated call; once `limit` traces
 * are found no older hour can hold a newer one. A day with few repeats is read to its first hour, a
 * grouping of every call of the day; so each closed hour's groups of at least {@link KEPT_MIN_REPEATS}
 * calls are kept as (hour, trace, repeats, last call) rows in `repeated_calls_hourly` ({@link KeptHours}:
 * exact under late spans and retention), and read from there.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { SpanKind } from '../../model/index.ts';
import type { TimeWindow } from '../store.ts';
import type { Connections } from './connections.ts';
import { HOUR_NS, KeptHours, keptHoursSchema } from './kept-hours.ts';
import { big, text } from './row-mapping.ts';

/** How far before an hour its repeats are read (a repeat that straddles the hour). */
const REPEAT_SLACK_NS = 15n * 60_000_000_000n;
/** Groups kept per closed hour: at least this many calls (a smaller `minRepeats` reads the spans). */
const KEPT_MIN_REPEATS = 3;

const TABLE = { table: 'repeated_calls_hourly', columns: 'trace_id VARCHAR, repeats BIGINT, last_ns BIGINT' };

/** Tables of the kept hours (idempotent). */
export const REPEATED_CALLS_SCHEMA = keptHoursSchema(TABLE);

/** Query of {@link RepeatedCalls.traces}. */
export interface RepeatedCallsQuery {
  window: TimeWindow;
  service?: string | undefined;
  minRepeats: number;
  limit: number;
}

/** The N+1 candidate traces of a window, with the closed hours' groups kept. One per store. */
export class RepeatedCalls {
  readonly hours: KeptHours;

  constructor(
    private readonly conn: Connections,
    now: () => bigint,
  ) {
    this.hours = new KeptHours(conn, now, {
      ...TABLE,
      matters: (s) => s.kind !== SpanKind.SERVER && s.parentSpanId !== '',
      reachNs: REPEAT_SLACK_NS,
      compute: async (hour) => {
        const rows = await conn.rows(
          `SELECT trace_id, count(*) AS repeats, max(start_ns) AS last_ns
           FROM spans
           WHERE start_ns >= $1 AND start_ns < $2 AND parent_span_id <> '' AND kind <> 2
           GROUP BY trace_id, parent_span_id, service, coalesce(db_fingerprint, name)
           HAVING count(*) >= $3`,
          [hour - REPEAT_SLACK_NS, hour + HOUR_NS, KEPT_MIN_REPEATS],
        );
        return rows.map((r) => [text(r.trace_id), big(r.repeats), big(r.last_ns)]);
      },
    });
  }

  /** See `SpanReader.repeatedCallTraces`. */
  async traces(q: RepeatedCallsQuery): Promise<{ traceId: string; lastNs: bigint }[]> {
    const { fromNs, toNs } = q.window;
    const { closedHours, slices } = this.hours.cut(fromNs, toNs);
    // Newest first; a kept hour only where its look back lies in the window (as a read of the spans has it).
    const units = [
      ...slices.map((x) => ({ ...x, kept: false })),
      ...closedHours.map((h) => ({
        fromNs: h,
        toNs: h + HOUR_NS,
        kept: q.minRepeats >= KEPT_MIN_REPEATS && h - REPEAT_SLACK_NS >= fromNs,
      })),
    ].sort((a, b) => (a.fromNs > b.fromNs ? -1 : 1));
    const found: { traceId: string; lastNs: bigint }[] = [];
    const seen = new Set<string>();
    for (const u of units) {
      if (found.length >= q.limit) break;
      const kept = u.kept && (await this.hours.ensure(u.fromNs));
      let rows = await this.read(q, u.fromNs, u.toNs, kept, q.limit - found.length);
      // A write may have dropped the kept hour while it was read: then the spans are read.
      if (kept && !this.hours.has(u.fromNs))
        rows = await this.read(q, u.fromNs, u.toNs, false, q.limit - found.length);
      for (const r of rows) {
        // A trace with repeats in two hours was counted in the newer one.
        if (!seen.has(r.traceId)) found.push(r);
        seen.add(r.traceId);
      }
    }
    return found.slice(0, q.limit);
  }

  /** The traces counted in `[from, to)`: from the kept groups of that hour, or from the spans. */
  private async read(
    q: RepeatedCallsQuery,
    from: bigint,
    to: bigint,
    kept: boolean,
    limit: number,
  ): Promise<{ traceId: string; lastNs: bigint }[]> {
    const readFrom = from - REPEAT_SLACK_NS > q.window.fromNs ? from - REPEAT_SLACK_NS : q.window.fromNs;
    const params: DuckDBValue[] = [q.minRepeats, from];
    let svc = '';
    if (q.service !== undefined) {
      params.push(q.service, readFrom, to);
      const n = params.length;
      svc = `AND trace_id IN (SELECT trace_id FROM spans WHERE service = $${n - 2} AND start_ns >= $${n - 1} AND start_ns < $${n})`;
    }
    let groups: string;
    if (kept) {
      groups = `SELECT trace_id, last_ns AS start_ns FROM ${TABLE.table} WHERE hour_ns = $2 AND repeats >= $1 ${svc}`;
    } else {
      params.push(readFrom, to);
      const n = params.length;
      groups = `SELECT trace_id, max(start_ns) AS start_ns
                FROM spans
                WHERE start_ns >= $${n - 1} AND start_ns < $${n} AND parent_span_id <> '' AND kind <> 2 ${svc}
                GROUP BY trace_id, parent_span_id, service, coalesce(db_fingerprint, name)
                HAVING count(*) >= $1`;
    }
    params.push(limit);
    const rows = await this.conn.rows(
      `SELECT trace_id, max(start_ns) AS last_ns FROM (${groups})
       GROUP BY trace_id HAVING max(start_ns) >= $2 ORDER BY last_ns DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ traceId: text(r.trace_id), lastNs: big(r.last_ns) }));
  }
}
