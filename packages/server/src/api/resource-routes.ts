/**
 * Resource routes under `/api/v1/resources/`: `hosts`, `current`, `statistics` (and, in
 * `forecast-routes.ts`, predictions). `host` chooses the machine; without it the host that reported
 * most recently is used. Ratios 0..1, bytes, bytes per second.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import { currentResources, RESOURCE_TYPES, resourceSeries, seriesStatistics } from '../resources/index.ts';
import type { Store } from '../storage/index.ts';
import { requireKey } from './auth.ts';
import { optionalString, parseWindow } from './query-params.ts';

/** What the resource routes need. */
export interface ResourceDeps {
  config: Config;
  store: Store;
  nowMs?: () => number;
}

type Q = FastifyRequest<{ Querystring: Record<string, unknown> }>;

const HOUR_NS = 3_600_000_000_000n;

/**
 * The host a request is about: `host` when given, else the one that reported most recently (last 24 h).
 * @throws SiperfError `ERR_QUERY_NOT_FOUND` when no host reported.
 */
export async function hostOf(store: Store, query: Record<string, unknown>, nowMs: number): Promise<string> {
  const host = optionalString(query, 'host');
  if (host !== undefined) return host;
  const now = BigInt(nowMs) * 1_000_000n;
  const hosts = await store.metricHosts({ fromNs: now - 24n * HOUR_NS, toNs: now + HOUR_NS });
  if (hosts.length === 0) {
    throw new SiperfError(
      'ERR_QUERY_NOT_FOUND',
      'no host has reported resource metrics in the last 24 h (is resourceSampleIntervalMs 0?)',
    );
  }
  return hosts[0]!.host;
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
}
