/**
 * Optimization routes under `/api/v1/cache-db/`: `GET optimization/recommendations` (cache and database
 * advice ranked by load time saved per hour), `GET statistics/comprehensive`, `GET pools` (the configured
 * pools with their figures and sizing advice) and `POST cached-query` (a read-only query run on a named
 * pool through a named cache, parameters bound). The API key is required.
 * @module
 */
import { createHash } from 'node:crypto';
import { poolSizing } from '@siperf/node/db';
import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import { databaseMetrics } from '../apm/index.ts';
import { type CacheRegistry, cacheSummaries, rankCacheAdvice } from '../cache/index.ts';
import type { Config } from '../config.ts';
import { databaseRecommendations } from '../db/advisor.ts';
import type { LogDigests } from '../db/log-digests.ts';
import type { DbPools } from '../db/pools.ts';
import { runReadOnly } from '../db/read-only.ts';
import { SiperfError } from '../errors.ts';
import { digestLogText, LOG_FORMATS, type LogFormat, LogTooLargeError } from '../ingest/logs/index.ts';
import type { Recommendation } from '../model/index.ts';
import type { Store } from '../storage/index.ts';
import { requireKey } from './auth.ts';
import { optionalString, parseWindow } from './query-params.ts';

/** What the optimization routes need. */
export interface OptimizationDeps {
  config: Config;
  store: Store;
  caches: CacheRegistry;
  pools: DbPools;
  logs: LogDigests;
  nowMs?: () => number;
}

const SEVERITY = { critical: 0, warning: 1, info: 2 } as const;

/** Ranks by time saved per hour (known gains first), then severity. */
export function rankRecommendations(recs: Recommendation[]): Recommendation[] {
  return [...recs].sort((a, b) => {
    const ga = a.expectedGain.timeSavedMsPerHour;
    const gb = b.expectedGain.timeSavedMsPerHour;
    if (ga !== null && gb !== null && ga !== gb) return gb - ga;
    if ((ga === null) !== (gb === null)) return ga === null ? 1 : -1;
    return SEVERITY[a.severity] - SEVERITY[b.severity];
  });
}

function bad(field: string, message: string): never {
  throw new SiperfError('ERR_API_BODY', `${field}: ${message}`, { field });
}

/** Registers the optimization routes. */
export async function optimizationRoutes(app: FastifyInstance, deps: OptimizationDeps): Promise<void> {
  const { config, store, caches, pools, logs } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));
  const tags = ['cache-db'];

  const advice = async (query: Record<string, unknown>) => {
    const w = parseWindow(query, now());
    const service = optionalString(query, 'service');
    const list = await cacheSummaries(caches, store, w, now());
    const db = await databaseRecommendations(store, pools, {
      window: w,
      service,
      slowQueryThresholdMs: config.slowQueryThresholdMs,
      explainAnalyze: config.explainAnalyze === 1,
      logs,
    });
    return {
      w,
      caches: list,
      recommendations: rankRecommendations([...rankCacheAdvice(list), ...db.recommendations]),
      notes: db.notes,
    };
  };

  app.get(
    '/api/v1/cache-db/optimization/recommendations',
    {
      schema: {
        summary:
          'Cache and database advice with evidence, the change to make, and the time it saves per hour',
        tags,
      },
    },
    async (request) => {
      const r = await advice(request.query as Record<string, unknown>);
      return {
        from: new Date(r.w.fromMs).toISOString(),
        to: new Date(r.w.toMs).toISOString(),
        recommendations: r.recommendations,
        notes: r.notes,
      };
    },
  );

  const poolFigures = async () =>
    Promise.all(
      pools.list().map(async ({ name, driver }) => {
        try {
          const p = pools.get(name);
          const stats = p.pool.stats();
          const dbMax = await p.pool.serverMaxConnections().catch(() => null);
          return { name, driver, stats, sizing: poolSizing(stats, dbMax), error: null };
        } catch (err) {
          return { name, driver, stats: null, sizing: null, error: (err as Error).message };
        }
      }),
    );

  app.get(
    '/api/v1/cache-db/pools',
    { schema: { summary: 'Configured pools: figures and sizing advice', tags } },
    async () => ({
      pools: await poolFigures(),
    }),
  );

  app.get(
    '/api/v1/cache-db/statistics/comprehensive',
    { schema: { summary: 'Every cache, pool and costly statement, with the advice', tags } },
    async (request) => {
      const r = await advice(request.query as Record<string, unknown>);
      const hits = r.caches.reduce((s, c) => s + c.hits, 0);
      const misses = r.caches.reduce((s, c) => s + c.misses, 0);
      const queries = await databaseMetrics(store, {
        window: r.w,
        service: optionalString(request.query as Record<string, unknown>, 'service'),
        slowQueryThresholdMs: config.slowQueryThresholdMs,
      });
      return {
        from: new Date(r.w.fromMs).toISOString(),
        to: new Date(r.w.toMs).toISOString(),
        caches: {
          count: r.caches.length,
          hits,
          misses,
          hitRatio: hits + misses > 0 ? hits / (hits + misses) : 0,
          items: r.caches,
        },
        database: { pools: await poolFigures(), queries: queries.slice(0, 20) },
        recommendations: r.recommendations,
        notes: r.notes,
      };
    },
  );

  // Log uploads: the raw file as the body, whatever its content type (gzip allowed).
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: 256 * 1024 * 1024 },
      (_req, body, done) => done(null, body),
    );
    upload.post(
      '/api/v1/cache-db/logs',
      {
        bodyLimit: 256 * 1024 * 1024,
        schema: {
          summary: 'Digest a PostgreSQL log or MySQL slow log (raw body; format, prefix, since, until)',
          tags,
        },
      },
      async (request, reply) => {
        const q = request.query as Record<string, unknown>;
        const format = optionalString(q, 'format');
        if (!format || !LOG_FORMATS.includes(format as LogFormat)) {
          throw new SiperfError('ERR_QUERY_PARAM', `format: expected one of ${LOG_FORMATS.join(', ')}`, {
            field: 'format',
          });
        }
        const time = (k: string) => {
          const v = optionalString(q, k);
          if (v === undefined) return undefined;
          const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
          if (Number.isNaN(ms))
            throw new SiperfError('ERR_QUERY_PARAM', `${k}: expected an ISO-8601 time (YYYY-MM-DD…)`, {
              field: k,
            });
          return ms;
        };
        const sinceMs = time('since');
        const untilMs = time('until');
        if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) {
          throw new SiperfError('ERR_QUERY_PARAM', 'since: must be before until', { field: 'since' });
        }
        const body = request.body;
        if (!Buffer.isBuffer(body) || body.length === 0)
          throw new SiperfError('ERR_API_BODY', 'body: expected the log file');
        let digest: ReturnType<typeof digestLogText>;
        try {
          digest = digestLogText(body, {
            format: format as LogFormat,
            prefix: optionalString(q, 'prefix'),
            sinceMs,
            untilMs,
            maxInflatedBytes: config.maxDecompressedBytes,
          });
        } catch (err) {
          if (err instanceof LogTooLargeError) {
            throw new SiperfError('ERR_INGEST_BODY_TOO_LARGE', `${err.message} (maxDecompressedBytes)`, {
              limit: err.limit,
            });
          }
          if (err instanceof RangeError) {
            throw new SiperfError(
              err.message.startsWith('prefix') ? 'ERR_QUERY_PARAM' : 'ERR_API_BODY',
              err.message,
            );
          }
          throw err;
        }
        const stored = logs.add(digest);
        return reply.code(200).send({ id: stored.id, ...digest });
      },
    );
  });

  app.post(
    '/api/v1/cache-db/cached-query',
    {
      config: { accepts: 'application/json' } as FastifyContextConfig,
      schema: { summary: 'Run a read-only query on a pool through a cache (parameters bound)', tags },
    },
    async (request) => {
      const b = request.body as Record<string, unknown> | null;
      if (typeof b !== 'object' || b === null || Array.isArray(b)) bad('body', 'expected a JSON object');
      const cacheName =
        typeof b.cacheName === 'string' ? b.cacheName : bad('cacheName', 'required, a string');
      const poolName = typeof b.poolName === 'string' ? b.poolName : bad('poolName', 'required, a string');
      const query =
        typeof b.query === 'string' && b.query.length > 0 && b.query.length <= 100_000
          ? b.query
          : bad('query', 'required, a string of 1..100000 characters');
      const params = b.params ?? [];
      if (
        !Array.isArray(params) ||
        params.length > 1000 ||
        params.some((p) => p !== null && typeof p === 'object')
      ) {
        bad('params', 'expected an array of at most 1000 strings, numbers, booleans or nulls');
      }
      const ttl = b.ttlMs;
      if (
        ttl !== undefined &&
        (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647)
      ) {
        bad('ttlMs', 'expected an integer 0..2147483647');
      }
      if (
        b.cacheKey !== undefined &&
        (typeof b.cacheKey !== 'string' || b.cacheKey === '' || b.cacheKey.length > 1024)
      ) {
        bad('cacheKey', 'expected a string of 1..1024 characters');
      }
      const cache = caches.get(cacheName).cache;
      const pool = pools.get(poolName);
      // A given cacheKey lives under its pool, so two pools never share rows.
      const key =
        (b.cacheKey === undefined ? undefined : `query:${poolName}:${b.cacheKey as string}`) ??
        `query:${createHash('sha256')
          .update(`${poolName}\u0000${query}\u0000${JSON.stringify(params)}`)
          .digest('hex')
          .slice(0, 32)}`;
      const t0 = performance.now();
      let hit = true;
      const rows = await cache.getOrLoad(
        key,
        async () => {
          hit = false;
          return runReadOnly(pool, query, params as unknown[]);
        },
        ttl === undefined ? {} : { ttlMs: ttl as number },
      );
      return {
        cache: cacheName,
        pool: poolName,
        cacheKey: key,
        hit,
        timeMs: performance.now() - t0,
        rowCount: Array.isArray(rows) ? rows.length : 0,
        rows,
      };
    },
  );
}
