/**
 * The storage ports: the only way ingest writes and analysis reads. Adapters (`duckdb/`, later
 * `clickhouse/`) implement {@link Store}; analysis asks for the narrowest role it needs.
 *
 * Conventions: times are ns since the Unix epoch (`bigint`); a {@link TimeWindow} is half-open
 * `[fromNs, toNs)`; rollup queries are minute-aligned: a minute is in the window when any part of it is
 * (its start is ≥ `fromNs` floored to the minute and < `toNs`).
 * A Store is used from one process; its methods may be called concurrently and are serialised inside.
 * Errors: once `close()` has begun, every read and write (and `applyRetention`, `diskBytes`) rejects with
 * `SiperfError` `ERR_STORE_CLOSED`; calls made before `close()` finish first; once it has resolved,
 * `flushRollups` and `compactRollups` do nothing (a timer may still fire).
 * @module
 */
import type {
  MetricPoint,
  Span,
  SpanKind,
  TransactionMark,
  VitalsEvent,
  VitalsMetric,
} from '../model/index.ts';
import type { LatencySketch } from '../util/latency-sketch.ts';

/** A half-open time window `[fromNs, toNs)`, ns since the epoch. */
export interface TimeWindow {
  fromNs: bigint;
  toNs: bigint;
}

/** Writes spans. */
export interface SpanWriter {
  /**
   * Appends spans durably: when the promise resolves they are in the store and survive a crash.
   * A span whose (traceId, spanId) the store has seen within its deduplication window is skipped.
   * @returns how many spans were new (written) and how many were duplicates (skipped).
   */
  writeSpans(spans: readonly Span[]): Promise<{ written: number; duplicates: number }>;
  /** Spans accepted by `writeSpans` calls still waiting to be written (for back-pressure). */
  pendingSpans(): number;
}

/** Writes metric points. Durable when the promise resolves. */
export interface MetricWriter {
  writeMetricPoints(points: readonly MetricPoint[]): Promise<number>;
  /**
   * Deletes the points of one metric of one service and host with times in `[fromNs, toNs]` (a CSV
   * import replaces what an earlier import of the same range wrote). @returns points deleted.
   */
  deleteMetricPoints(q: {
    name: string;
    service: string;
    host: string;
    fromNs: bigint;
    toNs: bigint;
  }): Promise<number>;
}

/** Per (service, endpoint, kind) aggregate over a window, merged from per-minute rollups. */
export interface EndpointAggregate {
  service: string;
  endpoint: string;
  kind: SpanKind;
  requests: number;
  errors: number;
  sumMs: number;
  /** Smallest duration, ms (0 when unknown: rows written before siperf kept it). */
  minMs: number;
  maxMs: number;
  /** Merged latency sketch (ms). */
  sketch: LatencySketch;
  /** Durations of the failed requests only, ms. */
  errorSketch: LatencySketch;
}

/** Per (service, system, database, fingerprint) aggregate over a window. */
export interface DbAggregate {
  service: string;
  system: string;
  database: string;
  fingerprint: string;
  statement: string;
  calls: number;
  sumMs: number;
  /** Smallest duration, ms (0 when unknown). */
  minMs: number;
  maxMs: number;
  sketch: LatencySketch;
}

/** Filter of rollup reads. */
export interface RollupQuery {
  window: TimeWindow;
  service?: string | undefined;
}

/** Filter of {@link RollupReader.endpointAggregateSeries}. */
export interface EndpointSeriesQuery extends RollupQuery {
  /** Step, ns: a whole number of minutes; steps are aligned on multiples of it since the epoch. */
  stepNs: bigint;
  endpoint?: string | undefined;
  kind?: SpanKind | undefined;
}

/** An {@link EndpointAggregate} of one step. */
export interface EndpointStepAggregate extends EndpointAggregate {
  /** Start of the step (a multiple of the step), ns. */
  stepStartNs: bigint;
}

/** Reads per-minute rollups merged over a window. */
export interface RollupReader {
  endpointAggregates(q: RollupQuery): Promise<EndpointAggregate[]>;
  /**
   * Per (service, endpoint, kind) and step, the rollups merged: what {@link endpointAggregates} answers
   * for each step's part of the window (a minute is in the step holding its start), oldest step first.
   * Steps without data are absent.
   */
  endpointAggregateSeries(q: EndpointSeriesQuery): Promise<EndpointStepAggregate[]>;
  dbAggregates(q: RollupQuery): Promise<DbAggregate[]>;
  /**
   * Per service with data in the window: requests, errors, endpoints, the start of its first minute with
   * data and the end of its last one (the true minutes, whether the window is read from minute rows or
   * from compacted blocks).
   */
  services(window: TimeWindow, service?: string): Promise<ServiceSummary[]>;
}

/** A service seen in a window. */
export interface ServiceSummary {
  service: string;
  /** Spans it answered: server, consumer and root spans (not its outgoing client and producer calls). */
  requests: number;
  errors: number;
  endpoints: number;
  firstSeenNs: bigint;
  lastSeenNs: bigint;
}

/** One trace in a list of recent traces. */
export interface TraceSummary {
  traceId: string;
  /** Service and endpoint of the root span (or of the earliest span when the root is missing). */
  service: string;
  endpoint: string;
  startNs: bigint;
  durationNs: bigint;
  spanCount: number;
  errorCount: number;
  services: string[];
}

/**
 * Filter of recent traces. A trace is in the window when one of its spans starts in it, or, for a span
 * whose clock was flagged at ingest, was ingested in it (as rollups count such spans).
 */
export interface RecentTracesQuery {
  window: TimeWindow;
  service?: string | undefined;
  endpoint?: string | undefined;
  minDurationNs?: bigint | undefined;
  /** true: only traces with an error; false: only traces without one; undefined: all. */
  error?: boolean | undefined;
  limit: number;
}

/** A span's business-transaction mark with its timing (see `TransactionMark`). ns since the epoch. */
export interface TransactionMarkRow extends TransactionMark {
  service: string;
  startNs: bigint;
  durationNs: bigint;
  /** The span itself failed (status ERROR or a server error). */
  isError: boolean;
}

/** A SERVER or CONSUMER span: one request of an endpoint, with its trace. */
export interface EndpointSpanRef {
  traceId: string;
  service: string;
  endpoint: string;
  startNs: bigint;
  durationNs: bigint;
  isError: boolean;
}

/** Filter of {@link SpanReader.recentEndpointSpans}. */
export interface RecentEndpointSpansQuery {
  window: TimeWindow;
  service?: string | undefined;
  /** Only failed spans (status ERROR or a server error). */
  errorOnly?: boolean | undefined;
  /** Most spans kept per (service, endpoint). */
  perEndpoint: number;
}

/** Reads raw spans. */
export interface SpanReader {
  /**
   * The `perEndpoint` most recent SERVER and CONSUMER spans of each (service, endpoint) that start in the
   * window, ordered by service, endpoint, then newest first: the requests whose traces the recommendation
   * engine samples, found in one scan of the window (where a `recentTraces` per endpoint groups every trace
   * of the table).
   */
  recentEndpointSpans(q: RecentEndpointSpansQuery): Promise<EndpointSpanRef[]>;
  recentTraces(q: RecentTracesQuery): Promise<TraceSummary[]>;
  /** Every span of a trace, in start order; empty when unknown. */
  traceSpans(traceId: string): Promise<Span[]>;
  /**
   * The spans of each of `traceIds` that start in `window`, in start order per trace; a trace with none
   * there is absent from the map. For reads of many sampled traces at once (the recommendation engine):
   * one scan of the window, where one `traceSpans` per trace would scan the table each time on a store
   * without an index on trace ids. Spans of those traces outside the window (a long trace, a skewed clock)
   * are left out: widen the window by what may not be lost.
   */
  traceSpansIn(traceIds: readonly string[], window: TimeWindow): Promise<Map<string, Span[]>>;
  /**
   * Traces (most recent first, at most `limit`) in which one parent span has at least `minRepeats`
   * children of one service with the same database fingerprint, or the same name for other calls: the
   * candidates of the N+1 detector, each with the start of its last repeated call (`lastNs`, ns since the
   * epoch; the order's key), so that a reader of their spans scans the time they lie in, not the window.
   * An adapter may miss a repeat whose calls are spread over more than 15 minutes (DuckDB reads the window
   * an hour at a time, newest first).
   */
  repeatedCallTraces(q: {
    window: TimeWindow;
    service?: string | undefined;
    minRepeats: number;
    limit: number;
  }): Promise<{ traceId: string; lastNs: bigint }[]>;
  /**
   * For each db fingerprint, the endpoints of the innermost SERVER spans (same trace) enclosing its calls.
   * An adapter may bound how long before a call its request started (DuckDB: 15 minutes).
   */
  dbCallerEndpoints(q: RollupQuery): Promise<Map<string, string[]>>;
  /**
   * Every business-transaction mark of the transactions that have a mark starting in the window (or, with
   * `transactionId`, of that transaction only), in start order. With `service`, only the transactions
   * that have a mark of that service in the window (all their marks, whatever service wrote them).
   */
  transactionMarks(q: {
    window?: TimeWindow;
    transactionId?: string;
    service?: string | undefined;
  }): Promise<TransactionMarkRow[]>;
}

/** Filter of metric reads. */
export interface MetricQuery {
  name: string;
  window: TimeWindow;
  service?: string | undefined;
  /** Only points whose resource has this `host.name`. */
  host?: string | undefined;
  limit: number;
}

/** Reads metric points. */
export interface MetricReader {
  metricPoints(q: MetricQuery): Promise<MetricPoint[]>;
  metricNames(window: TimeWindow): Promise<{ name: string; unit: string; type: string; points: number }[]>;
  /**
   * Points averaged per `bucketNs` (bucket start as the time) and attribute set: long histories read as a
   * few thousand rows instead of millions. Same filter as {@link metricPoints}.
   */
  metricBuckets(q: MetricQuery & { bucketNs: bigint }): Promise<MetricPoint[]>;
  /**
   * Hosts (resource `host.name`) with `system.*` or `container.*` points in the window — from samplers and
   * Collectors, not from CSV imports — newest first.
   */
  metricHosts(window: TimeWindow): Promise<{ host: string; lastNs: bigint; points: number }[]>;
}

/** Writes web-vitals events. Durable when the promise resolves. */
export interface VitalsWriter {
  writeVitals(events: readonly VitalsEvent[]): Promise<number>;
}

/** Filter and rating thresholds of a web-vitals read. */
export interface VitalsQuery {
  window: TimeWindow;
  service?: string | undefined;
  /** Only this page (as stored: path without query). */
  page?: string | undefined;
  /** Pages with the most events first, at most this many. */
  maxPages: number;
  /** Per metric `[good, poor]`: a value ≤ good is good, > poor is poor, else needs improvement. */
  thresholds: Readonly<Record<VitalsMetric, readonly [number, number]>>;
  /** Per metric, the numeric attribution fields to average (e.g. LCP subparts). */
  attributionFields: Readonly<Partial<Record<VitalsMetric, readonly string[]>>>;
}

/** Per (page, metric) web-vitals aggregate; `page` is `null` for all pages together. */
export interface VitalsAggregate {
  page: string | null;
  metric: VitalsMetric;
  count: number;
  /** 75th percentile, linear interpolation between closest ranks (Hyndman–Fan type 7, as `quantile_cont`). */
  p75: number;
  good: number;
  needsImprovement: number;
  poor: number;
  /** Mean of each requested attribution field over the events that carry it. */
  attributionMeans: Record<string, number>;
}

/** Reads web-vitals aggregates. Events sharing (service, page, metric, id) count once, with the latest value. */
export interface VitalsReader {
  vitalsAggregates(q: VitalsQuery): Promise<VitalsAggregate[]>;
}

/** Retention limits, measured from ingest time. */
export interface RetentionPolicy {
  rawSpansNs: bigint;
  rollupsNs: bigint;
  /** Metric points and web-vitals events. */
  metricPointsNs: bigint;
}

/** Upkeep the composition root schedules. */
export interface StoreMaintenance {
  /** Writes the in-memory rollups of recent writes to the store. */
  flushRollups(): Promise<void>;
  /**
   * Merges the several rollup rows that flushes leave for one key and minute into one, for minutes that
   * start before `beforeNs`, and (re)builds the coarser rollups (10-minute, hourly) of the blocks before
   * `beforeNs` that changed, so a long window merges few sketches per key. Answers are the same before and after.
   * @returns minute groups merged, minute rows removed, and rows rebuilt per coarser tier (`hourly`, `tenminute`).
   */
  compactRollups(
    beforeNs: bigint,
  ): Promise<{ merged: number; removed: number; rebuilt: Record<string, number> }>;
  /**
   * Deletes what is older than the policy, by ingest time: a row goes when that time is strictly before
   * `nowNs` minus its limit. @returns rows deleted per table.
   */
  applyRetention(policy: RetentionPolicy, nowNs: bigint): Promise<Record<string, number>>;
  /** Bytes used on disk, write-ahead log included (0 for in-memory stores). */
  diskBytes(): Promise<number>;
  /** Flushes the rollups, lets the calls made before it finish, and releases the store. Idempotent. */
  close(): Promise<void>;
}

/** Everything a store does. */
export interface Store
  extends SpanWriter,
    MetricWriter,
    RollupReader,
    SpanReader,
    MetricReader,
    VitalsWriter,
    VitalsReader,
    StoreMaintenance {}
