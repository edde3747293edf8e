/**
 * The scale-out store: spans, rollups, metric points and web-vitals events in a ClickHouse database over
 * HTTP (`@clickhouse/client`), with SQL that runs on ClickHouse 18.16 (Debian's) and on current releases.
 * Several siperf processes may share one database: nothing one node needs is kept only in another's
 * memory (rollups are written as mergeable partial states with each span commit and merged when read).
 *
 * Durability: `writeSpans` resolves once ClickHouse has acknowledged the INSERT of the spans (and of their
 * rollup rows); when ClickHouse does not answer it rejects with `ERR_STORE_UNAVAILABLE` (503,
 * `Retry-After`) and nothing was acknowledged, so the exporter's retry is what keeps the data.
 *
 * Counting once: a span whose (traceId, spanId) is already stored is skipped — checked against the spans
 * this process wrote recently (`RecentSpanKeys`) and then against ClickHouse itself (a primary-key lookup
 * on `spans`, ordered by trace and span id, in the partitions of the last day of ingest), so an
 * exporter's retry that lands on another node is skipped there too. The lookup reads about one index
 * granule per distinct trace id of a commit: its cost grows with the day's spans, which bounds ingest
 * on large stores (see the bench). Two nodes taking the same span at the same instant could both write it: the spans table is a
 * ReplacingMergeTree on (trace_id, span_id), and span reads count distinct span ids, but that span's
 * rollups would count it twice (a window of a few milliseconds; not closed here).
 *
 * Upkeep (compaction, retention) runs on one node at a time: the node holding a lease in `store_meta`
 * (taken when free or expired, renewed by each run); on the others `compactRollups` and `applyRetention`
 * do nothing and answer zero counts.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { SiperfError } from '../../errors.ts';
import {
  type Attributes,
  type MetricPoint,
  type Span,
  SpanKind,
  type StatusCode,
  VITALS_METRICS,
  type VitalsEvent,
  type VitalsMetric,
} from '../../model/index.ts';
import { nowNs as wallNowNs } from '../../util/time.ts';
import { RecentSpanKeys, type RecentSpanKeysOptions, spanKeyHash } from '../recent-span-keys.ts';
import { dbAggregateOf, endpointAggregateOf, endpointSteps } from '../rollup-answers.ts';
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
import { ClickHouseConnection, lit, litList, parseClickHouseUrl, type Row } from './connection.ts';
import { ChRollups } from './rollups.ts';
import { CH_DB_ROLLUP, CH_ENDPOINT_ROLLUP, CH_SCHEMA_SQL, CH_TIERS, tierTableOf } from './schema.ts';

/** Options of {@link createClickHouseStore}. */
export interface ClickHouseStoreOptions {
  /** `clickhouse://user:password@host:8123/database` (the database is created when missing). */
  url: string;
  /** Per ClickHouse call, ms, before it fails with `ERR_STORE_UNAVAILABLE` (default 10,000). */
  timeoutMs?: number;
  /** Local de-duplication memory (see `RecentSpanKeys`); ClickHouse is asked about the rest. */
  dedup?: RecentSpanKeysOptions;
  /** Clock, ns since the epoch (injected by tests). */
  now?: () => bigint;
  log?: Logger;
}

const NS_PER_DAY = 86_400_000_000_000n;
/** Spans one group commit takes at most (more batches wait for the next one). */
const MAX_GROUP_SPANS = 8192;
/**
 * How far back the duplicate lookup in ClickHouse reaches, by ingest time, ns (one day: exporters retry
 * within minutes; older partitions are not read).
 */
const DEDUP_LOOKBACK_NS = 86_400_000_000_000n;
/** Trace ids per duplicate lookup query (~35 bytes each in the query text). */
const LOOKUP_TRACES = 2000;
type SpanCounts = { written: number; duplicates: number };
/**
 * How long a node keeps the upkeep (compaction, retention) once it took it, ns, by its clock: the other
 * nodes skip upkeep while the holder renews it (each run renews it).
 */
const UPKEEP_LEASE_NS = 300_000_000_000n;
/** Wait between claiming a lease held by nobody (or expired) and reading who holds it, ms. */
const LEASE_SETTLE_MS = 250;
const NS_PER_MINUTE = 60_000_000_000n;

/**
 * Opens a ClickHouse store: checks that ClickHouse answers, creates the database and tables when missing.
 * @throws SiperfError `ERR_STORE_UNAVAILABLE` with one line naming the URL (without the password) and the
 *   cause when ClickHouse does not answer; `ERR_CONFIG_INVALID` for a malformed URL.
 */
export async function createClickHouseStore(options: ClickHouseStoreOptions): Promise<Store> {
  const target = parseClickHouseUrl(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const boot = new ClickHouseConnection({ ...target, database: 'default' }, timeoutMs);
  try {
    await boot.ping();
    await boot.command(`CREATE DATABASE IF NOT EXISTS ${target.database}`);
  } finally {
    await boot.close();
  }
  const conn = new ClickHouseConnection(target, timeoutMs);
  try {
    await Promise.all(CH_SCHEMA_SQL.map((sql) => conn.command(sql)));
    const now = options.now ?? wallNowNs;
    const rollups = new ChRollups(conn, now);
    await rollups.open();
    return new ClickHouseStore(conn, rollups, now, options.dedup ?? {}, options.log);
  } catch (err) {
    await conn.close();
    throw err;
  }
}

/** Resource id (52-bit hash of the attributes' JSON, as the DuckDB store's) and JSON, once per object. */
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

const closedError = () => new SiperfError('ERR_STORE_CLOSED', 'the store is closed');
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const big = (v: unknown): bigint => BigInt(str(v) || '0');
const num = (v: unknown): number => Number(v ?? 0);
/**
 * A Float64 for a JSONEachRow insert: NaN and ±Infinity as ClickHouse reads them (`nan`, `inf`), which JSON
 * numbers cannot carry. ClickHouse's JSON output gives them back as null ({@link numOrNaN}).
 */
const f64 = (v: number): number | string =>
  Number.isFinite(v) ? v : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
/** A Float64 cell: null (a stored NaN or ±Infinity) → NaN, as the API shows either as null. */
const numOrNaN = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));
const optBool = (v: unknown): boolean | undefined =>
  v === null || v === undefined ? undefined : Number(v) === 1;

/** A `spans` row and its resource JSON → the span. */
function rowToSpan(r: Row, resourceJson: string): Span {
  const start = big(r.start_ns);
  const duration = big(r.duration_ns);
  return {
    traceId: str(r.trace_id),
    spanId: str(r.span_id),
    parentSpanId: str(r.parent_span_id),
    service: str(r.service),
    name: str(r.name),
    endpoint: str(r.endpoint),
    kind: num(r.kind) as SpanKind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + duration,
    durationNano: duration,
    statusCode: num(r.status_code) as StatusCode,
    statusMessage: str(r.status_message),
    httpStatusCode: num(r.http_status),
    isError: num(r.is_error) === 1,
    db:
      r.db_fingerprint === null || r.db_fingerprint === undefined
        ? undefined
        : {
            system: str(r.db_system),
            database: str(r.db_name),
            statement: str(r.db_statement),
            fingerprint: str(r.db_fingerprint),
          },
    clockFlagged: num(r.clock_flagged) === 1,
    transaction:
      r.tx_id === null || r.tx_id === undefined
        ? undefined
        : {
            id: str(r.tx_id),
            name: str(r.tx_name),
            event: str(r.tx_event) as 'start' | 'step' | 'end',
            step: str(r.tx_step),
            success: optBool(r.tx_success),
          },
    scope: str(r.scope),
    resourceAttributes: JSON.parse(resourceJson || '{}'),
    attributes: JSON.parse(str(r.attributes_json) || '{}'),
    events: JSON.parse(str(r.events_json) || '[]'),
    links: JSON.parse(str(r.links_json) || '[]'),
  };
}

function spanRow(s: Span, ingestNs: string, resourceId: number): Row {
  return {
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: s.parentSpanId,
    service: s.service,
    name: s.name,
    endpoint: s.endpoint,
    kind: s.kind,
    start_ns: s.startTimeUnixNano.toString(),
    duration_ns: s.durationNano.toString(),
    status_code: s.statusCode,
    status_message: s.statusMessage,
    http_status: s.httpStatusCode,
    is_error: s.isError ? 1 : 0,
    db_system: s.db ? s.db.system : null,
    db_name: s.db ? s.db.database : null,
    db_statement: s.db ? s.db.statement : null,
    db_fingerprint: s.db ? s.db.fingerprint : null,
    clock_flagged: s.clockFlagged ? 1 : 0,
    scope: s.scope,
    resource_id: String(resourceId),
    attributes_json: JSON.stringify(s.attributes),
    events_json: s.events.length === 0 ? '[]' : JSON.stringify(s.events),
    links_json: s.links.length === 0 ? '[]' : JSON.stringify(s.links),
    ingest_ns: ingestNs,
    tx_id: s.transaction ? s.transaction.id : null,
    tx_name: s.transaction ? s.transaction.name : null,
    tx_event: s.transaction ? s.transaction.event : null,
    tx_step: s.transaction ? s.transaction.step : null,
    tx_success:
      s.transaction === undefined || s.transaction.success === undefined
        ? null
        : s.transaction.success
          ? 1
          : 0,
  };
}

/** `host.name` of a resource as text, or null when it has none. */
function hostOf(attrs: Attributes): string | null {
  const h = (attrs as Record<string, unknown>)['host.name'];
  if (h === undefined || h === null) return null;
  return typeof h === 'string' ? h : JSON.stringify(h);
}

/** Largest attribution time averaged, ms (as the DuckDB store). */
const VITALS_MAX_ATTRIBUTION_MS = 3_600_000;

/** Linear interpolation between closest ranks (Hyndman–Fan type 7) of sorted values. */
function quantileType7(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The {@link Store} over one ClickHouse database. */
class ClickHouseStore implements Store {
  readonly #conn: ClickHouseConnection;
  readonly #rollups: ChRollups;
  readonly #now: () => bigint;
  readonly #recentKeys: RecentSpanKeys;
  readonly #knownResources = new Set<number>();
  readonly #log: Logger | undefined;
  /** Writes run one after another (so concurrent callers get counts in call order). */
  #writes: Promise<unknown> = Promise.resolve();
  #spanQueue: { spans: readonly Span[]; resolve: (c: SpanCounts) => void; reject: (e: unknown) => void }[] =
    [];
  #drainScheduled = false;
  #pending = 0;
  readonly #inflight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  #pointSeq = 0n;
  /** This store's id in the upkeep lease (random, positive Int64). */
  readonly #nodeId = randomBytes(8).readBigUInt64BE() >> 1n;

  constructor(
    conn: ClickHouseConnection,
    rollups: ChRollups,
    now: () => bigint,
    dedup: RecentSpanKeysOptions,
    log: Logger | undefined,
  ) {
    this.#conn = conn;
    this.#rollups = rollups;
    this.#now = now;
    this.#recentKeys = new RecentSpanKeys(dedup);
    this.#log = log;
  }

  /** Runs a call unless the store is closing, tracking it so that `close` waits for it. */
  #track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(closedError());
    const p = fn();
    this.#inflight.add(p);
    p.then(
      () => this.#inflight.delete(p),
      () => this.#inflight.delete(p),
    );
    return p;
  }

  /** Runs a write after the writes queued before it (tracked: refused once the store is closing). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.#track(() => this.#chain(fn));
  }

  /** Chains a task after the writes queued before it. */
  #chain<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(fn, fn);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  writeSpans(spans: readonly Span[]): Promise<{ written: number; duplicates: number }> {
    if (this.#closing) return Promise.reject(closedError());
    this.#pending += spans.length;
    return this.#track(
      () =>
        new Promise<SpanCounts>((resolve, reject) => {
          this.#spanQueue.push({ spans, resolve, reject });
          if (!this.#drainScheduled) {
            this.#drainScheduled = true;
            this.#chain(() => this.#drainSpans()).catch(() => undefined);
          }
        }),
    ).finally(() => {
      this.#pending -= spans.length;
    });
  }

  /**
   * Group commit: the batches queued while the previous commit ran (up to {@link MAX_GROUP_SPANS}) go
   * into one lookup and one INSERT per table; each caller gets its own counts, in call order.
   */
  async #drainSpans(): Promise<void> {
    this.#drainScheduled = false;
    let take = 0;
    let total = 0;
    while (
      take < this.#spanQueue.length &&
      (take === 0 || total + this.#spanQueue[take]!.spans.length <= MAX_GROUP_SPANS)
    )
      total += this.#spanQueue[take++]!.spans.length;
    const group = this.#spanQueue.splice(0, take);
    if (this.#spanQueue.length > 0) {
      this.#drainScheduled = true;
      this.#chain(() => this.#drainSpans()).catch(() => undefined);
    }
    try {
      const counts = await this.#commitSpans(group.map((g) => g.spans));
      group.forEach((g, i) => {
        g.resolve(counts[i]!);
      });
    } catch (err) {
      for (const g of group) g.reject(err);
    }
  }

  async #commitSpans(batches: readonly (readonly Span[])[]): Promise<SpanCounts[]> {
    const candidates: Span[] = [];
    const owner: number[] = [];
    const inGroup = new Set<number>();
    batches.forEach((spans, b) => {
      for (const s of spans) {
        const k = spanKeyHash(s.traceId, s.spanId);
        if (this.#recentKeys.has(k) || inGroup.has(k)) continue;
        inGroup.add(k);
        candidates.push(s);
        owner.push(b);
      }
    });
    const written = batches.map(() => 0);
    if (candidates.length === 0) return batches.map((spans) => ({ written: 0, duplicates: spans.length }));
    // Spans another node (or an earlier life of this one) already stored: a primary-key lookup by trace,
    // in pieces that keep each query well under ClickHouse's 256 KiB query size.
    const traceIds = [...new Set(candidates.map((s) => s.traceId))];
    // Only the ingest days a retry can fall in are read (the partitions of the last DEDUP_LOOKBACK_NS).
    const since = this.#now() - DEDUP_LOOKBACK_NS;
    const stored = new Set<string>();
    for (let i = 0; i < traceIds.length; i += LOOKUP_TRACES) {
      const rows = await this.#conn.rows<{ t: string; s: string }>(
        `SELECT trace_id AS t, span_id AS s FROM spans
         WHERE trace_id IN ${litList(traceIds.slice(i, i + LOOKUP_TRACES))} AND ingest_ns >= ${since}`,
      );
      for (const r of rows) stored.add(`${r.t}/${r.s}`);
    }
    const fresh: Span[] = [];
    candidates.forEach((s, i) => {
      if (stored.has(`${s.traceId}/${s.spanId}`)) return;
      fresh.push(s);
      written[owner[i]!]!++;
    });
    const ingestNs = this.#now();
    if (fresh.length > 0) {
      const newResources = new Map<number, string>();
      const rows = fresh.map((s) => {
        const r = resourceOf(s.resourceAttributes);
        if (!this.#knownResources.has(r.id)) newResources.set(r.id, r.json);
        return spanRow(s, ingestNs.toString(), r.id);
      });
      // Resources first: a span is never stored without its resource row.
      await this.#conn.insert(
        'resources',
        [...newResources].map(([id, json]) => ({
          resource_id: String(id),
          attributes_json: json,
          ingest_ns: ingestNs.toString(),
        })),
      );
      await this.#conn.insert('spans', rows);
      for (const id of newResources.keys()) this.#knownResources.add(id);
      // The spans are durable; their rollup rows follow (kept in memory and retried if this insert fails).
      await this.#rollups.record(fresh, ingestNs);
    }
    for (const s of candidates) this.#recentKeys.add(spanKeyHash(s.traceId, s.spanId), ingestNs);
    return batches.map((spans, b) => ({ written: written[b]!, duplicates: spans.length - written[b]! }));
  }

  pendingSpans(): number {
    return this.#pending;
  }

  writeMetricPoints(points: readonly MetricPoint[]): Promise<number> {
    return this.#serial(async () => {
      const ingestNs = this.#now().toString();
      const base = BigInt(Date.now()) * 1_000_000n;
      await this.#conn.insert(
        'metric_points',
        points.map((p) => ({
          name: p.name,
          service: p.service,
          unit: p.unit,
          type: p.type,
          monotonic: p.monotonic ? 1 : 0,
          temporality: p.temporality,
          time_ns: p.timeUnixNano.toString(),
          start_time_ns: p.startTimeUnixNano.toString(),
          value: f64(p.value),
          count: f64(p.count),
          sum: f64(p.sum),
          min: p.min ?? null,
          max: p.max ?? null,
          buckets_json: JSON.stringify(p.buckets ?? null),
          attributes_json: JSON.stringify(p.attributes),
          resource_json: JSON.stringify(p.resourceAttributes),
          host: hostOf(p.resourceAttributes),
          ingest_ns: ingestNs,
          point_id: (base + this.#pointSeq++).toString(),
        })),
      );
      return points.length;
    });
  }

  deleteMetricPoints(q: {
    name: string;
    service: string;
    host: string;
    fromNs: bigint;
    toNs: bigint;
  }): Promise<number> {
    return this.#serial(async () => {
      const where = `name = ${lit(q.name)} AND service = ${lit(q.service)} AND host = ${lit(q.host)}
        AND time_ns >= ${q.fromNs} AND time_ns <= ${q.toNs}`;
      return this.#deleteWhere('metric_points', where);
    });
  }

  /** Deletes rows (an ALTER … DELETE mutation, waited for). @returns rows deleted. */
  async #deleteWhere(table: string, where: string): Promise<number> {
    const [c] = await this.#conn.rows<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE ${where}`);
    const n = Number(c?.n ?? 0);
    if (n === 0) return 0;
    await this.#conn.command(`ALTER TABLE ${table} DELETE WHERE ${where}`);
    await this.#waitForMutations(table);
    return n;
  }

  async #waitForMutations(table: string): Promise<void> {
    for (let i = 0; ; i++) {
      const [r] = await this.#conn.rows<{ n: string }>(
        `SELECT count() AS n FROM system.mutations WHERE database = ${lit(this.#conn.target.database)}
           AND table = ${lit(table)} AND is_done = 0`,
      );
      if (Number(r?.n ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(5 + i * 5, 100)));
    }
  }

  writeVitals(events: readonly VitalsEvent[]): Promise<number> {
    return this.#serial(async () => {
      const base = BigInt(Date.now()) * 1_000_000n;
      await this.#conn.insert(
        'vitals',
        events.map((e) => ({
          time_ns: e.timeUnixNano.toString(),
          service: e.service,
          page: e.page,
          name: e.name,
          value: e.value,
          delta: e.delta,
          id: e.id,
          navigation_type: e.navigationType,
          attribution_json: JSON.stringify(e.attribution),
          seq: (base + this.#pointSeq++).toString(),
        })),
      );
      return events.length;
    });
  }

  endpointAggregates(q: RollupQuery): Promise<EndpointAggregate[]> {
    return this.#track(async () =>
      (await this.#rollups.read(CH_ENDPOINT_ROLLUP, q.window, q.service)).map(endpointAggregateOf),
    );
  }

  endpointAggregateSeries(q: EndpointSeriesQuery): Promise<EndpointStepAggregate[]> {
    return this.#track(async () => {
      return endpointSteps(await this.#rollups.read(CH_ENDPOINT_ROLLUP, q.window, q.service, q.stepNs), q);
    });
  }

  dbAggregates(q: RollupQuery): Promise<DbAggregate[]> {
    return this.#track(async () =>
      (await this.#rollups.read(CH_DB_ROLLUP, q.window, q.service)).map(dbAggregateOf),
    );
  }

  services(window: TimeWindow, service?: string): Promise<ServiceSummary[]> {
    return this.#track(async () => {
      const rows = await this.#rollups.read(CH_ENDPOINT_ROLLUP, window, service);
      const out = new Map<string, ServiceSummary>();
      for (const r of rows) {
        const name = String(r.key[0]);
        const outgoing = r.key[2] === SpanKind.CLIENT || r.key[2] === SpanKind.PRODUCER;
        const requests = outgoing ? 0 : r.sums[0]!;
        const errors = outgoing ? 0 : r.sums[1]!;
        const endpoints = outgoing ? 0 : 1;
        const s = out.get(name);
        const last = r.lastBucketNs + NS_PER_MINUTE;
        if (!s) {
          out.set(name, {
            service: name,
            requests,
            errors,
            endpoints,
            firstSeenNs: r.firstBucketNs,
            lastSeenNs: last,
          });
        } else {
          s.requests += requests;
          s.errors += errors;
          s.endpoints += endpoints;
          if (r.firstBucketNs < s.firstSeenNs) s.firstSeenNs = r.firstBucketNs;
          if (last > s.lastSeenNs) s.lastSeenNs = last;
        }
      }
      return [...out.values()];
    });
  }

  recentTraces(q: RecentTracesQuery): Promise<TraceSummary[]> {
    return this.#track(async () => {
      const f = q.window.fromNs;
      const t = q.window.toNs;
      const having: string[] = [];
      if (q.service !== undefined) having.push(`max(service = ${lit(q.service)}) = 1`);
      if (q.endpoint !== undefined) having.push(`max(endpoint = ${lit(q.endpoint)} AND kind IN (2, 5)) = 1`);
      if (q.minDurationNs !== undefined)
        having.push(`max(start_ns + duration_ns) - min(start_ns) >= ${q.minDurationNs}`);
      if (q.error === true) having.push('max(is_error) = 1');
      if (q.error === false) having.push('max(is_error) = 0');
      const rows = await this.#conn.rows(
        `SELECT trace_id, toString(min(start_ns)) AS first_ns,
                toString(max(start_ns + duration_ns) - min(start_ns)) AS length_ns,
                uniqExact(span_id) AS spans, uniqExactIf(span_id, is_error = 1) AS errors,
                argMin(service, toInt64(parent_span_id != '') * 4000000000000000000 + start_ns) AS root_service,
                argMin(endpoint, toInt64(parent_span_id != '') * 4000000000000000000 + start_ns) AS root_endpoint,
                groupUniqArray(service) AS services
         FROM spans
         WHERE trace_id IN (
           SELECT trace_id FROM spans
           WHERE (start_ns >= ${f} AND start_ns < ${t}) OR (clock_flagged = 1 AND ingest_ns >= ${f} AND ingest_ns < ${t}))
         GROUP BY trace_id
         ${having.length ? `HAVING ${having.join(' AND ')}` : ''}
         ORDER BY min(start_ns) DESC LIMIT ${Math.max(0, Math.floor(q.limit))}`,
      );
      return rows.map((r) => ({
        traceId: str(r.trace_id),
        service: str(r.root_service),
        endpoint: str(r.root_endpoint),
        startNs: big(r.first_ns),
        durationNs: big(r.length_ns),
        spanCount: num(r.spans),
        errorCount: num(r.errors),
        services: (r.services as string[]).slice().sort(),
      }));
    });
  }

  traceSpans(traceId: string): Promise<Span[]> {
    return this.#track(async () => {
      const rows = await this.#conn.rows(
        `SELECT *, toString(resource_id) AS rid FROM spans WHERE trace_id = ${lit(traceId)}
         ORDER BY start_ns, span_id LIMIT 1 BY span_id`,
      );
      if (rows.length === 0) return [];
      const ids = [...new Set(rows.map((r) => str(r.rid)))];
      const res = await this.#conn.rows<{ id: string; json: string }>(
        `SELECT toString(resource_id) AS id, any(attributes_json) AS json FROM resources
         WHERE resource_id IN (${ids.join(', ')}) GROUP BY resource_id`,
      );
      const byId = new Map(res.map((r) => [r.id, r.json]));
      return rows.map((r) => rowToSpan(r, byId.get(str(r.rid)) ?? '{}'));
    });
  }

  recentEndpointSpans(q: RecentEndpointSpansQuery): Promise<EndpointSpanRef[]> {
    return this.#track(async () => {
      const svc = q.service === undefined ? '' : ` AND service = ${lit(q.service)}`;
      const err = q.errorOnly ? ' AND is_error = 1' : '';
      // A span written twice (a retry not merged yet) counts once: LIMIT 1 BY its key first.
      const rows = await this.#conn.rows(
        `SELECT trace_id, service, endpoint, start_ns, duration_ns, is_error FROM (
           SELECT trace_id, span_id, service, endpoint, start_ns, duration_ns, is_error FROM spans
           WHERE start_ns >= ${q.window.fromNs} AND start_ns < ${q.window.toNs} AND kind IN (2, 5)${svc}${err}
           ORDER BY trace_id, span_id LIMIT 1 BY trace_id, span_id)
         ORDER BY service, endpoint, start_ns DESC, span_id LIMIT ${Math.max(0, Math.floor(q.perEndpoint))} BY service, endpoint`,
      );
      return rows.map((r) => ({
        traceId: str(r.trace_id),
        service: str(r.service),
        endpoint: str(r.endpoint),
        startNs: BigInt(str(r.start_ns)),
        durationNs: BigInt(str(r.duration_ns)),
        isError: Number(r.is_error) === 1,
      }));
    });
  }

  traceSpansIn(traceIds: readonly string[], window: TimeWindow): Promise<Map<string, Span[]>> {
    return this.#track(async () => {
      const out = new Map<string, Span[]>();
      if (traceIds.length === 0) return out;
      const rows = await this.#conn.rows(
        `SELECT *, toString(resource_id) AS rid FROM spans
         WHERE trace_id IN ${litList(traceIds)} AND start_ns >= ${window.fromNs} AND start_ns < ${window.toNs}
         ORDER BY trace_id, start_ns, span_id LIMIT 1 BY trace_id, span_id`,
      );
      if (rows.length === 0) return out;
      const ids = [...new Set(rows.map((r) => str(r.rid)))];
      const res = await this.#conn.rows<{ id: string; json: string }>(
        `SELECT toString(resource_id) AS id, any(attributes_json) AS json FROM resources
         WHERE resource_id IN (${ids.join(', ')}) GROUP BY resource_id`,
      );
      const byId = new Map(res.map((r) => [r.id, r.json]));
      for (const r of rows) {
        const span = rowToSpan(r, byId.get(str(r.rid)) ?? '{}');
        const list = out.get(span.traceId);
        if (list) list.push(span);
        else out.set(span.traceId, [span]);
      }
      return out;
    });
  }

  transactionMarks(q: {
    window?: TimeWindow;
    transactionId?: string;
    service?: string | undefined;
  }): Promise<TransactionMarkRow[]> {
    return this.#track(async () => {
      let which: string;
      if (q.transactionId !== undefined) which = `tx_id = ${lit(q.transactionId)}`;
      else {
        const w = q.window ?? { fromNs: 0n, toNs: 2n ** 62n };
        const svc = q.service === undefined ? '' : ` AND service = ${lit(q.service)}`;
        which = `tx_id IN (SELECT assumeNotNull(tx_id) FROM spans WHERE tx_id IS NOT NULL
                 AND start_ns >= ${w.fromNs} AND start_ns < ${w.toNs}${svc})`;
      }
      const rows = await this.#conn.rows(
        `SELECT tx_id, tx_name, tx_event, tx_step, tx_success, service, toString(start_ns) AS s_ns,
                toString(duration_ns) AS d_ns, is_error, trace_id, span_id
         FROM spans WHERE tx_id IS NOT NULL AND ${which}
         ORDER BY start_ns, span_id LIMIT 1 BY trace_id, span_id`,
      );
      return rows.map((r) => ({
        id: str(r.tx_id),
        name: str(r.tx_name),
        event: str(r.tx_event) as TransactionMarkRow['event'],
        step: str(r.tx_step),
        success: optBool(r.tx_success),
        service: str(r.service),
        startNs: big(r.s_ns),
        durationNs: big(r.d_ns),
        isError: num(r.is_error) === 1,
      }));
    });
  }

  repeatedCallTraces(q: {
    window: TimeWindow;
    service?: string | undefined;
    minRepeats: number;
    limit: number;
  }): Promise<{ traceId: string; lastNs: bigint }[]> {
    return this.#track(async () => {
      const f = q.window.fromNs;
      const t = q.window.toNs;
      const svc =
        q.service === undefined
          ? ''
          : `AND trace_id IN (SELECT trace_id FROM spans WHERE service = ${lit(q.service)} AND start_ns >= ${f} AND start_ns < ${t})`;
      const rows = await this.#conn.rows<{ trace_id: string; last_ns: string }>(
        `SELECT trace_id, toString(max(last)) AS last_ns FROM (
           SELECT trace_id, parent_span_id, service, ifNull(db_fingerprint, name) AS op, max(start_ns) AS last
           FROM spans
           WHERE start_ns >= ${f} AND start_ns < ${t} AND parent_span_id != '' AND kind != 2 ${svc}
           GROUP BY trace_id, parent_span_id, service, op
           HAVING uniqExact(span_id) >= ${Math.floor(q.minRepeats)})
         GROUP BY trace_id ORDER BY last_ns DESC LIMIT ${Math.max(0, Math.floor(q.limit))}`,
      );
      return rows.map((r) => ({ traceId: r.trace_id, lastNs: BigInt(r.last_ns) }));
    });
  }

  dbCallerEndpoints(q: RollupQuery): Promise<Map<string, string[]>> {
    return this.#track(async () => {
      const f = q.window.fromNs;
      const t = q.window.toNs;
      const svc = q.service === undefined ? '' : ` AND service = ${lit(q.service)}`;
      const calls = `db_fingerprint IS NOT NULL AND start_ns >= ${f} AND start_ns < ${t}${svc}`;
      // 18.16 joins on equality only: join on the trace, then keep the enclosing SERVER spans.
      const rows = await this.#conn.rows<{ fp: string; endpoints: string[] }>(
        `SELECT fp, groupUniqArray(ep) AS endpoints FROM (
           SELECT fp, argMax(s_endpoint, s_start) AS ep FROM (
             SELECT trace_id, span_id AS d_span, assumeNotNull(db_fingerprint) AS fp, start_ns AS d_start
             FROM spans WHERE ${calls}
           ) ALL INNER JOIN (
             SELECT trace_id, endpoint AS s_endpoint, start_ns AS s_start, duration_ns AS s_dur
             FROM spans WHERE kind = 2 AND trace_id IN (SELECT trace_id FROM spans WHERE ${calls})
           ) USING (trace_id)
           WHERE s_start <= d_start AND s_start + s_dur >= d_start
           GROUP BY trace_id, d_span, fp)
         GROUP BY fp`,
      );
      return new Map(rows.map((r) => [r.fp, r.endpoints.slice().sort()]));
    });
  }

  #metricFilter(q: MetricQuery): string {
    let sql = '';
    if (q.service !== undefined) sql += ` AND service = ${lit(q.service)}`;
    if (q.host !== undefined) sql += ` AND host = ${lit(q.host)}`;
    return sql;
  }

  metricPoints(q: MetricQuery): Promise<MetricPoint[]> {
    return this.#track(async () => {
      const rows = await this.#conn.rows(
        `SELECT *, toString(time_ns) AS t, toString(start_time_ns) AS st FROM metric_points
         WHERE name = ${lit(q.name)} AND time_ns >= ${q.window.fromNs} AND time_ns < ${q.window.toNs}${this.#metricFilter(q)}
         ORDER BY time_ns, point_id LIMIT ${Math.max(0, Math.floor(q.limit))}`,
      );
      return rows.map((r) => ({
        name: str(r.name),
        service: str(r.service),
        unit: str(r.unit),
        type: str(r.type) as MetricPoint['type'],
        monotonic: num(r.monotonic) === 1,
        temporality: num(r.temporality),
        timeUnixNano: big(r.t),
        startTimeUnixNano: big(r.st),
        value: numOrNaN(r.value),
        count: numOrNaN(r.count),
        sum: numOrNaN(r.sum),
        min: r.min === null || r.min === undefined ? undefined : num(r.min),
        max: r.max === null || r.max === undefined ? undefined : num(r.max),
        buckets: JSON.parse(str(r.buckets_json) || 'null'),
        attributes: JSON.parse(str(r.attributes_json) || '{}') as Attributes,
        resourceAttributes: JSON.parse(str(r.resource_json) || '{}') as Attributes,
      }));
    });
  }

  metricNames(window: TimeWindow): Promise<{ name: string; unit: string; type: string; points: number }[]> {
    return this.#track(async () => {
      const rows = await this.#conn.rows(
        `SELECT name, any(unit) AS unit, any(type) AS type, count() AS points FROM metric_points
         WHERE time_ns >= ${window.fromNs} AND time_ns < ${window.toNs} GROUP BY name ORDER BY name`,
      );
      return rows.map((r) => ({
        name: str(r.name),
        unit: str(r.unit),
        type: str(r.type),
        points: num(r.points),
      }));
    });
  }

  metricBuckets(q: MetricQuery & { bucketNs: bigint }): Promise<MetricPoint[]> {
    if (q.bucketNs <= 0n)
      return Promise.reject(new RangeError(`bucketNs: must be positive, got ${q.bucketNs}`));
    return this.#track(async () => {
      const b = q.bucketNs;
      const rows = await this.#conn.rows(
        `SELECT attributes_json, toString(intDiv(time_ns, ${b}) * ${b}) AS bucket, avg(value) AS value,
                any(unit) AS unit, any(type) AS type, max(monotonic) AS monotonic, any(service) AS service,
                any(resource_json) AS resource_json
         FROM metric_points
         WHERE name = ${lit(q.name)} AND time_ns >= ${q.window.fromNs} AND time_ns < ${q.window.toNs}${this.#metricFilter(q)}
         GROUP BY attributes_json, intDiv(time_ns, ${b}) ORDER BY intDiv(time_ns, ${b}), attributes_json
         LIMIT ${Math.max(0, Math.floor(q.limit))}`,
      );
      return rows.map((r) => ({
        name: q.name,
        service: str(r.service),
        unit: str(r.unit),
        type: str(r.type) as MetricPoint['type'],
        monotonic: num(r.monotonic) === 1,
        temporality: 0,
        timeUnixNano: big(r.bucket),
        startTimeUnixNano: big(r.bucket),
        value: numOrNaN(r.value),
        count: 0,
        sum: 0,
        min: undefined,
        max: undefined,
        buckets: null,
        attributes: JSON.parse(str(r.attributes_json) || '{}') as Attributes,
        resourceAttributes: JSON.parse(str(r.resource_json) || '{}') as Attributes,
      }));
    });
  }

  metricHosts(window: TimeWindow): Promise<{ host: string; lastNs: bigint; points: number }[]> {
    return this.#track(async () => {
      const rows = await this.#conn.rows(
        `SELECT assumeNotNull(host) AS h, toString(max(time_ns)) AS last_s, count() AS points
         FROM metric_points
         WHERE time_ns >= ${window.fromNs} AND time_ns < ${window.toNs}
           AND (name LIKE 'system.%' OR name LIKE 'container.%') AND service != 'siperf-import'
           AND host IS NOT NULL
         GROUP BY h ORDER BY max(time_ns) DESC`,
      );
      return rows.map((r) => ({ host: str(r.h), lastNs: big(r.last_s), points: num(r.points) }));
    });
  }

  vitalsAggregates(q: VitalsQuery): Promise<VitalsAggregate[]> {
    return this.#track(async () => {
      for (const f of Object.values(q.attributionFields).flat())
        if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(f))
          throw new RangeError(`attribution field ${JSON.stringify(f)} is not a plain name`);
      let filter = `time_ns >= ${q.window.fromNs} AND time_ns < ${q.window.toNs}`;
      if (q.service !== undefined) filter += ` AND service = ${lit(q.service)}`;
      if (q.page !== undefined) filter += ` AND page = ${lit(q.page)}`;
      // Only the latest report of each metric id counts (latest time, then highest value).
      const rows = await this.#conn.rows<{ page: string; name: string; v: number; a: string }>(
        `SELECT page, name, argMax(value, (time_ns, value)) AS v, argMax(attribution_json, (time_ns, value)) AS a
         FROM vitals WHERE ${filter} GROUP BY service, page, name, id`,
      );
      const perPage = new Map<string, number>();
      for (const r of rows) perPage.set(r.page, (perPage.get(r.page) ?? 0) + 1);
      const top = new Set(
        [...perPage]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          .slice(0, Math.max(0, q.maxPages))
          .map(([p]) => p),
      );
      const groups = new Map<string, { page: string | null; metric: string; rows: typeof rows }>();
      const add = (page: string | null, r: (typeof rows)[number]) => {
        const k = `${page ?? '\u0000'}\u0001${r.name}`;
        const g = groups.get(k) ?? { page, metric: r.name, rows: [] };
        g.rows.push(r);
        groups.set(k, g);
      };
      const known = new Set<string>(VITALS_METRICS);
      for (const r of rows) {
        if (!known.has(r.name)) continue;
        add(null, r);
        if (top.has(r.page)) add(r.page, r);
      }
      const out: VitalsAggregate[] = [];
      for (const g of groups.values()) {
        const metric = g.metric as VitalsMetric;
        const [good, poor] = q.thresholds[metric];
        const values = g.rows.map((r) => Number(r.v)).sort((a, b) => a - b);
        const attributionMeans: Record<string, number> = {};
        const fields = q.attributionFields[metric] ?? [];
        if (fields.length > 0) {
          const parsed = g.rows.map((r) => JSON.parse(r.a || '{}') as Record<string, unknown>);
          for (const f of fields) {
            const vs = parsed
              .map((a) => a[f])
              .filter((v): v is number => typeof v === 'number' && v >= 0 && v <= VITALS_MAX_ATTRIBUTION_MS);
            if (vs.length > 0) attributionMeans[f] = vs.reduce((s, v) => s + v, 0) / vs.length;
          }
        }
        out.push({
          page: g.page,
          metric,
          count: values.length,
          p75: quantileType7(values, 0.75),
          good: values.filter((v) => v <= good).length,
          needsImprovement: values.filter((v) => v > good && v <= poor).length,
          poor: values.filter((v) => v > poor).length,
          attributionMeans,
        });
      }
      const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      out.sort((a, b) =>
        a.page === b.page
          ? cmp(a.metric, b.metric)
          : a.page === null
            ? -1
            : b.page === null
              ? 1
              : cmp(a.page, b.page) || cmp(a.metric, b.metric),
      );
      return out;
    });
  }

  async flushRollups(): Promise<void> {
    if (this.#closing) return;
    await this.#rollups.flush();
  }

  compactRollups(
    beforeNs: bigint,
  ): Promise<{ merged: number; removed: number; rebuilt: Record<string, number> }> {
    if (this.#closing)
      return Promise.resolve({
        merged: 0,
        removed: 0,
        rebuilt: Object.fromEntries(CH_TIERS.map((t) => [t.suffix, 0])),
      });
    return this.#serial(async () =>
      (await this.#holdsUpkeepLease())
        ? this.#rollups.compact(beforeNs)
        : { merged: 0, removed: 0, rebuilt: Object.fromEntries(CH_TIERS.map((t) => [t.suffix, 0])) },
    );
  }

  /**
   * Whether this node may run the upkeep now: the lease in `store_meta` is free, expired or its own; it
   * then (re)claims it and reads it back. Two nodes claiming an expired lease within the same few
   * milliseconds settle on the newest claim ({@link LEASE_SETTLE_MS}); the claims are ordered by the
   * nodes' clocks, so nodes that share a database should have roughly synchronised clocks.
   */
  async #holdsUpkeepLease(): Promise<boolean> {
    const lease = async () => {
      const [r] = await this.#conn.rows<{ holder: string; at: string }>(
        `SELECT toString(argMax(value, version)) AS holder, toString(max(version)) AS at
         FROM store_meta WHERE key = 'upkeep_lease'`,
      );
      return { holder: BigInt(r?.holder ?? '0'), at: BigInt(r?.at ?? '0') };
    };
    const now = this.#now();
    const current = await lease();
    if (current.holder !== 0n && current.holder !== this.#nodeId && current.at + UPKEEP_LEASE_NS >= now)
      return false;
    const version = now > current.at ? now : current.at + 1n;
    await this.#conn.insert('store_meta', [
      { key: 'upkeep_lease', value: this.#nodeId.toString(), version: version.toString() },
    ]);
    // Taking the lease over: let the claims of nodes that saw it free at the same moment land first,
    // then the newest claim wins for all of them.
    if (current.holder !== this.#nodeId) await new Promise((resolve) => setTimeout(resolve, LEASE_SETTLE_MS));
    return (await lease()).holder === this.#nodeId;
  }

  /**
   * Retention: whole days (partitions) older than the cut are dropped; the rows of the day that straddles
   * it are deleted (a mutation, waited for). Then the resources no span refers to.
   */
  applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<Record<string, number>> {
    return this.#serial(async () => {
      const deleted: Record<string, number> = {};
      if (!(await this.#holdsUpkeepLease())) return deleted;
      const plan: [string, string, bigint][] = [
        ['spans', 'ingest_ns', policy.rawSpansNs],
        ...[CH_ENDPOINT_ROLLUP, CH_DB_ROLLUP].flatMap((spec): [string, string, bigint][] => [
          [spec.table, 'written_ns', policy.rollupsNs],
          ...CH_TIERS.map((t): [string, string, bigint] => [
            tierTableOf(spec, t.suffix),
            'written_ns',
            policy.rollupsNs,
          ]),
        ]),
        ['metric_points', 'ingest_ns', policy.metricPointsNs],
        ['vitals', 'time_ns', policy.metricPointsNs],
      ];
      for (const [table, column, keep] of plan) {
        const cut = nowNs - keep;
        const [c] = await this.#conn.rows<{ n: string }>(
          `SELECT count() AS n FROM ${table} WHERE ${column} < ${cut}`,
        );
        const n = Number(c?.n ?? 0);
        deleted[table] = n;
        if (n === 0) continue;
        const cutDay = cut / NS_PER_DAY - (cut % NS_PER_DAY < 0n ? 1n : 0n);
        const parts = await this.#conn.rows<{ p: string }>(
          `SELECT DISTINCT partition AS p FROM system.parts WHERE database = ${lit(this.#conn.target.database)}
             AND table = ${lit(table)} AND active`,
        );
        for (const { p } of parts)
          if (/^-?\d+$/.test(p) && BigInt(p) < cutDay)
            await this.#conn.command(`ALTER TABLE ${table} DROP PARTITION ${p}`);
        await this.#deleteWhere(table, `${column} < ${cut}`);
      }
      deleted.resources = await this.#deleteWhere(
        'resources',
        'resource_id NOT IN (SELECT DISTINCT resource_id FROM spans)',
      );
      if (deleted.resources > 0) {
        const left = await this.#conn.rows<{ id: string }>(
          'SELECT DISTINCT toString(resource_id) AS id FROM resources',
        );
        this.#knownResources.clear();
        for (const r of left) this.#knownResources.add(Number(r.id));
      }
      return deleted;
    });
  }

  /** Compressed bytes of the store's active parts in ClickHouse. */
  diskBytes(): Promise<number> {
    return this.#track(async () => {
      const [r] = await this.#conn.rows<{ b: string }>(
        `SELECT toString(sum(bytes_on_disk)) AS b FROM system.parts
         WHERE database = ${lit(this.#conn.target.database)} AND active`,
      );
      return Number(r?.b ?? 0);
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inflight]);
      await this.#rollups.flush().catch((err) => {
        this.#log?.error({ err: this.#conn.redact(err) }, 'rollup flush at close failed');
      });
      await this.#conn.close();
    })();
    return this.#closing;
  }
}
