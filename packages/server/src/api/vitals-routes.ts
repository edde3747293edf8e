/**
 * Real-user monitoring routes: `GET /rum.js` (the `@siperf/browser` script), `POST
 * /api/v1/apm/user-experience` (web-vitals beacons; CORS for `corsOrigins`; `text/plain` or
 * `application/json`; the ingest key may come as `?key=`), and `GET /api/v1/apm/metrics/user-experience`
 * (p75 per page and overall, threshold counts, the 0–100 score, the page-load breakdown).
 * @module
 */
import cors from '@fastify/cors';
import { buildSnippet } from '@siperf/browser/build';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { userExperienceReport } from '../apm/index.ts';
import { type Config, corsOriginList } from '../config.ts';
import { ERROR_CODES, SiperfError } from '../errors.ts';
import { parseVitalsBeacon, VITALS_LIMITS } from '../ingest/index.ts';
import type { Store } from '../storage/index.ts';
import { nowNs } from '../util/time.ts';
import { requireKey } from './auth.ts';
import { optionalNumber, optionalString, parseWindow } from './query-params.ts';

/** What the vitals routes need. */
export interface VitalsDeps {
  config: Config;
  store: Store;
  nowMs?: () => number;
}

type Q = FastifyRequest<{ Querystring: Record<string, unknown> }>;

/** Registers the RUM routes. */
export async function vitalsRoutes(app: FastifyInstance, deps: VitalsDeps): Promise<void> {
  const { config, store } = deps;
  const now = deps.nowMs ?? Date.now;
  const origins = corsOriginList(config.corsOrigins);

  app.get('/rum.js', { schema: { hide: true } }, async (_request, reply) => {
    const script = await buildSnippet();
    return reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .header('access-control-allow-origin', '*')
      .send(script);
  });

  await app.register(async (beacon) => {
    if (origins.length > 0) {
      await beacon.register(cors, {
        origin: origins.includes('*') ? '*' : origins,
        methods: ['POST'],
        allowedHeaders: ['content-type', 'authorization', 'x-api-key'],
        maxAge: 86_400,
      });
    }
    beacon.post(
      '/api/v1/apm/user-experience',
      {
        bodyLimit: 1024 * 1024,
        schema: {
          summary: 'Web-vitals beacon: one web-vitals metric object or an array of them, each with `page`',
          tags: ['apm'],
          querystring: { type: 'object', properties: { key: { type: 'string' } } },
        },
      },
      async (request: Q, reply: FastifyReply) => {
        requireKey(request, [config.ingestKey, config.apiKey], 'web-vitals beacons', true);
        let batch: ReturnType<typeof parseVitalsBeacon>;
        try {
          batch = parseVitalsBeacon(request.body, nowNs());
        } catch (err) {
          if (err instanceof RangeError)
            throw new SiperfError('ERR_API_BODY', err.message, {
              field: 'items',
              limit: VITALS_LIMITS.items,
            });
          throw new SiperfError('ERR_INGEST_DECODE', 'the beacon is not JSON', { cause: err });
        }
        if (batch.events.length === 0) {
          return reply
            .code(400)
            .type('application/problem+json')
            .send({
              type: 'docs/errors.md#err_ingest_vitals',
              title: ERROR_CODES.ERR_INGEST_VITALS.title,
              status: 400,
              detail:
                batch.rejected.length === 0
                  ? 'the beacon holds no items'
                  : `all ${batch.rejected.length} items were rejected: ${batch.rejected[0]!.message}`,
              instance: request.url,
              code: 'ERR_INGEST_VITALS',
              rejected: batch.rejected,
            });
        }
        await store.writeVitals(batch.events);
        return { accepted: batch.events.length, rejected: batch.rejected };
      },
    );
  });

  app.get(
    '/api/v1/apm/metrics/user-experience',
    {
      schema: {
        summary: 'Web vitals per page and overall: p75, good/needs-improvement/poor counts, 0–100 score',
        tags: ['apm'],
        querystring: {
          type: 'object',
          properties: {
            service: { type: 'string' },
            page: { type: 'string', description: 'one page path (as sent, without query string)' },
            from: { type: 'string' },
            to: { type: 'string' },
            window: { type: 'string', description: '15m, 1h, 24h, 7d (default 1h)' },
            maxPages: { type: 'string', description: 'pages listed, by beacon count (default 50, max 1000)' },
          },
        },
      },
    },
    async (request: Q) => {
      requireKey(request, [config.apiKey], 'the API');
      const w = parseWindow(request.query, now());
      const report = await userExperienceReport(store, {
        window: w,
        service: optionalString(request.query, 'service'),
        page: optionalString(request.query, 'page'),
        maxPages: optionalNumber(request.query, 'maxPages', 1, 1000, true) ?? 50,
      });
      return { from: new Date(w.fromMs).toISOString(), to: new Date(w.toMs).toISOString(), ...report };
    },
  );
}
