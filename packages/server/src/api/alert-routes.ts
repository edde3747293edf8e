/**
 * Alerting routes under `/api/v1/alerts`: rules (`GET/POST /rules`, `DELETE /rules/{id}`), the current
 * state of every rule (`GET /`), the transition history (`GET /history`) and silences
 * (`GET/POST /silences`). The API key is required.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AlertEngine, parseRule } from '../alerts/index.ts';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import { requireKey } from './auth.ts';
import { optionalNumber } from './query-params.ts';

/** What the alert routes need. */
export interface AlertDeps {
  config: Config;
  engine: AlertEngine;
  nowMs?: () => number;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** Registers the alert routes. */
export async function alertRoutes(app: FastifyInstance, deps: AlertDeps): Promise<void> {
  const { config, engine } = deps;
  const now = deps.nowMs ?? Date.now;
  app.addHook('onRequest', async (request) => requireKey(request, [config.apiKey], 'the API'));
  const tags = ['alerts'];

  app.get('/api/v1/alerts/rules', { schema: { summary: 'Alerting rules', tags } }, async () => ({
    rules: engine.list(),
  }));

  app.post(
    '/api/v1/alerts/rules',
    { schema: { summary: 'Create or replace a rule (by id)', tags } },
    async (request, reply) => {
      const rule = parseRule(request.body);
      engine.upsert(rule);
      return reply.code(201).send(rule);
    },
  );

  app.delete(
    '/api/v1/alerts/rules/:id',
    { schema: { summary: 'Delete a rule', tags } },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      if (!engine.remove(request.params.id)) {
        throw new SiperfError(
          'ERR_QUERY_NOT_FOUND',
          `no alert rule ${JSON.stringify(request.params.id.slice(0, 64))}`,
        );
      }
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/alerts',
    { schema: { summary: 'State of every rule: inactive, pending, firing, resolved', tags } },
    async () => ({
      alerts: engine.states().map((s) => ({
        ruleId: s.rule.id,
        name: s.rule.name,
        severity: s.rule.severity,
        state: s.state.phase,
        since: 'sinceMs' in s.state ? iso(s.state.sinceMs) : null,
        labels: { ...s.rule.labels, ...s.labels },
        value: s.lastValue ?? null,
        threshold: s.rule.threshold,
        lastEvaluated: iso(s.lastEvaluatedMs),
        ...(s.error ? { error: s.error } : {}),
      })),
    }),
  );

  app.get(
    '/api/v1/alerts/history',
    {
      schema: {
        summary: 'Transitions, newest first',
        tags,
        querystring: { type: 'object', properties: { limit: { type: 'string' } } },
      },
    },
    async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) => ({
      events: engine.events(optionalNumber(request.query, 'limit', 1, 10_000, true) ?? 1000),
    }),
  );

  app.get('/api/v1/alerts/silences', { schema: { summary: 'Active silences', tags } }, async () => ({
    silences: engine.activeSilences(now()).map((s) => ({ ...s, endsAt: iso(s.endsAtMs) })),
  }));

  app.post(
    '/api/v1/alerts/silences',
    { schema: { summary: 'Silence a rule or labels for a while', tags } },
    async (request, reply) => {
      const b = (request.body ?? {}) as Record<string, unknown>;
      const duration = b.durationMs;
      if (
        typeof duration !== 'number' ||
        !Number.isFinite(duration) ||
        duration < 1000 ||
        duration > 90 * 86_400_000
      ) {
        throw new SiperfError('ERR_API_BODY', 'durationMs: required, a number 1000..7776000000 (90 days)', {
          field: 'durationMs',
        });
      }
      const labels = b.labels ?? {};
      if (
        typeof labels !== 'object' ||
        labels === null ||
        Array.isArray(labels) ||
        Object.values(labels).some((v) => typeof v !== 'string')
      ) {
        throw new SiperfError('ERR_API_BODY', 'labels: expected an object of strings', { field: 'labels' });
      }
      if (b.ruleId !== undefined && typeof b.ruleId !== 'string') {
        throw new SiperfError('ERR_API_BODY', 'ruleId: expected a string', { field: 'ruleId' });
      }
      if (b.ruleId === undefined && Object.keys(labels).length === 0) {
        throw new SiperfError('ERR_API_BODY', 'ruleId or labels: a silence needs at least one matcher', {
          field: 'ruleId',
        });
      }
      const silence = {
        id: randomUUID(),
        ruleId: b.ruleId as string | undefined,
        labels: labels as Record<string, string>,
        endsAtMs: now() + duration,
        comment: typeof b.comment === 'string' ? b.comment.slice(0, 1024) : '',
      };
      engine.addSilence(silence);
      return reply.code(201).send({ ...silence, endsAt: iso(silence.endsAtMs) });
    },
  );
}
