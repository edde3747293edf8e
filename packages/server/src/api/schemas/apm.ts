/**
 * Schemas of the APM read routes under `/api/v1/apm/`: RED metrics per endpoint, database metrics,
 * bottlenecks, traces, services and custom metrics. Durations in ms (float).
 * @module
 */
import { type Static, Type } from 'typebox';
import {
  Closed,
  Ms,
  Nullable,
  OpenObject,
  problems,
  StringEnum,
  WindowAnswer,
  WindowQuery,
} from './common.ts';

/** Span kinds as the API names them. */
export const SPAN_KINDS = ['internal', 'server', 'client', 'producer', 'consumer', 'unspecified'] as const;

export const EndpointMetricsQuery = Closed({
  ...WindowQuery,
  kind: Type.Optional(StringEnum(SPAN_KINDS, { description: 'only spans of this kind' })),
});

export const EndpointMetrics = Closed({
  service: Type.String(),
  endpoint: Type.String({ description: 'METHOD route of a SERVER span, else the span name' }),
  kind: Type.String(),
  requests: Type.Integer(),
  throughputRps: Type.Number({ description: 'requests per second over the window' }),
  errors: Type.Integer(),
  errorRate: Type.Number({ description: 'errors / requests, 0..1' }),
  meanMs: Ms(),
  p50Ms: Ms(),
  p90Ms: Ms(),
  p95Ms: Ms(),
  p99Ms: Ms(),
  minMs: Ms(),
  maxMs: Ms(),
  apdex: Type.Number({ description: 'Apdex score 0..1 at T = apdexThresholdMs' }),
});
export type EndpointMetrics = Static<typeof EndpointMetrics>;

export const EndpointMetricsAnswer = Closed({
  ...WindowAnswer,
  apdexThresholdMs: Ms('Apdex T'),
  endpoints: Type.Array(EndpointMetrics),
});
export type EndpointMetricsAnswer = Static<typeof EndpointMetricsAnswer>;

export const QueryMetrics = Closed({
  service: Type.String(),
  system: Type.String({ description: 'db.system, e.g. postgresql' }),
  database: Type.String(),
  fingerprint: Type.String(),
  statement: Type.String({ description: 'normalised statement (literals replaced)' }),
  calls: Type.Integer(),
  totalMs: Ms(),
  meanMs: Ms(),
  p50Ms: Ms(),
  p95Ms: Ms(),
  p99Ms: Ms(),
  minMs: Ms(),
  maxMs: Ms(),
  slowCalls: Type.Integer({ description: 'calls slower than slowQueryThresholdMs' }),
  endpoints: Type.Array(Type.String(), { description: 'endpoints whose requests issued the query' }),
});
export type QueryMetrics = Static<typeof QueryMetrics>;

export const DatabaseMetricsAnswer = Closed({
  ...WindowAnswer,
  slowQueryThresholdMs: Ms(),
  queries: Type.Array(QueryMetrics),
});
export type DatabaseMetricsAnswer = Static<typeof DatabaseMetricsAnswer>;

export const BottlenecksQuery = Closed({
  ...WindowQuery,
  minRepeats: Type.Optional(
    Type.Integer({
      minimum: 2,
      maximum: 1000,
      default: 5,
      description: 'calls under one parent that make an N+1',
    }),
  ),
});

export const QueryFinding = Closed({
  type: StringEnum(['n_plus_one', 'slow_query', 'sequential_queries'] as const),
  endpointService: Type.String(),
  endpoint: Type.String(),
  service: Type.String(),
  statement: Type.String(),
  system: Type.String(),
  fingerprint: Type.String(),
  traces: Type.Integer(),
  callsPerRequest: Type.Number(),
  timePerRequestMs: Ms(),
  totalTimeMs: Ms(),
  savingPerRequestMs: Ms('time a fix would save per affected request'),
  exampleTraceId: Nullable(Type.String()),
  fix: Type.String(),
  evidence: OpenObject,
});
export type QueryFinding = Static<typeof QueryFinding>;

export const ParallelFanOut = Closed({
  endpoint: Type.String(),
  service: Type.String(),
  operation: Type.String(),
  parentSpanId: Type.String(),
  count: Type.Integer(),
  overlappingPairs: Type.Integer(),
  wallMs: Ms(),
  sumMs: Ms(),
  traceId: Type.String(),
});

export const BottlenecksAnswer = Closed({
  ...WindowAnswer,
  slowQueryThresholdMs: Ms(),
  tracesExamined: Type.Integer(),
  limitReached: Type.Boolean(),
  findings: Type.Array(QueryFinding),
  parallelFanOuts: Type.Array(ParallelFanOut, {
    description: 'repeated calls that overlap in time (not N+1), for reference',
  }),
});
export type BottlenecksAnswer = Static<typeof BottlenecksAnswer>;

export const RecentTracesQuery = Closed({
  ...WindowQuery,
  endpoint: Type.Optional(Type.String({ maxLength: 1024 })),
  minDurationMs: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000 })),
  error: Type.Optional(Type.Boolean({ description: 'only traces with (true) or without (false) errors' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

export const TraceSummary = Closed({
  traceId: Type.String(),
  service: Type.String(),
  endpoint: Type.String(),
  startTime: Type.String(),
  durationMs: Ms(),
  spanCount: Type.Integer(),
  errorCount: Type.Integer(),
  services: Type.Array(Type.String()),
});

export const RecentTracesAnswer = Closed({ ...WindowAnswer, traces: Type.Array(TraceSummary) });
export type RecentTracesAnswer = Static<typeof RecentTracesAnswer>;

export const TraceParams = Closed({
  traceId: Type.String({
    pattern: '^([0-9a-fA-F]{16}|[0-9a-fA-F]{32})$',
    description: '32 (or 16) hex characters',
  }),
});

const DbCall = Closed({
  system: Type.String(),
  database: Type.String(),
  statement: Type.String(),
  fingerprint: Type.String(),
});

const SpanEvent = Closed({ timeUnixNano: Type.String(), name: Type.String(), attributes: OpenObject });
const SpanLink = Closed({ traceId: Type.String(), spanId: Type.String(), attributes: OpenObject });

/** One span of a trace tree, as {@link SpanNode} describes it. */
export interface SpanNodeShape {
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  endpoint: string;
  kind: string;
  startTime: string;
  offsetMs: number;
  durationMs: number;
  selfTimeMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage: string;
  httpStatusCode: number;
  isError: boolean;
  onCriticalPath: boolean;
  orphan: boolean;
  clockFlagged: boolean;
  /** 0..100: share of its operation's spans in the window that took at most as long; null: no rollup. */
  percentile: number | null;
  db?: Static<typeof DbCall> | null | undefined;
  attributes: Record<string, unknown>;
  events: Static<typeof SpanEvent>[];
  links: Static<typeof SpanLink>[];
  resource: Record<string, unknown>;
  scope: string;
  children: SpanNodeShape[];
}

/** One span of a trace tree (shared schema `SpanNode`); `children` nest to any depth. */
export const SpanNode = Type.Unsafe<SpanNodeShape>(
  Closed(
    {
      spanId: Type.String(),
      parentSpanId: Type.String(),
      service: Type.String(),
      name: Type.String(),
      endpoint: Type.String(),
      kind: Type.String(),
      startTime: Type.String(),
      offsetMs: Ms('start relative to the trace start'),
      durationMs: Ms(),
      selfTimeMs: Ms('duration not covered by children'),
      status: StringEnum(['unset', 'ok', 'error'] as const),
      statusMessage: Type.String(),
      httpStatusCode: Type.Integer(),
      isError: Type.Boolean(),
      onCriticalPath: Type.Boolean(),
      orphan: Type.Boolean({ description: 'the parent id names a span not in the trace' }),
      clockFlagged: Type.Boolean(),
      percentile: Nullable(
        Type.Number({
          minimum: 0,
          maximum: 100,
          description:
            "0..100: the share of its operation's spans in the percentile window (`window`/`from`/`to`) that " +
            'took at most as long as this span, from the DDSketch rollups (within their 1%): a database call ' +
            'among the calls of its statement (service, system, database, fingerprint), any other span among ' +
            'the spans of its (service, endpoint, kind). null: the operation has no rollup in the window (as for ' +
            'internal spans below a root: only server, client, producer, consumer and root spans are rolled up)',
        }),
      ),
      db: Type.Optional(Nullable(DbCall)),
      attributes: OpenObject,
      events: Type.Array(SpanEvent),
      links: Type.Array(SpanLink),
      resource: OpenObject,
      scope: Type.String(),
      children: Type.Array(Type.Ref('SpanNode')),
    },
    { description: 'one span of a trace tree' },
  ),
);
Object.assign(SpanNode, { $id: 'SpanNode' });

/** Query of `GET /api/v1/apm/traces/{traceId}`: the window each span's percentile is computed over. */
export const TraceQuery = Closed({
  from: Type.Optional(
    Type.String({ maxLength: 64, description: 'percentile window start: ISO-8601 or epoch ms' }),
  ),
  to: Type.Optional(
    Type.String({
      maxLength: 64,
      description: "percentile window end: ISO-8601 or epoch ms (default: the trace's end)",
    }),
  ),
  window: Type.Optional(
    Type.String({
      maxLength: 32,
      description:
        "length of the percentile window, ending at `to` (default: the trace's end) or starting at `from`: " +
        "15m, 1h, 24h, 7d (default 1h, so by default: the hour ending at the trace's end)",
    }),
  ),
});
export type TraceQuery = Static<typeof TraceQuery>;

export const TraceTree = Closed({
  traceId: Type.String(),
  startTime: Type.String(),
  durationMs: Ms(),
  spanCount: Type.Integer(),
  errorCount: Type.Integer(),
  services: Type.Array(Type.String()),
  roots: Type.Array(Type.Unsafe<SpanNodeShape>(Type.Ref('SpanNode'))),
  criticalPath: Type.Array(Type.String(), { description: 'span ids on the critical path, by start' }),
  clockSkew: Type.Array(
    Closed({
      spanId: Type.String(),
      parentSpanId: Type.String(),
      service: Type.String(),
      parentService: Type.String(),
      startsBeforeMs: Ms(),
      endsAfterMs: Ms(),
    }),
  ),
});
export type TraceTree = Static<typeof TraceTree>;

export const ServicesAnswer = Closed({
  ...WindowAnswer,
  services: Type.Array(
    Closed({
      service: Type.String(),
      requests: Type.Integer(),
      errors: Type.Integer(),
      errorRate: Type.Number(),
      endpoints: Type.Integer(),
      firstSeen: Type.String(),
      lastSeen: Type.String(),
    }),
  ),
});
export type ServicesAnswer = Static<typeof ServicesAnswer>;

export const CustomMetricsQuery = Closed({
  ...WindowQuery,
  name: Type.Optional(Type.String({ maxLength: 1024, description: 'metric name; without it, the names' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 })),
});

const MetricPointAnswer = Type.Object(
  {
    timestamp: Type.String(),
    timeUnixNano: Type.String(),
    value: Nullable(Type.Number()),
    count: Type.Optional(Type.Number()),
    sum: Type.Optional(Type.Number()),
    min: Type.Optional(Nullable(Type.Number())),
    max: Type.Optional(Nullable(Type.Number())),
    buckets: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const MetricNamesAnswer = Closed({
  ...WindowAnswer,
  metrics: Type.Array(
    Closed({ name: Type.String(), unit: Type.String(), type: Type.String(), points: Type.Integer() }),
  ),
});

export const MetricSeriesAnswer = Closed({
  name: Type.String(),
  unit: Type.String(),
  type: Nullable(Type.String()),
  monotonic: Type.Boolean(),
  ...WindowAnswer,
  series: Type.Array(
    Closed({ service: Type.String(), attributes: OpenObject, points: Type.Array(MetricPointAnswer) }),
  ),
});

export const CustomMetricsAnswer = Type.Union([MetricNamesAnswer, MetricSeriesAnswer]);
export type CustomMetricsAnswer = Static<typeof CustomMetricsAnswer>;

export const EndpointSeriesQuery = Closed({
  ...WindowQuery,
  endpoint: Type.Optional(Type.String({ maxLength: 1024, description: 'one endpoint (with service)' })),
  kind: Type.Optional(StringEnum(SPAN_KINDS, { description: 'span kind counted (default server)' })),
  groupBy: Type.Optional(
    StringEnum(['service', 'endpoint'] as const, { default: 'service', description: 'one series per …' }),
  ),
  maxPoints: Type.Optional(
    Type.Integer({
      minimum: 10,
      maximum: 1440,
      default: 60,
      description:
        'most steps; the step is the smallest of 1, 2, 5, 10, 20, 30 min, 1, 2, 3, 6, 12 h, 1, 2, 7 d that fits',
    }),
  ),
});
export type EndpointSeriesQuery = Static<typeof EndpointSeriesQuery>;

export const SeriesPoint = Closed({
  time: Type.String({ description: 'start of the step, ISO-8601' }),
  requests: Type.Integer(),
  errors: Type.Integer(),
  throughputRps: Type.Number(),
  errorRate: Nullable(Type.Number({ description: 'null: no request in the step' })),
  p50Ms: Nullable(Ms()),
  p95Ms: Nullable(Ms()),
  p99Ms: Nullable(Ms()),
});

export const SeriesGroup = Closed({
  service: Type.String(),
  endpoint: Nullable(Type.String({ description: 'null when grouped by service' })),
  requests: Type.Integer({ description: 'over the window (equal to metrics/api summed)' }),
  throughputRps: Type.Number(),
  errors: Type.Integer(),
  errorRate: Type.Number(),
  p50Ms: Ms(),
  p95Ms: Ms(),
  p99Ms: Ms(),
  apdex: Type.Number(),
  points: Type.Array(SeriesPoint, {
    description: 'one per step, oldest first; steps are aligned on multiples of the step',
  }),
});
export type SeriesGroup = Static<typeof SeriesGroup>;

export const EndpointSeriesAnswer = Closed({
  ...WindowAnswer,
  stepMs: Ms('the step'),
  apdexThresholdMs: Ms(),
  groups: Type.Array(SeriesGroup, { description: 'busiest first' }),
});
export type EndpointSeriesAnswer = Static<typeof EndpointSeriesAnswer>;

/** Route schemas of the APM read routes. */
export const apmRouteSchemas = {
  endpointMetrics: {
    summary: 'RED metrics per endpoint',
    tags: ['apm'],
    querystring: EndpointMetricsQuery,
    response: { 200: EndpointMetricsAnswer, ...problems() },
  },
  endpointSeries: {
    summary:
      'RED metrics over time: per service (or endpoint) the totals and per step requests, errors, p50/p95/p99',
    tags: ['apm'],
    querystring: EndpointSeriesQuery,
    response: { 200: EndpointSeriesAnswer, ...problems() },
  },
  databaseMetrics: {
    summary: 'Database query metrics per fingerprint',
    tags: ['apm'],
    querystring: Closed(WindowQuery),
    response: { 200: DatabaseMetricsAnswer, ...problems() },
  },
  bottlenecks: {
    summary: 'N+1 calls, slow queries and sequential queries, with the endpoint, the cost and the fix',
    tags: ['apm'],
    querystring: BottlenecksQuery,
    response: { 200: BottlenecksAnswer, ...problems() },
  },
  recentTraces: {
    summary: 'Recent traces, newest first',
    tags: ['apm'],
    querystring: RecentTracesQuery,
    response: { 200: RecentTracesAnswer, ...problems() },
  },
  trace: {
    summary:
      "One trace as a span tree with self times, the critical path and each span's percentile against its operation",
    tags: ['apm'],
    params: TraceParams,
    querystring: TraceQuery,
    response: { 200: TraceTree, ...problems(404) },
  },
  services: {
    summary: 'Services seen in the window',
    tags: ['apm'],
    querystring: Closed(WindowQuery),
    response: { 200: ServicesAnswer, ...problems() },
  },
  customMetrics: {
    summary:
      'A custom metric (OTLP metrics) as series, one per attribute set; without name, the metric names',
    tags: ['apm'],
    querystring: CustomMetricsQuery,
    response: { 200: CustomMetricsAnswer, ...problems() },
  },
} as const;
