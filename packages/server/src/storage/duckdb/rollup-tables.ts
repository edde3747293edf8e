/**
 * The rollup tables of the DuckDB store, in tiers: per minute (written by flushes, merged to one row per
 * key and minute by compaction), and per 10 minutes and per hour (rebuilt by compaction from the minute
 * rows of the blocks that changed). A window query reads whole hours from the hourly tier, whole
 * 10-minute blocks of what is left from the 10-minute tier, and the rest (the window's ragged edges, and
 * minute rows written after the last compaction) from the minute tier, so a 24-hour window merges about
 * 24 + 12 + 18 sketches per key instead of ~1,440.
 *
 * Consistency rule: every minute row written at or before `compactedAtNs` is included in the rows of each
 * coarser tier below that tier's watermark; minute rows written later are read from the minute tier.
 * Flushes stamp rows with a `written_ns` strictly above `compactedAtNs`, so no row is counted twice.
 * @module
 */
import type { DuckDBAppender, DuckDBBlobValue, DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { type LatencySketch, newSketch } from '../../util/latency-sketch.ts';
import type { MergedRollup } from '../rollup-answers.ts';

/**
 * One of the two rollup families and its columns. Table column order: keys, carried, bucket_ns, sums,
 * max_ms, sketch, written_ns, min_ms, then error_sketch for families that keep one, then first_minute_ns
 * and last_minute_ns (columns added later go last so that `ALTER TABLE … ADD COLUMN` upgrades older
 * files). In a coarser tier `bucket_ns` is the block's start; `first_minute_ns`/`last_minute_ns` are the
 * first and last minute of the block that has data (NULL in the minute tier: the row's own minute), so a
 * window answers the true first and last minute whichever tier it reads ({@link backfillTierMinutes}
 * fills them in files written before the columns existed).
 */
export interface RollupSpec {
  /** The minute tier; the coarser tiers are `<minuteTable>_<tier.suffix>`. */
  minuteTable: string;
  /** Identity columns (without the time bucket). */
  keys: readonly string[];
  /** Columns carried along with any value of the group (e.g. the statement text of a fingerprint). */
  carried: readonly string[];
  /** Counter columns, summed. */
  sums: readonly string[];
  /** Whether the family keeps a second sketch of the failed calls only (for Apdex). */
  errorSketch: boolean;
}

/** Per (service, endpoint, kind): requests, errors, total ms, and a sketch of failed requests for Apdex. */
export const ENDPOINT_ROLLUP: RollupSpec = {
  minuteTable: 'endpoint_rollups',
  keys: ['service', 'endpoint', 'kind'],
  carried: [],
  sums: ['requests', 'errors', 'sum_ms'],
  errorSketch: true,
};

/** Per (service, db system, database, fingerprint): calls and total ms, with the normalised statement. */
export const DB_ROLLUP: RollupSpec = {
  minuteTable: 'db_rollups',
  keys: ['service', 'system', 'database', 'fingerprint'],
  carried: ['statement'],
  sums: ['calls', 'sum_ms'],
  errorSketch: false,
};

/** CREATE TABLE statements of both tiers of a family. */
export function rollupSchema(spec: RollupSpec): string[] {
  const type = (c: string) =>
    c === 'kind' ? 'UTINYINT' : c === 'sum_ms' ? 'DOUBLE' : spec.sums.includes(c) ? 'BIGINT' : 'VARCHAR';
  const cols = [
    ...[...spec.keys, ...spec.carried].map((c) => `${c} ${type(c)}`),
    'bucket_ns BIGINT',
    ...spec.sums.map((c) => `${c} ${type(c)}`),
    'max_ms DOUBLE',
    'sketch BLOB',
    'written_ns BIGINT',
  ].join(', ');
  const later = [
    'min_ms DOUBLE',
    ...(spec.errorSketch ? ['error_sketch BLOB'] : []),
    'first_minute_ns BIGINT',
    'last_minute_ns BIGINT',
  ];
  return [spec.minuteTable, ...TIERS.map((t) => tierTable(spec, t))].flatMap((t) => [
    `CREATE TABLE IF NOT EXISTS ${t} (${cols})`,
    ...later.map((c) => `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${c}`),
  ]);
}

/** A rollup row or cell: key values, carried values, counters, extremes and sketches. */
export interface RollupRow {
  key: (string | number)[];
  carried: string[];
  bucketNs: bigint;
  sums: number[];
  minMs: number;
  maxMs: number;
  sketch: LatencySketch;
  /** Durations of the failed calls only (families with `errorSketch`). */
  errorSketch?: LatencySketch | undefined;
  /** First and last minute with data of a coarser tier's block (absent for a minute row: `bucketNs`). */
  firstMinuteNs?: bigint | undefined;
  lastMinuteNs?: bigint | undefined;
}

/**
 * A rollup family merged over a window, per key (`errorSketch` is empty for families without one), with
 * the start of the last minute with data in the window (whichever tier held it).
 */
export interface RollupAggregate extends MergedRollup {
  lastBucketNs: bigint;
}

const HOUR_NS = 3_600_000_000_000n;
const MINUTE_NS = 60_000_000_000n;

/** A coarser tier, built by compaction from the minute rows. */
export interface RollupTier {
  suffix: string;
  stepNs: bigint;
  /** `store_meta` key of its watermark: blocks starting below it are complete in this tier. */
  watermarkKey: string;
}

/** The coarser tiers, coarsest first (a query takes whole blocks from the first that fits). */
export const TIERS: readonly RollupTier[] = [
  { suffix: 'hourly', stepNs: HOUR_NS, watermarkKey: 'hourly_watermark' },
  { suffix: 'tenminute', stepNs: 10n * MINUTE_NS, watermarkKey: 'tenminute_watermark' },
];

/** The table of a family's tier. */
export function tierTable(spec: RollupSpec, tier: RollupTier): string {
  return `${spec.minuteTable}_${tier.suffix}`;
}
const floorTo = (ns: bigint, step: bigint) => ns - (((ns % step) + step) % step);
const ceilTo = (ns: bigint, step: bigint) => {
  const f = floorTo(ns, step);
  return f === ns ? f : f + step;
};
const big = (v: DuckDBValue | undefined): bigint => (typeof v === 'bigint' ? v : BigInt((v ?? 0) as number));
const num = (v: DuckDBValue | undefined): number =>
  typeof v === 'bigint' ? Number(v) : ((v ?? 0) as number);
const keyString = (key: readonly (string | number)[]) => key.join('\u0000');
/** The blobs of a `list(…)` cell (none for NULL). */
const listItems = (v: DuckDBValue | undefined): DuckDBBlobValue[] =>
  v === null || v === undefined ? [] : (v as unknown as { items: DuckDBBlobValue[] }).items;
/** `min_ms` of a row or group; rows written before the column existed read as 0 (unknown, no clamp). */
const minOf = (v: DuckDBValue | undefined): number => (v === null || v === undefined ? 0 : num(v));

/** Appends rows to a rollup table. */
export async function appendRollupRows(
  conn: DuckDBConnection,
  spec: RollupSpec,
  table: string,
  rows: readonly RollupRow[],
  writtenNs: bigint,
): Promise<void> {
  if (rows.length === 0) return;
  const app = await conn.createAppender(table);
  try {
    for (const r of rows) appendRow(app, spec, r, writtenNs);
  } finally {
    app.closeSync();
  }
}

function appendRow(app: DuckDBAppender, spec: RollupSpec, r: RollupRow, writtenNs: bigint): void {
  spec.keys.forEach((c, i) => {
    if (c === 'kind') app.appendUTinyInt(r.key[i] as number);
    else app.appendVarchar(String(r.key[i]));
  });
  for (const v of r.carried) app.appendVarchar(v);
  app.appendBigInt(r.bucketNs);
  spec.sums.forEach((c, i) => {
    if (c === 'sum_ms') app.appendDouble(r.sums[i]!);
    else app.appendBigInt(BigInt(Math.round(r.sums[i]!)));
  });
  app.appendDouble(r.maxMs);
  app.appendBlob(r.sketch.toBytes());
  app.appendBigInt(writtenNs);
  app.appendDouble(r.minMs);
  if (spec.errorSketch) {
    if (r.errorSketch && r.errorSketch.count > 0) app.appendBlob(r.errorSketch.toBytes());
    else app.appendNull();
  }
  for (const m of [r.firstMinuteNs, r.lastMinuteNs]) {
    if (m === undefined) app.appendNull();
    else app.appendBigInt(m);
  }
  app.endRow();
}

/** Where the coarser tiers stand (kept in `store_meta`). */
export interface TierState {
  /** Per entry of {@link TIERS}: blocks starting below this are in that tier (0 = none yet). */
  watermarksNs: bigint[];
  /** Minute rows written at or before this are included in the coarser tiers (-1 = none). */
  compactedAtNs: bigint;
}

/** The watermarks of a compaction whose cutoff is `beforeNs` (never moving back from `previous`). */
export function nextWatermarks(previous: TierState, beforeNs: bigint): bigint[] {
  return TIERS.map((t, i) => {
    const w = floorTo(beforeNs, t.stepNs);
    const p = previous.watermarksNs[i] ?? 0n;
    return w > p ? w : p;
  });
}

/**
 * Reads a family's rows for a window, merged per key: whole hours below the hourly watermark from the
 * hourly tier, everything else from the minute tier. The tier state is read from `store_meta` in the same
 * query, so the answer is consistent with the snapshot the query sees even while a compaction commits.
 */
export async function readRollups(
  conn: DuckDBConnection,
  spec: RollupSpec,
  window: { fromNs: bigint; toNs: bigint },
  service: string | undefined,
  stepNs?: bigint,
): Promise<Map<string, RollupAggregate>> {
  const from = floorTo(window.fromNs, MINUTE_NS);
  // Per step (series): epoch-aligned steps; a coarser tier is used only when its blocks fall wholly inside
  // one step (its step divides the series step), else its blocks are read from the minute rows.
  const usable = (t: RollupTier) => stepNs === undefined || stepNs % t.stepNs === 0n;
  const cols = [
    ...spec.keys,
    ...spec.carried,
    'bucket_ns',
    ...spec.sums,
    'max_ms',
    'sketch',
    'min_ms',
    ...(spec.errorSketch ? ['error_sketch'] : []),
  ]
    .map((c) => `r.${c}`)
    .concat([
      'coalesce(r.first_minute_ns, r.bucket_ns) AS first_minute_ns',
      'coalesce(r.last_minute_ns, r.bucket_ns) AS last_minute_ns',
    ])
    .join(', ');
  const params: DuckDBValue[] = [from, window.toNs];
  for (const t of TIERS) {
    if (usable(t)) params.push(ceilTo(from, t.stepNs), floorTo(window.toNs, t.stepNs));
    else params.push(0n, 0n);
  }
  const svc = service === undefined ? '' : ` AND r.service = $${params.length + 1}`;
  if (service !== undefined) params.push(service);
  // Tier i covers [a_i, b_i): whole blocks inside the window and below the tier's watermark.
  const bounds = TIERS.map(
    (t, i) =>
      `$${3 + 2 * i}::BIGINT AS a${i}, least($${4 + 2 * i}::BIGINT, coalesce(max(value) FILTER (WHERE key = '${t.watermarkKey}'), 0)) AS b${i}`,
  ).join(', ');
  const covered = (i: number) => `(r.bucket_ns >= tier.a${i} AND r.bucket_ns < tier.b${i})`;
  const tierSelects = TIERS.map((t, i) => {
    const finer = TIERS.slice(0, i)
      .map((_, j) => ` AND NOT ${covered(j)}`)
      .join('');
    return `SELECT ${cols} FROM ${tierTable(spec, t)} r, tier WHERE ${covered(i)}${finer}${svc}`;
  });
  // Grouped in SQL so that key strings cross into JS once per key, not once per row.
  const sql = `
    WITH tier AS (
      SELECT ${bounds}, coalesce(max(value) FILTER (WHERE key = 'compacted_at'), -1) AS c FROM store_meta),
    rows AS (
      ${tierSelects.join('\n      UNION ALL\n      ')}
      UNION ALL
      SELECT ${cols} FROM ${spec.minuteTable} r, tier
      WHERE r.bucket_ns >= $1 AND r.bucket_ns < $2${svc}
        AND NOT ((${TIERS.map((_, i) => covered(i)).join(' OR ')}) AND r.written_ns <= tier.c))
    SELECT ${spec.keys.join(', ')}, ${spec.carried.map((c) => `any_value(${c})`).join(', ')}${spec.carried.length ? ',' : ''}
           ${spec.sums.map((c) => `sum(${c})::DOUBLE`).join(', ')}, max(max_ms), min(first_minute_ns), max(last_minute_ns), list(sketch),
           min(min_ms), ${spec.errorSketch ? 'list(error_sketch) FILTER (WHERE error_sketch IS NOT NULL)' : 'NULL'}
    FROM rows GROUP BY ${spec.keys.join(', ')}${stepNs === undefined ? '' : `, bucket_ns // ${stepNs}`}`;
  const result = await conn.runAndReadAll(sql, params);
  const columns = result.getColumns();
  const nk = spec.keys.length;
  const nc = spec.carried.length;
  const ns = spec.sums.length;
  const out = new Map<string, RollupAggregate>();
  for (let i = 0; i < result.currentRowCount; i++) {
    const key = spec.keys.map((c, j) => (c === 'kind' ? num(columns[j]![i]) : String(columns[j]![i])));
    const sketch = newSketch();
    for (const b of listItems(columns[nk + nc + ns + 3]![i])) sketch.mergeBytes(b.bytes);
    const errorSketch = newSketch();
    for (const b of listItems(columns[nk + nc + ns + 5]![i])) errorSketch.mergeBytes(b.bytes);
    const firstBucketNs = big(columns[nk + nc + ns + 1]![i]);
    out.set(stepNs === undefined ? keyString(key) : `${keyString(key)}\u0000${firstBucketNs / stepNs}`, {
      key,
      carried: spec.carried.map((_, j) => String(columns[nk + j]![i] ?? '')),
      sums: spec.sums.map((_, j) => num(columns[nk + nc + j]![i])),
      maxMs: num(columns[nk + nc + ns]![i]),
      minMs: minOf(columns[nk + nc + ns + 4]![i]),
      sketch,
      errorSketch,
      firstBucketNs,
      lastBucketNs: big(columns[nk + nc + ns + 2]![i]),
    });
  }
  return out;
}

/** Adds in-memory cells (not yet flushed) that fall in the window to merged aggregates. */
export function mergeCells(
  out: Map<string, RollupAggregate>,
  cells: readonly RollupRow[],
  window: { fromNs: bigint; toNs: bigint },
  service: string | undefined,
  stepNs?: bigint,
): void {
  const from = floorTo(window.fromNs, MINUTE_NS);
  for (const c of cells) {
    if (c.bucketNs < from || c.bucketNs >= window.toNs) continue;
    if (service !== undefined && c.key[0] !== service) continue;
    const k = stepNs === undefined ? keyString(c.key) : `${keyString(c.key)}\u0000${c.bucketNs / stepNs}`;
    let agg = out.get(k);
    if (!agg) {
      agg = {
        key: c.key,
        carried: c.carried,
        sums: c.sums.map(() => 0),
        minMs: c.minMs,
        maxMs: 0,
        sketch: newSketch(),
        errorSketch: newSketch(),
        firstBucketNs: c.bucketNs,
        lastBucketNs: c.bucketNs,
      };
      out.set(k, agg);
    }
    for (let j = 0; j < c.sums.length; j++) agg.sums[j]! += c.sums[j]!;
    if (c.maxMs > agg.maxMs) agg.maxMs = c.maxMs;
    if (c.minMs < agg.minMs) agg.minMs = c.minMs;
    agg.sketch.merge(c.sketch);
    if (c.errorSketch) agg.errorSketch.merge(c.errorSketch);
    if (c.bucketNs < agg.firstBucketNs) agg.firstBucketNs = c.bucketNs;
    if (c.bucketNs > agg.lastBucketNs) agg.lastBucketNs = c.bucketNs;
  }
}

/**
 * Compacts a family inside the caller's transaction: (1) the minute rows of one key and minute that
 * several flushes left are merged into one, for minutes before `beforeNs`; (2) in each coarser tier, the
 * rows of every block below the new watermark that has minute rows written since the last compaction, or
 * that has just fallen below the watermark, are rebuilt from all its minute rows.
 * @returns groups merged and rows removed in the minute tier, and rows rebuilt per entry of {@link TIERS}.
 */
export async function compactRollups(
  conn: DuckDBConnection,
  spec: RollupSpec,
  previous: TierState,
  next: TierState,
  beforeNs: bigint,
): Promise<{ merged: number; removed: number; rebuilt: number[] }> {
  const keys = spec.keys.join(', ');
  const aggregates = (p: string) =>
    [
      ...spec.sums.map((c) => `sum(${p}.${c}) AS ${c}`),
      `max(${p}.max_ms) AS max_ms`,
      `min(${p}.min_ms) AS min_ms`,
      ...(spec.errorSketch
        ? [`list(${p}.error_sketch) FILTER (WHERE ${p}.error_sketch IS NOT NULL) AS error_sketches`]
        : []),
      ...spec.carried.map((c) => `any_value(${p}.${c}) AS ${c}`),
      `max(${p}.written_ns) AS written_ns`,
      `list(${p}.sketch) AS sketches`,
      // The source rows are minute rows: their bucket is their minute.
      `min(${p}.bucket_ns) AS first_minute_ns`,
      `max(${p}.bucket_ns) AS last_minute_ns`,
    ].join(', ');
  const match = (a: string, b: string, extra: string[]) =>
    [...spec.keys, ...extra].map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');

  // (1) one minute row per key and minute.
  const dupes = `SELECT ${keys}, bucket_ns FROM ${spec.minuteTable} WHERE bucket_ns < $1
                 GROUP BY ${keys}, bucket_ns HAVING count(*) > 1 AND max(written_ns) > $2`;
  const groups = (
    await conn.runAndReadAll(
      `SELECT m.${spec.keys.join(', m.')}, m.bucket_ns, ${aggregates('m')}
       FROM ${spec.minuteTable} m JOIN (${dupes}) d ON ${match('m', 'd', ['bucket_ns'])}
       GROUP BY m.${spec.keys.join(', m.')}, m.bucket_ns`,
      [beforeNs, previous.compactedAtNs],
    )
  ).getRowObjects();
  let removed = 0;
  if (groups.length > 0) {
    const del = await conn.run(
      `DELETE FROM ${spec.minuteTable} t USING (${dupes}) d WHERE ${match('t', 'd', ['bucket_ns'])}`,
      [beforeNs, previous.compactedAtNs],
    );
    removed = del.rowsChanged - groups.length;
    await appendMerged(conn, spec, spec.minuteTable, groups, 'bucket_ns');
  }

  // (2) rebuild the blocks of each coarser tier that changed.
  const rebuilt: number[] = [];
  for (const [i, t] of TIERS.entries()) {
    const touched = `SELECT DISTINCT ${keys}, bucket_ns - bucket_ns % ${t.stepNs} AS block_ns FROM ${spec.minuteTable}
                     WHERE bucket_ns < $1 AND (written_ns > $2 OR bucket_ns >= $3)`;
    const params = [next.watermarksNs[i]!, previous.compactedAtNs, previous.watermarksNs[i] ?? 0n];
    const blocks = (
      await conn.runAndReadAll(
        `SELECT m.${spec.keys.join(', m.')}, t.block_ns, ${aggregates('m')}
         FROM ${spec.minuteTable} m JOIN (${touched}) t
           ON ${match('m', 't', [])} AND m.bucket_ns - m.bucket_ns % ${t.stepNs} = t.block_ns
         GROUP BY m.${spec.keys.join(', m.')}, t.block_ns`,
        params,
      )
    ).getRowObjects();
    if (blocks.length > 0) {
      await conn.run(
        `DELETE FROM ${tierTable(spec, t)} h USING (${touched}) t WHERE ${match('h', 't', [])} AND h.bucket_ns = t.block_ns`,
        params,
      );
      await appendMerged(conn, spec, tierTable(spec, t), blocks, 'block_ns');
    }
    rebuilt.push(blocks.length);
  }
  return { merged: groups.length, removed, rebuilt };
}

async function appendMerged(
  conn: DuckDBConnection,
  spec: RollupSpec,
  table: string,
  groups: Record<string, DuckDBValue>[],
  bucketColumn: string,
): Promise<void> {
  const app = await conn.createAppender(table);
  try {
    for (const g of groups) {
      const sketch = newSketch();
      for (const b of listItems(g.sketches)) sketch.mergeBytes(b.bytes);
      const errorSketch = newSketch();
      for (const b of listItems(g.error_sketches)) errorSketch.mergeBytes(b.bytes);
      appendRow(
        app,
        spec,
        {
          key: spec.keys.map((c) => (c === 'kind' ? num(g[c]) : String(g[c]))),
          carried: spec.carried.map((c) => String(g[c] ?? '')),
          bucketNs: big(g[bucketColumn]),
          sums: spec.sums.map((c) => num(g[c])),
          maxMs: num(g.max_ms),
          minMs: minOf(g.min_ms),
          sketch,
          errorSketch,
          // A block of a coarser tier keeps its first and last minute; a merged minute row is its minute.
          ...(table === spec.minuteTable
            ? {}
            : { firstMinuteNs: big(g.first_minute_ns), lastMinuteNs: big(g.last_minute_ns) }),
        },
        big(g.written_ns),
      );
    }
  } finally {
    app.closeSync();
  }
}

/**
 * Fills `first_minute_ns`/`last_minute_ns` of the coarser tiers' rows written before those columns
 * existed (a migration run when a store opens) from the minute rows of each block still stored. A block's
 * tier row carries the `written_ns` of its newest minute row, and retention goes by `written_ns`, so a
 * block with a tier row still has that minute row; older minute rows of a block that straddles the
 * retention cut may be gone, and then the first minute is the first one still stored (the same rows a
 * rebuild of the block would use). A block with no minute row left keeps its bounds (its start, and its
 * last minute). Does nothing once no row is missing them: later opens cost one count of the tier tables.
 * @returns the rows filled, per tier table.
 */
export async function backfillTierMinutes(
  conn: DuckDBConnection,
  spec: RollupSpec,
): Promise<Record<string, number>> {
  const filled: Record<string, number> = {};
  for (const t of TIERS) {
    const table = tierTable(spec, t);
    const missing = await conn.runAndReadAll(
      `SELECT count(*) FROM ${table} WHERE first_minute_ns IS NULL OR last_minute_ns IS NULL`,
    );
    if (num(missing.getColumns()[0]![0]) === 0) continue;
    const on = (a: string, b: string) => spec.keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
    const block = `m.bucket_ns - m.bucket_ns % ${t.stepNs}`;
    const done = await conn.run(
      `UPDATE ${table} AS t SET first_minute_ns = b.f, last_minute_ns = b.l
       FROM (SELECT m.${spec.keys.join(', m.')}, ${block} AS block_ns, min(m.bucket_ns) AS f, max(m.bucket_ns) AS l
             FROM ${spec.minuteTable} m
             JOIN (SELECT ${spec.keys.join(', ')}, bucket_ns FROM ${table}
                   WHERE first_minute_ns IS NULL OR last_minute_ns IS NULL) n
               ON ${on('m', 'n')} AND ${block} = n.bucket_ns
             GROUP BY m.${spec.keys.join(', m.')}, block_ns) b
       WHERE ${on('t', 'b')} AND t.bucket_ns = b.block_ns`,
    );
    const rest = await conn.run(
      `UPDATE ${table} SET first_minute_ns = bucket_ns, last_minute_ns = bucket_ns + ${t.stepNs - MINUTE_NS}
       WHERE first_minute_ns IS NULL OR last_minute_ns IS NULL`,
    );
    filled[table] = done.rowsChanged + rest.rowsChanged;
  }
  return filled;
}
