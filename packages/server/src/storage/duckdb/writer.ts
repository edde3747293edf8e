/**
 * The writer of the DuckDB store: appends spans (with their new resources), metric points and web-vitals
 * events through the one writer connection, and deletes metric points on request.
 *
 * Spans go through a group commit: the batches that queued up while the previous write ran (up to 8,192
 * spans) go into one appender and one transaction (one WAL sync), filled in slices that let the event loop
 * turn, and each caller gets its own counts once that commit is durable. A span whose (traceId, spanId) was written recently is skipped (`RecentSpanKeys`: the last
 * 10 minutes of ingest and at least the last million spans). Each commit
 * gets the next `batch_id`, and its spans are handed to the rollups with it.
 * @module
 */
import { createHash } from 'node:crypto';
import type { DuckDBAppender } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { Attributes, MetricPoint, Span, VitalsEvent } from '../../model/index.ts';
import { RecentSpanKeys, type RecentSpanKeysOptions, spanKeyHash } from '../recent-span-keys.ts';
import { type Connections, isDiskFull, storeClosedError, storeWriteError } from './connections.ts';
import type { RollupUpkeep } from './rollup-upkeep.ts';
import { appendVitalsRow } from './vitals-table.ts';

type SpanCounts = { written: number; duplicates: number };

/**
 * Spans one group commit takes at most (more batches wait for the next commit): bounds the time and
 * memory of one commit whatever the backlog.
 */
const MAX_GROUP_SPANS = 8192;
/**
 * Spans appended (and handed to the rollups) between two turns of the event loop: the appender's calls
 * are synchronous (about 12 µs a span), so a group is filled in slices of a few milliseconds and
 * `/healthz` and the reads are answered in between. Nothing else uses the writer connection meanwhile:
 * the group runs as one task of the write queue.
 */
const SLICE_SPANS = 512;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const resourceCache = new WeakMap<Attributes, { id: number; json: string }>();
/**
 * Resource id (52-bit hash of the attributes' JSON) and JSON, computed once per resource object (all spans
 * of a resource share the object).
 */
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

/** Where a reopened store's span writes stand (set by crash replay). */
export interface WriterResumeState {
  /** Highest `batch_id` in `spans` (0n when empty). */
  lastBatchId: bigint;
  /** Ids of the resources already stored. */
  resourceIds: Iterable<number>;
}

/** Appends spans, metric points and web-vitals events. */
export class DuckDbWriter {
  private recentKeys: RecentSpanKeys;
  private readonly knownResources = new Set<number>();
  private pending = 0;
  private spanQueue: {
    spans: readonly Span[];
    resolve: (r: SpanCounts) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private drainScheduled = false;
  private nextBatchId = 1n;

  constructor(
    private readonly conn: Connections,
    private readonly rollups: RollupUpkeep,
    private readonly now: () => bigint,
    private readonly log: Logger | undefined,
    private readonly dedup: RecentSpanKeysOptions,
  ) {
    this.recentKeys = new RecentSpanKeys(dedup);
  }

  /** Takes up where the spans of a reopened file stand. */
  resume(state: WriterResumeState): void {
    this.nextBatchId = state.lastBatchId + 1n;
    this.setKnownResources(state.resourceIds);
  }

  /** Remembers a span the file already holds, written at `ingestNs` (crash replay reloads them). */
  rememberWritten(traceId: string, spanId: string, ingestNs: bigint): void {
    this.recentKeys.add(spanKeyHash(traceId, spanId), ingestNs);
  }

  /** The span keys remembered, as byte chunks (`RecentSpanKeys.toChunks`), for a snapshot at close. */
  spanKeysChunks(): Buffer[] {
    return this.recentKeys.toChunks();
  }

  /**
   * Takes the span keys of a snapshot instead of reloading them from the file.
   * @returns false when the bytes are not a snapshot (nothing changed).
   */
  restoreSpanKeys(bytes: Uint8Array): boolean {
    const keys = RecentSpanKeys.fromBytes(bytes, this.dedup);
    if (keys) this.recentKeys = keys;
    return keys !== undefined;
  }

  /** Span keys remembered for de-duplication, and the bytes they take. */
  rememberedSpanKeys(): { keys: number; bytes: number } {
    return { keys: this.recentKeys.size, bytes: this.recentKeys.bytes };
  }

  /** Replaces the ids of the stored resources (after retention deleted some). */
  setKnownResources(ids: Iterable<number>): void {
    this.knownResources.clear();
    for (const id of ids) this.knownResources.add(id);
  }

  pendingSpans(): number {
    return this.pending;
  }

  writeSpans(spans: readonly Span[]): Promise<SpanCounts> {
    if (!this.conn.accepting) return Promise.reject(storeClosedError());
    this.pending += spans.length;
    return new Promise((resolve, reject) => {
      this.spanQueue.push({ spans, resolve, reject });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        this.conn.serial(() => this.drainSpans()).catch(() => undefined);
      }
    });
  }

  /** Writes every queued batch in one commit; each caller gets its own counts when it is durable. */
  private async drainSpans(): Promise<void> {
    this.drainScheduled = false;
    // The oldest batches up to MAX_GROUP_SPANS (at least one); the others go to the next commit.
    let take = 0;
    let total = 0;
    while (
      take < this.spanQueue.length &&
      (take === 0 || total + this.spanQueue[take]!.spans.length <= MAX_GROUP_SPANS)
    )
      total += this.spanQueue[take++]!.spans.length;
    const group = this.spanQueue.splice(0, take);
    if (this.spanQueue.length > 0) {
      this.drainScheduled = true;
      this.conn.serial(() => this.drainSpans()).catch(() => undefined);
    }
    try {
      const results = await this.appendSpans(group.map((g) => g.spans));
      group.forEach((g, i) => {
        g.resolve(results[i]!);
      });
    } catch (err) {
      // A full disk refuses every batch alike: no use writing them one by one.
      if (group.length === 1 || isDiskFull(err)) for (const g of group) g.reject(storeWriteError(err));
      else {
        // One batch the store refused must not fail the others: write each on its own.
        this.log?.warn({ err, batches: group.length }, 'group commit failed; writing batches one by one');
        for (const g of group) {
          try {
            g.resolve((await this.appendSpans([g.spans]))[0]!);
          } catch (one) {
            g.reject(storeWriteError(one));
          }
        }
      }
    } finally {
      this.pending -= total;
    }
  }

  private async appendSpans(batches: readonly (readonly Span[])[]): Promise<SpanCounts[]> {
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
    for (const s of fresh) {
      const r = resourceOf(s.resourceAttributes);
      if (!this.knownResources.has(r.id)) newResources.set(r.id, r.json);
    }
    // One transaction for the new resources and the spans. The appenders only fill the transaction
    // (synchronous, in memory); the COMMIT, which writes and syncs the WAL, runs off the event loop.
    const writer = this.conn.writer;
    await writer.run('BEGIN TRANSACTION');
    try {
      await this.appendSpanRows(fresh, newResources, ingestNs, batchId);
      await writer.run('COMMIT');
    } catch (err) {
      await writer.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const id of newResources.keys()) this.knownResources.add(id);
    for (const k of keys) this.recentKeys.add(k, ingestNs);
    // No rollup flush can run between the slices (flushes are tasks of the same write queue).
    for (let i = 0; i < fresh.length; i += SLICE_SPANS) {
      if (i > 0) await nextTurn();
      this.rollups.record(fresh.slice(i, i + SLICE_SPANS), ingestNs, batchId);
    }
    return results;
  }

  private async appendSpanRows(
    fresh: readonly Span[],
    newResources: ReadonlyMap<number, string>,
    ingestNs: bigint,
    batchId: bigint,
  ): Promise<void> {
    const writer = this.conn.writer;
    if (newResources.size > 0) {
      const res = await writer.createAppender('resources');
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
    // Column order of `SPAN_COLUMNS` in schema.ts.
    const appender = await writer.createAppender('spans');
    try {
      for (let i = 0; i < fresh.length; i++) {
        if (i > 0 && i % SLICE_SPANS === 0) await nextTurn();
        const s = fresh[i]!;
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
    if (!this.conn.accepting) return Promise.reject(storeClosedError());
    return this.conn.serial(async () => {
      const ingestNs = this.now();
      await this.appendInTransaction('metric_points', points, (appender, p) => {
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
      });
      return points.length;
    });
  }

  /**
   * Appends rows to `table` in one transaction, {@link SLICE_SPANS} rows between two turns of the event
   * loop. Without the explicit transaction the appender's `flushSync` would also commit, writing and
   * syncing the WAL on the event loop (~100 ms for 20,000 metric points); inside it, the flush only fills
   * the transaction and the COMMIT runs off the loop.
   */
  private async appendInTransaction<T>(
    table: string,
    rows: readonly T[],
    appendRow: (appender: DuckDBAppender, row: T) => void,
  ): Promise<void> {
    const writer = this.conn.writer;
    await writer.run('BEGIN TRANSACTION');
    try {
      const appender = await writer.createAppender(table);
      try {
        for (let i = 0; i < rows.length; i++) {
          if (i > 0 && i % SLICE_SPANS === 0) await nextTurn();
          appendRow(appender, rows[i]!);
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      await writer.run('COMMIT');
    } catch (err) {
      await writer.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Deletes the points of one metric, service and host with times in `[fromNs, toNs]` (both inclusive). */
  deleteMetricPoints(q: {
    name: string;
    service: string;
    host: string;
    fromNs: bigint;
    toNs: bigint;
  }): Promise<number> {
    if (!this.conn.accepting) return Promise.reject(storeClosedError());
    return this.conn.serial(async () => {
      const r = await this.conn.writer.run(
        `DELETE FROM metric_points WHERE name = $1 AND service = $2
           AND json_extract_string(resource_json, '$."host.name"') = $3 AND time_ns >= $4 AND time_ns <= $5`,
        [q.name, q.service, q.host, q.fromNs, q.toNs],
      );
      return r.rowsChanged;
    });
  }

  writeVitals(events: readonly VitalsEvent[]): Promise<number> {
    if (!this.conn.accepting) return Promise.reject(storeClosedError());
    return this.conn.serial(async () => {
      await this.appendInTransaction('vitals', events, appendVitalsRow);
      return events.length;
    });
  }
}
