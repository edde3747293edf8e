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
 * This file opens the store and hands each call to the module of its job: `writer.ts` (appends),
 * `crash-replay.ts` (open), `rollup-upkeep.ts` (flush, compaction), `rollup-queries.ts`,
 * `span-queries.ts`, `metric-queries.ts`, `vitals-table.ts` (reads), `retention.ts`, with the
 * connections, the closed state and the full-disk error in `connections.ts`, checkpoints in
 * `checkpoints.ts` and row conversions in `row-mapping.ts`.
 *
 * DuckDB allows one process per database file; open the store once per process.
 * @module
 */

import { stat } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { MetricPoint, Span, VitalsEvent } from '../../model/index.ts';
import { nowNs as wallNowNs } from '../../util/time.ts';
import type { RecentSpanKeysOptions } from '../recent-span-keys.ts';
import type {
  DbAggregate,
  EndpointAggregate,
  EndpointSeriesQuery,
  EndpointSpanRef,
  EndpointStepAggregate,
  MetricQuery,
  RecentEndpointSpansQuery,
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
import { manageCheckpoints } from './checkpoints.ts';
import { Connections } from './connections.ts';
import { replayAfterCrash } from './crash-replay.ts';
import { DbCallers } from './db-callers.ts';
import type { KeptHours } from './kept-hours.ts';
import * as metricQueries from './metric-queries.ts';
import { RepeatedCalls } from './repeated-calls.ts';
import { applyRetention } from './retention.ts';
import * as rollupQueries from './rollup-queries.ts';
import { backfillTierMinutes, DB_ROLLUP, ENDPOINT_ROLLUP } from './rollup-tables.ts';
import { RollupUpkeep } from './rollup-upkeep.ts';
import { big } from './row-mapping.ts';
import { SCHEMA_SQL } from './schema.ts';
import { saveSpanKeys } from './span-keys-snapshot.ts';
import * as spanQueries from './span-queries.ts';
import { vitalsAggregatesFrom, vitalsAggregatesSql } from './vitals-table.ts';
import { DuckDbWriter } from './writer.ts';

/** Options of {@link createDuckDbStore}. */
export interface DuckDbStoreOptions {
  /** Database file path, or `:memory:`. */
  path: string;
  /**
   * De-duplication (see `RecentSpanKeys`): the spans ingested within `windowNs` (default 10 minutes) and
   * at least the last `minKeys` (default 1,000,000) are remembered, across a reopen too.
   */
  dedup?: RecentSpanKeysOptions;
  /**
   * WAL size that triggers a checkpoint, MiB (default 16, DuckDB's `checkpoint_threshold`). Larger means
   * fewer, bigger checkpoints (faster ingest) and a longer WAL replay after a crash. siperf runs the
   * checkpoints itself, only when the disk has room for them (`checkpoints.ts`).
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
  for (const spec of [ENDPOINT_ROLLUP, DB_ROLLUP]) await backfillTierMinutes(writer, spec);
  const reader = await instance.connect();
  const conn = new Connections(instance, writer, reader);
  const inMemory = options.path === ':memory:' || options.path === '';
  if (!inMemory) await manageCheckpoints(conn, options.path, options.checkpointThresholdMb, options.log);
  const now = options.now ?? wallNowNs;
  const rollups = new RollupUpkeep(conn, now);
  const dedup = options.dedup ?? {};
  const spanWriter = new DuckDbWriter(conn, rollups, now, options.log, dedup);
  await replayAfterCrash(conn, rollups, spanWriter, {
    dedup,
    log: options.log,
    path: inMemory ? undefined : options.path,
  });
  const dbCallers = new DbCallers(conn, now);
  const repeatedCalls = new RepeatedCalls(conn, now);
  for (const kept of [dbCallers.hours, repeatedCalls.hours]) await kept.load();
  return new DuckDbStore(options.path, conn, rollups, spanWriter, dbCallers, repeatedCalls);
}

/** The {@link Store} of one open DuckDB database: each method hands over to the module of its job. */
class DuckDbStore implements Store {
  private closing: Promise<void> | undefined;

  constructor(
    /** The database file, or `:memory:`. */
    private readonly path: string,
    private readonly conn: Connections,
    private readonly rollups: RollupUpkeep,
    private readonly writer: DuckDbWriter,
    private readonly dbCallers: DbCallers,
    private readonly repeatedCalls: RepeatedCalls,
  ) {
    this.keptHours = [dbCallers.hours, repeatedCalls.hours];
  }

  /** The answers kept per closed hour (`kept-hours.ts`): dropped where a write or retention changes them. */
  private readonly keptHours: readonly KeptHours[];

  async writeSpans(spans: readonly Span[]): Promise<{ written: number; duplicates: number }> {
    // Before (a join running now is not kept) and after (one that read before the commit is dropped).
    for (const kept of this.keptHours) kept.written(spans);
    try {
      return await this.writer.writeSpans(spans);
    } finally {
      for (const kept of this.keptHours) kept.written(spans);
    }
  }

  pendingSpans(): number {
    return this.writer.pendingSpans();
  }

  writeMetricPoints(points: readonly MetricPoint[]): Promise<number> {
    return this.writer.writeMetricPoints(points);
  }

  deleteMetricPoints(q: {
    name: string;
    service: string;
    host: string;
    fromNs: bigint;
    toNs: bigint;
  }): Promise<number> {
    return this.writer.deleteMetricPoints(q);
  }

  writeVitals(events: readonly VitalsEvent[]): Promise<number> {
    return this.writer.writeVitals(events);
  }

  endpointAggregates(q: RollupQuery): Promise<EndpointAggregate[]> {
    return rollupQueries.endpointAggregates(this.conn, this.rollups, q);
  }

  endpointAggregateSeries(q: EndpointSeriesQuery): Promise<EndpointStepAggregate[]> {
    return rollupQueries.endpointAggregateSeries(this.conn, this.rollups, q);
  }

  dbAggregates(q: RollupQuery): Promise<DbAggregate[]> {
    return rollupQueries.dbAggregates(this.conn, this.rollups, q);
  }

  services(window: TimeWindow, service?: string): Promise<ServiceSummary[]> {
    return rollupQueries.services(this.conn, this.rollups, window, service);
  }

  recentTraces(q: RecentTracesQuery): Promise<TraceSummary[]> {
    return spanQueries.recentTraces(this.conn, q);
  }

  traceSpans(traceId: string): Promise<Span[]> {
    return spanQueries.traceSpans(this.conn, traceId);
  }

  recentEndpointSpans(q: RecentEndpointSpansQuery): Promise<EndpointSpanRef[]> {
    return spanQueries.recentEndpointSpans(this.conn, q);
  }

  traceSpansIn(traceIds: readonly string[], window: TimeWindow): Promise<Map<string, Span[]>> {
    return spanQueries.traceSpansIn(this.conn, traceIds, window);
  }

  transactionMarks(q: {
    window?: TimeWindow;
    transactionId?: string;
    service?: string | undefined;
  }): Promise<TransactionMarkRow[]> {
    return spanQueries.transactionMarks(this.conn, q);
  }

  repeatedCallTraces(q: {
    window: TimeWindow;
    service?: string | undefined;
    minRepeats: number;
    limit: number;
  }): Promise<{ traceId: string; lastNs: bigint }[]> {
    return this.repeatedCalls.traces(q);
  }

  dbCallerEndpoints(q: RollupQuery): Promise<Map<string, string[]>> {
    return this.dbCallers.callers(q);
  }

  metricPoints(q: MetricQuery): Promise<MetricPoint[]> {
    return metricQueries.metricPoints(this.conn, q);
  }

  metricNames(window: TimeWindow): Promise<{ name: string; unit: string; type: string; points: number }[]> {
    return metricQueries.metricNames(this.conn, window);
  }

  metricBuckets(q: MetricQuery & { bucketNs: bigint }): Promise<MetricPoint[]> {
    return metricQueries.metricBuckets(this.conn, q);
  }

  metricHosts(window: TimeWindow): Promise<{ host: string; lastNs: bigint; points: number }[]> {
    return metricQueries.metricHosts(this.conn, window);
  }

  async vitalsAggregates(q: VitalsQuery): Promise<VitalsAggregate[]> {
    const { sql, params } = vitalsAggregatesSql(q);
    return vitalsAggregatesFrom(await this.conn.rows(sql, params), q);
  }

  flushRollups(): Promise<void> {
    return this.rollups.flush();
  }

  async compactRollups(
    beforeNs: bigint,
  ): Promise<{ merged: number; removed: number; rebuilt: Record<string, number> }> {
    const compacted = await this.rollups.compact(beforeNs);
    // A few hours of the answers kept per closed hour each time (a day's worth within minutes of start).
    for (const kept of this.keptHours) await kept.warm(2).catch(() => undefined);
    return compacted;
  }

  async applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<Record<string, number>> {
    this.conn.assertOpen();
    return this.conn.serial(async () => {
      // The answers kept for the hours whose spans go.
      const span = (
        await this.conn.writer.runAndReadAll(
          'SELECT min(start_ns) AS lo, max(start_ns) AS hi FROM spans WHERE ingest_ns < $1',
          [nowNs - policy.rawSpansNs],
        )
      ).getRowObjects()[0];
      if (span?.lo !== null && span?.lo !== undefined)
        for (const kept of this.keptHours) await kept.retained(big(span.lo), big(span.hi));
      const { deleted, resourcesLeft } = await applyRetention(this.conn.writer, policy, nowNs);
      if (resourcesLeft !== undefined) this.writer.setKnownResources(resourcesLeft);
      return deleted;
    });
  }

  /** The sizes of the database file and of its write-ahead log (which holds every write until a checkpoint). */
  async diskBytes(): Promise<number> {
    this.conn.assertOpen();
    if (this.path === ':memory:' || this.path === '') return 0;
    // A missing file counts 0 (there is no WAL right after a checkpoint).
    const size = async (file: string) => (await stat(file).catch(() => undefined))?.size ?? 0;
    return (await size(this.path)) + (await size(`${this.path}.wal`));
  }

  /** Refuses new calls, flushes the rollups, lets the calls made before finish, and closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.conn.close(
      () => this.rollups.flush(),
      // The de-duplication keys, for the next open (`span-keys-snapshot.ts`).
      this.path === ':memory:' || this.path === ''
        ? undefined
        : () => saveSpanKeys(this.conn.writer, this.path, this.writer.spanKeysChunks()),
    );
    return this.closing;
  }
}
