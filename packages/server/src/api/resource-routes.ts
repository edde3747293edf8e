/**
 * Resource routes under `/api/v1/resources/`: `hosts`, `current`, `statistics` (and, in
 * `forecast-routes.ts`, predictions). `host` chooses the machine; without it the host that reported
 * most recently is used. Ratios 0..1, bytes, bytes per second.
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
import { optionalNumber, optionalString, parseWindow } from './query-params.ts';

/** What the resource routes need. */
export interface ResourceDeps {
  config: Config;
  store: Store;
  nowMs?: () => number;
}

type Q = FastifyRequest<{ Querystring: Record<string, unknown> }>;

const HOUR_NS = 3_600_000_000_000n;
const THIS_HOST = hostname();

/**
 * The host a request is about: `host` when given, else the one that reported most recently (last 24 h).
 * @throws SiperfError `ERR_QUERY_NOT_FOUND` when no host reported.
 */
export async function hostOf(store: Store, query: Record<string, unknown>, nowMs: number): Promise<string> {
  const host = optionalString(query, 'host');
  if (host !== undefined) return host;
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

const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;
/** Imported names fit in a route parameter (`predictions/{name}`, 200 characters at most). */
const IMPORT_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,199}$/;

/** A required query parameter matching `pattern`. */
function required(query: Record<string, unknown>, key: string, pattern: RegExp, what: string): string {
  const v = optionalString(query, key);
  if (v === undefined || !pattern.test(v)) {
    throw new SiperfError(
      'ERR_QUERY_PARAM',
      `${key}: required, ${what}${v === undefined ? '' : `, got "${v.slice(0, 64)}"`}`,
      {
        field: key,
      },
    );
  }
  return v;
}

const hostParam = {
  host: { type: 'string', description: 'host.name (default: the host that reported last)' },
};

/** Registers the resource routes. */
export async function resourceRoutes(app: FastifyInstance, deps: ResourceDeps): Promise<void> {
  const { config, store } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));

  app.get(
    '/api/v1/resources/hosts',
    { schema: { summary: 'Hosts that reported resource metrics', tags: ['resources'] } },
    async (request: Q) => {
      const w = parseWindow(request.query, now());
      const hosts = await store.metricHosts(w);
      return {
        hosts: hosts.map((h) => ({
          host: h.host,
          lastSeen: new Date(Number(h.lastNs / 1_000_000n)).toISOString(),
          points: h.points,
        })),
      };
    },
  );

  app.get(
    '/api/v1/resources/current',
    {
      schema: {
        summary: 'Latest CPU, memory, filesystems, network and disk I/O of a host',
        tags: ['resources'],
        querystring: { type: 'object', properties: hostParam },
      },
    },
    async (request: Q) => currentResources(store, await hostOf(store, request.query, now()), now()),
  );

  app.get(
    '/api/v1/resources/statistics',
    {
      schema: {
        summary: 'Per resource over a window: mean, min, max, p50/p95/p99, trend per hour',
        tags: ['resources'],
        querystring: {
          type: 'object',
          properties: {
            ...hostParam,
            resource: { type: 'string', description: 'cpu, memory, disk, network, disk_io or a metric name' },
            from: { type: 'string' },
            to: { type: 'string' },
            window: { type: 'string' },
          },
        },
      },
    },
    async (request: Q) => {
      const w = parseWindow(request.query, now());
      const host = await hostOf(store, request.query, now());
      const one = optionalString(request.query, 'resource');
      const types = one === undefined ? [...RESOURCE_TYPES] : [one];
      const resources = [];
      for (const resourceType of types) {
        const series = await resourceSeries(store, { resourceType, host, window: w });
        resources.push({ resource: resourceType, series: series.map(seriesStatistics) });
      }
      return {
        host,
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        resources,
      };
    },
  );

  const windowed = (summary: string, defaultWindow: string) => ({
    schema: {
      summary,
      tags: ['resources'],
      querystring: {
        type: 'object',
        properties: {
          ...hostParam,
          from: { type: 'string' },
          to: { type: 'string' },
          window: { type: 'string', description: `default ${defaultWindow}` },
        },
      },
    },
  });
  const windowOf = (q: Record<string, unknown>, fallback: string) =>
    parseWindow(
      optionalString(q, 'from') || optionalString(q, 'window') ? q : { ...q, window: fallback },
      now(),
    );

  app.get(
    '/api/v1/resources/bottlenecks',
    windowed('USE method per resource: utilisation, saturation, errors, with evidence and an action', '1h'),
    async (request: Q) => {
      const host = await hostOf(store, request.query, now());
      const w = windowOf(request.query, '1h');
      const label = `${Math.round((w.toMs - w.fromMs) / 60_000)} min`;
      return {
        host,
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        bottlenecks: await findBottlenecks(store, host, w, label),
      };
    },
  );

  app.get(
    '/api/v1/resources/scaling-recommendations',
    windowed('VPA-style CPU and memory recommendations with performance impact and risk', '7d'),
    async (request: Q) => {
      const host = await hostOf(store, request.query, now());
      const w = windowOf(request.query, '7d');
      return {
        host,
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        recommendations: await scalingRecommendations(store, host, w),
      };
    },
  );

  app.get(
    '/api/v1/resources/cost-optimization',
    windowed('Monthly cost at the configured prices and what each change saves or costs', '7d'),
    async (request: Q) => {
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
    },
  );

  app.get(
    '/api/v1/resources/capacity',
    {
      schema: {
        summary:
          'When CPU, memory and each filesystem cross their thresholds at the current growth (P10/P50/P90)',
        tags: ['resources'],
        querystring: {
          type: 'object',
          properties: { ...hostParam, horizon: { type: 'string', description: '7d or 30d (default 30d)' } },
        },
      },
    },
    async (request: Q) => {
      const host = await hostOf(store, request.query, now());
      const horizon = optionalString(request.query, 'horizon') ?? '30d';
      if (horizon !== '7d' && horizon !== '30d') {
        throw new SiperfError(
          'ERR_QUERY_PARAM',
          `horizon: expected 7d or 30d, got "${horizon.slice(0, 32)}"`,
          {
            field: 'horizon',
          },
        );
      }
      const plans = [];
      const targets: [string, number, string | undefined][] = [
        ['cpu', 0.8, undefined],
        ['memory', 0.9, undefined],
      ];
      const w = windowOf(request.query, '28d');
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
    {
      schema: {
        summary:
          'Forecast of a resource with 80% and 95% intervals, backtest accuracy and time to exhaustion',
        tags: ['resources'],
        querystring: {
          type: 'object',
          properties: {
            ...hostParam,
            horizon: { type: 'string', description: `${Object.keys(HORIZONS).join(', ')} (default 24h)` },
            select: {
              type: 'string',
              description: 'a label value choosing one series: a mount point, receive/transmit…',
            },
            threshold: {
              type: 'string',
              description: 'value that counts as exhausted (default 1 for utilisations)',
            },
            from: { type: 'string', description: 'history start (default 7 d before `to`; 28 d for 7d/30d)' },
            to: {
              type: 'string',
              description: 'history end (default now): the forecast starts after its last point',
            },
            window: { type: 'string', description: 'history length ending at `to`' },
          },
        },
      },
    },
    async (
      request: FastifyRequest<{ Params: { resourceType: string }; Querystring: Record<string, unknown> }>,
    ) => {
      const resourceType = request.params.resourceType;
      if (!(RESOURCE_TYPES as readonly string[]).includes(resourceType) && !METRIC_NAME.test(resourceType)) {
        throw new SiperfError(
          'ERR_QUERY_PARAM',
          `resourceType: expected ${RESOURCE_TYPES.join(', ')} or a metric name, got "${resourceType.slice(0, 64)}"`,
          { field: 'resourceType' },
        );
      }
      const horizon = optionalString(request.query, 'horizon') ?? '24h';
      if (HORIZONS[horizon] === undefined) {
        throw new SiperfError(
          'ERR_QUERY_PARAM',
          `horizon: expected one of ${Object.keys(HORIZONS).join(', ')}, got "${horizon.slice(0, 32)}"`,
          {
            field: 'horizon',
          },
        );
      }
      const host = await hostOf(store, request.query, now());
      const q = request.query;
      const given = (k: string) => optionalString(q, k) !== undefined;
      // History: the window asked for; `to` alone gets the default length before it.
      const defaultLength = HORIZONS[horizon]! >= 7 * 86_400_000 ? '28d' : '7d';
      const window =
        given('from') || given('window')
          ? parseWindow(q, now())
          : given('to')
            ? parseWindow({ ...q, window: defaultLength }, now())
            : undefined;
      return predictResource(store, {
        window,
        resourceType,
        host,
        horizon,
        nowMs: now(),
        select: optionalString(request.query, 'select'),
        threshold: optionalNumber(request.query, 'threshold', -1e15, 1e15),
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
        schema: {
          summary: 'Import a timestamp,value CSV series as a metric of a host (gauge points)',
          tags: ['resources'],
          querystring: {
            type: 'object',
            properties: { metric: { type: 'string' }, host: { type: 'string' } },
          },
        },
      },
      async (request: Q, reply) => {
        const metric = required(
          request.query,
          'metric',
          IMPORT_NAME,
          'a metric name (letters, digits, _ . - /; ≤ 200)',
        );
        if ((RESOURCE_TYPES as readonly string[]).includes(metric) || /^(system|container)\./.test(metric)) {
          throw new SiperfError(
            'ERR_QUERY_PARAM',
            `metric: "${metric}" is a built-in resource name; import under a name of your own (host metrics come over OTLP)`,
            { field: 'metric' },
          );
        }
        const host = required(
          request.query,
          'host',
          /^[^\s\p{Cc}]{1,255}$/u,
          'a host name (1..255 characters, no spaces or control characters)',
        );
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
          from: new Date(parsed.samples[0]!.timeMs).toISOString(),
          to: new Date(parsed.samples[parsed.samples.length - 1]!.timeMs).toISOString(),
          outOfOrder: parsed.outOfOrder,
          duplicateTimes: parsed.duplicateTimes,
          replaced,
        });
      },
    );
  });
}
