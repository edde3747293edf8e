/**
 * APM read endpoints under `/api/v1/apm/` (contract in DESIGN.md): RED metrics per endpoint, database
 * query metrics, recent traces, one trace as a span tree, services, custom metric series.
 * Every list endpoint takes `service` and a window (`from`/`to` or `window`). Durations in ms.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  buildTraceTree,
  databaseMetrics,
  endpointMetrics,
  endpointSeries,
  queryFindings,
  rankTraceSpans,
} from '../apm/index.ts';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import type { SPAN_KIND_NAMES } from '../model/index.ts';
import type { Store } from '../storage/index.ts';
import { nsToIso } from '../util/time.ts';
import { requireKey } from './auth.ts';
import { parseWindow } from './query-params.ts';
import { type EndpointSeriesQuery, apmRouteSchemas as S, type TraceQuery } from './schemas/apm.ts';

/** What the APM routes need. */
export interface ApmDeps {
  config: Config;
  store: Store;
  nowMs?: () => number;
}

type WindowParams = { service?: string; from?: string; to?: string; window?: string };
type Q<T = Record<string, never>> = FastifyRequest<{ Querystring: WindowParams & T }>;

/** Registers the APM routes. */
export async function apmRoutes(app: FastifyInstance, deps: ApmDeps): Promise<void> {
  const { config, store } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));

  app.get(
    '/api/v1/apm/metrics/api',
    { schema: S.endpointMetrics },
    async (request: Q<{ kind?: (typeof SPAN_KIND_NAMES)[number] }>) => {
      const w = parseWindow(request.query, now());
      const endpoints = await endpointMetrics(store, {
        window: w,
        service: request.query.service,
        kind: request.query.kind,
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
    '/api/v1/apm/metrics/series',
    { schema: S.endpointSeries },
    async (request: Q<Omit<EndpointSeriesQuery, keyof WindowParams>>) => {
      const w = parseWindow(request.query, now());
      const { stepNs, groups } = await endpointSeries(store, {
        window: w,
        service: request.query.service,
        endpoint: request.query.endpoint,
        kind: request.query.kind,
        groupBy: request.query.groupBy ?? 'service',
        maxPoints: request.query.maxPoints ?? 60,
        apdexThresholdMs: config.apdexThresholdMs,
      });
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        stepMs: Number(stepNs) / 1e6,
        apdexThresholdMs: config.apdexThresholdMs,
        groups,
      };
    },
  );

  app.get('/api/v1/apm/metrics/database', { schema: S.databaseMetrics }, async (request: Q) => {
    const w = parseWindow(request.query, now());
    const queries = await databaseMetrics(store, {
      window: w,
      service: request.query.service,
      slowQueryThresholdMs: config.slowQueryThresholdMs,
    });
    return {
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      slowQueryThresholdMs: config.slowQueryThresholdMs,
      queries,
    };
  });

  app.get(
    '/api/v1/apm/bottlenecks',
    { schema: S.bottlenecks },
    async (request: Q<{ minRepeats?: number }>) => {
      const w = parseWindow(request.query, now());
      const result = await queryFindings(store, {
        window: w,
        service: request.query.service,
        minRepeats: request.query.minRepeats ?? 5,
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
    { schema: S.recentTraces },
    async (request: Q<{ endpoint?: string; minDurationMs?: number; error?: boolean; limit?: number }>) => {
      const w = parseWindow(request.query, now());
      const minMs = request.query.minDurationMs;
      const traces = await store.recentTraces({
        window: w,
        service: request.query.service,
        endpoint: request.query.endpoint,
        minDurationNs: minMs === undefined ? undefined : BigInt(Math.round(minMs * 1e6)),
        error: request.query.error,
        limit: request.query.limit ?? 100,
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
    { schema: S.trace },
    async (request: FastifyRequest<{ Params: { traceId: string }; Querystring: TraceQuery }>) => {
      // 16 hex characters (checked by the schema): a 64-bit Zipkin/B3 trace id, stored left-padded to 128 bits.
      const raw = request.params.traceId;
      const id = raw.padStart(32, '0');
      const spans = await store.traceSpans(id.toLowerCase());
      if (spans.length === 0)
        throw new SiperfError('ERR_QUERY_NOT_FOUND', `no trace ${id.toLowerCase()} in the store`);
      // The percentile window: `window`/`from`/`to` as every list route reads them, except that "now" is
      // the trace's end (rounded up to the ms), so by default the hour ending when the trace ended.
      let endNs = spans[0]!.endTimeUnixNano;
      for (const s of spans) if (s.endTimeUnixNano > endNs) endNs = s.endTimeUnixNano;
      const w = parseWindow(request.query, Number((endNs + 999_999n) / 1_000_000n));
      return rankTraceSpans(store, buildTraceTree(id.toLowerCase(), spans), w);
    },
  );

  app.get('/api/v1/apm/services', { schema: S.services }, async (request: Q) => {
    const w = parseWindow(request.query, now());
    const services = await store.services(w, request.query.service);
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
    { schema: S.customMetrics },
    async (request: Q<{ name?: string; limit?: number }>) => {
      const w = parseWindow(request.query, now());
      const name = request.query.name;
      if (name === undefined)
        return {
          from: new Date(w.fromMs).toISOString(),
          to: new Date(w.toMs).toISOString(),
          metrics: await store.metricNames(w),
        };
      const points = await store.metricPoints({
        name,
        window: w,
        service: request.query.service,
        limit: request.query.limit ?? 10_000,
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
