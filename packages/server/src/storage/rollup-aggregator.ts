/**
 * In-memory per-minute rollups of recently written spans, until the store flushes them.
 *
 * Endpoint rollups cover spans that a user calls an endpoint or an outgoing call (SERVER, CONSUMER,
 * CLIENT, PRODUCER) and root spans of any kind; db rollups cover spans with a database call. A span is
 * bucketed by the minute of its start, except a span whose clock is flagged (far from the server's),
 * which is bucketed by the minute it was ingested, so a broken clock never creates buckets decades away.
 * @module
 */
import { type Span, SpanKind } from '../model/index.ts';
import { type LatencySketch, newSketch } from '../util/latency-sketch.ts';
import { minuteFloorNs } from '../util/time.ts';

/** One open endpoint rollup cell. */
export interface EndpointCell {
  service: string;
  endpoint: string;
  kind: SpanKind;
  minuteNs: bigint;
  requests: number;
  errors: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  sketch: LatencySketch;
  /** Durations of the failed requests only (Apdex counts them as frustrated). */
  errorSketch: LatencySketch;
}

/** One open database rollup cell. */
export interface DbCell {
  service: string;
  system: string;
  database: string;
  fingerprint: string;
  statement: string;
  minuteNs: bigint;
  calls: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  sketch: LatencySketch;
}

/** The fields of a span that rollups need (what a replay from raw rows can rebuild). */
export type RollupSpan = Pick<
  Span,
  | 'service'
  | 'endpoint'
  | 'kind'
  | 'parentSpanId'
  | 'startTimeUnixNano'
  | 'durationNano'
  | 'isError'
  | 'db'
  | 'clockFlagged'
>;

/** Whether a span contributes to endpoint rollups. */
export function isEndpointSpan(span: Pick<Span, 'kind' | 'parentSpanId'>): boolean {
  return span.kind !== SpanKind.INTERNAL && span.kind !== SpanKind.UNSPECIFIED
    ? true
    : span.parentSpanId === '';
}

/** Accumulates rollup cells; `drain()` hands them over for writing. */
export class RollupAggregator {
  private endpoints = new Map<string, EndpointCell>();
  private dbs = new Map<string, DbCell>();

  /** Adds spans ingested at `ingestNs`. */
  add(spans: readonly RollupSpan[], ingestNs: bigint): void {
    const ingestMinute = minuteFloorNs(ingestNs);
    for (const s of spans) {
      const minuteNs = s.clockFlagged ? ingestMinute : minuteFloorNs(s.startTimeUnixNano);
      const ms = Number(s.durationNano) / 1e6;
      if (isEndpointSpan(s)) {
        const key = `${s.service}\u0000${s.endpoint}\u0000${s.kind}\u0000${minuteNs}`;
        let cell = this.endpoints.get(key);
        if (!cell) {
          cell = {
            service: s.service,
            endpoint: s.endpoint,
            kind: s.kind,
            minuteNs,
            requests: 0,
            errors: 0,
            sumMs: 0,
            minMs: ms,
            maxMs: 0,
            sketch: newSketch(),
            errorSketch: newSketch(),
          };
          this.endpoints.set(key, cell);
        }
        cell.requests++;
        if (s.isError) {
          cell.errors++;
          cell.errorSketch.accept(ms);
        }
        cell.sumMs += ms;
        if (ms > cell.maxMs) cell.maxMs = ms;
        if (ms < cell.minMs) cell.minMs = ms;
        cell.sketch.accept(ms);
      }
      if (s.db) {
        const key = `${s.service}\u0000${s.db.system}\u0000${s.db.database}\u0000${s.db.fingerprint}\u0000${minuteNs}`;
        let cell = this.dbs.get(key);
        if (!cell) {
          cell = {
            service: s.service,
            system: s.db.system,
            database: s.db.database,
            fingerprint: s.db.fingerprint,
            statement: s.db.statement,
            minuteNs,
            calls: 0,
            sumMs: 0,
            minMs: ms,
            maxMs: 0,
            sketch: newSketch(),
          };
          this.dbs.set(key, cell);
        }
        cell.calls++;
        cell.sumMs += ms;
        if (ms > cell.maxMs) cell.maxMs = ms;
        if (ms < cell.minMs) cell.minMs = ms;
        cell.sketch.accept(ms);
      }
    }
  }

  /** The open cells (read-only view for queries that must see unflushed data). */
  snapshot(): { endpoints: readonly EndpointCell[]; dbs: readonly DbCell[] } {
    return { endpoints: [...this.endpoints.values()], dbs: [...this.dbs.values()] };
  }

  /** Takes all open cells out, leaving the aggregator empty. */
  drain(): { endpoints: EndpointCell[]; dbs: DbCell[] } {
    const out = { endpoints: [...this.endpoints.values()], dbs: [...this.dbs.values()] };
    this.endpoints = new Map();
    this.dbs = new Map();
    return out;
  }

  /** Puts drained cells back (after a failed write), merging with cells added since. */
  restore(cells: { endpoints: EndpointCell[]; dbs: DbCell[] }): void {
    for (const c of cells.endpoints) {
      const key = `${c.service}\u0000${c.endpoint}\u0000${c.kind}\u0000${c.minuteNs}`;
      const cur = this.endpoints.get(key);
      if (!cur) this.endpoints.set(key, c);
      else {
        cur.requests += c.requests;
        cur.errors += c.errors;
        cur.sumMs += c.sumMs;
        cur.maxMs = Math.max(cur.maxMs, c.maxMs);
        cur.minMs = Math.min(cur.minMs, c.minMs);
        cur.sketch.merge(c.sketch);
        cur.errorSketch.merge(c.errorSketch);
      }
    }
    for (const c of cells.dbs) {
      const key = `${c.service}\u0000${c.system}\u0000${c.database}\u0000${c.fingerprint}\u0000${c.minuteNs}`;
      const cur = this.dbs.get(key);
      if (!cur) this.dbs.set(key, c);
      else {
        cur.calls += c.calls;
        cur.sumMs += c.sumMs;
        cur.maxMs = Math.max(cur.maxMs, c.maxMs);
        cur.minMs = Math.min(cur.minMs, c.minMs);
        cur.sketch.merge(c.sketch);
      }
    }
  }

  get size(): number {
    return this.endpoints.size + this.dbs.size;
  }
}
