/**
 * `SpanReader.dbCallerEndpoints` for the DuckDB store: per database fingerprint, the endpoints of the
 * innermost SERVER spans of the same trace that enclose its calls.
 *
 * The answer is a join of the window's database calls to the server spans of their traces, an hour at a
 * time (one join over a day of 10 M spans needed more than the store's memory limit). Over a day that is
 * 24 joins, seconds of work repeated by every list of recommendations; so each closed hour's answer is kept
 * as (hour, service, fingerprint, endpoint) rows in `db_callers_hourly` ({@link KeptHours}: exact under
 * late spans and retention). The window's partial hours at either end and open hours are joined each time.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { SpanKind } from '../../model/index.ts';
import type { RollupQuery } from '../store.ts';
import type { Connections } from './connections.ts';
import { HOUR_NS, KeptHours, keptHoursSchema } from './kept-hours.ts';
import { listOf, text } from './row-mapping.ts';

/** How long before a statement its enclosing request may have started (longer requests are not seen). */
const CALLER_SLACK_NS = 15n * 60_000_000_000n;

const TABLE = { table: 'db_callers_hourly', columns: 'service VARCHAR, fp VARCHAR, endpoint VARCHAR' };

/** Tables of the kept hours (idempotent). */
export const DB_CALLERS_SCHEMA = keptHoursSchema(TABLE);

/** The caller endpoints of a window, with the closed hours' answers kept. One per store. */
export class DbCallers {
  readonly hours: KeptHours;

  constructor(
    private readonly conn: Connections,
    now: () => bigint,
  ) {
    this.hours = new KeptHours(conn, now, {
      ...TABLE,
      matters: (s) => s.kind === SpanKind.SERVER || s.db !== undefined,
      reachNs: CALLER_SLACK_NS,
      compute: async (hour) =>
        (await joinSlice(conn, hour, hour + HOUR_NS, undefined)).map((r) => [r.service, r.fp, r.endpoint]),
    });
  }

  /** See `SpanReader.dbCallerEndpoints`. */
  async callers(q: RollupQuery): Promise<Map<string, string[]>> {
    const found = new Map<string, Set<string>>();
    const add = (fp: string, ep: string) => {
      const set = found.get(fp) ?? new Set<string>();
      set.add(ep);
      found.set(fp, set);
    };
    const { closedHours, slices } = this.hours.cut(q.window.fromNs, q.window.toNs);
    const kept: bigint[] = [];
    for (const hour of closedHours) {
      if (await this.hours.ensure(hour)) kept.push(hour);
      else slices.push({ fromNs: hour, toNs: hour + HOUR_NS });
    }
    for (let i = 0; i < kept.length; i += 500) {
      const part = kept.slice(i, i + 500);
      const params: DuckDBValue[] = [...part];
      let svc = '';
      if (q.service !== undefined) {
        params.push(q.service);
        svc = ` AND service = $${params.length}`;
      }
      const rows = await this.conn.rows(
        `SELECT DISTINCT fp, endpoint FROM ${TABLE.table}
         WHERE hour_ns IN (${part.map((_, k) => `$${k + 1}`).join(', ')})${svc}`,
        params,
      );
      for (const r of rows) add(text(r.fp), text(r.endpoint));
    }
    // A write may have dropped a kept hour since it was read: those are joined too.
    for (const hour of kept.filter((h) => !this.hours.has(h)))
      slices.push({ fromNs: hour, toNs: hour + HOUR_NS });
    for (const s of slices)
      for (const r of await joinSlice(this.conn, s.fromNs, s.toNs, q.service)) add(r.fp, r.endpoint);
    return new Map([...found].map(([fp, eps]) => [fp, [...eps].sort()]));
  }
}

/**
 * The (service of the call, fingerprint, endpoint) triples of the database calls starting in
 * `[from, to)` (of `service`, when given): each call joined to the latest-starting SERVER span of its
 * trace that encloses it and started at most {@link CALLER_SLACK_NS} before the slice.
 */
async function joinSlice(
  conn: Connections,
  from: bigint,
  to: bigint,
  service: string | undefined,
): Promise<{ service: string; fp: string; endpoint: string }[]> {
  const params: DuckDBValue[] = [from, to, from - CALLER_SLACK_NS];
  let svc = '';
  if (service !== undefined) {
    params.push(service);
    svc = `AND d.service = $${params.length}`;
  }
  const rows = await conn.rows(
    `SELECT service, fp, list(DISTINCT ep) AS endpoints FROM (
       SELECT d.service AS service, d.db_fingerprint AS fp, arg_max(s.endpoint, s.start_ns) AS ep
       FROM spans d JOIN spans s
         ON s.trace_id = d.trace_id AND s.kind = 2
        AND s.start_ns <= d.start_ns AND s.start_ns + s.duration_ns >= d.start_ns
       WHERE d.db_fingerprint IS NOT NULL AND d.start_ns >= $1 AND d.start_ns < $2 ${svc}
         AND s.start_ns >= $3 AND s.start_ns < $2
       GROUP BY d.trace_id, d.span_id, d.service, d.db_fingerprint)
     GROUP BY service, fp`,
    params,
  );
  return rows.flatMap((r) =>
    listOf(r.endpoints).map((ep) => ({ service: text(r.service), fp: text(r.fp), endpoint: text(ep) })),
  );
}
