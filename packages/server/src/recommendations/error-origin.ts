/**
 * Join (f): where failing requests start to fail. In a failing trace the failure runs up a chain of failed
 * spans from the first one (a payment call that failed) to the request that answered the error (the
 * checkout); this join finds that first span, groups traces whose first failing span is the same, and
 * says how many failing requests each group explains and which endpoints it made fail.
 *
 * A failing request is a root span (no parent, or a parent absent from the trace) that counts as an error
 * (`Span.isError`, the siperf rule). From it the chain goes down through failed children — of several, the
 * one that started first (the earliest failure, in causal order; equal starts by span id) — until a failed
 * span has no failed child: that is the origin. A failure that a parent absorbed (its parent did not fail)
 * makes no chain of its own.
 *
 * Origins are grouped by service, span name, exception type and message: the `exception.type` and
 * `exception.message` of the origin's first `exception` event (OpenTelemetry's exception semantic
 * conventions), else no type and the span's status message. Messages are grouped with digit runs written
 * `<n>` and hex runs of 8 or more written `<id>` (`timeout after 3000 ms` and `… 3001 ms` are one group);
 * the first message seen is kept as the example. A group needs {@link MIN_ORIGIN_TRACES} failing traces.
 * @module
 */
import { type Span, SpanKind } from '../model/index.ts';
import { type Draft, draft, endpointSeries, evidence, figure, gain, target, type WindowMs } from './shape.ts';

/** Failing traces a group needs to become a recommendation. */
export const MIN_ORIGIN_TRACES = 3;

/** One failing request: the chain of failed spans from its root down to the origin. */
export interface FailureChain {
  traceId: string;
  /** Start of the root, ms since the epoch. */
  startMs: number;
  /** Root first, origin last. */
  chain: Span[];
  exceptionType: string;
  exceptionMessage: string;
}

/** A group of failing requests with the same origin. */
export interface ErrorOrigin {
  service: string;
  /** The origin's span name. */
  spanName: string;
  exceptionType: string;
  /** The message as grouped (digits `<n>`, long hex `<id>`) and one as sent. */
  messagePattern: string;
  exampleMessage: string;
  /** The endpoint of the innermost SERVER/CONSUMER span of the origin's service at or above it, if any. */
  endpoint: string | null;
  /** Distinct failing traces and failing requests (roots) it explains. */
  traces: number;
  requests: number;
  /** The SERVER/CONSUMER spans of the chains it failed, per service and endpoint, most failures first. */
  endpoints: { service: string; endpoint: string; failures: number }[];
  /** One chain as `service: span name` from the root down (the most recent request's). */
  exampleChain: string[];
  /** The most recent failing traces, at most 5. */
  traceIds: string[];
}

const isEntry = (s: Span) => s.kind === SpanKind.SERVER || s.kind === SpanKind.CONSUMER;
const byStart = (a: Span, b: Span) =>
  a.startTimeUnixNano < b.startTimeUnixNano
    ? -1
    : a.startTimeUnixNano > b.startTimeUnixNano
      ? 1
      : a.spanId.localeCompare(b.spanId);

/** A message as grouped: digit runs `<n>`, hex runs of 8 or more (with a digit) `<id>`. */
export function messagePattern(message: string): string {
  return message
    .replace(/\b(?=[0-9a-f-]*\d)[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b/gi, '<id>')
    .replace(/\d+/g, '<n>');
}

/** The `exception.type` and `exception.message` of a span's first exception event, else its status. */
function exceptionOf(s: Span): { type: string; message: string } {
  const e = s.events.find((x) => x.name === 'exception');
  if (e) {
    const type = e.attributes['exception.type'];
    const message = e.attributes['exception.message'];
    return {
      type: type === undefined || type === null ? '' : String(type),
      message: message === undefined || message === null ? s.statusMessage : String(message),
    };
  }
  return { type: '', message: s.statusMessage };
}

/**
 * The failing requests of one trace, each with its chain down to the first failing span.
 * @param spans - every span of a trace (any order).
 */
export function failureChains(spans: readonly Span[]): FailureChain[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const failedChildren = new Map<string, Span[]>();
  for (const s of spans) {
    if (!s.isError || s.parentSpanId === '') continue;
    const list = failedChildren.get(s.parentSpanId);
    if (list) list.push(s);
    else failedChildren.set(s.parentSpanId, [s]);
  }
  const out: FailureChain[] = [];
  const roots = spans.filter((s) => s.isError && (s.parentSpanId === '' || !ids.has(s.parentSpanId)));
  for (const root of [...roots].sort(byStart)) {
    const chain = [root];
    const seen = new Set([root.spanId]);
    for (;;) {
      const next = [...(failedChildren.get(chain.at(-1)!.spanId) ?? [])]
        .filter((c) => !seen.has(c.spanId))
        .sort(byStart)[0];
      if (!next) break;
      seen.add(next.spanId);
      chain.push(next);
    }
    const ex = exceptionOf(chain.at(-1)!);
    out.push({
      traceId: root.traceId,
      startMs: Number(root.startTimeUnixNano) / 1e6,
      chain,
      exceptionType: ex.type,
      exceptionMessage: ex.message,
    });
  }
  return out;
}

/**
 * Failing requests grouped by origin (service, span name, exception type, message pattern), most requests
 * first; groups of fewer than `minTraces` traces are left out.
 * @param chains - the chains of the sampled failing traces ({@link failureChains}).
 */
export function errorOrigins(
  chains: readonly FailureChain[],
  minTraces: number = MIN_ORIGIN_TRACES,
): ErrorOrigin[] {
  const groups = new Map<string, FailureChain[]>();
  for (const c of chains) {
    const o = c.chain.at(-1)!;
    const key = [o.service, o.name, c.exceptionType, messagePattern(c.exceptionMessage)].join('\u0000');
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  }
  const out: ErrorOrigin[] = [];
  for (const list of groups.values()) {
    const traces = new Set(list.map((c) => c.traceId));
    if (traces.size < minTraces) continue;
    const recent = [...list].sort((a, b) => b.startMs - a.startMs || a.traceId.localeCompare(b.traceId));
    const first = [...list].sort((a, b) => a.startMs - b.startMs || a.traceId.localeCompare(b.traceId))[0]!;
    const example = recent[0]!;
    const origin = example.chain.at(-1)!;
    const failures = new Map<string, { service: string; endpoint: string; failures: number }>();
    for (const c of list) {
      for (const s of c.chain) {
        if (!isEntry(s)) continue;
        const k = `${s.service}\u0000${s.endpoint}`;
        const f = failures.get(k) ?? { service: s.service, endpoint: s.endpoint, failures: 0 };
        f.failures += 1;
        failures.set(k, f);
      }
    }
    const entry = [...example.chain].reverse().find((s) => isEntry(s) && s.service === origin.service);
    out.push({
      service: origin.service,
      spanName: origin.name,
      exceptionType: example.exceptionType,
      messagePattern: messagePattern(example.exceptionMessage),
      exampleMessage: first.exceptionMessage,
      endpoint: entry?.endpoint ?? null,
      traces: traces.size,
      requests: list.length,
      endpoints: [...failures.values()].sort(
        (a, b) =>
          b.failures - a.failures ||
          a.service.localeCompare(b.service) ||
          a.endpoint.localeCompare(b.endpoint),
      ),
      exampleChain: example.chain.map((s) => `${s.service}: ${s.name}`),
      traceIds: [...new Set(recent.map((c) => c.traceId))].slice(0, 5),
    });
  }
  return out.sort(
    (a, b) =>
      b.requests - a.requests ||
      a.service.localeCompare(b.service) ||
      a.spanName.localeCompare(b.spanName) ||
      a.messagePattern.localeCompare(b.messagePattern),
  );
}

const r3 = figure;

/**
 * An error origin as a recommendation: the failing requests per hour it explains over the hours the
 * sample covers.
 * @param sampledHours - the hours the failing traces were sampled over: the window, or, when the sample
 *   was cut at its limit, from the oldest sampled trace to the window's end.
 * @param limited - whether the sample was cut at its limit (the rate is then over the sampled part only).
 */
export function errorOriginRecommendation(
  o: ErrorOrigin,
  w: WindowMs,
  sampledHours: number,
  limited: boolean,
): Draft {
  const perHour = o.requests / sampledHours;
  const what = `${o.spanName} (${o.service})${o.exceptionType ? ` ${o.exceptionType}` : ''}`;
  const failed = o.endpoints.map((e) => `${e.endpoint} (${e.service}) ${e.failures}`).join(', ');
  return draft({
    key: `error-origin:${o.service}:${o.spanName}:${o.exceptionType}:${o.messagePattern}`,
    kind: 'error-origin',
    area: 'endpoint',
    severity: 'warning',
    title: `${what} fails first in ${o.requests} failing requests (${r3(perHour)} per hour)${o.exampleMessage ? `: ${o.exampleMessage.slice(0, 120)}` : ''}`,
    target: target({ service: o.service, endpoint: o.endpoint }),
    evidence: evidence(w, {
      traceIds: o.traceIds,
      series:
        o.endpoints[0] !== undefined
          ? [endpointSeries(w, o.endpoints[0].service, o.endpoints[0].endpoint)]
          : [],
      measured: {
        spanName: o.spanName,
        exceptionType: o.exceptionType,
        messagePattern: o.messagePattern,
        exampleMessage: o.exampleMessage,
        failingTraces: o.traces,
        failingRequests: o.requests,
        failingRequestsPerHour: perHour,
        sampledHours,
        sampleLimited: limited,
        endpoints: o.endpoints.map((e) => ({ ...e })),
        exampleChain: o.exampleChain,
      },
    }),
    gain: gain({
      arithmetic: [
        `${o.requests} failing requests in ${o.traces} traces start with ${what}${limited ? ' (sample cut at its limit: over the sampled part of the window)' : ''}`,
        `${o.requests} ÷ ${r3(sampledHours)} h = ${r3(perHour)} failing requests per hour`,
        `endpoints it made fail: ${failed}`,
        `chain: ${o.exampleChain.join(' → ')}`,
      ],
      confidence: limited ? 'low' : 'medium',
      confidenceReason: limited
        ? 'the most recent failing traces only (the sample was cut at its limit)'
        : 'every failing trace of the window; a chain that skips an uninstrumented hop ends above the true origin',
      description: `fixing ${what} would keep ${r3(perHour)} requests per hour from failing`,
    }),
    apply: {
      kind: 'investigate',
      how: `Investigate ${o.spanName} in ${o.service}${o.endpoint ? ` (under ${o.endpoint})` : ''}: it is the first span to fail in these traces${o.exceptionType ? ` (${o.exceptionType})` : ''}, and its failure propagates up to ${o.endpoints.map((e) => `${e.endpoint} (${e.service})`).join(', ')}.`,
      change: null,
    },
  });
}
