/**
 * Rollup orchestration: keeps the in-memory per-minute rollups of written spans together with the highest
 * batch they cover, flushes them to the minute tables in one transaction with that batch id
 * (`store_meta.rollup_watermark`, where crash replay starts), and runs compaction with the tier state
 * (`store_meta` watermarks and `compacted_at`). Every row it writes gets a `written_ns` strictly after the
 * last one and after the last compaction (the consistency rule of `rollup-tables.ts`).
 *
 * Reads that merge the stored rows with the open ones ({@link RollupUpkeep.read}) and flushes exclude each
 * other: a read overlapping the move of cells from memory to the tables would miss them (drained, not yet
 * committed) or count them twice (committed, still in its copy of the open cells).
 * @module
 */
import { type DbCell, type EndpointCell, RollupAggregator, type RollupSpan } from '../rollup-aggregator.ts';
import type { Connections } from './connections.ts';
import {
  appendRollupRows,
  compactRollups as compactRollupTables,
  DB_ROLLUP,
  ENDPOINT_ROLLUP,
  nextWatermarks,
  type RollupRow,
  type RollupSpec,
  TIERS,
  type TierState,
} from './rollup-tables.ts';

/** An open endpoint cell as a rollup row. */
function endpointRow(c: EndpointCell): RollupRow {
  return {
    key: [c.service, c.endpoint, c.kind],
    carried: [],
    bucketNs: c.minuteNs,
    sums: [c.requests, c.errors, c.sumMs],
    minMs: c.minMs,
    maxMs: c.maxMs,
    sketch: c.sketch,
    errorSketch: c.errorSketch,
  };
}

/** An open database cell as a rollup row. */
function dbRow(c: DbCell): RollupRow {
  return {
    key: [c.service, c.system, c.database, c.fingerprint],
    carried: [c.statement],
    bucketNs: c.minuteNs,
    sums: [c.calls, c.sumMs],
    minMs: c.minMs,
    maxMs: c.maxMs,
    sketch: c.sketch,
  };
}

/** Where a reopened store's rollups stand (read from `store_meta` and the minute tables by crash replay). */
export interface RollupResumeState {
  tier: TierState;
  /** Highest `written_ns` of any minute row. */
  maxWrittenNs: bigint;
  /** Highest batch id in `spans` (what the open rollups will cover once replay has added its spans). */
  lastBatchId: bigint;
}

/** The open rollups of one store, their flushes and compactions. */
export class RollupUpkeep {
  private readonly aggregator = new RollupAggregator();
  /** Highest batch whose spans are in the open rollups or already flushed. */
  private coveredBatch = 0n;
  /** Where the coarser rollup tiers stand (mirrors `store_meta`). */
  private tier: TierState = { watermarksNs: TIERS.map(() => 0n), compactedAtNs: -1n };
  /** Highest `written_ns` stamped on a rollup row so far. */
  private maxWrittenNs = 0n;
  /** Set while a flush moves cells to the tables; rollup reads wait for it. Never rejects. */
  private flushing: Promise<void> | undefined;
  /** Rollup reads in progress; a flush waits for them before it drains the cells. */
  private readonly reading = new Set<Promise<unknown>>();

  constructor(
    private readonly conn: Connections,
    private readonly now: () => bigint,
  ) {}

  /** Takes up where the rollups of a reopened file stand. */
  resume(state: RollupResumeState): void {
    this.tier = state.tier;
    this.maxWrittenNs =
      state.maxWrittenNs < state.tier.compactedAtNs ? state.tier.compactedAtNs : state.maxWrittenNs;
    this.coveredBatch = state.lastBatchId;
  }

  /** Adds spans written (committed) in batch `batchId` at `ingestNs`; `batchId` 0n keeps the covered batch. */
  record(spans: readonly RollupSpan[], ingestNs: bigint, batchId = 0n): void {
    this.aggregator.add(spans, ingestNs);
    if (batchId > this.coveredBatch) this.coveredBatch = batchId;
  }

  /**
   * Runs a read of the stored rollups, then `merge`s the open (unflushed) rows into its result, with no flush
   * in between, so the answer counts every acknowledged span once.
   */
  async read<T, R>(
    stored: () => Promise<T>,
    merge: (rows: T, open: { endpoints: RollupRow[]; dbs: RollupRow[] }) => R,
  ): Promise<R> {
    while (this.flushing) await this.flushing;
    const run = (async () => {
      const rows = await stored();
      const cells = this.aggregator.snapshot();
      return merge(rows, { endpoints: cells.endpoints.map(endpointRow), dbs: cells.dbs.map(dbRow) });
    })();
    this.reading.add(run);
    try {
      return await run;
    } finally {
      this.reading.delete(run);
    }
  }

  /** The `written_ns` for rows written now: after every earlier row and after the last compaction. */
  private stampNs(): bigint {
    let t = this.now();
    if (t <= this.maxWrittenNs) t = this.maxWrittenNs + 1n;
    this.maxWrittenNs = t;
    return t;
  }

  private async setMeta(key: string, value: bigint): Promise<void> {
    await this.conn.writer.run(
      'INSERT INTO store_meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }

  /** Writes the open rollups and the batch they cover in one transaction; on failure they stay open. */
  flush(): Promise<void> {
    return this.conn.serial(async () => {
      if (this.conn.closed || this.aggregator.size === 0) return;
      let flushed = () => {};
      this.flushing = new Promise<void>((resolve) => {
        flushed = resolve;
      });
      try {
        await Promise.allSettled([...this.reading]);
        await this.moveCells();
      } finally {
        this.flushing = undefined;
        flushed();
      }
    });
  }

  /** Drains the open cells into the minute tables in one transaction; on failure they stay open. */
  private async moveCells(): Promise<void> {
    const watermark = this.coveredBatch;
    const cells = this.aggregator.drain();
    const writtenNs = this.stampNs();
    const writer = this.conn.writer;
    try {
      await writer.run('BEGIN TRANSACTION');
      const rows: [RollupSpec, RollupRow[]][] = [
        [ENDPOINT_ROLLUP, cells.endpoints.map(endpointRow)],
        [DB_ROLLUP, cells.dbs.map(dbRow)],
      ];
      for (const [spec, r] of rows) await appendRollupRows(writer, spec, spec.minuteTable, r, writtenNs);
      await this.setMeta('rollup_watermark', watermark);
      await writer.run('COMMIT');
    } catch (err) {
      await writer.run('ROLLBACK').catch(() => undefined);
      this.aggregator.restore(cells);
      throw err;
    }
  }

  /** See `StoreMaintenance.compactRollups`; does nothing once the store is closed. */
  compact(beforeNs: bigint): Promise<{ merged: number; removed: number; rebuilt: Record<string, number> }> {
    return this.conn.serial(async () => {
      const rebuilt: Record<string, number> = Object.fromEntries(TIERS.map((t) => [t.suffix, 0]));
      const total = { merged: 0, removed: 0, rebuilt };
      if (this.conn.closed) return total;
      const previous = this.tier;
      const next: TierState = {
        watermarksNs: nextWatermarks(previous, beforeNs),
        compactedAtNs: this.stampNs(),
      };
      const writer = this.conn.writer;
      await writer.run('BEGIN TRANSACTION');
      try {
        for (const spec of [ENDPOINT_ROLLUP, DB_ROLLUP]) {
          const r = await compactRollupTables(writer, spec, previous, next, beforeNs);
          total.merged += r.merged;
          total.removed += r.removed;
          TIERS.forEach((t, i) => {
            rebuilt[t.suffix]! += r.rebuilt[i]!;
          });
        }
        for (const [i, t] of TIERS.entries()) await this.setMeta(t.watermarkKey, next.watermarksNs[i]!);
        await this.setMeta('compacted_at', next.compactedAtNs);
        await writer.run('COMMIT');
      } catch (err) {
        await writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      this.tier = next;
      return total;
    });
  }
}
