/**
 * The embedded default store: one DuckDB file under the data directory (or `:memory:` for tests).
 *
 * Writes are serialised through one appender connection: a batch of spans is appended and flushed
 * (committed to DuckDB's write-ahead log) before `writeSpans` resolves, so an acknowledged batch
 * survives `kill -9`. Each batch gets an increasing `batch_id`; per-minute rollups of written spans
 * are kept in memory and flushed every few seconds together with the highest batch id they cover
 * (`store_meta.rollup_watermark`). On open, spans above the watermark are replayed into the rollups,
 * so a crash between a span write and a rollup flush loses nothing and counts nothing twice.
 *
 * DuckDB allows one process per database file; open the store once per process.
 * @module
 */

import { createHash } from 'node:crypto';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { SiperfError } from '../../errors.ts';
import type {
  Attributes,
  DbCall,
  MetricPoint,
  Span,
  SpanKind,
  StatusCode,
  VitalsEvent,
} from '../../model/index.ts';
import { NS_PER_MINUTE, nowNs as wallNowNs } from '../../util/time.ts';
import { RecentSpanKeys, spanKeyHash } from '../recent-span-keys.ts';
import { type DbCell, type EndpointCell, RollupAggregator } from '../rollup-aggregator.ts';
import type {
  DbAggregate,
  EndpointAggregate,
  MetricQuery,
  RecentTracesQuery,
  RetentionPolicy,
  RollupQuery,
  ServiceSummary,
  Store,
  TimeWindow,
  TraceSummary,
  TransactionMarkRow,
  VitalsAggregate,
  VitalsQuery,
} from '../store.ts';
import {
  appendRollupRows,
  compactRollups as compactRollupTables,
  DB_ROLLUP,
  ENDPOINT_ROLLUP,
  mergeCells,
  nextWatermarks,
  type RollupRow,
  type RollupSpec,
  readRollups,
  TIERS,
  type TierState,
  tierTable,
} from './rollup-tables.ts';
import { SCHEMA_SQL } from './schema.ts';
import { appendVitals, vitalsAggregatesFrom, vitalsAggregatesSql } from './vitals-table.ts';

/** Options of {@link createDuckDbStore}. */
export interface DuckDbStoreOptions {
  /** Database file path, or `:memory:`. */
  path: string;
  /** Spans remembered for de-duplication, per generation (see `RecentSpanKeys`). Default 1,000,000. */
  dedupGenerationSize?: number;
  /**
   * WAL size that triggers a checkpoint, MiB (DuckDB's `checkpoint_threshold`, its default 16). Larger means
   * fewer, bigger checkpoints (faster ingest) and a longer WAL replay after a crash. Default: DuckDB's.
   */
  checkpointThresholdMb?: number;
  /** DuckDB `memory_limit`, MiB. Default: DuckDB's own (80% of RAM). */
  memoryLimitMb?: number;
  /** Clock, ns since the epoch (injected by tests). */
  now?: () => bigint;
  log?: Logger;
}

/**
 * Opens (creating if needed) a DuckDB store.
 * @throws when the file is locked by another process (DuckDB's own error, with the lock holder's pid).
 */
export async function createDuckDbStore(options: DuckDbStoreOptions): Promise<Store> {
  const instance = await DuckDBInstance.create(
    options.path,
    options.memoryLimitMb === undefined ? undefined : { memory_limit: `${options.memoryLimitMb}MiB` },
  );
  const writer = await instance.connect();
  for (const sql of SCHEMA_SQL) await writer.run(sql);
  if (options.checkpointThresholdMb !== undefined) {
    await writer.run(`SET checkpoint_threshold = '${Math.round(options.checkpointThresholdMb)}MiB'`);
  }
  const reader = await instance.connect();
  const store = new DuckDbStore(instance, writer, reader, options);
  await store.recover();
  return store;
}

type Row = Record<string, DuckDBValue>;
type Cell = DuckDBValue | undefined;
const num = (v: Cell): number => (typeof v === 'bigint' ? Number(v) : ((v ?? 0) as number));
const big = (v: Cell): bigint => (typeof v === 'bigint' ? v : BigInt((v ?? 0) as number));
const text = (v: Cell): string => (v === null || v === undefined ? '' : String(v));

class DuckDbStore implements Store {
  private readonly aggregator = new RollupAggregator();
  private readonly recentKeys: RecentSpanKeys;
  private readonly now: () => bigint;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private spanQueue: {
    spans: readonly Span[];
    resolve: (r: { written: number; duplicates: number }) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private drainScheduled = false;
  private readonly knownResources = new Set<number>();
  private nextBatchId = 1n;
  private lastWrittenBatch = 0n;
  private closed = false;
  /** Where the coarser rollup tiers stand (mirrors `store_meta`). */
  private tier: TierState = { watermarksNs: TIERS.map(() => 0n), compactedAtNs: -1n };
  /** Highest `written_ns` stamped on a rollup row so far. */
  private maxWrittenNs = 0n;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly options: DuckDbStoreOptions,
  ) {
    this.recentKeys = new RecentSpanKeys(options.dedupGenerationSize);
    this.now = options.now ?? wallNowNs;
  }

  /** Replays spans written after the last rollup flush and reloads recent span keys. */
  async recover(): Promise<void> {
    const meta = new Map(
      (await this.rows('SELECT key, value FROM store_meta')).map((r) => [text(r.key), big(r.value)]),
    );
    const watermark = meta.get('rollup_watermark') ?? 0n;
    this.tier = {
      watermarksNs: TIERS.map((t) => meta.get(t.watermarkKey) ?? 0n),
      compactedAtNs: meta.get('compacted_at') ?? -1n,
    };
    const written = await this.rows(
      `SELECT greatest((SELECT coalesce(max(written_ns), 0) FROM ${ENDPOINT_ROLLUP.minuteTable}),
                       (SELECT coalesce(max(written_ns), 0) FROM ${DB_ROLLUP.minuteTable})) AS w`,
    );
    this.maxWrittenNs = big(written[0]?.w);
    if (this.maxWrittenNs < this.tier.compactedAtNs) this.maxWrittenNs = this.tier.compactedAtNs;
    const max = await this.rows('SELECT coalesce(max(batch_id), 0) AS b FROM spans');
    this.lastWrittenBatch = big(max[0]!.b);
    this.nextBatchId = this.lastWrittenBatch + 1n;
    const replay = await this.rows(
      `SELECT service, endpoint, kind, parent_span_id, start_ns, duration_ns, is_error, clock_flagged, ingest_ns,
              db_system, db_name, db_statement, db_fingerprint
       FROM spans WHERE batch_id > $1`,
      [watermark],
    );
    for (const r of replay) {
      const db: DbCall | undefined =
        (r.db_fingerprint ?? null) === null
          ? undefined
          : {
              system: text(r.db_system),
              database: text(r.db_name),
              statement: text(r.db_statement),
              fingerprint: text(r.db_fingerprint),
            };
      this.aggregator.add(
        [
          {
            service: text(r.service),
            endpoint: text(r.endpoint),
            kind: num(r.kind) as SpanKind,
            parentSpanId: text(r.parent_span_id),
            startTimeUnixNano: big(r.start_ns),
            durationNano: big(r.duration_ns),
            isError: r.is_error === true,
            clockFlagged: r.clock_flagged === true,
            db,
          },
        ],
        big(r.ingest_ns),
      );
    }
    if (replay.length > 0) {
      this.options.log?.info(
        { spans: replay.length, watermark: String(watermark) },
        'replayed spans into rollups',
      );
      await this.flushRollups();
    }
    for (const r of await this.rows('SELECT DISTINCT resource_id FROM resources'))
      this.knownResources.add(num(r.resource_id));
    // Exporters retry within seconds to minutes: remember the spans of the last 10 minutes of ingest,
    // at most 200,000 of them (a larger reload would slow every start for a rare case).
    const recent = await this.reader.runAndReadAll(
      `SELECT trace_id, span_id FROM spans
       WHERE ingest_ns >= (SELECT max(ingest_ns) FROM spans) - 600000000000
       ORDER BY ingest_ns DESC, batch_id DESC LIMIT $1`,
      [Math.min(this.options.dedupGenerationSize ?? 1_000_000, 200_000)],
    );
    const [traceIds, spanIds] = recent.getColumns();
    for (let i = 0; i < recent.currentRowCount; i++) {
      this.recentKeys.add(spanKeyHash(String(traceIds![i]), String(spanIds![i])));
    }
  }

  private async rows(sql: string, params?: DuckDBValue[]): Promise<Row[]> {
    if (this.closed) throw new SiperfError('ERR_STORE_CLOSED', 'the store is closed');
    const result = await this.reader.runAndReadAll(sql, params);
    return result.getRowObjects();
  }

  /** Runs `task` after every earlier write (one writer at a time). */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  pendingSpans(): number {
    return this.pending;
  }

  writeSpans(spans: readonly Span[]): Promise<{ written: number; duplicates: number }> {
    if (this.closed) return Promise.reject(new SiperfError('ERR_STORE_CLOSED', 'the store is closed'));
    this.pending += spans.length;
    return new Promise((resolve, reject) => {
      this.spanQueue.push({ spans, resolve, reject });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        this.serial(() => this.drainSpans()).catch(() => undefined);
      }
    });
  }

  /**
   * Group commit: every batch that queued up while the previous write ran goes into one appender and
   * one commit (one WAL sync), and each caller gets its own counts when that commit is durable.
   */
  private async drainSpans(): Promise<void> {
    this.drainScheduled = false;
    const group = this.spanQueue;
    this.spanQueue = [];
    let total = 0;
    for (const g of group) total += g.spans.length;
    try {
      const results = await this.appendSpans(group.map((g) => g.spans));
      group.forEach((g, i) => {
        g.resolve(results[i]!);
      });
    } catch (err) {
      if (group.length === 1) group[0]!.reject(err);
      else {
        // One batch the store refused must not fail the others: write each on its own.
        this.options.log?.warn(
          { err, batches: group.length },
          'group commit failed; writing batches one by one',
        );
        for (const g of group) {
          try {
            g.resolve((await this.appendSpans([g.spans]))[0]!);
          } catch (one) {
            g.reject(one);
          }
        }
      }
    } finally {
      this.pending -= total;
    }
  }

  private async appendSpans(
    batches: readonly (readonly Span[])[],
  ): Promise<{ written: number; duplicates: number }[]> {
    const fresh: Span[] = [];
    const keys: number[] = [];
    const inGroup = new Set<number>();
    const results = batches.map((spans) => {
      let written = 0;
      for (const s of spans) {
        const k = spanKeyHash(s.traceId, s.spanId);
        if (this.recentKeys.has(k) || inGroup.has(k)) continue;
        inGroup.add(k);
        keys.push(k);
        fresh.push(s);
        written++;
      }
      return { written, duplicates: spans.length - written };
    });
    if (fresh.length === 0) return results;
    const batchId = this.nextBatchId++;
    const ingestNs = this.now();
    const newResources = new Map<number, string>();
    for (const s of fresh) this.resourceId(s.resourceAttributes, newResources);
    // One transaction for the new resources and the spans. The appenders only fill the transaction
    // (synchronous, in memory); the COMMIT, which writes and syncs the WAL, runs off the event loop.
    await this.writer.run('BEGIN TRANSACTION');
    try {
      await this.appendSpanRows(fresh, newResources, ingestNs, batchId);
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const id of newResources.keys()) this.knownResources.add(id);
    for (const k of keys) this.recentKeys.add(k);
    this.aggregator.add(fresh, ingestNs);
    this.lastWrittenBatch = batchId;
    return results;
  }

  private async appendSpanRows(
    fresh: readonly Span[],
    newResources: ReadonlyMap<number, string>,
    ingestNs: bigint,
    batchId: bigint,
  ): Promise<void> {
    if (newResources.size > 0) {
      const res = await this.writer.createAppender('resources');
      try {
        for (const [id, json] of newResources) {
          res.appendBigInt(BigInt(id));
          res.appendVarchar(json);
          res.appendBigInt(ingestNs);
          res.endRow();
        }
        res.flushSync();
      } finally {
        res.closeSync();
      }
    }
    const appender = await this.writer.createAppender('spans');
    try {
      for (const s of fresh) {
        appender.appendVarchar(s.traceId);
        appender.appendVarchar(s.spanId);
        appender.appendVarchar(s.parentSpanId);
        appender.appendVarchar(s.service);
        appender.appendVarchar(s.name);
        appender.appendVarchar(s.endpoint);
        appender.appendUTinyInt(s.kind);
        appender.appendBigInt(s.startTimeUnixNano);
        appender.appendBigInt(s.durationNano);
        appender.appendUTinyInt(s.statusCode);
        appender.appendVarchar(s.statusMessage);
        appender.appendUSmallInt(s.httpStatusCode);
        appender.appendBoolean(s.isError);
        if (s.db) {
          appender.appendVarchar(s.db.system);
          appender.appendVarchar(s.db.database);
          appender.appendVarchar(s.db.statement);
          appender.appendVarchar(s.db.fingerprint);
        } else {
          appender.appendNull();
          appender.appendNull();
          appender.appendNull();
          appender.appendNull();
        }
        appender.appendBoolean(s.clockFlagged);
        appender.appendVarchar(s.scope);
        appender.appendBigInt(BigInt(resourceOf(s.resourceAttributes).id));
        appender.appendVarchar(JSON.stringify(s.attributes));
        appender.appendVarchar(s.events.length === 0 ? '[]' : JSON.stringify(s.events));
        appender.appendVarchar(s.links.length === 0 ? '[]' : JSON.stringify(s.links));
        appender.appendBigInt(ingestNs);
        appender.appendBigInt(batchId);
        const tx = s.transaction;
        if (tx) {
          appender.appendVarchar(tx.id);
          appender.appendVarchar(tx.name);
          appender.appendVarchar(tx.event);
          appender.appendVarchar(tx.step);
          if (tx.success === undefined) appender.appendNull();
          else appender.appendBoolean(tx.success);
        } else {
          for (let i = 0; i < 5; i++) appender.appendNull();
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  writeMetricPoints(points: readonly MetricPoint[]): Promise<number> {
    if (this.closed) return Promise.reject(new SiperfError('ERR_STORE_CLOSED', 'the store is closed'));
    return this.serial(async () => {
      const ingestNs = this.now();
      const appender = await this.writer.createAppender('metric_points');
      try {
        for (const p of points) {
          appender.appendVarchar(p.name);
          appender.appendVarchar(p.service);
          appender.appendVarchar(p.unit);
          appender.appendVarchar(p.type);
          appender.appendBoolean(p.monotonic);
          appender.appendUTinyInt(p.temporality);
          appender.appendBigInt(p.timeUnixNano);
          appender.appendBigInt(p.startTimeUnixNano);
          appender.appendDouble(p.value);
          appender.appendDouble(p.count);
          appender.appendDouble(p.sum);
          if (p.min === undefined) appender.appendNull();
          else appender.appendDouble(p.min);
          if (p.max === undefined) appender.appendNull();
          else appender.appendDouble(p.max);
          appender.appendVarchar(JSON.stringify(p.buckets ?? null));
          appender.appendVarchar(JSON.stringify(p.attributes));
          appender.appendVarchar(JSON.stringify(p.resourceAttributes));
          appender.appendBigInt(ingestNs);
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      return points.length;
    });
  }

  writeVitals(events: readonly VitalsEvent[]): Promise<number> {
    if (this.closed) return Promise.reject(new SiperfError('ERR_STORE_CLOSED', 'the store is closed'));
    return this.serial(async () => {
      await appendVitals(this.writer, events);
      return events.length;
    });
  }

  async vitalsAggregates(q: VitalsQuery): Promise<VitalsAggregate[]> {
    const { sql, params } = vitalsAggregatesSql(q);
    return vitalsAggregatesFrom(await this.rows(sql, params), q);
  }

  deleteMetricPoints(q: {
    name: string;
    service: string;
    host: string;
    fromNs: bigint;
    toNs: bigint;
  }): Promise<number> {
    if (this.closed) return Promise.reject(new SiperfError('ERR_STORE_CLOSED', 'the store is closed'));
    return this.serial(async () => {
      const r = await this.writer.run(
        `DELETE FROM metric_points WHERE name = $1 AND service = $2
           AND json_extract_string(resource_json, '$."host.name"') = $3 AND time_ns >= $4 AND time_ns <= $5`,
        [q.name, q.service, q.host, q.fromNs, q.toNs],
      );
      return r.rowsChanged;
    });
  }

  /** The id of a resource, remembering it in `fresh` when the store has not seen it yet. */
  private resourceId(attrs: Attributes, fresh: Map<number, string>): number {
    const r = resourceOf(attrs);
    if (!this.knownResources.has(r.id)) fresh.set(r.id, r.json);
    return r.id;
  }

  /** The `written_ns` for rows written now: after every earlier row and after the last compaction. */
  private stampNs(): bigint {
    let t = this.now();
    if (t <= this.maxWrittenNs) t = this.maxWrittenNs + 1n;
    this.maxWrittenNs = t;
    return t;
  }

  flushRollups(): Promise<void> {
    return this.serial(async () => {
      if (this.closed || this.aggregator.size === 0) return;
      const watermark = this.lastWrittenBatch;
      const cells = this.aggregator.drain();
      const writtenNs = this.stampNs();
      try {
        await this.writer.run('BEGIN TRANSACTION');
        const rows: [RollupSpec, RollupRow[]][] = [
          [ENDPOINT_ROLLUP, cells.endpoints.map(endpointRow)],
          [DB_ROLLUP, cells.dbs.map(dbRow)],
        ];
        for (const [spec, r] of rows)
          await appendRollupRows(this.writer, spec, spec.minuteTable, r, writtenNs);
        await this.setMeta('rollup_watermark', watermark);
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        this.aggregator.restore(cells);
        throw err;
      }
    });
  }

  private async setMeta(key: string, value: bigint): Promise<void> {
    await this.writer.run(
      'INSERT INTO store_meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }

  compactRollups(
    beforeNs: bigint,
  ): Promise<{ merged: number; removed: number; rebuilt: Record<string, number> }> {
    return this.serial(async () => {
      const rebuilt: Record<string, number> = Object.fromEntries(TIERS.map((t) => [t.suffix, 0]));
      const total = { merged: 0, removed: 0, rebuilt };
      if (this.closed) return total;
      const previous = this.tier;
      const next: TierState = {
        watermarksNs: nextWatermarks(previous, beforeNs),
        compactedAtNs: this.stampNs(),
      };
      await this.writer.run('BEGIN TRANSACTION');
      try {
        for (const spec of [ENDPOINT_ROLLUP, DB_ROLLUP]) {
          const r = await compactRollupTables(this.writer, spec, previous, next, beforeNs);
          total.merged += r.merged;
          total.removed += r.removed;
          TIERS.forEach((t, i) => {
            rebuilt[t.suffix]! += r.rebuilt[i]!;
          });
        }
        for (const [i, t] of TIERS.entries()) await this.setMeta(t.watermarkKey, next.watermarksNs[i]!);
        await this.setMeta('compacted_at', next.compactedAtNs);
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      this.tier = next;
      return total;
    });
  }

  private async aggregates(spec: RollupSpec, q: RollupQuery, cells: readonly RollupRow[]) {
    if (this.closed) throw new SiperfError('ERR_STORE_CLOSED', 'the store is closed');
    const out = await readRollups(this.reader, spec, q.window, q.service);
    mergeCells(out, cells, q.window, q.service);
    return [...out.values()];
  }

  async endpointAggregates(q: RollupQuery): Promise<EndpointAggregate[]> {
    const rows = await this.aggregates(
      ENDPOINT_ROLLUP,
      q,
      this.aggregator.snapshot().endpoints.map(endpointRow),
    );
    return rows.map((r) => ({
      service: String(r.key[0]),
      endpoint: String(r.key[1]),
      kind: r.key[2] as SpanKind,
      requests: r.sums[0]!,
      errors: r.sums[1]!,
      sumMs: r.sums[2]!,
      minMs: r.minMs,
      maxMs: r.maxMs,
      sketch: r.sketch,
      errorSketch: r.errorSketch,
    }));
  }

  async dbAggregates(q: RollupQuery): Promise<DbAggregate[]> {
    const rows = await this.aggregates(DB_ROLLUP, q, this.aggregator.snapshot().dbs.map(dbRow));
    return rows.map((r) => ({
      service: String(r.key[0]),
      system: String(r.key[1]),
      database: String(r.key[2]),
      fingerprint: String(r.key[3]),
      statement: r.carried[0] ?? '',
      calls: r.sums[0]!,
      sumMs: r.sums[1]!,
      minMs: r.minMs,
      maxMs: r.maxMs,
      sketch: r.sketch,
    }));
  }

  async services(window: TimeWindow, service?: string): Promise<ServiceSummary[]> {
    const rows = await this.aggregates(
      ENDPOINT_ROLLUP,
      { window, service },
      this.aggregator.snapshot().endpoints.map(endpointRow),
    );
    const out = new Map<string, ServiceSummary>();
    for (const r of rows) {
      const name = String(r.key[0]);
      const s = out.get(name);
      if (!s) {
        out.set(name, {
          service: name,
          requests: r.sums[0]!,
          errors: r.sums[1]!,
          endpoints: 1,
          firstSeenNs: r.firstBucketNs,
          lastSeenNs: r.lastBucketNs + NS_PER_MINUTE,
        });
      } else {
        s.requests += r.sums[0]!;
        s.errors += r.sums[1]!;
        s.endpoints++;
        if (r.firstBucketNs < s.firstSeenNs) s.firstSeenNs = r.firstBucketNs;
        if (r.lastBucketNs + NS_PER_MINUTE > s.lastSeenNs) s.lastSeenNs = r.lastBucketNs + NS_PER_MINUTE;
      }
    }
    return [...out.values()];
  }

  async recentTraces(q: RecentTracesQuery): Promise<TraceSummary[]> {
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
    const rows = await this.rows(
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
    return rows.map((r) => ({
      traceId: text(r.trace_id),
      service: text(r.root_service),
      endpoint: text(r.root_endpoint),
      startNs: big(r.start_ns),
      durationNs: big(r.duration_ns),
      spanCount: num(r.spans),
      errorCount: num(r.errors),
      services: listOf(r.services).map(text),
    }));
  }

  async traceSpans(traceId: string): Promise<Span[]> {
    const rows = await this.rows(
      `SELECT s.*, r.attributes_json AS resource_json
       FROM spans s LEFT JOIN (SELECT resource_id, any_value(attributes_json) AS attributes_json FROM resources GROUP BY resource_id) r
         USING (resource_id)
       WHERE s.trace_id = $1 ORDER BY s.start_ns, s.span_id`,
      [traceId],
    );
    return rows.map(rowToSpan);
  }

  async transactionMarks(q: { window?: TimeWindow; transactionId?: string }): Promise<TransactionMarkRow[]> {
    const params: DuckDBValue[] = [];
    let which: string;
    if (q.transactionId !== undefined) {
      params.push(q.transactionId);
      which = 'tx_id = $1';
    } else {
      const w = q.window ?? { fromNs: 0n, toNs: 2n ** 62n };
      params.push(w.fromNs, w.toNs);
      which =
        'tx_id IN (SELECT DISTINCT tx_id FROM spans WHERE tx_id IS NOT NULL AND start_ns >= $1 AND start_ns < $2)';
    }
    const rows = await this.rows(
      `SELECT tx_id, tx_name, tx_event, tx_step, tx_success, service, start_ns, duration_ns, is_error
       FROM spans WHERE ${which} ORDER BY start_ns, span_id`,
      params,
    );
    return rows.map((r) => ({
      id: text(r.tx_id),
      name: text(r.tx_name),
      event: text(r.tx_event) as TransactionMarkRow['event'],
      step: text(r.tx_step),
      success: (r.tx_success ?? null) === null ? undefined : r.tx_success === true,
      service: text(r.service),
      startNs: big(r.start_ns),
      durationNs: big(r.duration_ns),
      isError: r.is_error === true,
    }));
  }

  async repeatedCallTraces(q: {
    window: TimeWindow;
    service?: string | undefined;
    minRepeats: number;
    limit: number;
  }): Promise<string[]> {
    const params: DuckDBValue[] = [q.window.fromNs, q.window.toNs, q.minRepeats];
    let svc = '';
    if (q.service !== undefined) {
      params.push(q.service);
      svc = `AND trace_id IN (SELECT trace_id FROM spans WHERE service = $${params.length} AND start_ns >= $1 AND start_ns < $2)`;
    }
    params.push(q.limit);
    const rows = await this.rows(
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

  async dbCallerEndpoints(q: RollupQuery): Promise<Map<string, string[]>> {
    const params: DuckDBValue[] = [q.window.fromNs, q.window.toNs];
    let svc = '';
    if (q.service !== undefined) {
      params.push(q.service);
      svc = `AND d.service = $${params.length}`;
    }
    const rows = await this.rows(
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

  async metricPoints(q: MetricQuery): Promise<MetricPoint[]> {
    const params: DuckDBValue[] = [q.name, q.window.fromNs, q.window.toNs];
    const svc = metricFilter(q, params);
    params.push(q.limit);
    const rows = await this.rows(
      `SELECT * FROM metric_points WHERE name = $1 AND time_ns >= $2 AND time_ns < $3 ${svc}
       ORDER BY time_ns LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      name: text(r.name),
      service: text(r.service),
      unit: text(r.unit),
      type: text(r.type) as MetricPoint['type'],
      monotonic: r.monotonic === true,
      temporality: num(r.temporality),
      timeUnixNano: big(r.time_ns),
      startTimeUnixNano: big(r.start_time_ns),
      value: num(r.value),
      count: num(r.count),
      sum: num(r.sum),
      min: (r.min ?? null) === null ? undefined : num(r.min),
      max: (r.max ?? null) === null ? undefined : num(r.max),
      buckets: JSON.parse(text(r.buckets_json) || 'null'),
      attributes: JSON.parse(text(r.attributes_json) || '{}') as Attributes,
      resourceAttributes: JSON.parse(text(r.resource_json) || '{}') as Attributes,
    }));
  }

  async metricNames(
    window: TimeWindow,
  ): Promise<{ name: string; unit: string; type: string; points: number }[]> {
    const rows = await this.rows(
      `SELECT name, any_value(unit) AS unit, any_value(type) AS type, count(*) AS points FROM metric_points
       WHERE time_ns >= $1 AND time_ns < $2 GROUP BY name ORDER BY name`,
      [window.fromNs, window.toNs],
    );
    return rows.map((r) => ({
      name: text(r.name),
      unit: text(r.unit),
      type: text(r.type),
      points: num(r.points),
    }));
  }

  async metricBuckets(q: MetricQuery & { bucketNs: bigint }): Promise<MetricPoint[]> {
    if (q.bucketNs <= 0n) throw new RangeError(`bucketNs: must be positive, got ${q.bucketNs}`);
    const params: DuckDBValue[] = [q.name, q.window.fromNs, q.window.toNs, q.bucketNs];
    const filter = metricFilter(q, params);
    params.push(q.limit);
    const rows = await this.rows(
      `SELECT attributes_json, (time_ns // $4) * $4 AS bucket, avg(value) AS value, any_value(unit) AS unit,
         any_value(type) AS type, bool_or(monotonic) AS monotonic, any_value(service) AS service,
         any_value(resource_json) AS resource_json
       FROM metric_points WHERE name = $1 AND time_ns >= $2 AND time_ns < $3 ${filter}
       GROUP BY 1, 2 ORDER BY 2 LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      name: q.name,
      service: text(r.service),
      unit: text(r.unit),
      type: text(r.type) as MetricPoint['type'],
      monotonic: r.monotonic === true,
      temporality: 0,
      timeUnixNano: big(r.bucket),
      startTimeUnixNano: big(r.bucket),
      value: num(r.value),
      count: 0,
      sum: 0,
      min: undefined,
      max: undefined,
      buckets: null,
      attributes: JSON.parse(text(r.attributes_json) || '{}') as Attributes,
      resourceAttributes: JSON.parse(text(r.resource_json) || '{}') as Attributes,
    }));
  }

  async metricHosts(window: TimeWindow): Promise<{ host: string; lastNs: bigint; points: number }[]> {
    const rows = await this.rows(
      `SELECT json_extract_string(resource_json, '$."host.name"') AS host, max(time_ns) AS last_ns,
         count(*) AS points
       FROM metric_points
       WHERE time_ns >= $1 AND time_ns < $2 AND (name LIKE 'system.%' OR name LIKE 'container.%')
         AND service <> 'siperf-import'
         AND json_extract_string(resource_json, '$."host.name"') IS NOT NULL
       GROUP BY 1 ORDER BY last_ns DESC`,
      [window.fromNs, window.toNs],
    );
    return rows.map((r) => ({ host: text(r.host), lastNs: big(r.last_ns), points: num(r.points) }));
  }

  applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<Record<string, number>> {
    return this.serial(async () => {
      const out: Record<string, number> = {};
      const plan: [string, string, bigint][] = [
        ['spans', 'ingest_ns', policy.rawSpansNs],
        ...[ENDPOINT_ROLLUP, DB_ROLLUP].flatMap((spec): [string, string, bigint][] => [
          [spec.minuteTable, 'written_ns', policy.rollupsNs],
          ...TIERS.map((t): [string, string, bigint] => [tierTable(spec, t), 'written_ns', policy.rollupsNs]),
        ]),
        ['metric_points', 'ingest_ns', policy.metricPointsNs],
        ['vitals', 'time_ns', policy.metricPointsNs],
      ];
      for (const [table, column, keep] of plan) {
        const r = await this.writer.run(`DELETE FROM ${table} WHERE ${column} < $1`, [nowNs - keep]);
        out[table] = r.rowsChanged;
      }
      const orphans = await this.writer.run(
        'DELETE FROM resources WHERE resource_id NOT IN (SELECT DISTINCT resource_id FROM spans)',
      );
      out.resources = orphans.rowsChanged;
      if (orphans.rowsChanged > 0) {
        const left = (
          await this.writer.runAndReadAll('SELECT DISTINCT resource_id FROM resources')
        ).getRows();
        this.knownResources.clear();
        for (const [id] of left) this.knownResources.add(num(id));
      }
      return out;
    });
  }

  async diskBytes(): Promise<number> {
    const rows = await this.rows('SELECT total_blocks * block_size AS bytes FROM pragma_database_size()');
    return rows[0] ? num(rows[0].bytes) : 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushRollups();
    await this.queue;
    this.closed = true;
    await this.writer.run('CHECKPOINT').catch(() => undefined);
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}

/** Resource id and JSON, once per resource object (all spans of a resource share the object). */
/** The `service` and `host` conditions of a metric read, appending their parameters to `params`. */
function metricFilter(q: MetricQuery, params: DuckDBValue[]): string {
  let sql = '';
  if (q.service !== undefined) {
    params.push(q.service);
    sql += ` AND service = $${params.length}`;
  }
  if (q.host !== undefined) {
    params.push(q.host);
    sql += ` AND json_extract_string(resource_json, '$."host.name"') = $${params.length}`;
  }
  return sql;
}

const resourceCache = new WeakMap<Attributes, { id: number; json: string }>();
function resourceOf(attrs: Attributes): { id: number; json: string } {
  let r = resourceCache.get(attrs);
  if (r === undefined) {
    const json = JSON.stringify(attrs);
    const h = createHash('sha1').update(json).digest();
    r = { id: h.readUIntBE(0, 6) * 16 + (h[6]! >> 4), json };
    resourceCache.set(attrs, r);
  }
  return r;
}

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

function listOf(v: Cell): DuckDBValue[] {
  if (v === null || v === undefined) return [];
  return (v as unknown as { items: DuckDBValue[] }).items;
}

function rowToSpan(r: Row): Span {
  const start = big(r.start_ns);
  const duration = big(r.duration_ns);
  return {
    traceId: text(r.trace_id),
    spanId: text(r.span_id),
    parentSpanId: text(r.parent_span_id),
    service: text(r.service),
    name: text(r.name),
    endpoint: text(r.endpoint),
    kind: num(r.kind) as SpanKind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + duration,
    durationNano: duration,
    statusCode: num(r.status_code) as StatusCode,
    statusMessage: text(r.status_message),
    httpStatusCode: num(r.http_status),
    isError: r.is_error === true,
    db:
      (r.db_fingerprint ?? null) === null
        ? undefined
        : {
            system: text(r.db_system),
            database: text(r.db_name),
            statement: text(r.db_statement),
            fingerprint: text(r.db_fingerprint),
          },
    clockFlagged: r.clock_flagged === true,
    transaction:
      (r.tx_id ?? null) === null
        ? undefined
        : {
            id: text(r.tx_id),
            name: text(r.tx_name),
            event: text(r.tx_event) as 'start' | 'step' | 'end',
            step: text(r.tx_step),
            success: (r.tx_success ?? null) === null ? undefined : r.tx_success === true,
          },
    scope: text(r.scope),
    resourceAttributes: JSON.parse(text(r.resource_json) || '{}'),
    attributes: JSON.parse(text(r.attributes_json) || '{}'),
    events: JSON.parse(text(r.events_json) || '[]'),
    links: JSON.parse(text(r.links_json) || '[]'),
  };
}
