/**
 * Schemas of the alerting routes under `/api/v1/alerts`: rules, the state of every rule, the history of
 * transitions, silences. A rule as a client writes it is `AlertRuleInput` of `model/alert-rule.ts` (the
 * rules file is checked with the same schema); a rule as the server answers it has its defaults filled
 * in. Durations in ms, times ISO-8601.
 * @module
 */
import { type Static, Type } from 'typebox';
import {
  ALERT_EXPRESSION_KINDS,
  AlertExpressionInput,
  AlertRuleInput,
  alertRuleMembers,
  ReceiverInput,
} from '../../model/alert-rule.ts';
import { Closed, Nullable, problems, StringEnum } from './common.ts';

export { ALERT_EXPRESSION_KINDS, AlertExpressionInput, AlertRuleInput, ReceiverInput };

const SEVERITIES = ['info', 'warning', 'critical'] as const;
const Labels = Type.Record(Type.String(), Type.String());

/** A rule as the server holds it: an id, and every default filled in. */
export const AlertRule = Closed(
  {
    ...alertRuleMembers,
    id: Type.String(),
    forMs: Type.Number(),
    windowMs: Type.Number(),
    severity: StringEnum(SEVERITIES),
    labels: Labels,
    receivers: Type.Array(ReceiverInput),
  },
  { description: 'an alerting rule with its defaults filled in' },
);
export type AlertRule = Static<typeof AlertRule>;

export const AlertRulesAnswer = Closed({ rules: Type.Array(AlertRule) });
export type AlertRulesAnswer = Static<typeof AlertRulesAnswer>;

export const AlertStatus = Closed({
  ruleId: Type.String(),
  name: Type.String(),
  severity: StringEnum(SEVERITIES),
  state: StringEnum(['inactive', 'pending', 'firing', 'resolved'] as const),
  since: Nullable(Type.String({ description: 'when the state began (null while inactive)' })),
  labels: Type.Record(Type.String(), Type.String(), {
    description: "the rule's labels and those of the value (host, endpoint…)",
  }),
  value: Nullable(Type.Number({ description: 'last value (null: not evaluated or no data)' })),
  threshold: Type.Number(),
  lastEvaluated: Nullable(Type.String()),
  error: Type.Optional(Type.String({ description: 'why the last evaluation failed' })),
  receivers: Type.Integer({
    minimum: 0,
    description:
      "receivers the rule's notices go to: its own, else those of the alertReceivers setting; 0: nobody is notified",
  }),
  delivery: Nullable(
    StringEnum(['delivered', 'failed', 'no-receiver', 'silenced'] as const, {
      description:
        'what became of the last notice since the alert began firing: delivered (every receiver took it), failed (a receiver refused it or was unreachable after retries), no-receiver (firing, not delivered: the rule has no receiver and alertReceivers is unset), silenced (not sent); null while inactive or pending',
    }),
  ),
});
export type AlertStatus = Static<typeof AlertStatus>;

export const AlertsAnswer = Closed({ alerts: Type.Array(AlertStatus) });
export type AlertsAnswer = Static<typeof AlertsAnswer>;

export const AlertEvent = Closed({
  at: Type.String(),
  ruleId: Type.String(),
  name: Type.String(),
  transition: StringEnum(['pending', 'firing', 'resolved', 'inactive'] as const),
  value: Type.Optional(Type.Number({ description: 'absent without data' })),
  silenced: Type.Boolean(),
  deliveries: Type.Array(
    Closed({
      receiver: StringEnum(['webhook', 'slack', 'pagerduty'] as const),
      ok: Type.Boolean(),
      attempts: Type.Integer(),
      status: Type.Optional(Type.Integer({ description: 'HTTP status of the last attempt' })),
      error: Type.Optional(Type.String()),
    }),
  ),
});
export type AlertEvent = Static<typeof AlertEvent>;

export const AlertHistoryAnswer = Closed({ events: Type.Array(AlertEvent, { description: 'newest first' }) });
export type AlertHistoryAnswer = Static<typeof AlertHistoryAnswer>;

const silenceMembers = {
  ruleId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the rule silenced' })),
  labels: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'labels every silenced alert has (with ruleId: and)',
    }),
  ),
};

/** A new silence: at least one matcher (`ruleId` or a label), for `durationMs`. */
export const SilenceInput = Closed(
  {
    ...silenceMembers,
    durationMs: Type.Number({ minimum: 1000, maximum: 90 * 86_400_000, description: 'at most 90 days' }),
    comment: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { description: 'silences matching alerts (ruleId, labels, or both) for durationMs' },
);
export type SilenceInput = Static<typeof SilenceInput>;

export const Silence = Closed({
  id: Type.String(),
  ruleId: silenceMembers.ruleId,
  labels: Labels,
  endsAtMs: Type.Number({ description: 'ms since the epoch' }),
  endsAt: Type.String(),
  comment: Type.String(),
});
export type Silence = Static<typeof Silence>;

export const SilencesAnswer = Closed({ silences: Type.Array(Silence) });
export type SilencesAnswer = Static<typeof SilencesAnswer>;

const tags = ['alerts'];

/** Route schemas of the alerting routes. */
export const alertRouteSchemas = {
  listRules: {
    summary: 'Alerting rules',
    tags,
    querystring: Closed({}),
    response: { 200: AlertRulesAnswer, ...problems() },
  },
  upsertRule: {
    summary: 'Create or replace a rule (by id)',
    tags,
    querystring: Closed({}),
    body: AlertRuleInput,
    response: { 201: AlertRule, ...problems(409, 413, 415) },
  },
  deleteRule: {
    summary: 'Delete a rule (a firing one is resolved at its receivers)',
    tags,
    params: Closed({ id: Type.String({ description: 'rule id' }) }),
    querystring: Closed({}),
    response: { 204: Type.Null({ description: 'Deleted' }), ...problems(404) },
  },
  states: {
    summary: 'State of every rule: inactive, pending, firing, resolved',
    tags,
    querystring: Closed({}),
    response: { 200: AlertsAnswer, ...problems() },
  },
  history: {
    summary: 'Transitions, newest first',
    tags,
    querystring: Closed({
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
    }),
    response: { 200: AlertHistoryAnswer, ...problems() },
  },
  silences: {
    summary: 'Active silences',
    tags,
    querystring: Closed({}),
    response: { 200: SilencesAnswer, ...problems() },
  },
  addSilence: {
    summary: 'Silence a rule or labels for a while',
    tags,
    querystring: Closed({}),
    body: SilenceInput,
    response: { 201: Silence, ...problems(413, 415) },
  },
} as const;
