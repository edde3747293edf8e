/**
 * Rollups of the ClickHouse store: per-minute partial states (counters, min, max and DDSketch bytes [1])
 * written with each span commit, merged when read; compaction merges the rows of one key and minute and
 * rebuilds the 10-minute and hourly tiers of the blocks that changed, with the same rules (and the same
 * answers and counts) as the DuckDB store's `rollup-tables.ts`:
 *
 * - a minute row written at or before `compacted_at` is included in each coarser tier below that tier's
 *   watermark, and read from there; later minute rows are read from the minute tier;
 * - a window reads whole hours below the hourly watermark from the hourly tier, whole 10-minute blocks of
 *   what is left from the 10-minute tier, the rest from the minute tier.
 *
 * Rows are never updated in place: each has a (key, bucket, slot) identity and a `version`; a read takes
 * the newest version of each slot (`argMax`) and skips deletion marks. Unlike the DuckDB store, a minute
 * row written after a compaction is merged only with rows also written after it (see `compactFamily`). Compaction writes, in one INSERT
 * (one block, which ClickHouse writes atomically), the merged row under a new slot derived from the old
 * slots and a deletion mark for each old slot, so a concurrent read sees either the old rows or the new
 * one. Tier rows are versioned with the `compacted_at` of the compaction that built them, and a read takes
 * the newest version not after the `compacted_at` it read, so a read overlapping a compaction counts every
 * span once.
 *
 * Cells that could not be written with their spans (ClickHouse failed between the two inserts) stay in
 * memory, are merged into reads, and are written by the next commit or `flushRollups`.
 *
 * [1] C. Masson, J. E. Rim, H. K. Lee, "DDSketch", PVLDB 12(12), 2019 (`util/latency-sketch.ts`).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { type LatencySketch, newSketch } from '../../util/latency-sketch.ts';
import { type DbCell, type EndpointCell, RollupAggregator, type RollupSpan } from '../rollup-aggregator.ts';
import type { MergedRollup } from '../rollup-answers.ts';
import { type ClickHouseConnection, lit, type Row } from './connection.ts';
import { CH_DB_ROLLUP, CH_ENDPOINT_ROLLUP, CH_TIERS, type ChRollupSpec, tierTableOf } from './schema.ts';

const MINUTE_NS = 60_000_000_000n;
const floorTo = (ns: bigint, step: bigint) => ns - (((ns % step) + step) % step);
const ceilTo = (ns: bigint, step: bigint) => {
  const f = floorTo(ns, step);
  return f === ns ? f : f + step;
};
const keyString = (key: readonly (string | number)[]) => key.join('\u0000');

/** A rollup row or cell. */
export interface ChRollupRow {
  key: (string | number)[];
  carried: string[];
  bucketNs: bigint;
  sums: number[];
  minMs: number;
  maxMs: number;
  sketch: LatencySketch;
  errorSketch?: LatencySketch | undefined;
  firstMinuteNs: bigint;
  lastMinuteNs: bigint;
  writtenNs: bigint;
}

/** A family merged over a window (or one step of it), per key. */
export interface ChRollupAggregate extends MergedRollup {
  lastBucketNs: bigint;
}

/** Where the coarser tiers stand (`store_meta`). */
interface TierState {
  watermarksNs: bigint[];
  compactedAtNs: bigint;
}

function endpointRow(c: EndpointCell): ChRollupRow {
  return {
    key: [c.service, c.endpoint, c.kind],
    carried: [],
    bucketNs: c.minuteNs,
    sums: [c.requests, c.errors, c.sumMs],
    minMs: c.minMs,
    maxMs: c.maxMs,
    sketch: c.sketch,
    errorSketch: c.errorSketch,
    firstMinuteNs: c.minuteNs,
    lastMinuteNs: c.minuteNs,
    writtenNs: 0n,
  };
}

function dbRow(c: DbCell): ChRollupRow {
  return {
    key: [c.service, c.system, c.database, c.fingerprint],
    carried: [c.statement],
    bucketNs: c.minuteNs,
    sums: [c.calls, c.sumMs],
    minMs: c.minMs,
    maxMs: c.maxMs,
    sketch: c.sketch,
    firstMinuteNs: c.minuteNs,
    lastMinuteNs: c.minuteNs,
    writtenNs: 0n,
  };
}

const hexOf = (s: LatencySketch | undefined) =>
  s === undefined || s.count === 0 ? '' : Buffer.from(s.toBytes()).toString('hex');
const randomSlot = () => randomBytes(8).readBigUInt64BE() >> 1n;

/** The insert row of a rollup row. */
function insertRow(spec: ChRollupSpec, r: ChRollupRow, slot: bigint, version: bigint, deleted: boolean): Row {
  const o: Row = {};
  spec.keys.forEach((c, i) => {
    o[c] = r.key[i];
  });
  spec.carried.forEach((c, i) => {
    o[c] = r.carried[i] ?? '';
  });
  o.bucket_ns = r.bucketNs.toString();
  o.slot = slot.toString();
  o.version = version.toString();
  o.deleted = deleted ? 1 : 0;
  spec.sums.forEach((c, i) => {
    o[c] = c === 'sum_ms' ? r.sums[i]! : Math.round(r.sums[i]!);
  });
  o.min_ms = r.minMs;
  o.max_ms = r.maxMs;
  o.sketch = deleted ? '' : hexOf(r.sketch);
  if (spec.errorSketch) o.error_sketch = deleted ? '' : hexOf(r.errorSketch);
  o.first_minute_ns = r.firstMinuteNs.toString();
  o.last_minute_ns = r.lastMinuteNs.toString();
  o.written_ns = r.writtenNs.toString();
  return o;
}

/** A stored row as read by {@link liveRowsSql}. */
interface StoredRow {
  row: ChRollupRow;
  slot: bigint;
  version: bigint;
}

function storedRow(spec: ChRollupSpec, r: Row): StoredRow {
  const sketch = newSketch();
  if (r.sketch) sketch.mergeBytes(Buffer.from(String(r.sketch), 'hex'));
  const errorSketch = newSketch();
  if (r.error_sketch) errorSketch.mergeBytes(Buffer.from(String(r.error_sketch), 'hex'));
  return {
    row: {
      key: spec.keys.map((c) => (c === 'kind' ? Number(r[c]) : String(r[c]))),
      carried: spec.carried.map((c) => String(r[c] ?? '')),
      bucketNs: BigInt(String(r.bucket_ns)),
      sums: spec.sums.map((c) => Number(r[c])),
      minMs: Number(r.min_ms),
      maxMs: Number(r.max_ms),
      sketch,
      errorSketch,
      firstMinuteNs: BigInt(String(r.first_minute_ns)),
      lastMinuteNs: BigInt(String(r.last_minute_ns)),
      writtenNs: BigInt(String(r.written_ns)),
    },
    slot: BigInt(String(r.slot)),
    version: BigInt(String(r.version)),
  };
}

/**
 * SQL of the live rows of a rollup table: the newest version of each (key, bucket, slot) among the rows
 * matching `where` (conditions on identity columns and `version` only), without deletion marks, filtered by
 * `having` (conditions on the row's values, e.g. `written_ns`).
 */
function liveRowsSql(spec: ChRollupSpec, table: string, where: string, having = '1'): string {
  const ident = [...spec.keys, 'bucket_ns', 'slot'];
  const values = [
    ...spec.carried,
    'deleted',
    ...spec.sums,
    'min_ms',
    'max_ms',
    'sketch',
    ...(spec.errorSketch ? ['error_sketch'] : []),
    'first_minute_ns',
    'last_minute_ns',
    'written_ns',
  ];
  // Aliases differ from the column names: 18.16 would read `argMax(x, version) AS version` recursively.
  return `SELECT * FROM (
      SELECT ${ident.join(', ')}, x_version AS version, ${values.map((c) => `x_${c} AS ${c}`).join(', ')} FROM (
        SELECT ${ident.join(', ')}, max(version) AS x_version,
               ${values.map((c) => `argMax(${c}, version) AS x_${c}`).join(', ')}
        FROM ${table} WHERE ${where} GROUP BY ${ident.join(', ')}))
    WHERE deleted = 0 AND (${having})`;
}

/** Adds a row into the aggregate map, keyed per key (and per step when `stepNs` is given). */
function mergeInto(out: Map<string, ChRollupAggregate>, r: ChRollupRow, stepNs: bigint | undefined): void {
  const k = stepNs === undefined ? keyString(r.key) : `${keyString(r.key)}\u0000${r.bucketNs / stepNs}`;
  let agg = out.get(k);
  if (!agg) {
    agg = {
      key: r.key,
      carried: r.carried,
      sums: r.sums.map(() => 0),
      minMs: r.minMs,
      maxMs: 0,
      sketch: newSketch(),
      errorSketch: newSketch(),
      firstBucketNs: r.firstMinuteNs,
      lastBucketNs: r.lastMinuteNs,
    };
    out.set(k, agg);
  }
  for (let j = 0; j < r.sums.length; j++) agg.sums[j]! += r.sums[j]!;
  if (r.maxMs > agg.maxMs) agg.maxMs = r.maxMs;
  if (r.minMs < agg.minMs) agg.minMs = r.minMs;
  agg.sketch.merge(r.sketch);
  if (r.errorSketch) agg.errorSketch.merge(r.errorSketch);
  if (r.firstMinuteNs < agg.firstBucketNs) agg.firstBucketNs = r.firstMinuteNs;
  if (r.lastMinuteNs > agg.lastBucketNs) agg.lastBucketNs = r.lastMinuteNs;
}

/** Several rows of one key merged into one row of `bucketNs`. */
function mergeRows(rows: readonly ChRollupRow[], bucketNs: bigint): ChRollupRow {
  const first = rows[0]!;
  const out: ChRollupRow = {
    key: first.key,
    carried: first.carried,
    bucketNs,
    sums: first.sums.map(() => 0),
    minMs: first.minMs,
    maxMs: 0,
    sketch: newSketch(),
    errorSketch: newSketch(),
    firstMinuteNs: first.firstMinuteNs,
    lastMinuteNs: first.lastMinuteNs,
    writtenNs: 0n,
  };
  for (const r of rows) {
    for (let j = 0; j < r.sums.length; j++) out.sums[j]! += r.sums[j]!;
    if (r.maxMs > out.maxMs) out.maxMs = r.maxMs;
    if (r.minMs < out.minMs) out.minMs = r.minMs;
    out.sketch.merge(r.sketch);
    if (r.errorSketch) out.errorSketch!.merge(r.errorSketch);
    if (r.firstMinuteNs < out.firstMinuteNs) out.firstMinuteNs = r.firstMinuteNs;
    if (r.lastMinuteNs > out.lastMinuteNs) out.lastMinuteNs = r.lastMinuteNs;
    if (r.writtenNs > out.writtenNs) out.writtenNs = r.writtenNs;
  }
  return out;
}

/** The rollups of one ClickHouse store: open (unwritten) cells, writes, reads and compaction. */
export class ChRollups {
  private readonly aggregator = new RollupAggregator();
  private maxWrittenNs = 0n;
  private flushing: Promise<void> | undefined;
  private readonly reading = new Set<Promise<unknown>>();

  constructor(
    private readonly conn: ClickHouseConnection,
    private readonly now: () => bigint,
  ) {}

  /** Reads `compacted_at` so that rows written from now on are stamped after it. */
  async open(): Promise<void> {
    const state = await this.tierState();
    const rows = await this.conn.rows<{ w: string }>(
      `SELECT toString(max(written_ns)) AS w FROM ${CH_ENDPOINT_ROLLUP.table}`,
    );
    const w = BigInt(rows[0]?.w ?? '0');
    this.maxWrittenNs = w > state.compactedAtNs ? w : state.compactedAtNs;
  }

  /** A `written_ns` after every earlier one of this process and after the last compaction. */
  private stampNs(): bigint {
    let t = this.now();
    if (t <= this.maxWrittenNs) t = this.maxWrittenNs + 1n;
    this.maxWrittenNs = t;
    return t;
  }

  /** Whether cells wait to be written. */
  get owed(): number {
    return this.aggregator.size;
  }

  /** Adds the spans of a commit (ingested at `ingestNs`) and writes their cells (with any owed ones). */
  async record(spans: readonly RollupSpan[], ingestNs: bigint): Promise<void> {
    this.aggregator.add(spans, ingestNs);
    await this.flush().catch(() => undefined);
  }

  /**
   * Writes the open cells, one INSERT per family; on failure they stay open. Reads in progress finish
   * first and later reads wait, so no read counts a cell twice or misses it.
   */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.aggregator.size === 0) return;
    let done = () => {};
    this.flushing = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      await Promise.allSettled([...this.reading]);
      const cells = this.aggregator.drain();
      const writtenNs = this.stampNs();
      const families: [ChRollupSpec, ChRollupRow[]][] = [
        [CH_ENDPOINT_ROLLUP, cells.endpoints.map(endpointRow)],
        [CH_DB_ROLLUP, cells.dbs.map(dbRow)],
      ];
      // Both families at once; a family whose INSERT failed goes back (the other one is in).
      const results = await Promise.allSettled(
        families.map(([spec, rows]) =>
          this.conn.insert(
            spec.table,
            rows.map((r) => insertRow(spec, { ...r, writtenNs }, randomSlot(), 1n, false)),
          ),
        ),
      );
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        this.aggregator.restore({
          endpoints: results[0]!.status === 'rejected' ? cells.endpoints : [],
          dbs: results[1]!.status === 'rejected' ? cells.dbs : [],
        });
        throw failed.reason;
      }
    } finally {
      this.flushing = undefined;
      done();
    }
  }

  private async tierState(): Promise<TierState> {
    const rows = await this.conn.rows<{ key: string; value: string }>(
      `SELECT key, toString(argMax(value, version)) AS value FROM store_meta GROUP BY key`,
    );
    const m = new Map(rows.map((r) => [r.key, BigInt(r.value)]));
    return {
      watermarksNs: CH_TIERS.map((t) => m.get(t.watermarkKey) ?? 0n),
      compactedAtNs: m.get('compacted_at') ?? -1n,
    };
  }

  /**
   * A family's rows for a window merged per key (and per step), the open cells included. A minute is in
   * the window when its start is ≥ `fromNs` floored to the minute and < `toNs`.
   */
  async read(
    spec: ChRollupSpec,
    window: { fromNs: bigint; toNs: bigint },
    service: string | undefined,
    stepNs?: bigint,
  ): Promise<ChRollupAggregate[]> {
    while (this.flushing) await this.flushing;
    const run = (async () => {
      const out = await this.readStored(spec, window, service, stepNs);
      const from = floorTo(window.fromNs, MINUTE_NS);
      const cells = this.aggregator.snapshot();
      const open = spec === CH_DB_ROLLUP ? cells.dbs.map(dbRow) : cells.endpoints.map(endpointRow);
      for (const c of open) {
        if (c.bucketNs < from || c.bucketNs >= window.toNs) continue;
        if (service !== undefined && c.key[0] !== service) continue;
        mergeInto(out, c, stepNs);
      }
      // In key order (and step order): ClickHouse's GROUP BY order varies from run to run, and callers that
      // rank by a count keep ties in the order they get.
      return [...out.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([, v]) => v);
    })();
    this.reading.add(run);
    try {
      return await run;
    } finally {
      this.reading.delete(run);
    }
  }

  private async readStored(
    spec: ChRollupSpec,
    window: { fromNs: bigint; toNs: bigint },
    service: string | undefined,
    stepNs: bigint | undefined,
  ): Promise<Map<string, ChRollupAggregate>> {
    const state = await this.tierState();
    const from = floorTo(window.fromNs, MINUTE_NS);
    const svc = service === undefined ? '' : ` AND service = ${lit(service)}`;
    const bounds = CH_TIERS.map((t, i) => {
      if (stepNs !== undefined && stepNs % t.stepNs !== 0n) return [0n, 0n] as const;
      const b = floorTo(window.toNs, t.stepNs);
      const w = state.watermarksNs[i]!;
      return [ceilTo(from, t.stepNs), b < w ? b : w] as const;
    });
    const covered = (i: number) => `(bucket_ns >= ${bounds[i]![0]} AND bucket_ns < ${bounds[i]![1]})`;
    const queries: [string, string][] = CH_TIERS.map((t, i) => [
      tierTableOf(spec, t.suffix),
      liveRowsSql(
        spec,
        tierTableOf(spec, t.suffix),
        `${covered(i)}${CH_TIERS.slice(0, i)
          .map((_, j) => ` AND NOT ${covered(j)}`)
          .join('')}${svc} AND version <= ${state.compactedAtNs < 0n ? 0n : state.compactedAtNs}`,
      ),
    ]);
    queries.push([
      spec.table,
      liveRowsSql(
        spec,
        spec.table,
        `bucket_ns >= ${from} AND bucket_ns < ${window.toNs}${svc}`,
        `NOT ((${CH_TIERS.map((_, i) => covered(i)).join(' OR ')}) AND written_ns <= ${state.compactedAtNs})`,
      ),
    ]);
    const out = new Map<string, ChRollupAggregate>();
    const results = await Promise.all(queries.map(([, sql]) => this.conn.rows(sql)));
    for (const rows of results) for (const r of rows) mergeInto(out, storedRow(spec, r).row, stepNs);
    return out;
  }

  /** See `StoreMaintenance.compactRollups`. */
  async compact(
    beforeNs: bigint,
  ): Promise<{ merged: number; removed: number; rebuilt: Record<string, number> }> {
    await this.flush().catch(() => undefined);
    const rebuilt: Record<string, number> = Object.fromEntries(CH_TIERS.map((t) => [t.suffix, 0]));
    const total = { merged: 0, removed: 0, rebuilt };
    const previous = await this.tierState();
    const next: TierState = {
      watermarksNs: CH_TIERS.map((t, i) => {
        const w = floorTo(beforeNs, t.stepNs);
        const p = previous.watermarksNs[i]!;
        return w > p ? w : p;
      }),
      compactedAtNs: this.stampNs(),
    };
    for (const spec of [CH_ENDPOINT_ROLLUP, CH_DB_ROLLUP]) {
      const r = await this.compactFamily(spec, previous, next, beforeNs);
      total.merged += r.merged;
      total.removed += r.removed;
      CH_TIERS.forEach((t, i) => {
        rebuilt[t.suffix]! += r.rebuilt[i]!;
      });
    }
    const version = next.compactedAtNs.toString();
    await this.conn.insert('store_meta', [
      ...CH_TIERS.map((t, i) => ({ key: t.watermarkKey, value: next.watermarksNs[i]!.toString(), version })),
      { key: 'compacted_at', value: next.compactedAtNs.toString(), version },
    ]);
    return total;
  }

  private async compactFamily(
    spec: ChRollupSpec,
    previous: TierState,
    next: TierState,
    beforeNs: bigint,
  ): Promise<{ merged: number; removed: number; rebuilt: number[] }> {
    const keys = spec.keys.join(', ');
    // Only rows written since the last compaction are merged (with each other): the rows it already put
    // into the coarser tiers stay as they are, so a read between this INSERT and the new tier state
    // (ClickHouse has no transaction around both) counts each row once, from the tier or the minute table.
    const live = liveRowsSql(
      spec,
      spec.table,
      `bucket_ns < ${beforeNs}`,
      `written_ns > ${previous.compactedAtNs}`,
    );
    const dupes = `SELECT ${keys}, bucket_ns FROM (${live}) GROUP BY ${keys}, bucket_ns HAVING count() > 1`;
    const rows = (await this.conn.rows(`${live} AND (${keys}, bucket_ns) IN (${dupes})`)).map((r) =>
      storedRow(spec, r),
    );
    const groups = new Map<string, StoredRow[]>();
    for (const r of rows) {
      const k = `${keyString(r.row.key)}\u0000${r.row.bucketNs}`;
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
    const inserts: Row[] = [];
    for (const g of groups.values()) {
      const merged = mergeRows(
        g.map((r) => r.row),
        g[0]!.row.bucketNs,
      );
      const slots = g.map((r) => r.slot.toString()).sort();
      const slot = createHash('sha1').update(slots.join(',')).digest().readBigUInt64BE() >> 1n;
      inserts.push(insertRow(spec, merged, slot, 1n, false));
      for (const r of g) inserts.push(insertRow(spec, r.row, r.slot, r.version + 1n, true));
    }
    await this.conn.insert(spec.table, inserts);

    const rebuilt: number[] = [];
    for (const [i, t] of CH_TIERS.entries()) {
      const block = `bucket_ns - bucket_ns % ${t.stepNs}`;
      const all = liveRowsSql(spec, spec.table, '1');
      const touched = `SELECT DISTINCT ${keys}, ${block} FROM (${all})
        WHERE bucket_ns < ${next.watermarksNs[i]} AND (written_ns > ${previous.compactedAtNs} OR bucket_ns >= ${previous.watermarksNs[i]})`;
      const minuteRows = await this.conn.rows(`${all} AND (${keys}, ${block}) IN (${touched})`);
      const blocks = new Map<string, ChRollupRow[]>();
      for (const r of minuteRows) {
        const row = storedRow(spec, r).row;
        const b = floorTo(row.bucketNs, t.stepNs);
        const k = `${keyString(row.key)}\u0000${b}`;
        const list = blocks.get(k);
        if (list) list.push(row);
        else blocks.set(k, [row]);
      }
      const tierRows: Row[] = [];
      for (const list of blocks.values()) {
        const merged = mergeRows(list, floorTo(list[0]!.bucketNs, t.stepNs));
        tierRows.push(insertRow(spec, merged, 0n, next.compactedAtNs, false));
      }
      await this.conn.insert(tierTableOf(spec, t.suffix), tierRows);
      rebuilt.push(blocks.size);
    }
    return { merged: groups.size, removed: rows.length - groups.size, rebuilt };
  }
}
