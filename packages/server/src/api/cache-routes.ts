/**
 * Cache routes under `/api/v1/cache-db/`: the server's named caches (`POST|GET caches`,
 * `DELETE caches/{name}`, `GET caches/{name}/statistics`, and `PUT|GET|DELETE caches/{name}/entries/{key}`
 * for clients that are not Node); `GET caches` also lists the caches applications report over OTLP. Params,
 * query, bodies and answers are declared in schemas/caches.ts and checked before a handler runs. The API
 * key is required.
 * @module
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CacheRegistry, cacheSummaries, parseCacheSpec } from '../cache/index.ts';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import type { Store } from '../storage/index.ts';
import { requireKey } from './auth.ts';
import { parseWindow } from './query-params.ts';
import {
  type CacheEntryParams,
  type CacheEntryQuery,
  type CacheListQuery,
  type CacheParams,
  cacheRouteSchemas as S,
} from './schemas/caches.ts';
import { bodyDecodedByHandler } from './validation.ts';

/** What the cache routes need. */
export interface CacheDeps {
  config: Config;
  store: Store;
  caches: CacheRegistry;
  nowMs?: () => number;
}

/** Largest JSON value stored through the entries API, bytes. */
const MAX_ENTRY_BYTES = 1_048_576;

type NameRequest = FastifyRequest<{ Params: CacheParams }>;
type EntryRequest = FastifyRequest<{
  Params: CacheEntryParams;
  Querystring: CacheEntryQuery;
}>;

/** Registers the cache routes. */
export async function cacheRoutes(app: FastifyInstance, deps: CacheDeps): Promise<void> {
  const { config, store, caches } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));

  app.post('/api/v1/cache-db/caches', { schema: S.create }, async (request, reply) => {
    // The schema checked each field; parseCacheSpec adds the rules between fields and the defaults.
    const c = caches.create(parseCacheSpec(request.body));
    return reply.code(201).send({ ...c.spec, createdAt: c.createdAt });
  });

  app.get(
    '/api/v1/cache-db/caches',
    { schema: S.list },
    async (request: FastifyRequest<{ Querystring: CacheListQuery }>) => {
      const w = parseWindow(request.query, now());
      const list = await cacheSummaries(caches, store, w, now());
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        caches: list.map((c) => ({
          name: c.name,
          source: c.source,
          service: c.service,
          backend: c.backend,
          policy: c.policy,
          hitRatio: c.hitRatio,
          entries: c.entries,
          maxEntries: c.maxEntries,
        })),
      };
    },
  );

  app.delete('/api/v1/cache-db/caches/:name', { schema: S.delete }, async (request: NameRequest, reply) => {
    await caches.delete(request.params.name);
    return reply.code(204).send();
  });

  app.get(
    '/api/v1/cache-db/caches/:name/statistics',
    { schema: S.statistics },
    async (request: NameRequest) => {
      const c = caches.get(request.params.name);
      return { ...c.cache.stats(), createdAt: c.createdAt, defaultTtlMs: c.spec.defaultTtlMs };
    },
  );

  // Keys (1..1,024 characters) and the ttlMs query are checked by the schema.
  app.put(
    '/api/v1/cache-db/caches/:name/entries/:key',
    {
      bodyLimit: MAX_ENTRY_BYTES,
      config: { accepts: 'application/json' } as FastifyContextConfig,
      schema: S.putEntry,
      // Any JSON value is accepted, null included (the shared validator reads a null body as none).
      validatorCompiler: bodyDecodedByHandler,
    },
    async (request: EntryRequest, reply: FastifyReply) => {
      const c = caches.get(request.params.name);
      const key = request.params.key;
      // With a content type an empty body is refused by the JSON parser; without one, nothing was sent.
      if (request.body === undefined || request.headers['content-type'] === undefined) {
        throw new SiperfError('ERR_API_BODY', 'body: expected a JSON value (Content-Type: application/json)');
      }
      try {
        JSON.stringify(request.body);
      } catch {
        throw new SiperfError('ERR_API_BODY', 'body: nested too deeply to be stored and served back');
      }
      const ttlMs = request.query.ttlMs;
      const stored = await c.cache.set(key, request.body, ttlMs === undefined ? {} : { ttlMs });
      if (!stored) {
        throw new SiperfError(
          'ERR_CACHE_NOT_STORED',
          `the value was not kept: it weighs more than cache ${c.spec.name} can hold${c.spec.backend === 'redis' ? ', or Redis is down' : ''}`,
        );
      }
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/cache-db/caches/:name/entries/:key',
    { schema: S.getEntry },
    async (request: EntryRequest, reply) => {
      const c = caches.get(request.params.name);
      const key = request.params.key;
      const value = await c.cache.get(key);
      if (value === undefined) {
        throw new SiperfError(
          'ERR_CACHE_MISS',
          `no fresh value for ${JSON.stringify(key.slice(0, 128))} in cache ${c.spec.name}`,
        );
      }
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(value));
    },
  );

  app.delete(
    '/api/v1/cache-db/caches/:name/entries/:key',
    { schema: S.deleteEntry },
    async (request: EntryRequest, reply) => {
      const c = caches.get(request.params.name);
      const existed = await c.cache.delete(request.params.key);
      if (!existed)
        throw new SiperfError('ERR_CACHE_MISS', `no key ${JSON.stringify(request.params.key.slice(0, 128))}`);
      return reply.code(204).send();
    },
  );
}
