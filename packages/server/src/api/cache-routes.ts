/**
 * Cache routes under `/api/v1/cache-db/`: the server's named caches (`POST|GET caches`,
 * `DELETE caches/{name}`, `GET caches/{name}/statistics`, and `PUT|GET|DELETE caches/{name}/entries/{key}`
 * for clients that are not Node) and the caches applications report (`summaries`). The API key is required.
 * @module
 */
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import { type CacheRegistry, cacheSummaries, parseCacheSpec } from '../cache/index.ts';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import type { Store } from '../storage/index.ts';
import { requireKey } from './auth.ts';
import { optionalNumber, parseWindow } from './query-params.ts';

/** What the cache routes need. */
export interface CacheDeps {
  config: Config;
  store: Store;
  caches: CacheRegistry;
  nowMs?: () => number;
}

/** Largest JSON value stored through the entries API, bytes. */
const MAX_ENTRY_BYTES = 1_048_576;

type NameParams = FastifyRequest<{ Params: { name: string } }>;
type EntryParams = FastifyRequest<{
  Params: { name: string; key: string };
  Querystring: Record<string, unknown>;
}>;

/** Registers the cache routes. */
export async function cacheRoutes(app: FastifyInstance, deps: CacheDeps): Promise<void> {
  const { config, store, caches } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));
  const tags = ['cache-db'];

  const allSummaries = async (query: Record<string, unknown>) => {
    const w = parseWindow(query, now());
    return { window: w, caches: await cacheSummaries(caches, store, w, now()) };
  };

  app.post(
    '/api/v1/cache-db/caches',
    { schema: { summary: 'Create a named cache on the server', tags } },
    async (request, reply) => {
      const c = caches.create(parseCacheSpec(request.body));
      return reply.code(201).send({ ...c.spec, createdAt: c.createdAt });
    },
  );

  app.get(
    '/api/v1/cache-db/caches',
    {
      schema: { summary: "The server's caches and those applications report (window for the latter)", tags },
    },
    async (request) => {
      const { window, caches: list } = await allSummaries(request.query as Record<string, unknown>);
      return {
        from: new Date(window.fromMs).toISOString(),
        to: new Date(window.toMs).toISOString(),
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

  app.delete(
    '/api/v1/cache-db/caches/:name',
    { schema: { summary: 'Delete a server cache', tags } },
    async (request: NameParams, reply) => {
      await caches.delete(request.params.name);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/cache-db/caches/:name/statistics',
    {
      schema: {
        summary: "A server cache's statistics: hits, misses, hit ratio, groups, miss-ratio curve",
        tags,
      },
    },
    async (request: NameParams) => {
      const c = caches.get(request.params.name);
      return { ...c.cache.stats(), createdAt: c.createdAt, defaultTtlMs: c.spec.defaultTtlMs };
    },
  );

  const entryKey = (request: EntryParams) => {
    const key = request.params.key;
    if (key.length === 0 || key.length > 1024) {
      throw new SiperfError('ERR_QUERY_PARAM', 'key: expected 1..1024 characters', { field: 'key' });
    }
    return key;
  };

  app.put(
    '/api/v1/cache-db/caches/:name/entries/:key',
    {
      bodyLimit: MAX_ENTRY_BYTES,
      config: { accepts: 'application/json' } as FastifyContextConfig,
      schema: { summary: 'Store a JSON value (ttlMs query: its TTL)', tags },
    },
    async (request: EntryParams, reply) => {
      const c = caches.get(request.params.name);
      const key = entryKey(request);
      if (request.body === undefined) {
        throw new SiperfError('ERR_API_BODY', 'body: expected a JSON value (Content-Type: application/json)');
      }
      try {
        JSON.stringify(request.body);
      } catch {
        throw new SiperfError('ERR_API_BODY', 'body: nested too deeply to be stored and served back');
      }
      const ttlMs = optionalNumber(request.query, 'ttlMs', 0, 2_147_483_647, true);
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
    { schema: { summary: 'The JSON value of a key; 404 on a miss', tags } },
    async (request: EntryParams, reply) => {
      const c = caches.get(request.params.name);
      const key = entryKey(request);
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
    { schema: { summary: 'Remove a key', tags } },
    async (request: EntryParams, reply) => {
      const c = caches.get(request.params.name);
      const existed = await c.cache.delete(entryKey(request));
      if (!existed)
        throw new SiperfError('ERR_CACHE_MISS', `no key ${JSON.stringify(request.params.key.slice(0, 128))}`);
      return reply.code(204).send();
    },
  );
}
