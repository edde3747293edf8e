/**
 * Alerting routes under `/api/v1/alerts`: rules (`GET/POST /rules`, `DELETE /rules/{id}`), the current
 * state of every rule (`GET /`), the transition history (`GET /history`) and silences
 * (`GET/POST /silences`). The API key is required. Schemas in `schemas/alerts.ts`: a rule body is checked
 * against the same schema as the rules file before the handler runs. At most `maxAlertRules` rules (409
 * `ERR_ALERT_RULES_LIMIT` beyond); a change is answered once the rules file is written.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AlertEngine, ruleFromInput } from '../alerts/index.ts';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import { requireKey } from './auth.ts';
import { type AlertRuleInput, alertRouteSchemas as S, type SilenceInput } from './schemas/alerts.ts';

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

  app.get('/api/v1/alerts/rules', { schema: S.listRules }, async () => ({ rules: engine.list() }));

  app.post(
    '/api/v1/alerts/rules',
    { schema: S.upsertRule },
    async (request: FastifyRequest<{ Body: AlertRuleInput }>, reply) => {
      const rule = ruleFromInput(request.body);
      // Replacing a rule is always allowed; a new one only below maxAlertRules.
      if (!engine.has(rule.id) && engine.size >= config.maxAlertRules) {
        throw new SiperfError(
          'ERR_ALERT_RULES_LIMIT',
          `at most ${config.maxAlertRules} alert rules (maxAlertRules); delete one or replace one by its id`,
          { limit: config.maxAlertRules },
        );
      }
      engine.upsert(rule);
      // The answer waits for the rules file (written off the event loop, atomically).
      await engine.saved();
      return reply.code(201).send(rule);
    },
  );

  app.delete(
    '/api/v1/alerts/rules/:id',
    { schema: S.deleteRule },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      if (!engine.remove(request.params.id)) {
        throw new SiperfError(
          'ERR_QUERY_NOT_FOUND',
          `no alert rule ${JSON.stringify(request.params.id.slice(0, 64))}`,
        );
      }
      await engine.saved();
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/alerts', { schema: S.states }, async () => ({
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
      receivers: engine.receiversOf(s.rule).length,
      delivery: s.delivery ?? null,
    })),
  }));

  app.get(
    '/api/v1/alerts/history',
    { schema: S.history },
    async (request: FastifyRequest<{ Querystring: { limit?: number } }>) => ({
      events: engine.events(request.query.limit ?? 1000),
    }),
  );

  app.get('/api/v1/alerts/silences', { schema: S.silences }, async () => ({
    silences: engine.activeSilences(now()).map((s) => ({ ...s, endsAt: iso(s.endsAtMs) })),
  }));

  app.post(
    '/api/v1/alerts/silences',
    { schema: S.addSilence },
    async (request: FastifyRequest<{ Body: SilenceInput }>, reply) => {
      const { ruleId, durationMs, comment } = request.body;
      const labels = request.body.labels ?? {};
      // A silence without a matcher would silence everything: the schema cannot say "one of the two".
      if (ruleId === undefined && Object.keys(labels).length === 0) {
        throw new SiperfError('ERR_API_BODY', 'ruleId or labels: a silence needs at least one matcher', {
          field: 'ruleId',
        });
      }
      const silence = {
        id: randomUUID(),
        ruleId,
        labels,
        endsAtMs: now() + durationMs,
        comment: comment ?? '',
      };
      engine.addSilence(silence);
      return reply.code(201).send({ ...silence, endsAt: iso(silence.endsAtMs) });
    },
  );
}
