/**
 * Repeated calls in traces: the N+1 detector and the sequential-queries detector.
 *
 * N+1 (the pattern of Jaeger's trace-analysis skills and of Sentry's "N+1 queries" detector): under one
 * parent span, at least N (default 5) calls of one service with the same operation — the same statement
 * fingerprint for database calls (literals removed), the same span name for others (a Redis command, an
 * HTTP call) — that run one after another. Calls are sorted by start; a consecutive pair overlaps when the
 * next starts before the previous ends, by more than clock noise (see `overlaps`). A group whose calls
 * overlap (more than 10% of consecutive pairs)
 * is a parallel fan-out, not an N+1, and is reported as such. Spans of other operations in between
 * (a `pg-pool.connect`, a log span) do not break a group: only the group's own calls are compared.
 *
 * Sequential queries: under one parent, three or more database calls in a row, each a statement that runs
 * once under that parent, none overlapping — independent ones could run in parallel, saving up to their
 * sum minus the longest.
 *
 * "Parent" is the span's place in the trace tree (`span-parents.ts`): the calls a Zipkin shared server
 * half makes are under that server half, so they are credited to its endpoint, not to the caller's.
 * @module
 */
import { type Span, SpanKind } from '../model/index.ts';
import { type SpanParent, spanParents } from './span-parents.ts';

/** Repeated calls of one operation under one parent span, in one trace. Durations in ms. */
export interface SiblingGroup {
  traceId: string;
  parentSpanId: string;
  /** Service of the calls. */
  service: string;
  /** The normalised statement (database calls) or the span name. */
  operation: string;
  /** `db.system` of the calls, `''` for non-database calls. */
  system: string;
  /** Statement fingerprint, `''` for non-database calls. */
  fingerprint: string;
  count: number;
  /** Consecutive pairs (by start) where the next call starts before the previous ends. */
  overlappingPairs: number;
  /** Last end minus first start. */
  wallMs: number;
  /** Sum of the calls' durations. */
  sumMs: number;
  /** Longest single call. */
  maxMs: number;
  /** The innermost SERVER span enclosing the calls (or the trace's root), which names the endpoint. */
  endpointService: string;
  endpoint: string;
  verdict: 'n_plus_one' | 'parallel_fan_out';
  spanIds: string[];
}

/** Database calls in a row under one parent, each a different statement. */
export interface SequentialQueries {
  traceId: string;
  parentSpanId: string;
  endpointService: string;
  endpoint: string;
  statements: string[];
  sumMs: number;
  maxMs: number;
}

const ms = (ns: bigint) => Number(ns) / 1e6;

/**
 * Whether `b` (starting after `a`) overlaps `a` by more than clock noise: more than 1 ms, or — when the
 * start times are finer than a millisecond — more than 20% of the shorter call. Instrumentations end a
 * span in a callback that can run after the caller's next statement started, and some SDKs stamp starts
 * to the millisecond (OpenTelemetry JS's pg spans), so serial calls can seem to overlap by up to 1 ms; a
 * fan-out overlaps by most of a call.
 */
function overlaps(a: Span, b: Span, msStarts: boolean): boolean {
  const overlap = a.endTimeUnixNano - b.startTimeUnixNano;
  if (overlap <= 0n) return false;
  if (overlap > 1_000_000n) return true;
  if (msStarts) return false;
  const shorter = a.durationNano < b.durationNano ? a.durationNano : b.durationNano;
  return overlap * 5n > shorter;
}

/** The innermost SERVER ancestor (or the root) of a span. */
function enclosingEndpoint(
  span: Span,
  byId: Map<string, Span>,
  parents: Map<string, SpanParent>,
): { service: string; endpoint: string } {
  const parentOf = (s: Span) => parents.get(s.spanId)?.parentSpanId ?? s.parentSpanId;
  let cur: Span | undefined = byId.get(parentOf(span));
  let last: Span | undefined = cur;
  for (let guard = 0; cur && guard < 10_000; guard++) {
    if (cur.kind === SpanKind.SERVER || cur.kind === SpanKind.CONSUMER)
      return { service: cur.service, endpoint: cur.endpoint };
    last = cur;
    const up = parentOf(cur);
    cur = up ? byId.get(up) : undefined;
  }
  return last ? { service: last.service, endpoint: last.endpoint } : { service: '', endpoint: '' };
}

/**
 * The groups of at least `minRepeats` repeated calls in one trace's spans.
 * @param maxOverlapShare - share of overlapping consecutive pairs above which a group is a fan-out.
 */
export function siblingGroups(spans: readonly Span[], minRepeats = 5, maxOverlapShare = 0.1): SiblingGroup[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const parents = spanParents(spans);
  const groups = new Map<string, Span[]>();
  for (const s of spans) {
    const parent = parents.get(s.spanId)?.parentSpanId ?? s.parentSpanId;
    // Connection checkouts (`pg-pool.connect`) come with every query: they are not calls of their own.
    if (!parent || s.kind === SpanKind.SERVER || /(^|[.\s_-])connect$/i.test(s.name)) continue;
    // The span name is part of the key: calls known only by their command (a Redis GET) differ by name.
    const op = s.db ? `db\u0000${s.db.fingerprint}\u0000${s.name}` : `name\u0000${s.name}`;
    const key = `${parent}\u0000${s.service}\u0000${op}`;
    let g = groups.get(key);
    if (!g) {
      g = [];
      groups.set(key, g);
    }
    g.push(s);
  }
  const out: SiblingGroup[] = [];
  for (const g of groups.values()) {
    if (g.length < minRepeats) continue;
    g.sort((a, b) =>
      a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0,
    );
    let overlapping = 0;
    const msStarts = g.every((s) => s.startTimeUnixNano % 1_000_000n === 0n);
    let firstStart = g[0]!.startTimeUnixNano;
    let lastEnd = g[0]!.endTimeUnixNano;
    let sum = 0n;
    let max = 0n;
    for (let i = 0; i < g.length; i++) {
      const s = g[i]!;
      if (i > 0 && overlaps(g[i - 1]!, s, msStarts)) overlapping += 1;
      if (s.startTimeUnixNano < firstStart) firstStart = s.startTimeUnixNano;
      if (s.endTimeUnixNano > lastEnd) lastEnd = s.endTimeUnixNano;
      sum += s.durationNano;
      if (s.durationNano > max) max = s.durationNano;
    }
    const first = g[0]!;
    const where = enclosingEndpoint(first, byId, parents);
    out.push({
      traceId: first.traceId,
      parentSpanId: parents.get(first.spanId)?.parentSpanId ?? first.parentSpanId,
      service: first.service,
      // A statement that is a bare command (`GET`) says less than the span's name (`GetDriver`).
      operation: first.db && /\s/.test(first.db.statement) ? first.db.statement : first.name,
      system: first.db?.system ?? '',
      fingerprint: first.db?.fingerprint ?? '',
      count: g.length,
      overlappingPairs: overlapping,
      wallMs: ms(lastEnd - firstStart),
      sumMs: ms(sum),
      maxMs: ms(max),
      endpointService: where.service,
      endpoint: where.endpoint,
      verdict: overlapping > maxOverlapShare * (g.length - 1) ? 'parallel_fan_out' : 'n_plus_one',
      spanIds: g.map((s) => s.spanId),
    });
  }
  return out.sort((a, b) => b.sumMs - a.sumMs);
}

/** Runs of at least `minRun` database calls under one parent, each a different statement, none overlapping. */
export function sequentialQueries(spans: readonly Span[], minRun = 3): SequentialQueries[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const parents = spanParents(spans);
  const byParent = new Map<string, Span[]>();
  for (const s of spans) {
    const parent = parents.get(s.spanId)?.parentSpanId ?? s.parentSpanId;
    if (!s.db || !parent) continue;
    let list = byParent.get(parent);
    if (!list) {
      list = [];
      byParent.set(parent, list);
    }
    list.push(s);
  }
  const out: SequentialQueries[] = [];
  for (const all of byParent.values()) {
    // A statement repeated under the parent is the N+1 detector's: keep the ones that run once.
    const seen = new Map<string, number>();
    for (const s of all) seen.set(s.db!.fingerprint, (seen.get(s.db!.fingerprint) ?? 0) + 1);
    const list = all.filter((s) => seen.get(s.db!.fingerprint) === 1);
    list.sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
    let run: Span[] = [];
    const flush = () => {
      if (run.length >= minRun) {
        const where = enclosingEndpoint(run[0]!, byId, parents);
        const durations = run.map((s) => ms(s.durationNano));
        out.push({
          traceId: run[0]!.traceId,
          parentSpanId: parents.get(run[0]!.spanId)?.parentSpanId ?? run[0]!.parentSpanId,
          endpointService: where.service,
          endpoint: where.endpoint,
          statements: run.map((s) => s.db!.statement),
          sumMs: durations.reduce((a, b) => a + b, 0),
          maxMs: Math.max(...durations),
        });
      }
      run = [];
    };
    for (const s of list) {
      const prev = run[run.length - 1];
      const distinct = !run.some((r) => r.db!.fingerprint === s.db!.fingerprint);
      if (prev && (s.startTimeUnixNano < prev.endTimeUnixNano || !distinct)) flush();
      run.push(s);
    }
    flush();
  }
  return out;
}
