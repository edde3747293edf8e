/**
 * Answers of costly span reads kept per closed hour, in a table of the store, so that a day's window reads
 * 24 kept hours instead of scanning a day of spans again — across restarts too.
 *
 * An hour is kept once it is whole and closed: it ended at least {@link SETTLE_NS} ago, so the spans of
 * it still on their way have arrived. Kept answers stay exact: a span written later whose start lies in a
 * kept hour, or up to `reachNs` before it (a read of an hour looks that far back), drops that hour, as does
 * retention deleting spans of it; the hour is computed again when next asked. A computation that a write
 * into its hour overtook is not kept.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { Span } from '../../model/index.ts';
import type { Connections } from './connections.ts';
import { big } from './row-mapping.ts';

/** One hour, ns. */
export const HOUR_NS = 3_600_000_000_000n;
/** An hour is kept once it ended this long ago. */
const SETTLE_NS = 20n * 60_000_000_000n;

/** What one family of kept answers is. */
export interface KeptHoursSpec {
  /** Table of the answers' rows; its first column is `hour_ns BIGINT`. */
  table: string;
  /** The other columns, as DDL (`service VARCHAR, fp VARCHAR`). */
  columns: string;
  /** Whether a written span may change an hour's answer. */
  matters(span: Span): boolean;
  /** How far before an hour its read looks (spans that start there change it too), ns. */
  reachNs: bigint;
  /** The rows of the closed hour starting at `hourNs`, in column order after `hour_ns`. */
  compute(hourNs: bigint): Promise<DuckDBValue[][]>;
}

/** The tables of a family (idempotent DDL). */
export function keptHoursSchema(spec: Pick<KeptHoursSpec, 'table' | 'columns'>): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${spec.table} (hour_ns BIGINT, ${spec.columns})`,
    `CREATE TABLE IF NOT EXISTS ${spec.table}_hours (hour_ns BIGINT PRIMARY KEY)`,
  ];
}

/** A window cut at whole hours: the whole closed hours, and the rest as slices to read each time. */
export interface HourCut {
  closedHours: bigint[];
  slices: { fromNs: bigint; toNs: bigint }[];
}

/** The answers of one family kept per closed hour. One per store and family. */
export class KeptHours {
  /** Hours whose rows are in the table. */
  private readonly kept = new Set<bigint>();
  /** Writes seen per hour since start: a computation that a write overtook is not kept. */
  private readonly writes = new Map<bigint, number>();
  /** Hours being computed: a second request waits for the first. */
  private readonly computing = new Map<bigint, Promise<void>>();

  constructor(
    private readonly conn: Connections,
    private readonly now: () => bigint,
    readonly spec: KeptHoursSpec,
  ) {}

  /** Reads which hours are kept (at open). */
  async load(): Promise<void> {
    for (const r of await this.conn.rows(`SELECT hour_ns FROM ${this.spec.table}_hours`))
      this.kept.add(big(r.hour_ns));
  }

  /** Whether the hour's rows are in the table now. */
  has(hourNs: bigint): boolean {
    return this.kept.has(hourNs);
  }

  /**
   * `[fromNs, toNs)` cut at hour boundaries: the whole hours that are closed, and the partial or open rest.
   */
  cut(fromNs: bigint, toNs: bigint): HourCut {
    const closedBefore = this.now() - SETTLE_NS;
    const out: HourCut = { closedHours: [], slices: [] };
    for (let from = fromNs; from < toNs; ) {
      const hourEnd = from - (from % HOUR_NS) + HOUR_NS;
      const to = hourEnd < toNs ? hourEnd : toNs;
      if (from % HOUR_NS === 0n && to === hourEnd && hourEnd <= closedBefore) out.closedHours.push(from);
      else out.slices.push({ fromNs: from, toNs: to });
      from = to;
    }
    return out;
  }

  /**
   * Spans were written: the kept hours they may change are dropped. Synchronous for the set (reads from
   * now on compute those hours); the rows go in the write queue. Call before and after the write.
   */
  written(spans: readonly Span[]): void {
    // On the ingest path: the hours a batch touches are found with range checks (a batch's spans mostly
    // share one or two hours), and each distinct hour is counted once.
    const hours: bigint[] = [];
    let lo: bigint | undefined;
    const touch = (ns: bigint) => {
      if (lo !== undefined && ns >= lo && ns < lo + HOUR_NS) return;
      lo = ns - (ns % HOUR_NS);
      if (!hours.includes(lo)) hours.push(lo);
    };
    for (const s of spans) {
      if (!this.spec.matters(s)) continue;
      touch(s.startTimeUnixNano);
      touch(s.startTimeUnixNano + this.spec.reachNs);
    }
    const dropped: bigint[] = [];
    for (const hour of hours) {
      this.writes.set(hour, (this.writes.get(hour) ?? 0) + 1);
      if (this.kept.delete(hour)) dropped.push(hour);
    }
    if (dropped.length > 0) void this.conn.serial(() => this.deleteRows(dropped)).catch(() => undefined);
  }

  /**
   * Retention is about to delete the spans that started in `[fromNs, toNs]`: the hours they touch are
   * dropped. Call inside the write queue (it writes on the writer connection directly).
   */
  async retained(fromNs: bigint, toNs: bigint): Promise<void> {
    const hours = [...this.kept].filter((h) => h + HOUR_NS > fromNs && h - this.spec.reachNs <= toNs);
    for (const h of hours) {
      this.kept.delete(h);
      this.writes.set(h, (this.writes.get(h) ?? 0) + 1);
    }
    if (hours.length > 0) await this.deleteRows(hours);
  }

  /**
   * Computes and keeps a closed hour unless it is kept, or a write into it overtook the computation.
   * @returns whether the hour is kept (its rows are in the table).
   */
  ensure(hourNs: bigint): Promise<boolean> {
    if (this.kept.has(hourNs)) return Promise.resolve(true);
    let run = this.computing.get(hourNs);
    if (!run) {
      const writesBefore = this.writes.get(hourNs) ?? 0;
      run = (async () => {
        const rows = await this.spec.compute(hourNs);
        await this.conn.serial(async () => {
          if ((this.writes.get(hourNs) ?? 0) !== writesBefore) return;
          await this.insert(hourNs, rows);
          this.kept.add(hourNs);
        });
      })().finally(() => this.computing.delete(hourNs));
      this.computing.set(hourNs, run);
    }
    return run.then(() => this.kept.has(hourNs));
  }

  /**
   * Computes up to `maxHours` of the closed hours of the last day that are not kept, newest first (the
   * store's upkeep calls it, so that a day's list finds them kept). Does nothing once the store closes.
   */
  async warm(maxHours: number): Promise<void> {
    const now = this.now();
    const hours = this.cut(now - 24n * HOUR_NS - (now % HOUR_NS), now)
      .closedHours.filter((h) => !this.kept.has(h))
      .reverse()
      .slice(0, maxHours);
    for (const h of hours) {
      if (!this.conn.accepting) return;
      await this.ensure(h);
    }
  }

  private async insert(hourNs: bigint, rows: DuckDBValue[][]): Promise<void> {
    const w = this.conn.writer;
    const { table } = this.spec;
    await w.run('BEGIN TRANSACTION');
    try {
      await w.run(`DELETE FROM ${table} WHERE hour_ns = $1`, [hourNs]);
      for (let i = 0; i < rows.length; i += 200) {
        const params: DuckDBValue[] = [hourNs];
        const values = rows.slice(i, i + 200).map((row) => {
          const marks = row.map((v) => {
            params.push(v);
            return `$${params.length}`;
          });
          return `($1, ${marks.join(', ')})`;
        });
        await w.run(`INSERT INTO ${table} VALUES ${values.join(', ')}`, params);
      }
      await w.run(`INSERT OR IGNORE INTO ${table}_hours VALUES ($1)`, [hourNs]);
      await w.run('COMMIT');
    } catch (err) {
      await w.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async deleteRows(hours: bigint[]): Promise<void> {
    const w = this.conn.writer;
    for (let i = 0; i < hours.length; i += 500) {
      const part = hours.slice(i, i + 500);
      const list = part.map((_, k) => `$${k + 1}`).join(', ');
      await w.run(`DELETE FROM ${this.spec.table}_hours WHERE hour_ns IN (${list})`, part);
      await w.run(`DELETE FROM ${this.spec.table} WHERE hour_ns IN (${list})`, part);
    }
  }
}
