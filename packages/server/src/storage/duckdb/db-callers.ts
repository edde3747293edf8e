/**
 * `SpanReader.dbCallerEndpoints` for the DuckDB store: per database fingerprint, the endpoints of the
 * innermost SERVER spans of the same trace that enclose its calls.
 *
 * The answer is a join of the window's database calls to the server spans of their traces, an hour at a
 * time (one join over a day of 10 M spans needed more than the store's memory limit). Over a day that is
 * 24 joins, seconds of work repeated by every list of recommendations; so the answer of each whole hour that
 * is closed (its end at least {@link SETTLE_NS} in the past) is kept in `db_callers_hourly` as
 * (hour, service, fingerprint, endpoint) rows once computed, with the hour in `db_callers_hours`, and read
 * from there afterwards — across restarts too. The window's partial hours at either end and hours not yet
 * closed are joined each time.
 *
 * Kept exact: spans written later into a kept hour (a late exporter, an import of old traces) drop that
 * hour's rows, as does retention deleting spans that started in it; the hour is joined again when next
 * asked. A computation that a write into its hour overtook is not kept.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { Span } from '../../model/index.ts';
import { SpanKind } from '../../model/index.ts';
import type { RollupQuery } from '../store.ts';
import type { Connections } from './connections.ts';
import { big, listOf, text } from './row-mapping.ts';

const HOUR_NS = 3_600_000_000_000n;
/** How long before a statement its enclosing request may have started (longer requests are not seen). */
const CALLER_SLACK_NS = 15n * 60_000_000_000n;
/** An hour is kept once it ended this long ago: spans of it still on their way have arrived. */
const SETTLE_NS = 20n * 60_000_000_000n;

/** Tables of the kept hours (idempotent). */
export const DB_CALLERS_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS db_callers_hourly (hour_ns BIGINT, service VARCHAR, fp VARCHAR, endpoint VARCHAR)',
  'CREATE TABLE IF NOT EXISTS db_callers_hours (hour_ns BIGINT PRIMARY KEY)',
];

/** The caller endpoints of a window, with the closed hours' answers kept. One per store. */
export class DbCallers {
  /** Hours whose rows are in `db_callers_hourly`. */
  private readonly kept = new Set<bigint>();
  /** Writes seen per hour since start: a computation that a write overtook is not kept. */
  private readonly writes = new Map<bigint, number>();
  /** Hours being joined for keeping: a second request waits for the first. */
  private readonly computing = new Map<bigint, Promise<void>>();

  constructor(
    private readonly conn: Connections,
    private readonly now: () => bigint,
  ) {}

  /** Reads which hours are kept (at open). */
  async load(): Promise<void> {
    for (const r of await this.conn.rows('SELECT hour_ns FROM db_callers_hours'))
      this.kept.add(big(r.hour_ns));
  }

  /**
   * Spans were written: the kept hours in which a database call or a server span starts are dropped.
   * Synchronous for the set (reads from now on join those hours); the rows go in the write queue.
   */
  written(spans: readonly Span[]): void {
    const dropped: bigint[] = [];
    for (const s of spans) {
      if (s.kind !== SpanKind.SERVER && s.db === undefined) continue;
      const hour = s.startTimeUnixNano - (s.startTimeUnixNano % HOUR_NS);
      this.writes.set(hour, (this.writes.get(hour) ?? 0) + 1);
      if (this.kept.delete(hour)) dropped.push(hour);
    }
    if (dropped.length > 0) void this.drop(dropped).catch(() => undefined);
  }

  /**
   * Retention is about to delete the spans that started in `[fromNs, toNs]`: the hours they touch are
   * dropped. Call inside the write queue (it writes on the writer connection directly).
   */
  async retained(fromNs: bigint, toNs: bigint): Promise<void> {
    const hours = [...this.kept].filter((h) => h + HOUR_NS > fromNs && h <= toNs);
    for (const h of hours) {
      this.kept.delete(h);
      this.writes.set(h, (this.writes.get(h) ?? 0) + 1);
    }
    if (hours.length > 0) await this.deleteRows(hours);
  }

  /** See `SpanReader.dbCallerEndpoints`. */
  async callers(q: RollupQuery): Promise<Map<string, string[]>> {
    const found = new Map<string, Set<string>>();
    const add = (fp: string, ep: string) => {
      const set = found.get(fp) ?? new Set<string>();
      set.add(ep);
      found.set(fp, set);
    };
    const closedBefore = this.now() - SETTLE_NS;
    const keptHours: bigint[] = [];
    for (let from = q.window.fromNs; from < q.window.toNs; ) {
      const hourEnd = from - (from % HOUR_NS) + HOUR_NS;
      const to = hourEnd < q.window.toNs ? hourEnd : q.window.toNs;
      const whole = from % HOUR_NS === 0n && to === hourEnd;
      if (whole && hourEnd <= closedBefore && (await this.keep(from))) {
        keptHours.push(from);
      } else {
        for (const r of await joinSlice(this.conn, from, to, q.service)) add(r.fp, r.endpoint);
      }
      from = to;
    }
    // A write may have dropped a kept hour since: those are joined instead.
    for (let i = 0; i < keptHours.length; i += 500) {
      const part = keptHours.slice(i, i + 500);
      const params: DuckDBValue[] = [...part];
      let svc = '';
      if (q.service !== undefined) {
        params.push(q.service);
        svc = ` AND service = $${params.length}`;
      }
      const rows = await this.conn.rows(
        `SELECT DISTINCT fp, endpoint FROM db_callers_hourly
         WHERE hour_ns IN (${part.map((_, k) => `$${k + 1}`).join(', ')})${svc}`,
        params,
      );
      for (const r of rows) add(text(r.fp), text(r.endpoint));
    }
    for (const hour of keptHours.filter((h) => !this.kept.has(h)))
      for (const r of await joinSlice(this.conn, hour, hour + HOUR_NS, q.service)) add(r.fp, r.endpoint);
    return new Map([...found].map(([fp, eps]) => [fp, [...eps].sort()]));
  }

  /**
   * Joins a closed hour for every service and keeps its rows, unless a write into it overtook the join.
   * @returns whether the hour is kept (its rows are in the table).
   */
  private keep(hour: bigint): Promise<boolean> {
    if (this.kept.has(hour)) return Promise.resolve(true);
    let run = this.computing.get(hour);
    if (!run) {
      const writesBefore = this.writes.get(hour) ?? 0;
      run = (async () => {
        const rows = await joinSlice(this.conn, hour, hour + HOUR_NS, undefined);
        await this.conn.serial(async () => {
          if ((this.writes.get(hour) ?? 0) !== writesBefore) return;
          const w = this.conn.writer;
          await w.run('BEGIN TRANSACTION');
          try {
            await w.run('DELETE FROM db_callers_hourly WHERE hour_ns = $1', [hour]);
            for (let i = 0; i < rows.length; i += 300) {
              const part = rows.slice(i, i + 300);
              const params: DuckDBValue[] = [hour];
              const values = part.map((r) => {
                params.push(r.service, r.fp, r.endpoint);
                const n = params.length;
                return `($1, $${n - 2}, $${n - 1}, $${n})`;
              });
              await w.run(`INSERT INTO db_callers_hourly VALUES ${values.join(', ')}`, params);
            }
            await w.run('INSERT OR IGNORE INTO db_callers_hours VALUES ($1)', [hour]);
            await w.run('COMMIT');
          } catch (err) {
            await w.run('ROLLBACK').catch(() => undefined);
            throw err;
          }
          this.kept.add(hour);
        });
      })().finally(() => this.computing.delete(hour));
      this.computing.set(hour, run);
    }
    return run.then(() => this.kept.has(hour));
  }

  private drop(hours: bigint[]): Promise<void> {
    return this.conn.serial(() => this.deleteRows(hours));
  }

  private async deleteRows(hours: bigint[]): Promise<void> {
    const w = this.conn.writer;
    for (let i = 0; i < hours.length; i += 500) {
      const part = hours.slice(i, i + 500);
      const list = part.map((_, k) => `$${k + 1}`).join(', ');
      await w.run(`DELETE FROM db_callers_hours WHERE hour_ns IN (${list})`, part);
      await w.run(`DELETE FROM db_callers_hourly WHERE hour_ns IN (${list})`, part);
    }
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
