/**
 * Join (b): an N+1 (the same statement run once per item under one parent span, `apm/query-findings.ts`) →
 * the batched query that replaces it, or a cache with `getOrLoad` in front of it, sized from the miss-ratio
 * curve of a cache the service already has. Sequential independent queries get the same treatment without
 * the cache.
 *
 * Arithmetic of the batched query (as the seed's advice): one batched call costs about two single calls,
 * so a request saves its time in the statement less two mean calls; requests per hour are the statement's
 * exact call count in the rollups ÷ calls per request (else the traces examined, a floor when sampled), over
 * the window's hours.
 *
 * Arithmetic of the cache: of the statement's calls per hour, the hit ratio the cache's LRU curve gives at
 * the size chosen (the smallest of 1×, 2×, 4×, 8× its size that reaches 80% of what 8× would) become hits,
 * each saving a mean call. This assumes the rows are read again the way the cache's own keys are: the curve
 * is the cache's, not the statement's, so the confidence is low and said so.
 * @module
 */
import type { QueryFinding, QueryMetrics } from '../apm/index.ts';
import type { CacheSummary } from '../cache/index.ts';
import type { Advice, EndpointEffect, RecommendationAlternative } from '../model/index.ts';
import { rateWindow } from '../util/rate-window.ts';
import type { SampledEffect } from './endpoint-samples.ts';
import { type EndpointFigures, endpointEffect, endpointLine } from './index-join.ts';
import {
  type Draft,
  draft,
  endpointSeries,
  evidence,
  figure,
  gain,
  statementSeries,
  target,
  type WindowMs,
} from './shape.ts';

const round = (v: number) => Math.round(v * 10) / 10;
const r1 = figure;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const bytesText = (n: number) =>
  n >= 1048576
    ? `${(n / 1048576).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${Math.round(n)} bytes`;

/** A query finding as the seed's advice, with the requests it weighed the gain by. */
export interface QueryAdvice {
  advice: Advice;
  finding: QueryFinding;
  /** Requests that paid for it in the window. */
  requests: number;
  /** Whether `requests` comes from the statement's exact call count (else the traces examined). */
  fromCalls: boolean;
}

/**
 * The seed's advice for the N+1 and sequential-query findings (slow queries are left to the plan advisor).
 * @param statements - the window's statement metrics, for the exact call counts.
 * @param limitReached - the finder examined its most traces: the counts from traces are a floor.
 */
export function queryAdvice(
  findings: readonly QueryFinding[],
  statements: readonly QueryMetrics[],
  w: WindowMs,
  limitReached: boolean,
): QueryAdvice[] {
  const { hours, text: over } = rateWindow(w.fromMs, w.toMs);
  const out: QueryAdvice[] = [];
  for (const f of findings) {
    if (f.type === 'slow_query') continue; // its plan is examined by the advisor
    // Requests per hour that pay for it: from the statement's exact call count in the rollups when it is a
    // database call (calls ÷ calls per request), else from the traces examined (a floor when sampled).
    const calls = f.fingerprint
      ? statements.find((s) => s.fingerprint === f.fingerprint && s.service === f.service)?.calls
      : undefined;
    const requests = calls !== undefined ? calls / f.callsPerRequest : f.traces;
    const perHour = (f.savingPerRequestMs * requests) / hours;
    const nPlusOne = f.type === 'n_plus_one';
    out.push({
      finding: f,
      requests,
      fromCalls: calls !== undefined,
      advice: {
        id: `${nPlusOne ? 'n-plus-one' : 'sequential-queries'}:${f.endpointService}/${f.endpoint}:${f.fingerprint || f.statement.slice(0, 80)}`,
        area: 'query',
        severity: nPlusOne && f.savingPerRequestMs >= 50 ? 'critical' : nPlusOne ? 'warning' : 'info',
        title: nPlusOne
          ? `N+1 on ${f.endpoint}: ${f.statement.slice(0, 120)} runs ${round(f.callsPerRequest)} times per request (${round(f.timePerRequestMs)} ms)`
          : `${f.callsPerRequest} independent queries run one after another on ${f.endpoint} (${round(f.timePerRequestMs)} ms)`,
        evidence: {
          ...f.evidence,
          service: f.service,
          traces: f.traces,
          exampleTraceId: f.exampleTraceId,
          callsPerRequest: f.callsPerRequest,
          timePerRequestMs: f.timePerRequestMs,
        },
        action: f.fix,
        change: null,
        expectedGain: {
          timeSavedMsPerHour: perHour,
          description: `about ${round(f.savingPerRequestMs)} ms per affected request; ${Math.round(requests)} such requests in ${over}${calls !== undefined ? " (from the statement's call count)" : limitReached ? ' (a sample of the traces: more exist)' : ''}.`,
        },
      },
    });
  }
  return out;
}

/**
 * The statement that loads every item at once, when the N+1's statement selects one row by one parameter:
 * `col = $1` → `col = ANY($1)` (PostgreSQL, an array of ids), `col = ?` → `col IN (?, ?, …)` (others).
 * @returns `null` when the statement is not of that form.
 */
export function batchedStatement(system: string, statement: string): string | null {
  if (!/^\s*select\b/i.test(statement)) return null;
  const pg = /(\b[\w."]+)\s*=\s*\$1\b/;
  const other = /(\b[\w.`"]+)\s*=\s*\?/;
  if (system === 'postgresql' || pg.test(statement)) {
    return pg.test(statement) && !/\$2\b/.test(statement) ? statement.replace(pg, '$1 = ANY($$1)') : null;
  }
  return other.test(statement) && (statement.match(/\?/g) ?? []).length === 1
    ? statement.replace(other, '$1 IN (?, ?, …)')
    : null;
}

/** The smallest size factor of 1, 2, 4, 8 whose hit ratio reaches 80% of what 8× would add. */
export function sizeFromCurve(c: CacheSummary): { factor: number; hitRatio: number } | undefined {
  const at = (f: number) => c.missRatioCurve.find((p) => Math.abs(p.sizeFactor - f) < 1e-6)?.hitRatio;
  const one = at(1);
  if (one === undefined) return undefined;
  const top = at(8) ?? Math.max(one, ...c.missRatioCurve.map((p) => p.hitRatio));
  for (const f of [1, 2, 4, 8]) {
    const v = at(f);
    if (v !== undefined && v - one >= 0.8 * (top - one) - 1e-12) return { factor: f, hitRatio: v };
  }
  return { factor: 1, hitRatio: one };
}

/** The caches a finding could go through: those its service (or its endpoint's service) reports. */
export function cachesOf(f: QueryFinding, caches: readonly CacheSummary[]): CacheSummary[] {
  return caches
    .filter((c) => c.service !== null && (c.service === f.service || c.service === f.endpointService))
    .filter((c) => c.missRatioCurve.length > 0 && c.backend !== 'redis')
    .sort((a, b) => b.requestsPerHour - a.requestsPerHour || a.name.localeCompare(b.name));
}

/** The cache alternative of an N+1: `getOrLoad` through `c`, sized from its curve. */
export function cacheAlternative(
  q: QueryAdvice,
  c: CacheSummary,
  w: WindowMs,
): RecommendationAlternative | undefined {
  const f = q.finding;
  const size = sizeFromCurve(c);
  if (!size) return undefined;
  const { hours } = rateWindow(w.fromMs, w.toMs);
  const meanCallMs = typeof f.evidence.meanCallMs === 'number' ? f.evidence.meanCallMs : 0;
  const callsPerHour = (q.requests * f.callsPerRequest) / hours;
  const hitsPerHour = callsPerHour * size.hitRatio;
  const savedMsPerHour = hitsPerHour * meanCallMs;
  const msPerRequest = f.callsPerRequest * size.hitRatio * meanCallMs;
  const bytesPerEntry = c.entries > 0 ? c.bytes / c.entries : 0;
  const base = c.maxEntries ?? c.entries;
  const entries = Math.round(size.factor * base);
  const extraBytes = (entries - base) * bytesPerEntry;
  const name = c.service ? `${c.service}/${c.name}` : c.name;
  const arithmetic = [
    `${r1(q.requests)} requests × ${r1(f.callsPerRequest)} calls per request ÷ ${r1(hours)} h = ${r1(callsPerHour)} calls per hour`,
    `the LRU curve of cache ${name} gives ${pct(size.hitRatio)} at ${size.factor}× its size (${entries} entries; the smallest of 1×, 2×, 4×, 8× reaching 80% of what 8× would)`,
    `${r1(callsPerHour)} × ${pct(size.hitRatio)} = ${r1(hitsPerHour)} calls per hour answered by the cache × ${r1(meanCallMs)} ms per call = ${r1(savedMsPerHour / 1000)} s per hour`,
    `per request: ${r1(f.callsPerRequest)} calls × ${pct(size.hitRatio)} × ${r1(meanCallMs)} ms = ${r1(msPerRequest)} ms`,
    extraBytes > 0
      ? `${entries} − ${base} entries × ${Math.round(bytesPerEntry)} bytes per entry = ${bytesText(extraBytes)} more memory`
      : 'no more memory: the cache keeps its size (the rows compete with its keys)',
  ];
  const key = /\b(?:from|join)\s+([\w."]+)/i.exec(f.statement)?.[1]?.replace(/"/g, '') ?? 'row';
  return {
    title: `Cache the rows in ${name} with getOrLoad${size.factor > 1 ? `, grown to ${entries} entries` : ''}: ${pct(size.hitRatio)} of the ${r1(callsPerHour)} calls per hour answered from memory`,
    apply: {
      kind: 'code',
      how: `Load each item through cache ${name} (getOrLoad) instead of querying it${size.factor > 1 ? `, and raise its maxEntries to ${entries}` : ''}.`,
      change: `const row = await ${c.name}.getOrLoad(\`${key}:\${id}\`, () => db.query(${JSON.stringify(f.statement)}, [id]));${size.factor > 1 ? `\n// cache ${c.name}: maxEntries: ${entries}` : ''}`,
    },
    gain: gain({
      timeSavedSecondsPerHour: savedMsPerHour / 1000,
      databaseSecondsPerHour: savedMsPerHour / 1000,
      msPerRequest,
      hitRatioPoints: 100 * size.hitRatio,
      memoryBytes: Math.max(0, extraBytes),
      arithmetic,
      confidence: 'low',
      confidenceReason: `the hit ratio is cache ${name}'s curve for its own keys: the rows are assumed to be read again as those keys are`,
      description: `${r1(hitsPerHour)} fewer calls per hour (${pct(size.hitRatio)} hits at ${size.factor}× the size of ${name}); ${r1(msPerRequest)} ms per request.`,
    }),
  };
}

/**
 * The recommendation of an N+1 or of sequential queries: the batched query (or concurrent calls) first, a
 * cache through `getOrLoad` as the alternative when the service has a cache with a curve.
 * @param endpoint - the endpoint's figures and its sampled effect of the fix, when sampled.
 */
export function queryRecommendation(
  q: QueryAdvice,
  w: WindowMs,
  o: {
    statement?: QueryMetrics | undefined;
    caches?: readonly CacheSummary[];
    endpoint?: { figures: EndpointFigures; effect: SampledEffect } | undefined;
  } = {},
): Draft {
  const f = q.finding;
  const a = q.advice;
  const { hours } = rateWindow(w.fromMs, w.toMs);
  const nPlusOne = f.type === 'n_plus_one';
  const meanCallMs = typeof f.evidence.meanCallMs === 'number' ? f.evidence.meanCallMs : 0;
  const perHourMs = a.expectedGain.timeSavedMsPerHour ?? 0;
  const lines = nPlusOne
    ? [
        `${r1(f.callsPerRequest)} calls per request × ${r1(meanCallMs)} ms = ${r1(f.timePerRequestMs)} ms; one batched call costs about 2 calls (${r1(2 * meanCallMs)} ms): ${r1(f.savingPerRequestMs)} ms saved per request`,
      ]
    : [
        `${f.callsPerRequest} queries one after another take ${r1(f.timePerRequestMs)} ms per request; run together they take the longest of them: ${r1(f.savingPerRequestMs)} ms saved per request`,
      ];
  lines.push(
    q.fromCalls
      ? `${Math.round(q.requests * f.callsPerRequest)} calls of the statement in the window ÷ ${r1(f.callsPerRequest)} per request = ${r1(q.requests)} requests; ÷ ${r1(hours)} h = ${r1(q.requests / hours)} per hour`
      : `${r1(q.requests)} requests among the traces examined; ÷ ${r1(hours)} h = ${r1(q.requests / hours)} per hour`,
    `${r1(f.savingPerRequestMs)} ms × ${r1(q.requests / hours)} requests per hour = ${r1(perHourMs / 1000)} s per hour`,
  );
  let effects: EndpointEffect[] = [];
  if (o.endpoint) {
    const x = endpointEffect({ ...o.endpoint, fingerprint: f.fingerprint }, hours);
    effects = [x];
    lines.push(endpointLine({ ...o.endpoint, fingerprint: f.fingerprint }, x, 'its time less 2 mean calls'));
  }
  const alternatives: RecommendationAlternative[] = [];
  if (nPlusOne) {
    const c = cachesOf(f, o.caches ?? [])[0];
    const alt = c ? cacheAlternative(q, c, w) : undefined;
    if (alt) alternatives.push(alt);
  }
  const batched = nPlusOne ? batchedStatement(f.system, f.statement) : null;
  const isSql = f.system !== 'redis' && f.fingerprint !== '';
  return draft({
    key: a.id,
    kind: nPlusOne ? 'n-plus-one' : 'sequential-queries',
    area: 'query',
    severity: a.severity,
    title: a.title,
    target: target({
      service: f.service,
      endpoint: f.endpoint,
      fingerprint: f.fingerprint || null,
      statement: f.statement,
    }),
    evidence: evidence(w, {
      traceIds: [
        ...new Set([...(f.exampleTraceId ? [f.exampleTraceId] : []), ...(o.endpoint?.effect.traceIds ?? [])]),
      ].slice(0, 5),
      fingerprint: f.fingerprint || null,
      series: [
        endpointSeries(w, f.endpointService, f.endpoint),
        ...(isSql ? [statementSeries(w, f.service, f.statement)] : []),
      ],
      measured: a.evidence,
    }),
    gain: gain({
      timeSavedSecondsPerHour: perHourMs / 1000,
      databaseSecondsPerHour: nPlusOne && isSql ? perHourMs / 1000 : null,
      msPerRequest: f.savingPerRequestMs,
      endpoints: effects,
      arithmetic: lines,
      confidence: q.fromCalls ? 'medium' : 'low',
      confidenceReason: q.fromCalls
        ? 'the requests per hour come from the statement’s exact call count; the batched call’s cost (2 calls) is a rule of thumb'
        : 'the requests are counted in the traces examined (a floor when sampled); the batched call’s cost is a rule of thumb',
      description: a.expectedGain.description,
    }),
    apply: batched
      ? { kind: 'code', how: f.fix, change: batched }
      : { kind: 'code', how: f.fix, change: null },
    alternatives,
    related: [],
  });
}
