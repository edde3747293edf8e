/**
 * Query findings over a window, for `GET /api/v1/apm/bottlenecks` and the optimization advice: N+1 groups
 * and parallel fan-outs (from {@link siblingGroups} on the traces the store flags as candidates), slow
 * statements (p95 over `slowQueryThresholdMs`, from the rollups), and sequential independent queries.
 * Each finding names the endpoint, the statement, the count per request, the time it costs per request and
 * in total over the traces examined, the expected saving, and the fix.
 * @module
 */
import type { Span } from '../model/index.ts';
import type { RollupReader, SpanReader, TimeWindow } from '../storage/index.ts';
import { databaseMetrics, type QueryMetrics } from './db-metrics.ts';
import { type SiblingGroup, sequentialQueries, siblingGroups } from './repeated-calls.ts';

/** One finding. Durations in ms. */
export interface QueryFinding {
  type: 'n_plus_one' | 'slow_query' | 'sequential_queries';
  /** Service and endpoint of the requests that pay for it. */
  endpointService: string;
  endpoint: string;
  /** Service making the calls, the statement (normalised) or operation, its system and fingerprint. */
  service: string;
  statement: string;
  system: string;
  fingerprint: string;
  /** Traces (requests) in which it was seen, among those examined. */
  traces: number;
  callsPerRequest: number;
  timePerRequestMs: number;
  /** Summed over the traces examined (N+1, sequential) or the whole window (slow queries). */
  totalTimeMs: number;
  /** Time a fix would save per affected request (see `fix`). */
  savingPerRequestMs: number;
  exampleTraceId: string | null;
  fix: string;
  evidence: Record<string, unknown>;
}

/** A parallel fan-out that looks like an N+1 by count but whose calls overlap (one trace). */
export interface RejectedGroup {
  endpoint: string;
  service: string;
  operation: string;
  parentSpanId: string;
  count: number;
  overlappingPairs: number;
  wallMs: number;
  sumMs: number;
  traceId: string;
}

/** Options of {@link queryFindings}. */
export interface QueryFindingsOptions {
  window: TimeWindow;
  service?: string | undefined;
  /** Calls of one operation under one parent that make an N+1 (default 5). */
  minRepeats?: number;
  slowQueryThresholdMs: number;
  /** Most candidate traces examined (default 300, most recent first). */
  traceLimit?: number;
  /** The window's statement metrics when the caller already has them (else read here). */
  statements?: QueryMetrics[];
}

const SQL_SYSTEMS = new Set([
  'postgresql',
  'mysql',
  'mariadb',
  'mssql',
  'oracle',
  'sqlite',
  'db2',
  'cockroachdb',
  'other_sql',
]);

/** The fix for repeated calls of this kind. */
export function nPlusOneFix(system: string, statement: string, service = ''): string {
  if (system === 'redis' || /redis/i.test(service))
    return 'Fetch the keys in one round trip: MGET (or HMGET) or a pipeline, instead of one command per item.';
  if (SQL_SYSTEMS.has(system) || /^\s*select\b/i.test(statement)) {
    const pg = system === 'postgresql';
    return `Load the rows in one query — ${pg ? '`WHERE id = ANY($1)` with the array of ids' : '`WHERE id IN (?, ?, …)`'} — or JOIN them into the query that produced the ids; if they change rarely, cache them by id with a TTL (getOrLoad).`;
  }
  return 'Batch the calls (one request for all items), or run them concurrently if they are independent.';
}

/** How far outside the window the spans of a candidate trace are read (long traces, skewed clocks). */
const TRACE_SLACK_NS = 15n * 60_000_000_000n;

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Findings of the window, N+1 first, each kind by total time. */
export async function queryFindings(
  store: SpanReader & RollupReader,
  o: QueryFindingsOptions,
): Promise<{
  tracesExamined: number;
  limitReached: boolean;
  findings: QueryFinding[];
  parallelFanOuts: RejectedGroup[];
}> {
  const minRepeats = o.minRepeats ?? 5;
  const limit = o.traceLimit ?? 300;
  const candidates = await store.repeatedCallTraces({
    window: o.window,
    service: o.service,
    minRepeats,
    limit,
  });
  const traceIds = candidates.map((c) => c.traceId);
  const groups: SiblingGroup[] = [];
  const sequential: ReturnType<typeof sequentialQueries> = [];
  // One read for every trace, of the time their last repeated calls lie in ± TRACE_SLACK_NS (long traces,
  // skewed clocks), inside the window ± the same: the newest traces of a day lie in its last hour or so,
  // and reading that, not the day, is what keeps the list of recommendations fast over a day of 10 M spans.
  let fromNs = o.window.toNs;
  let toNs = o.window.fromNs;
  for (const c of candidates) {
    if (c.lastNs < fromNs) fromNs = c.lastNs;
    if (c.lastNs > toNs) toNs = c.lastNs;
  }
  const byTrace =
    candidates.length === 0
      ? new Map<string, Span[]>()
      : await store.traceSpansIn(traceIds, {
          fromNs: max(fromNs, o.window.fromNs) - TRACE_SLACK_NS,
          toNs: min(toNs + 1n, o.window.toNs) + TRACE_SLACK_NS,
        });
  for (const id of traceIds) {
    const spans = byTrace.get(id) ?? [];
    groups.push(...siblingGroups(spans, minRepeats));
    sequential.push(...sequentialQueries(spans));
  }

  const nPlusOne = new Map<string, { g: SiblingGroup[] }>();
  const fanOuts = new Map<string, SiblingGroup[]>();
  for (const g of groups) {
    const key = `${g.endpointService}\u0000${g.endpoint}\u0000${g.service}\u0000${g.fingerprint || g.operation}`;
    if (g.verdict === 'n_plus_one') {
      const e = nPlusOne.get(key) ?? { g: [] };
      e.g.push(g);
      nPlusOne.set(key, e);
    } else fanOuts.set(key, [...(fanOuts.get(key) ?? []), g]);
  }
  const findings: QueryFinding[] = [];
  for (const { g } of nPlusOne.values()) {
    const traces = new Set(g.map((x) => x.traceId)).size;
    const calls = g.reduce((s, x) => s + x.count, 0);
    const total = g.reduce((s, x) => s + x.sumMs, 0);
    const meanCall = total / Math.max(1, calls);
    const first = g[0]!;
    // One batched call costs about two single calls (a larger result); the rest is saved.
    const saving = Math.max(0, total / traces - 2 * meanCall);
    findings.push({
      type: 'n_plus_one',
      endpointService: first.endpointService,
      endpoint: first.endpoint,
      service: first.service,
      statement: first.operation,
      system: first.system,
      fingerprint: first.fingerprint,
      traces,
      callsPerRequest: calls / traces,
      timePerRequestMs: total / traces,
      totalTimeMs: total,
      savingPerRequestMs: saving,
      exampleTraceId: first.traceId,
      fix: nPlusOneFix(first.system, first.operation, first.service),
      evidence: {
        maxCallsInOneParent: Math.max(...g.map((x) => x.count)),
        meanCallMs: meanCall,
        overlappingPairs: g.reduce((s, x) => s + x.overlappingPairs, 0),
        meanWallMs: g.reduce((s, x) => s + x.wallMs, 0) / g.length,
        exampleParentSpanId: first.parentSpanId,
      },
    });
  }

  const seqGroups = new Map<string, typeof sequential>();
  for (const q of sequential) {
    const key = `${q.endpointService}\u0000${q.endpoint}\u0000${q.statements.join('\u0001')}`;
    seqGroups.set(key, [...(seqGroups.get(key) ?? []), q]);
  }
  for (const list of seqGroups.values()) {
    const first = list[0]!;
    const total = list.reduce((s, q) => s + q.sumMs, 0);
    const saving = list.reduce((s, q) => s + (q.sumMs - q.maxMs), 0) / list.length;
    if (saving < 1) continue;
    findings.push({
      type: 'sequential_queries',
      endpointService: first.endpointService,
      endpoint: first.endpoint,
      service: first.endpointService,
      statement: first.statements.join(';\n'),
      system: '',
      fingerprint: '',
      traces: list.length,
      callsPerRequest: first.statements.length,
      timePerRequestMs: total / list.length,
      totalTimeMs: total,
      savingPerRequestMs: saving,
      exampleTraceId: first.traceId,
      fix: 'These queries run one after another; if none needs the result of another, run them concurrently (Promise.all on separate pool connections) or merge them into one round trip.',
      evidence: { statements: first.statements },
    });
  }

  const slow = (
    o.statements ??
    (await databaseMetrics(store, {
      window: o.window,
      service: o.service,
      slowQueryThresholdMs: o.slowQueryThresholdMs,
    }))
  ).filter((q) => q.p95Ms >= o.slowQueryThresholdMs);
  for (const q of slow) {
    findings.push({
      type: 'slow_query',
      endpointService: q.service,
      endpoint: q.endpoints[0] ?? '',
      service: q.service,
      statement: q.statement,
      system: q.system,
      fingerprint: q.fingerprint,
      traces: q.calls,
      callsPerRequest: 1,
      timePerRequestMs: q.meanMs,
      totalTimeMs: q.totalMs,
      savingPerRequestMs: Math.max(0, q.meanMs - o.slowQueryThresholdMs / 10),
      exampleTraceId: null,
      fix: 'Look at its plan: GET /api/v1/cache-db/optimization/recommendations runs EXPLAIN on the configured pools and proposes the index, with the cost before and after.',
      evidence: {
        calls: q.calls,
        p95Ms: q.p95Ms,
        p99Ms: q.p99Ms,
        maxMs: q.maxMs,
        slowCalls: q.slowCalls,
        endpoints: q.endpoints,
      },
    });
  }

  const rank = { n_plus_one: 0, slow_query: 1, sequential_queries: 2 } as const;
  findings.sort((a, b) => rank[a.type] - rank[b.type] || b.totalTimeMs - a.totalTimeMs);
  // Fan-outs are listed one per trace group (at most 50, largest first): each is evidence of a rejection.
  const parallelFanOuts = [...fanOuts.values()]
    .flat()
    .sort((a, b) => b.sumMs - a.sumMs)
    .slice(0, 50)
    .map((g) => ({
      endpoint: g.endpoint,
      service: g.service,
      operation: g.operation,
      parentSpanId: g.parentSpanId,
      count: g.count,
      overlappingPairs: g.overlappingPairs,
      wallMs: g.wallMs,
      sumMs: g.sumMs,
      traceId: g.traceId,
    }));
  return {
    tracesExamined: traceIds.length,
    limitReached: traceIds.length >= limit,
    findings,
    parallelFanOuts,
  };
}
