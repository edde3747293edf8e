/**
 * Recommendation routes: `GET /api/v1/recommendations` (the one ranked list, filtered by kind, service and
 * state), `GET /api/v1/recommendations/{id}`, `POST /api/v1/recommendations/{id}/dismiss` and
 * `POST /api/v1/recommendations/{id}/applied` (its figure measured before, and judged after a like window:
 * recommendations/outcome.ts). Schemas in
 * schemas/recommendations.ts (unknown parameters and malformed ids are refused by name before a handler
 * runs); an id never computed by this server nor saved with a state is a 404 naming `id`. The API key is
 * required.
 * @module
 */
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import type { RecommendationEngine } from '../recommendations/index.ts';
import { requireKey } from './auth.ts';
import { parseWindow } from './query-params.ts';
import {
  type AppliedBody,
  type DismissBody,
  type RecommendationListQuery,
  type RecommendationParams,
  type RecommendationQuery,
  recommendationRouteSchemas as S,
} from './schemas/recommendations.ts';

/** What the recommendation routes need. */
export interface RecommendationDeps {
  config: Config;
  engine: RecommendationEngine;
  nowMs?: () => number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Registers the recommendation routes. */
export async function recommendationRoutes(app: FastifyInstance, deps: RecommendationDeps): Promise<void> {
  const { config, engine } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));

  app.get(
    '/api/v1/recommendations',
    { schema: S.list },
    async (request: FastifyRequest<{ Querystring: RecommendationListQuery }>) => {
      const q = request.query;
      const w = parseWindow(q, now());
      const r = await engine.compute({ window: w, service: q.service });
      const list = r.recommendations.filter(
        (x) =>
          (q.kind === undefined || x.kind === q.kind) &&
          (q.state === undefined || x.state === q.state) &&
          (q.service === undefined || x.target.service === q.service),
      );
      const open = list.filter((x) => x.state === 'open');
      return {
        // The window the findings were computed over (an earlier one when they were reused).
        from: iso(r.window.fromMs),
        to: iso(r.window.toMs),
        recommendations: list,
        totals: {
          timeSavedSecondsPerHour: open.reduce((s, x) => s + (x.gain.timeSavedSecondsPerHour ?? 0), 0),
          moneyPerMonth: open.reduce((s, x) => s + (x.gain.moneyPerMonth ?? 0), 0),
        },
        notes: r.notes,
      };
    },
  );

  const answer = (
    w: { fromMs: number; toMs: number },
    id: string,
    found: Awaited<ReturnType<RecommendationEngine['find']>>,
  ) => {
    if (!found) {
      throw new SiperfError(
        'ERR_QUERY_NOT_FOUND',
        `id: no recommendation ${id} in ${iso(w.fromMs)} … ${iso(w.toMs)}, nor any this server computed or saved before (GET /api/v1/recommendations lists them)`,
        { field: 'id' },
      );
    }
    const r = found.recommendation;
    return {
      from: iso(w.fromMs),
      to: iso(w.toMs),
      inWindow: found.inWindow,
      note: found.inWindow
        ? null
        : `not found over this window: its evidence left the window or the retention; shown as last computed at ${r.lastSeen} (window ${r.evidence.window.from} … ${r.evidence.window.to})`,
      recommendation: r,
    };
  };

  app.get(
    '/api/v1/recommendations/:id',
    { schema: S.one },
    async (request: FastifyRequest<{ Params: RecommendationParams; Querystring: RecommendationQuery }>) => {
      const w = parseWindow(request.query, now());
      const id = request.params.id;
      return answer(w, id, await engine.find(id, { window: w, service: request.query.service }));
    },
  );

  app.post(
    '/api/v1/recommendations/:id/dismiss',
    { config: { accepts: 'application/json' } as FastifyContextConfig, schema: S.dismiss },
    async (
      request: FastifyRequest<{
        Params: RecommendationParams;
        Querystring: RecommendationQuery;
        Body: DismissBody | undefined;
      }>,
    ) => {
      const w = parseWindow(request.query, now());
      const id = request.params.id;
      const reason = request.body?.reason ?? null;
      const found = await engine.dismiss(id, reason, { window: w, service: request.query.service });
      // Answered once the state is on disk (written off the event loop).
      await engine.flush();
      return answer(w, id, found);
    },
  );

  app.post(
    '/api/v1/recommendations/:id/applied',
    { config: { accepts: 'application/json' } as FastifyContextConfig, schema: S.applied },
    async (
      request: FastifyRequest<{
        Params: RecommendationParams;
        Querystring: RecommendationQuery;
        Body: AppliedBody | undefined;
      }>,
    ) => {
      const w = parseWindow(request.query, now());
      const id = request.params.id;
      const note = request.body?.note ?? null;
      const found = await engine.applied(id, note, { window: w, service: request.query.service });
      // Answered once the state and its before figure are on disk.
      await engine.flush();
      return answer(w, id, found);
    },
  );
}
