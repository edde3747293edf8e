/**
 * Resource routes under `/api/v1/resources/`: `hosts`, `current`, `statistics`, `bottlenecks`,
 * `scaling-recommendations`, `cost-optimization`, `capacity`, `predictions/{resourceType}` and the CSV
 * `import` (schemas in `schemas/resources.ts`, which validate every parameter before a handler runs).
 * `host` chooses the machine; without it the host that reported most recently is used. Ratios 0..1,
 * bytes, bytes per second.
 * @module
 */
import { hostname } from 'node:os';
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import { parseMetricsCsv } from '../ingest/index.ts';
import { type MetricPoint, scalarPoint } from '../model/index.ts';
import {
  costReport,
  currentResources,
  findBottlenecks,
  HORIZONS,
  predictResource,
  RESOURCE_TYPES,
  resourceSeries,
  scalingRecommendations,
  seriesStatistics,
} from '../resources/index.ts';
import type { Store } from '../storage/index.ts';
import { requireKey } from './auth.ts';
import { parseWindow } from './query-params.ts';
import { resourceRouteSchemas as S } from './schemas/resources.ts';

/** What the resource routes need. */
export interface ResourceDeps {
  config: Config;
  store: Store;
  nowMs?: () => number;
}

/** The window parameters of a request (validated by the route schema). */
type WindowParams = { from?: string; to?: string; window?: string };
type Q<T = Record<string, never>> = FastifyRequest<{ Querystring: { host?: string } & WindowParams & T }>;

const HOUR_NS = 3_600_000_000_000n;
const THIS_HOST = hostname();

/**
 * The host a request is about: `host` when given, else the one that reported most recently (last 24 h).
 * @throws SiperfError `ERR_QUERY_NOT_FOUND` when no host reported.
 */
export async function hostOf(
  store: Store,
  query: { host?: string | undefined },
  nowMs: number,
): Promise<string> {
  if (query.host !== undefined) return query.host;
  const now = BigInt(nowMs) * 1_000_000n;
  const hosts = await store.metricHosts({ fromNs: now - 24n * HOUR_NS, toNs: now + 60_000_000_000n });
  if (hosts.length === 0) {
    throw new SiperfError(
      'ERR_QUERY_NOT_FOUND',
      'no host has reported resource metrics in the last 24 h (is resourceSampleIntervalMs 0?)',
    );
  }
  // This machine when it reports; otherwise the host that reported last.
  return hosts.find((h) => h.host === THIS_HOST)?.host ?? hosts[0]!.host;
}

/** Registers the resource routes. */
export async function resourceRoutes(app: FastifyInstance, deps: ResourceDeps): Promise<void> {
  const { config, store } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));
  const iso = (ms: number) => new Date(ms).toISOString();

  app.get('/api/v1/resources/hosts', { schema: S.hosts }, async (request: Q) => {
    const w = parseWindow(request.query, now());
    const hosts = await store.metricHosts(w);
    return {
      hosts: hosts.map((h) => ({
        host: h.host,
        lastSeen: iso(Number(h.lastNs / 1_000_000n)),
        points: h.points,
      })),
    };
  });

  app.get('/api/v1/resources/current', { schema: S.current }, async (request: Q) =>
    currentResources(store, await hostOf(store, request.query, now()), now()),
  );

  app.get(
    '/api/v1/resources/statistics',
    { schema: S.statistics },
    async (request: Q<{ resource?: string }>) => {
      const w = parseWindow(request.query, now());
      const host = await hostOf(store, request.query, now());
      const one = request.query.resource;
      const types = one === undefined ? [...RESOURCE_TYPES] : [one];
      const resources = [];
      for (const resourceType of types) {
        const series = await resourceSeries(store, { resourceType, host, window: w });
        resources.push({ resource: resourceType, series: series.map(seriesStatistics) });
      }
      return { host, from: iso(w.fromMs), to: iso(w.toMs), resources };
    },
  );

  /** The window asked for; without `from` or `window`, `fallback` long (ending at `to`, default now). */
  const windowOf = (q: WindowParams, fallback: string) =>
    parseWindow(q.from !== undefined || q.window !== undefined ? q : { ...q, window: fallback }, now());

  app.get('/api/v1/resources/bottlenecks', { schema: S.bottlenecks }, async (request: Q) => {
    const host = await hostOf(store, request.query, now());
    const w = windowOf(request.query, '1h');
    return {
      host,
      from: iso(w.fromMs),
      to: iso(w.toMs),
      bottlenecks: await findBottlenecks(store, host, w),
    };
  });

  app.get('/api/v1/resources/scaling-recommendations', { schema: S.scaling }, async (request: Q) => {
    const host = await hostOf(store, request.query, now());
    const w = windowOf(request.query, '7d');
    return {
      host,
      from: iso(w.fromMs),
      to: iso(w.toMs),
      recommendations: await scalingRecommendations(store, host, w),
    };
  });

  app.get('/api/v1/resources/cost-optimization', { schema: S.cost }, async (request: Q) => {
    const host = await hostOf(store, request.query, now());
    const w = windowOf(request.query, '7d');
    const recommendations = await scalingRecommendations(store, host, w);
    return {
      host,
      ...(await costReport(store, host, w, recommendations, {
        currency: config.currency,
        vcpuHour: config.priceVcpuHour,
        memoryGibHour: config.priceMemoryGibHour,
        diskGibMonth: config.priceDiskGibMonth,
      })),
    };
  });

  app.get(
    '/api/v1/resources/capacity',
    { schema: S.capacity },
    async (request: FastifyRequest<{ Querystring: { host?: string; horizon?: '7d' | '30d' } }>) => {
      const host = await hostOf(store, request.query, now());
      const horizon = request.query.horizon ?? '30d';
      const plans = [];
      const targets: [string, number, string | undefined][] = [
        ['cpu', 0.8, undefined],
        ['memory', 0.9, undefined],
      ];
      // The filesystems seen in the last 28 days.
      const w = windowOf({}, '28d');
      for (const fs of await resourceSeries(store, { resourceType: 'disk', host, window: w })) {
        targets.push(['disk', 0.9, fs.labels.mountpoint]);
      }
      for (const [resourceType, threshold, select] of targets) {
        const p = await predictResource(store, {
          resourceType,
          host,
          horizon,
          nowMs: now(),
          select,
          threshold,
        });
        plans.push({
          resource: resourceType,
          labels: p.labels,
          threshold,
          method: p.method,
          last: p.points[0]?.value ?? null,
          crossing: p.exhaustion,
          note: p.note,
        });
      }
      return { host, horizon, plans };
    },
  );

  app.get(
    '/api/v1/resources/predictions/:resourceType',
    { schema: S.predictions },
    async (
      request: FastifyRequest<{
        Params: { resourceType: string };
        Querystring: { host?: string; horizon?: string; select?: string; threshold?: number } & WindowParams;
      }>,
    ) => {
      const q = request.query;
      const horizon = q.horizon ?? '24h';
      const host = await hostOf(store, q, now());
      // History: the window asked for; `to` alone gets the default length before it.
      const defaultLength = HORIZONS[horizon]! >= 7 * 86_400_000 ? '28d' : '7d';
      const window =
        q.from !== undefined || q.window !== undefined
          ? parseWindow(q, now())
          : q.to !== undefined
            ? parseWindow({ ...q, window: defaultLength }, now())
            : undefined;
      return predictResource(store, {
        window,
        resourceType: request.params.resourceType,
        host,
        horizon,
        nowMs: now(),
        select: q.select,
        threshold: q.threshold,
      });
    },
  );

  await app.register(async (csv) => {
    csv.addContentTypeParser(
      ['text/csv', 'text/plain'],
      { parseAs: 'string', bodyLimit: config.maxBodyBytes },
      (_r, body, done) => done(null, body),
    );
    csv.post(
      '/api/v1/resources/import',
      {
        bodyLimit: config.maxBodyBytes,
        config: { accepts: 'text/csv (timestamp,value)' } as FastifyContextConfig,
        schema: S.import,
      },
      async (request: FastifyRequest<{ Querystring: { metric: string; host: string } }>, reply) => {
        const { metric, host } = request.query;
        if ((RESOURCE_TYPES as readonly string[]).includes(metric) || /^(system|container)\./.test(metric)) {
          throw new SiperfError(
            'ERR_QUERY_PARAM',
            `metric: "${metric}" is a built-in resource name; import under a name of your own (host metrics come over OTLP)`,
            { field: 'metric' },
          );
        }
        let parsed: ReturnType<typeof parseMetricsCsv>;
        try {
          parsed = parseMetricsCsv(String(request.body ?? ''));
        } catch (err) {
          throw new SiperfError('ERR_API_BODY', `CSV: ${(err as Error).message}`, { field: 'body' });
        }
        if (parsed.samples.length === 0)
          throw new SiperfError('ERR_API_BODY', 'CSV: no rows', { field: 'body' });
        const points: MetricPoint[] = parsed.samples.map((r) =>
          scalarPoint({
            name: metric,
            service: 'siperf-import',
            unit: '',
            type: 'gauge',
            value: r.value,
            timeUnixNano: BigInt(Math.round(r.timeMs)) * 1_000_000n,
            resourceAttributes: { 'host.name': host, 'service.name': 'siperf-import' },
          }),
        );
        // An import replaces the points an earlier import of this metric and host wrote in the same range.
        const replaced = await store.deleteMetricPoints({
          name: metric,
          service: 'siperf-import',
          host,
          fromNs: points[0]!.timeUnixNano,
          toNs: points[points.length - 1]!.timeUnixNano,
        });
        for (let i = 0; i < points.length; i += 50_000)
          await store.writeMetricPoints(points.slice(i, i + 50_000));
        return reply.code(201).send({
          metric,
          host,
          points: points.length,
          from: iso(parsed.samples[0]!.timeMs),
          to: iso(parsed.samples[parsed.samples.length - 1]!.timeMs),
          outOfOrder: parsed.outOfOrder,
          duplicateTimes: parsed.duplicateTimes,
          replaced,
        });
      },
    );
  });
}
