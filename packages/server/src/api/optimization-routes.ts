/**
 * Optimization routes under `/api/v1/cache-db/`: `GET optimization/recommendations` (cache and database
 * advice ranked by load time saved per hour), `GET statistics/comprehensive`, `GET pools` (the configured
 * pools with their figures and sizing advice), `POST logs` (a PostgreSQL log or MySQL slow log digested)
 * and `POST cached-query` (a read-only query run on a named pool through a named cache, parameters bound).
 * Params, query, bodies and answers are declared in schemas/optimization.ts and checked before a handler
 * runs. The API key is required.
 * @module
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { poolSizing } from '@siperf/node/db';
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CacheRegistry } from '../cache/index.ts';
import type { Config } from '../config.ts';
import type { LogDigests } from '../db/log-digests.ts';
import type { DbPools } from '../db/pools.ts';
import { runReadOnly } from '../db/read-only.ts';
import { SiperfError } from '../errors.ts';
import { digestLogStream, parseInstant } from '../ingest/logs/index.ts';
import type { Advice } from '../model/index.ts';
import { type RecommendationEngine, rankAdvice } from '../recommendations/index.ts';
import type { Store } from '../storage/index.ts';
import { requireKey } from './auth.ts';
import { parseWindow } from './query-params.ts';
import {
  type AdviceQuery,
  type CachedQueryBody,
  type LogImportQuery,
  optimizationRouteSchemas as S,
} from './schemas/optimization.ts';
import { bodyDecodedByHandler } from './validation.ts';

/** What the optimization routes need. */
export interface OptimizationDeps {
  config: Config;
  store: Store;
  caches: CacheRegistry;
  pools: DbPools;
  logs: LogDigests;
  /** The recommendation engine: the advice and the statistics' recommendations come from it. */
  engine: RecommendationEngine;
  nowMs?: () => number;
}

/** Ranks the advice by time saved per hour (known gains first), then severity. */
export const rankRecommendations: (recs: readonly Advice[]) => Advice[] = rankAdvice;

/** Registers the optimization routes. */
export async function optimizationRoutes(app: FastifyInstance, deps: OptimizationDeps): Promise<void> {
  const { config, caches, pools, logs, engine } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));

  // The seed's advice, from the recommendation engine (the dismissed left out).
  const advice = async (query: AdviceQuery) => {
    const w = parseWindow(query, now());
    const r = await engine.compute({ window: w, service: query.service, hosts: false, traces: false });
    return { w, caches: r.caches, recommendations: r.advice, notes: r.notes, statements: r.statements };
  };

  app.get(
    '/api/v1/cache-db/optimization/recommendations',
    { schema: S.recommendations },
    async (request: FastifyRequest<{ Querystring: AdviceQuery }>) => {
      const r = await advice(request.query);
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

  app.get('/api/v1/cache-db/pools', { schema: S.pools }, async () => ({
    pools: await poolFigures(),
  }));

  app.get(
    '/api/v1/cache-db/statistics/comprehensive',
    { schema: S.comprehensive },
    async (request: FastifyRequest<{ Querystring: AdviceQuery }>) => {
      const r = await advice(request.query);
      const hits = r.caches.reduce((s, c) => s + c.hits, 0);
      const misses = r.caches.reduce((s, c) => s + c.misses, 0);
      const queries = r.statements;
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

  // Log uploads: the raw file as the body, whatever its content type (gzip allowed). The body schema
  // documents it; the query is validated as everywhere.
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    // The body is the request stream: the log is digested as it arrives (digestLogStream), not held.
    upload.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    upload.post(
      '/api/v1/cache-db/logs',
      { bodyLimit: 256 * 1024 * 1024, schema: S.logs, validatorCompiler: bodyDecodedByHandler },
      async (request: FastifyRequest<{ Querystring: LogImportQuery }>, reply: FastifyReply) => {
        const q = request.query;
        // The schema checked the form (YYYY-MM-DD…); the date itself is read here.
        const time = (k: 'since' | 'until') => {
          const v = q[k];
          if (v === undefined) return undefined;
          const ms = parseInstant(v);
          if (ms === null) {
            throw new SiperfError(
              'ERR_QUERY_PARAM',
              `${k}: expected an ISO-8601 time (YYYY-MM-DD…), got ${JSON.stringify(v)} (UTC when it has no offset)`,
              { field: k },
            );
          }
          return ms;
        };
        const sinceMs = time('since');
        const untilMs = time('until');
        if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) {
          const detail = `since: must be before until (${q.until}), got ${q.since}`;
          throw new SiperfError('ERR_QUERY_PARAM', detail, { field: 'since', limit: `< ${q.until}` });
        }
        const body = request.body as Readable | undefined;
        let digest: Awaited<ReturnType<typeof digestLogStream>>;
        try {
          digest = await digestLogStream(body ?? Readable.from([]), {
            format: q.format,
            prefix: q.prefix,
            logTimezone: q.logTimezone,
            sinceMs,
            untilMs,
            maxBytes: 256 * 1024 * 1024,
            maxInflatedBytes: config.maxDecompressedBytes,
          });
        } catch (err) {
          if (err instanceof RangeError) {
            const field = /^(prefix|logTimezone)\b/.exec(err.message)?.[1];
            throw new SiperfError(field ? 'ERR_QUERY_PARAM' : 'ERR_API_BODY', err.message, {
              ...(field ? { field } : {}),
            });
          }
          throw err;
        }
        if (digest.lines === 0)
          throw new SiperfError('ERR_API_BODY', 'body: expected the log file, got nothing');
        const stored = logs.add(digest);
        return reply.code(200).send({ id: stored.id, ...digest });
      },
    );
  });

  app.post(
    '/api/v1/cache-db/cached-query',
    { config: { accepts: 'application/json' } as FastifyContextConfig, schema: S.cachedQuery },
    async (request: FastifyRequest<{ Body: CachedQueryBody }>) => {
      // Types and bounds were checked by the schema; the statement is checked by runReadOnly.
      const { cacheName, poolName, query, ttlMs, cacheKey } = request.body;
      const params = request.body.params ?? [];
      const cache = caches.get(cacheName).cache;
      const pool = pools.get(poolName);
      // A given cacheKey lives under its pool, so two pools never share rows.
      const key =
        cacheKey !== undefined
          ? `query:${poolName}:${cacheKey}`
          : `query:${createHash('sha256')
              .update(`${poolName}\u0000${query}\u0000${JSON.stringify(params)}`)
              .digest('hex')
              .slice(0, 32)}`;
      const t0 = performance.now();
      let hit = true;
      const rows = await cache.getOrLoad(
        key,
        async () => {
          hit = false;
          return runReadOnly(pool, query, params, {
            maxBytes: config.cachedQueryMaxBytes,
            allowWritablePools: config.allowWritablePools === 1,
          });
        },
        ttlMs === undefined ? {} : { ttlMs },
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
