/**
 * APM read endpoints under `/api/v1/apm/` (contract in DESIGN.md): RED metrics per endpoint, database
 * query metrics, recent traces, one trace as a span tree, services, custom metric series.
 * Every list endpoint takes `service` and a window (`from`/`to` or `window`). Durations in ms.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { buildTraceTree, databaseMetrics, endpointMetrics, queryFindings } from '../apm/index.ts';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import { SPAN_KIND_NAMES } from '../model/index.ts';
import type { Store } from '../storage/index.ts';
import { nsToIso } from '../util/time.ts';
import { requireKey } from './auth.ts';
import {
  optionalBoolean,
  optionalEnum,
  optionalNumber,
  optionalString,
  parseWindow,
} from './query-params.ts';

/** What the APM routes need. */
export interface ApmDeps {
  config: Config;
  store: Store;
  nowMs?: () => number;
}

type Q = FastifyRequest<{ Querystring: Record<string, unknown> }>;

const windowParams = {
  service: { type: 'string', description: 'service.name to filter on' },
  from: { type: 'string', description: 'window start: ISO-8601 or epoch ms' },
  to: { type: 'string', description: 'window end: ISO-8601 or epoch ms (default now)' },
  window: { type: 'string', description: 'window length ending at `to`: 15m, 1h, 24h, 7d (default 1h)' },
} as const;

const schema = (summary: string, extra: Record<string, unknown> = {}) => ({
  schema: {
    summary,
    tags: ['apm'],
    querystring: { type: 'object', properties: { ...windowParams, ...extra } },
  },
});

/** Registers the APM routes. */
export async function apmRoutes(app: FastifyInstance, deps: ApmDeps): Promise<void> {
  const { config, store } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));

  app.get(
    '/api/v1/apm/metrics/api',
    schema('RED metrics per endpoint', {
      kind: { type: 'string', description: 'span kind: server, client, producer, consumer, internal' },
    }),
    async (request: Q) => {
      const w = parseWindow(request.query, now());
      const endpoints = await endpointMetrics(store, {
        window: w,
        service: optionalString(request.query, 'service'),
        kind: optionalEnum(request.query, 'kind', SPAN_KIND_NAMES),
        apdexThresholdMs: config.apdexThresholdMs,
      });
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        apdexThresholdMs: config.apdexThresholdMs,
        endpoints,
      };
    },
  );

  app.get(
    '/api/v1/apm/metrics/database',
    schema('Database query metrics per fingerprint'),
    async (request: Q) => {
      const w = parseWindow(request.query, now());
      const queries = await databaseMetrics(store, {
        window: w,
        service: optionalString(request.query, 'service'),
        slowQueryThresholdMs: config.slowQueryThresholdMs,
      });
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        slowQueryThresholdMs: config.slowQueryThresholdMs,
        queries,
      };
    },
  );

  app.get(
    '/api/v1/apm/bottlenecks',
    schema('N+1 calls, slow queries and sequential queries, with the endpoint, the cost and the fix', {
      minRepeats: { type: 'string' },
    }),
    async (request: Q) => {
      const w = parseWindow(request.query, now());
      const result = await queryFindings(store, {
        window: w,
        service: optionalString(request.query, 'service'),
        minRepeats: optionalNumber(request.query, 'minRepeats', 2, 1000, true) ?? 5,
        slowQueryThresholdMs: config.slowQueryThresholdMs,
      });
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        slowQueryThresholdMs: config.slowQueryThresholdMs,
        ...result,
      };
    },
  );

  app.get(
    '/api/v1/apm/traces/recent',
    schema('Recent traces, newest first', {
      endpoint: { type: 'string' },
      minDurationMs: { type: 'string' },
      error: { type: 'string' },
      limit: { type: 'string' },
    }),
    async (request: Q) => {
      const w = parseWindow(request.query, now());
      const minMs = optionalNumber(request.query, 'minDurationMs', 0, 86_400_000);
      const traces = await store.recentTraces({
        window: w,
        service: optionalString(request.query, 'service'),
        endpoint: optionalString(request.query, 'endpoint'),
        minDurationNs: minMs === undefined ? undefined : BigInt(Math.round(minMs * 1e6)),
        error: optionalBoolean(request.query, 'error'),
        limit: optionalNumber(request.query, 'limit', 1, 1000, true) ?? 100,
      });
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        traces: traces.map((t) => ({
          traceId: t.traceId,
          service: t.service,
          endpoint: t.endpoint,
          startTime: nsToIso(t.startNs),
          durationMs: Number(t.durationNs) / 1e6,
          spanCount: t.spanCount,
          errorCount: t.errorCount,
          services: t.services,
        })),
      };
    },
  );

  app.get(
    '/api/v1/apm/traces/:traceId',
    { schema: { summary: 'One trace as a span tree with self times and the critical path', tags: ['apm'] } },
    async (request: FastifyRequest<{ Params: { traceId: string } }>) => {
      // 16 hex characters: a 64-bit Zipkin/B3 trace id, stored left-padded to 128 bits.
      const raw = request.params.traceId;
      if (!/^([0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/.test(raw)) {
        throw new SiperfError(
          'ERR_QUERY_PARAM',
          `traceId: expected 32 (or 16) hex characters, got "${raw.slice(0, 64)}"`,
          {
            field: 'traceId',
          },
        );
      }
      const id = raw.padStart(32, '0');
      const spans = await store.traceSpans(id.toLowerCase());
      if (spans.length === 0)
        throw new SiperfError('ERR_QUERY_NOT_FOUND', `no trace ${id.toLowerCase()} in the store`);
      return buildTraceTree(id.toLowerCase(), spans);
    },
  );

  app.get('/api/v1/apm/services', schema('Services seen in the window'), async (request: Q) => {
    const w = parseWindow(request.query, now());
    const services = await store.services(w, optionalString(request.query, 'service'));
    return {
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      services: services
        .sort((a, b) => a.service.localeCompare(b.service))
        .map((s) => ({
          service: s.service,
          requests: s.requests,
          errors: s.errors,
          errorRate: s.requests > 0 ? s.errors / s.requests : 0,
          endpoints: s.endpoints,
          firstSeen: nsToIso(s.firstSeenNs),
          // Rollups are per minute: a service seen in a minute was last seen at most at that minute's end.
          lastSeen: nsToIso(s.lastSeenNs < w.toNs ? s.lastSeenNs : w.toNs),
        })),
    };
  });

  app.get(
    '/api/v1/apm/metrics/custom',
    schema(
      'A custom metric (OTLP metrics) as series, one per attribute set; without name, the metric names',
      {
        name: { type: 'string' },
        limit: { type: 'string' },
      },
    ),
    async (request: Q) => {
      const w = parseWindow(request.query, now());
      const name = optionalString(request.query, 'name');
      if (name === undefined)
        return {
          from: new Date(w.fromMs).toISOString(),
          to: new Date(w.toMs).toISOString(),
          metrics: await store.metricNames(w),
        };
      const points = await store.metricPoints({
        name,
        window: w,
        service: optionalString(request.query, 'service'),
        limit: optionalNumber(request.query, 'limit', 1, 100_000, true) ?? 10_000,
      });
      const series = new Map<
        string,
        { service: string; attributes: Record<string, unknown>; points: unknown[] }
      >();
      for (const p of points) {
        const key = `${p.service}\u0000${JSON.stringify(p.attributes)}`;
        let s = series.get(key);
        if (!s) {
          s = { service: p.service, attributes: p.attributes, points: [] };
          series.set(key, s);
        }
        s.points.push({
          timestamp: nsToIso(p.timeUnixNano),
          timeUnixNano: String(p.timeUnixNano),
          value: Number.isFinite(p.value) ? p.value : null,
          ...(p.type === 'histogram' || p.type === 'exponential_histogram' || p.type === 'summary'
            ? { count: p.count, sum: p.sum, min: p.min ?? null, max: p.max ?? null, buckets: p.buckets }
            : {}),
        });
      }
      const first = points[0];
      return {
        name,
        unit: first?.unit ?? '',
        type: first?.type ?? null,
        monotonic: first?.monotonic ?? false,
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        series: [...series.values()],
      };
    },
  );
}
