/**
 * An endpoint's requests as sampled from their traces, split by the statements they wait on: the part of
 * join (a) that goes from an endpoint's p95 to the statement that dominates its time, and back from a
 * change to that statement to the endpoint's expected p95.
 *
 * A request is a SERVER (or CONSUMER) span of the endpoint; a statement call belongs to the innermost
 * SERVER or CONSUMER span above it (so the calls of a downstream service count for that service's
 * endpoint, not for the caller's). The effect of a change assumes the calls run one after another on the
 * request's path (their time is the request's time): for calls that overlap other work it is an upper
 * estimate, said so in the arithmetic.
 *
 * Percentiles of a sample interpolate between the two closest ranks (Hyndman & Fan type 7), the convention
 * of the rollups' sketches, so the sample's p95 and the window's p95 mean the same thing.
 * @module
 */
import { type Span, SpanKind } from '../model/index.ts';
import { quantileSorted } from '../util/stats.ts';

/** One sampled request: its duration and its time in each statement. Durations in ms. */
export interface RequestSample {
  traceId: string;
  durationMs: number;
  /** Per statement fingerprint: the summed duration of its calls under this request, and their count. */
  statements: Map<string, { ms: number; calls: number }>;
}

const nsToMs = (ns: bigint) => Number(ns) / 1e6;
const isEntry = (s: Span) => s.kind === SpanKind.SERVER || s.kind === SpanKind.CONSUMER;

/**
 * The requests of one endpoint in one trace's spans.
 * @param spans - every span of a trace (any order).
 * @param service - the endpoint's service.
 * @param endpoint - `METHOD route` of the endpoint's SERVER spans.
 */
export function requestSamples(spans: readonly Span[], service: string, endpoint: string): RequestSample[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const requests = new Map<string, RequestSample>();
  for (const s of spans) {
    if (isEntry(s) && s.service === service && s.endpoint === endpoint) {
      requests.set(s.spanId, {
        traceId: s.traceId,
        durationMs: nsToMs(s.durationNano),
        statements: new Map(),
      });
    }
  }
  if (requests.size === 0) return [];
  for (const s of spans) {
    if (!s.db?.fingerprint) continue;
    // The innermost SERVER/CONSUMER span above the call (bounded: a broken parent chain cannot loop).
    let p = byId.get(s.parentSpanId);
    for (let depth = 0; p && !isEntry(p) && depth < 10_000; depth++) p = byId.get(p.parentSpanId);
    const request = p ? requests.get(p.spanId) : undefined;
    if (!request) continue;
    const e = request.statements.get(s.db.fingerprint) ?? { ms: 0, calls: 0 };
    e.ms += nsToMs(s.durationNano);
    e.calls += 1;
    request.statements.set(s.db.fingerprint, e);
  }
  return [...requests.values()];
}

/**
 * The q-quantile of a sample: with r = q·(n − 1), the value at rank ⌊r⌋ plus (r − ⌊r⌋) of the step to the
 * next (type 7, as the rollups' sketches). 0 for no values.
 * @param q - 0..1.
 */
export function sampleQuantile(values: readonly number[], q: number): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** One statement's part in an endpoint's sampled time. */
export interface StatementShare {
  fingerprint: string;
  /** Mean time per request (requests without a call count as 0), ms. */
  msPerRequest: number;
  callsPerRequest: number;
  /** Its time over the requests' time, 0..1. */
  share: number;
}

/** Each statement's share of the sampled requests' time, largest first. */
export function statementShares(samples: readonly RequestSample[]): StatementShare[] {
  const total = samples.reduce((s, r) => s + r.durationMs, 0);
  const acc = new Map<string, { ms: number; calls: number }>();
  for (const r of samples) {
    for (const [fp, e] of r.statements) {
      const a = acc.get(fp) ?? { ms: 0, calls: 0 };
      a.ms += e.ms;
      a.calls += e.calls;
      acc.set(fp, a);
    }
  }
  const n = Math.max(1, samples.length);
  return [...acc.entries()]
    .map(([fingerprint, a]) => ({
      fingerprint,
      msPerRequest: a.ms / n,
      callsPerRequest: a.calls / n,
      share: total > 0 ? a.ms / total : 0,
    }))
    .sort((a, b) => b.share - a.share || a.fingerprint.localeCompare(b.fingerprint));
}

/** What a change to one statement does to an endpoint's sampled requests. */
export interface SampledEffect {
  fingerprint: string;
  sampledRequests: number;
  /** Requests of the sample that call the statement. */
  requestsWithStatement: number;
  /** The statement's share of the sampled time, 0..1, and whether no other statement has more. */
  share: number;
  dominant: boolean;
  /** Statement time per request before the change, ms (mean over the sample). */
  statementMsPerRequest: number;
  /** Time saved per request, ms (mean over the sample). */
  msSavedPerRequest: number;
  /** p95 of the sampled durations before and after the change (type 7), ms. */
  sampleP95Ms: number;
  sampleP95AfterMs: number;
  /** Up to 5 traces where the statement takes the most time. */
  traceIds: string[];
}

/**
 * The effect of saving time on one statement, request by request.
 * @param saved - the ms a request saves given its time and calls in the statement (e.g. `ms × share` for an
 *   index, `ms − 2 × mean call` for a batched N+1); clamped to 0..ms.
 * @returns `undefined` when no sampled request calls the statement.
 */
export function sampledEffect(
  samples: readonly RequestSample[],
  fingerprint: string,
  saved: (e: { ms: number; calls: number }) => number,
): SampledEffect | undefined {
  const withIt = samples.filter((r) => r.statements.has(fingerprint));
  if (withIt.length === 0) return undefined;
  const shares = statementShares(samples);
  const mine = shares.find((s) => s.fingerprint === fingerprint)!;
  const savedOf = (r: RequestSample) => {
    const e = r.statements.get(fingerprint);
    return e ? Math.min(e.ms, Math.max(0, saved(e))) : 0;
  };
  const n = samples.length;
  return {
    fingerprint,
    sampledRequests: n,
    requestsWithStatement: withIt.length,
    share: mine.share,
    dominant: shares[0]!.fingerprint === fingerprint,
    statementMsPerRequest: mine.msPerRequest,
    msSavedPerRequest: samples.reduce((s, r) => s + savedOf(r), 0) / n,
    sampleP95Ms: sampleQuantile(
      samples.map((r) => r.durationMs),
      0.95,
    ),
    sampleP95AfterMs: sampleQuantile(
      samples.map((r) => r.durationMs - savedOf(r)),
      0.95,
    ),
    traceIds: [...withIt]
      .sort((a, b) => b.statements.get(fingerprint)!.ms - a.statements.get(fingerprint)!.ms)
      .slice(0, 5)
      .map((r) => r.traceId),
  };
}
