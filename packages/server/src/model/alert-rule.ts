/**
 * An alerting rule as a client writes it (`POST /api/v1/alerts/rules`, `alertRulesFile`, the saved
 * `alert-rules.json`): one TypeBox schema that the API validates bodies with, `/docs/json` documents, and
 * `alerts/rules.ts` checks the files with. Limits and defaults live here and nowhere else; the rule one
 * schema cannot say (`clear` on the right side of `threshold`) is checked in `alerts/rules.ts`.
 * Durations in ms. Plain TypeBox: imports nothing from the project.
 * @module
 */
import { type Static, type TSchema, Type } from 'typebox';

/** A string from a closed set, as `{ type: 'string', enum }` (one message naming every value). */
function stringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * A tagged union (OpenAPI `discriminator`): member `tag` of each branch fixes which branch applies, so a
 * mistake is reported against that branch (`expr.name: required`) and the branch's defaults are filled.
 */
function tagged<const T extends TSchema[]>(
  tag: string,
  branches: [...T],
  options: Record<string, unknown> = {},
) {
  return Type.Unsafe<Static<T[number]>>({
    type: 'object',
    required: [tag],
    oneOf: branches,
    discriminator: { propertyName: tag },
    ...options,
  });
}

/** An object with exactly these members. */
const closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

const DAY_MS = 86_400_000;

/** Defaults a rule gets for what it leaves out (filled in by validation). */
export const ALERT_RULE_DEFAULTS = {
  forMs: 0,
  windowMs: 300_000,
  severity: 'warning',
  minRequests: 10,
  baselineMs: DAY_MS,
  minP95Ms: 100,
  metricStat: 'mean',
} as const;

const host = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'host.name (default: the host that reported last)',
  }),
);
const select = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 1024,
    description: 'a label value choosing one series (a mount point…)',
  }),
);

export const ALERT_EXPRESSION_KINDS = ['resource', 'exhaustion', 'endpoint', 'metric'] as const;

/** Mean utilisation (0..1) of a host's CPU or memory, or of its fullest filesystem, over the window. */
export const ResourceExpression = closed(
  {
    kind: Type.Literal('resource'),
    resource: stringEnum(['cpu', 'memory', 'disk'] as const),
    host,
    select,
  },
  "mean utilisation (0..1) of a host's CPU or memory, or of its fullest filesystem, over the window",
);

/** Hours until a filesystem (or memory) is predicted full (the P50 crossing of a 24 h forecast). */
export const ExhaustionExpression = closed(
  {
    kind: Type.Literal('exhaustion'),
    resource: stringEnum(['disk', 'memory'] as const),
    host,
    select,
  },
  'hours until a filesystem (or memory) is predicted full: the P50 crossing of a 24 h forecast',
);

/**
 * An endpoint's p95 (ms), error rate (0..1), or p95 regression (the window's p95 over the p95 of the
 * `baselineMs` before the window, counted only when the window's p95 is at least `minP95Ms`); without
 * `endpoint`, the worst one. Both windows need `minRequests`.
 */
export const EndpointExpression = closed(
  {
    kind: Type.Literal('endpoint'),
    stat: stringEnum(['p95Ms', 'errorRate', 'p95Regression'] as const),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'service.name' })),
    endpoint: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'METHOD route (default: the worst endpoint)',
      }),
    ),
    minRequests: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1e9,
        default: ALERT_RULE_DEFAULTS.minRequests,
        description: 'requests an endpoint needs in the window (and the baseline) to count',
      }),
    ),
    baselineMs: Type.Optional(
      Type.Number({
        minimum: 60_000,
        maximum: 30 * DAY_MS,
        default: ALERT_RULE_DEFAULTS.baselineMs,
        description: 'baseline length before the window, for p95Regression',
      }),
    ),
    minP95Ms: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 3_600_000,
        default: ALERT_RULE_DEFAULTS.minP95Ms,
        description: 'p95Regression ignores endpoints whose window p95 is below this',
      }),
    ),
  },
  "an endpoint's p95 (ms), error rate (0..1) or p95 regression (window p95 over baseline p95)",
);

/** Any stored metric (rates for counters): mean, max or last over the window, the largest series. */
export const MetricExpression = closed(
  {
    kind: Type.Literal('metric'),
    name: Type.String({ minLength: 1, maxLength: 255, description: 'metric name' }),
    stat: Type.Optional(
      stringEnum(['mean', 'max', 'last'] as const, { default: ALERT_RULE_DEFAULTS.metricStat }),
    ),
    host,
  },
  'any stored metric (rates for counters): mean, max or last over the window, the largest series',
);

/** What a rule evaluates to a number, by `kind`. */
export const AlertExpressionInput = tagged(
  'kind',
  [ResourceExpression, ExhaustionExpression, EndpointExpression, MetricExpression],
  { description: 'what the rule evaluates to a number, by kind' },
);
export type AlertExpressionInput = Static<typeof AlertExpressionInput>;

const httpUrl = (description: string) =>
  Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://', description });

/** Where notifications go, by `type`. */
export const ReceiverInput = tagged(
  'type',
  [
    closed(
      { type: Type.Literal('webhook'), url: httpUrl('an http(s) URL of at most 2048 characters') },
      'Alertmanager webhook payload (version 4)',
    ),
    closed(
      { type: Type.Literal('slack'), url: httpUrl('an http(s) URL of at most 2048 characters') },
      'Slack incoming webhook',
    ),
    closed(
      {
        type: Type.Literal('pagerduty'),
        routingKey: Type.String({ minLength: 1, maxLength: 64, description: 'Events API v2 routing key' }),
        url: Type.Optional(
          httpUrl('an http(s) URL of at most 2048 characters (default: the PagerDuty Events API)'),
        ),
      },
      'PagerDuty Events API v2 trigger/resolve',
    ),
  ],
  { description: 'a notification target, by type' },
);
export type ReceiverInput = Static<typeof ReceiverInput>;

const readOnlyFlag = (description: string) =>
  Type.Optional(
    Type.Boolean({ readOnly: true, description: `${description}; set by the server, ignored when sent` }),
  );

/** The members of a rule as a client writes it (exported for the answer schema, which requires more). */
export const alertRuleMembers = {
  id: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_.-]+$',
      description: '1..64 letters, digits, _ . -',
    }),
  ),
  name: Type.String({ minLength: 1, maxLength: 256 }),
  expr: AlertExpressionInput,
  op: stringEnum(['>', '<'] as const, {
    description: 'fires when the value is above (>) or below (<) threshold',
  }),
  threshold: Type.Number({ minimum: -1e15, maximum: 1e15 }),
  clear: Type.Optional(
    Type.Number({
      minimum: -1e15,
      maximum: 1e15,
      description:
        'level that clears a firing alert (hysteresis): ≤ threshold for >, ≥ for < (default threshold)',
    }),
  ),
  forMs: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 7 * DAY_MS,
      default: ALERT_RULE_DEFAULTS.forMs,
      description: 'how long the condition must hold before firing (0 fires at once)',
    }),
  ),
  windowMs: Type.Optional(
    Type.Number({
      minimum: 10_000,
      maximum: 7 * DAY_MS,
      default: ALERT_RULE_DEFAULTS.windowMs,
      description: 'window the value is computed over',
    }),
  ),
  severity: Type.Optional(
    stringEnum(['info', 'warning', 'critical'] as const, { default: ALERT_RULE_DEFAULTS.severity }),
  ),
  labels: Type.Optional(
    Type.Unsafe<Record<string, string>>({
      type: 'object',
      patternProperties: { '^.*$': { type: 'string', maxLength: 1024 } },
      propertyNames: { type: 'string', maxLength: 128 },
      default: {},
      description: 'added to notifications: keys of at most 128 characters, values strings of at most 1024',
    }),
  ),
  receivers: Type.Optional(Type.Array(ReceiverInput, { maxItems: 10, default: [] })),
  builtIn: readOnlyFlag('shipped with siperf'),
  fromFile: readOnlyFlag('loaded from alertRulesFile'),
};

/** A rule as a client writes it; `id` defaults to a new UUID (a rule with an existing id replaces it). */
export const AlertRuleInput = Type.Object(alertRuleMembers, {
  additionalProperties: false,
  description: 'an alerting rule; without id a new UUID is given, with an existing id the rule is replaced',
});
export type AlertRuleInput = Static<typeof AlertRuleInput>;
