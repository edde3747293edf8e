/**
 * Join (e): an endpoint that got slower, or fails more often, after its service's `service.version`
 * changed — the peer of Sentry's regression issues, judged on sampled requests split by the version that
 * served them.
 *
 * A request is a SERVER (or CONSUMER) span of the endpoint; its version is the `service.version` resource
 * attribute of that span (requests without one are left out). The new version is the version of the most
 * recent request; the old one, of the other versions, the one whose last request is the latest (so a
 * rollback compares the restored version with the one it replaced); the change happened at the first
 * request of the new version that started after the first request of the old one. Before: every request of
 * the old version; after: every request of the new version from the change on (a gradual rollout serves
 * both side by side, and each request counts for the version that served it).
 *
 * The rule ({@link REGRESSION_RULE}), so that noise does not fire it: at least 30 requests on each side,
 * and either
 * - p95: the p95 after is ≥ 1.2 × the p95 before and ≥ 5 ms above it, and the share of requests after the
 *   change slower than the p95 before is above the 5% a same distribution gives, by a one-sided binomial
 *   z-test at z ≥ 1.96 (z = (k/n − 0.05) ÷ √(0.05 × 0.95 ÷ n));
 * - errors: the error rate after is ≥ 2 points above the rate before, and a pooled two-proportion z-test
 *   gives z ≥ 1.96 (z = (p₂ − p₁) ÷ √(p(1 − p)(1/n₁ + 1/n₂)), p the pooled rate).
 *
 * Percentiles interpolate between the two closest ranks (type 7, {@link sampleQuantile}). The spans whose
 * self time grew most are the request's descendants (and the request span itself), by service and span
 * name, mean self time per request after minus before ({@link selfTimeNs} of `apm/`).
 * @module
 */
import { selfTimeNs } from '../apm/index.ts';
import { type Span, SpanKind } from '../model/index.ts';
import { sampleQuantile } from './endpoint-samples.ts';
import { type Draft, draft, endpointSeries, evidence, figure, gain, target, type WindowMs } from './shape.ts';

/** One sampled request with the version that served it. Durations in ms, times in ms since the epoch. */
export interface VersionedRequest {
  traceId: string;
  startMs: number;
  durationMs: number;
  isError: boolean;
  /** `service.version` of the request span's resource. */
  version: string;
  /** Self time per span under the request (the request span included), ms, keyed `service\u0000name`. */
  selfMs: Map<string, number>;
}

/** The thresholds of a regression (see the module's rule). */
export interface RegressionRule {
  /** Requests needed on each side. */
  minRequests: number;
  /** p95 after ÷ p95 before, at least. */
  minP95Ratio: number;
  /** p95 after − p95 before, at least, ms. */
  minP95Ms: number;
  /** Error rate after − error rate before, at least, percentage points. */
  minErrorPoints: number;
  /** z of the one-sided tests, at least. */
  minZ: number;
}

/** The rule siperf applies: 30 requests each side; p95 +20% and +5 ms; errors +2 points; z ≥ 1.96. */
export const REGRESSION_RULE: Readonly<RegressionRule> = {
  minRequests: 30,
  minP95Ratio: 1.2,
  minP95Ms: 5,
  minErrorPoints: 2,
  minZ: 1.96,
};

/** One side of the change: the requests one version served. */
export interface VersionSide {
  version: string;
  requests: number;
  /** Type-7 p95 and mean of the durations, ms. */
  p95Ms: number;
  meanMs: number;
  errors: number;
  /** errors ÷ requests, 0..1. */
  errorRate: number;
}

/** A span whose mean self time per request changed across the versions. */
export interface SpanGrowth {
  service: string;
  name: string;
  /** Mean self time per request (requests without the span count as 0), ms. */
  beforeMsPerRequest: number;
  afterMsPerRequest: number;
  growthMs: number;
}

/** A regression of one endpoint across a version change. */
export interface Regression {
  service: string;
  endpoint: string;
  before: VersionSide;
  after: VersionSide;
  /** Start of the first request of the new version, ms since the epoch. */
  changedAtMs: number;
  /** Which rule fired. */
  p95Regressed: boolean;
  errorsRegressed: boolean;
  /** Requests after the change slower than the p95 before, and the z of that share against 5%. */
  slowerThanBefore: number;
  p95Z: number;
  /** Pooled two-proportion z of the error rates (0 when no request failed on either side). */
  errorZ: number;
  /** Spans whose self time grew (by 1 µs or more), most first (at most 5). */
  spans: SpanGrowth[];
  /** The slowest requests after the change (failed ones first when the errors regressed), at most 5. */
  traceIds: string[];
}

const nsToMs = (ns: bigint | number) => Number(ns) / 1e6;
/** Growth of self time below which a span is not named (1 µs: rounding of the means). */
const MIN_GROWTH_MS = 0.001;
const isEntry = (s: Span) => s.kind === SpanKind.SERVER || s.kind === SpanKind.CONSUMER;

/**
 * The requests of one endpoint in one trace's spans, with their version and the self time of the spans
 * under them.
 * @param spans - every span of a trace (any order).
 * @returns one request per SERVER/CONSUMER span of the endpoint that carries `service.version`.
 */
export function versionedRequests(
  spans: readonly Span[],
  service: string,
  endpoint: string,
): VersionedRequest[] {
  const children = new Map<string, Span[]>();
  for (const s of spans) {
    const list = children.get(s.parentSpanId);
    if (list) list.push(s);
    else children.set(s.parentSpanId, [s]);
  }
  const out: VersionedRequest[] = [];
  for (const r of spans) {
    if (!isEntry(r) || r.service !== service || r.endpoint !== endpoint) continue;
    const version = r.resourceAttributes['service.version'];
    if (version === undefined || version === null || version === '') continue;
    const selfMs = new Map<string, number>();
    // The request and its descendants (bounded: a broken parent chain cannot loop).
    const stack = [r];
    const seen = new Set<string>();
    while (stack.length > 0 && seen.size < 100_000) {
      const s = stack.pop()!;
      if (seen.has(s.spanId)) continue;
      seen.add(s.spanId);
      const kids = children.get(s.spanId) ?? [];
      const key = `${s.service}\u0000${s.name}`;
      selfMs.set(key, (selfMs.get(key) ?? 0) + nsToMs(selfTimeNs(s, kids)));
      stack.push(...kids);
    }
    out.push({
      traceId: r.traceId,
      startMs: nsToMs(r.startTimeUnixNano),
      durationMs: nsToMs(r.durationNano),
      isError: r.isError,
      version: String(version),
      selfMs,
    });
  }
  return out;
}

function side(version: string, requests: readonly VersionedRequest[]): VersionSide {
  const n = requests.length;
  const errors = requests.filter((r) => r.isError).length;
  return {
    version,
    requests: n,
    p95Ms: sampleQuantile(
      requests.map((r) => r.durationMs),
      0.95,
    ),
    meanMs: requests.reduce((s, r) => s + r.durationMs, 0) / Math.max(1, n),
    errors,
    errorRate: n > 0 ? errors / n : 0,
  };
}

/** Pooled two-proportion z of `e2/n2` over `e1/n1`; 0 when the pooled rate is 0 or 1. */
export function twoProportionZ(e1: number, n1: number, e2: number, n2: number): number {
  const p = (e1 + e2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return se > 0 ? (e2 / n2 - e1 / n1) / se : 0;
}

/**
 * Whether an endpoint's requests show a regression across their latest version change.
 * @param requests - the endpoint's sampled requests ({@link versionedRequests}), any order.
 * @returns `undefined` when there is no change, too few requests on a side, or no change the rule accepts.
 */
export function findRegression(
  requests: readonly VersionedRequest[],
  service: string,
  endpoint: string,
  rule: Readonly<RegressionRule> = REGRESSION_RULE,
): Regression | undefined {
  if (requests.length === 0) return undefined;
  const sorted = [...requests].sort((a, b) => a.startMs - b.startMs || a.traceId.localeCompare(b.traceId));
  const newVersion = sorted.at(-1)!.version;
  const last = new Map<string, { lastMs: number; n: number }>();
  for (const r of sorted) {
    if (r.version === newVersion) continue;
    const v = last.get(r.version) ?? { lastMs: 0, n: 0 };
    last.set(r.version, { lastMs: r.startMs, n: v.n + 1 });
  }
  const old = [...last.entries()].sort(
    (a, b) => b[1].lastMs - a[1].lastMs || b[1].n - a[1].n || a[0].localeCompare(b[0]),
  )[0];
  if (!old) return undefined;
  const oldVersion = old[0];
  const beforeReqs = sorted.filter((r) => r.version === oldVersion);
  const firstOld = beforeReqs[0]!.startMs;
  const changedAtMs = sorted.find((r) => r.version === newVersion && r.startMs >= firstOld)?.startMs;
  if (changedAtMs === undefined) return undefined;
  const afterReqs = sorted.filter((r) => r.version === newVersion && r.startMs >= changedAtMs);
  if (beforeReqs.length < rule.minRequests || afterReqs.length < rule.minRequests) return undefined;

  const before = side(oldVersion, beforeReqs);
  const after = side(newVersion, afterReqs);
  const n = after.requests;
  const slowerThanBefore = afterReqs.filter((r) => r.durationMs > before.p95Ms).length;
  const p95Z = (slowerThanBefore / n - 0.05) / Math.sqrt((0.05 * 0.95) / n);
  const p95Regressed =
    after.p95Ms >= rule.minP95Ratio * before.p95Ms &&
    after.p95Ms - before.p95Ms >= rule.minP95Ms &&
    p95Z >= rule.minZ;
  const errorZ = twoProportionZ(before.errors, before.requests, after.errors, after.requests);
  const errorsRegressed =
    100 * (after.errorRate - before.errorRate) >= rule.minErrorPoints && errorZ >= rule.minZ;
  if (!p95Regressed && !errorsRegressed) return undefined;

  const mean = (list: readonly VersionedRequest[], key: string) =>
    list.reduce((s, r) => s + (r.selfMs.get(key) ?? 0), 0) / list.length;
  const keys = new Set([...beforeReqs, ...afterReqs].flatMap((r) => [...r.selfMs.keys()]));
  const spans = [...keys]
    .map((key) => {
      const [svc, name] = key.split('\u0000') as [string, string];
      const b = mean(beforeReqs, key);
      const a = mean(afterReqs, key);
      return { service: svc, name, beforeMsPerRequest: b, afterMsPerRequest: a, growthMs: a - b };
    })
    .filter((s) => s.growthMs >= MIN_GROWTH_MS)
    .sort((x, y) => y.growthMs - x.growthMs || x.name.localeCompare(y.name))
    .slice(0, 5);
  const traceIds = [...afterReqs]
    .sort(
      (a, b) =>
        (errorsRegressed ? Number(b.isError) - Number(a.isError) : 0) ||
        b.durationMs - a.durationMs ||
        a.traceId.localeCompare(b.traceId),
    )
    .slice(0, 5)
    .map((r) => r.traceId);
  return {
    service,
    endpoint,
    before,
    after,
    changedAtMs,
    p95Regressed,
    errorsRegressed,
    slowerThanBefore,
    p95Z,
    errorZ,
    spans,
    traceIds,
  };
}

const r3 = figure;
const pct = (v: number) => `${r3(100 * v)}%`;

/**
 * A regression as a recommendation. Time saved per hour, when the p95 regressed: (mean after − mean
 * before) × the endpoint's requests per hour in the window (what going back to the old version's speed
 * would save); none for an error regression alone.
 * @param requestsPerHour - the endpoint's requests per hour in the window (rollups).
 */
export function regressionRecommendation(r: Regression, w: WindowMs, requestsPerHour: number): Draft {
  const { before: b, after: a } = r;
  const changedAt = new Date(r.changedAtMs).toISOString();
  const meanMs = a.meanMs - b.meanMs;
  const saved = r.p95Regressed && meanMs > 0 ? (meanMs * requestsPerHour) / 1000 : null;
  const lines = [
    `${b.version} → ${a.version} at ${changedAt}: ${b.requests} requests before, ${a.requests} after (rule: ≥ ${REGRESSION_RULE.minRequests} each)`,
    `p95 ${r3(b.p95Ms)} ms → ${r3(a.p95Ms)} ms (${a.p95Ms >= b.p95Ms ? '+' : ''}${r3(a.p95Ms - b.p95Ms)} ms, ×${r3(b.p95Ms > 0 ? a.p95Ms / b.p95Ms : Number.POSITIVE_INFINITY)}); ${r.slowerThanBefore} of ${a.requests} requests after are slower than the p95 before: z = (${r.slowerThanBefore}/${a.requests} − 0.05) ÷ √(0.05 × 0.95 ÷ ${a.requests}) = ${r3(r.p95Z)}`,
    `errors ${b.errors}/${b.requests} (${pct(b.errorRate)}) → ${a.errors}/${a.requests} (${pct(a.errorRate)}): ${r3(100 * (a.errorRate - b.errorRate))} points, two-proportion z = ${r3(r.errorZ)}`,
  ];
  for (const s of r.spans)
    lines.push(
      `${s.name} (${s.service}) self time ${r3(s.beforeMsPerRequest)} → ${r3(s.afterMsPerRequest)} ms per request (+${r3(s.growthMs)} ms)`,
    );
  if (saved !== null)
    lines.push(
      `(${r3(a.meanMs)} − ${r3(b.meanMs)}) ms × ${r3(requestsPerHour)} requests per hour ÷ 1000 = ${r3(saved)} s per hour`,
    );
  const what = [
    r.p95Regressed ? `p95 ${r3(b.p95Ms)} → ${r3(a.p95Ms)} ms` : null,
    r.errorsRegressed ? `errors ${pct(b.errorRate)} → ${pct(a.errorRate)}` : null,
  ]
    .filter((x) => x !== null)
    .join(', ');
  const top = r.spans[0];
  return draft({
    key: `regression:${r.service}:${r.endpoint}:${b.version}→${a.version}`,
    kind: 'regression',
    area: 'endpoint',
    severity:
      (r.errorsRegressed && a.errorRate - b.errorRate >= 0.05) || (r.p95Regressed && a.p95Ms >= 2 * b.p95Ms)
        ? 'critical'
        : 'warning',
    title: `${r.endpoint} (${r.service}) regressed in ${a.version}: ${what}`,
    target: target({ service: r.service, endpoint: r.endpoint }),
    evidence: evidence(w, {
      traceIds: r.traceIds,
      series: [endpointSeries(w, r.service, r.endpoint)],
      measured: {
        versionBefore: b.version,
        versionAfter: a.version,
        changedAt,
        before: { ...b },
        after: { ...a },
        p95ChangeMs: a.p95Ms - b.p95Ms,
        errorRateChangePoints: 100 * (a.errorRate - b.errorRate),
        p95Regressed: r.p95Regressed,
        errorsRegressed: r.errorsRegressed,
        slowerThanBeforeP95: r.slowerThanBefore,
        p95Z: r.p95Z,
        errorZ: r.errorZ,
        spans: r.spans.map((s) => ({ ...s })),
        rule: { ...REGRESSION_RULE },
      },
    }),
    gain: gain({
      timeSavedSecondsPerHour: saved,
      msPerRequest: saved !== null ? meanMs : null,
      arithmetic: lines,
      confidence: 'low',
      confidenceReason: `sampled requests (${b.requests} of ${b.version}, ${a.requests} of ${a.version}); the change may come with other changes of the same time (traffic, data, a dependency)`,
      description: r.p95Regressed
        ? `requests of ${a.version} take ${r3(meanMs)} ms longer on average than those of ${b.version}${top ? `, most of it in ${top.name} (+${r3(top.growthMs)} ms)` : ''}`
        : `requests of ${a.version} fail ${r3(100 * (a.errorRate - b.errorRate))} points more often than those of ${b.version}`,
    }),
    apply: {
      kind: 'investigate',
      how: top
        ? `Compare ${b.version} and ${a.version} of ${r.service} around ${top.name} (${top.service}), whose self time grew most; roll back if it cannot be fixed soon.`
        : `Compare ${b.version} and ${a.version} of ${r.service} on ${r.endpoint} (the failing traces show where); roll back if it cannot be fixed soon.`,
      change: null,
    },
  });
}
