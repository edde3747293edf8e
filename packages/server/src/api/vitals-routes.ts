/**
 * Real-user monitoring routes: `GET /rum.js` (the `@siperf/browser` script), `POST
 * /api/v1/apm/user-experience` (web-vitals beacons; CORS for `corsOrigins`; `text/plain` or
 * `application/json`; the ingest key may come as `?key=`), and `GET /api/v1/apm/metrics/user-experience`
 * (p75 per page and overall, threshold counts, the 0–100 score, the page-load breakdown).
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import cors from '@fastify/cors';
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { userExperienceReport } from '../apm/index.ts';
import { type Config, corsOriginList } from '../config.ts';
import { ERROR_CODES, SiperfError } from '../errors.ts';
import { normalisePage, parseVitalsBeacon } from '../ingest/index.ts';
import type { Store } from '../storage/index.ts';
import { nowNs } from '../util/time.ts';
import { requireKey } from './auth.ts';
import { problemType } from './problem.ts';
import { parseWindow } from './query-params.ts';
import { vitalsRouteSchemas as S, type UserExperienceQuery } from './schemas/vitals.ts';
import { bodyDecodedByHandler } from './validation.ts';

/** What the vitals routes need. */
export interface VitalsDeps {
  config: Config;
  store: Store;
  nowMs?: () => number;
}

const gzip = promisify(gzipCallback);

type Q = FastifyRequest<{ Querystring: UserExperienceQuery }>;

const BEACON_PATH = '/api/v1/apm/user-experience';

/**
 * Reads the browser script that `npm run build` bundles into `@siperf/browser`'s `dist/rum.js` (nothing is
 * compiled while a request waits): the workspace's in the repository, else the copy an installed
 * `@siperf/server` carries (`dist/bundled/rum.js`, made by `npm pack`).
 * @throws Error when the script is not built.
 */
async function readSnippet(): Promise<Buffer> {
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve('@siperf/browser/rum.js');
  } catch {
    path = fileURLToPath(new URL('../bundled/rum.js', import.meta.url));
    if (!existsSync(path)) {
      throw new Error('rum.js is not built (@siperf/browser dist/rum.js): run `npm run build`');
    }
  }
  return readFile(path);
}

/** Registers the RUM routes. */
export async function vitalsRoutes(app: FastifyInstance, deps: VitalsDeps): Promise<void> {
  const { config, store } = deps;
  const now = deps.nowMs ?? Date.now;
  const origins = corsOriginList(config.corsOrigins);

  let snippet: Promise<Buffer> | undefined;
  let gzipped: Promise<Buffer> | undefined;
  app.get('/rum.js', { schema: S.rum }, async (request, reply) => {
    if (!snippet) {
      snippet = readSnippet();
      snippet.catch(() => {
        snippet = undefined;
      });
    }
    const script = await snippet;
    reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .header('access-control-allow-origin', '*')
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding');
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
      gzipped ??= gzip(script);
      return reply.header('content-encoding', 'gzip').send(await gzipped);
    }
    return reply.send(script);
  });

  await app.register(async (beacon) => {
    if (origins.length > 0) {
      // CORS for the beacon path only: @fastify/cors answers preflights through a catch-all OPTIONS
      // route, so every other path gets `origin: false` (no CORS headers, the preflight is a 404).
      const allowed = {
        origin: origins.includes('*') ? '*' : origins,
        methods: ['POST'],
        allowedHeaders: ['content-type', 'authorization', 'x-api-key'],
        maxAge: 86_400,
      };
      await beacon.register(cors, {
        delegator: (request, callback) => {
          const path = request.url.split('?')[0];
          callback(null, path === BEACON_PATH ? allowed : { origin: false });
        },
      });
    }
    // The key before the body is read or the query validated (`?key=` too: sendBeacon cannot set headers);
    // a CORS preflight needs none.
    beacon.addHook('onRequest', async (request) => {
      if (request.method === 'POST') {
        requireKey(request, [config.ingestKey, config.apiKey], 'web-vitals beacons', true);
      }
    });
    // The body is parsed here, not by Fastify: sendBeacon sends text/plain, a UTF-8 BOM is tolerated, and
    // keys such as `__proto__` cost one item's field, not the whole beacon.
    beacon.removeContentTypeParser(['application/json', 'text/plain']);
    beacon.addContentTypeParser(
      ['application/json', 'text/plain'],
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );
    beacon.post(
      BEACON_PATH,
      {
        bodyLimit: 1024 * 1024,
        config: {
          accepts: 'application/json or text/plain (JSON text)',
          ingest: true,
        } as FastifyContextConfig,
        schema: S.beacon,
        validatorCompiler: bodyDecodedByHandler,
      },
      async (request: FastifyRequest<{ Body: string }>, reply: FastifyReply) => {
        const encoding = request.headers['content-encoding'];
        if (encoding !== undefined && encoding !== 'identity') {
          throw new SiperfError(
            'ERR_INGEST_CONTENT_TYPE',
            `content-encoding ${JSON.stringify(encoding)} is not accepted for beacons; send them uncompressed`,
          );
        }
        const batch = parseVitalsBeacon(request.body, nowNs());
        if (batch.events.length === 0) {
          return reply
            .code(400)
            .type('application/problem+json')
            .send({
              type: problemType('ERR_INGEST_VITALS'),
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

  await app.register(async (reads) => {
    // The key before the query is validated.
    reads.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));
    reads.get(
      '/api/v1/apm/metrics/user-experience',
      {
        schema: S.report,
      },
      async (request: Q) => {
        const w = parseWindow(request.query, now());
        const report = await userExperienceReport(store, {
          window: w,
          service: request.query.service,
          page: request.query.page === undefined ? undefined : normalisePage(request.query.page),
          maxPages: request.query.maxPages ?? 50,
        });
        return { from: new Date(w.fromMs).toISOString(), to: new Date(w.toMs).toISOString(), ...report };
      },
    );
  });
}
