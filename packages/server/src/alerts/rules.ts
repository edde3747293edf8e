/**
 * Alerting rules: what to watch (an expression), the condition, the labels and severity, and where to
 * send notifications. Input is checked against the schema of `model/alert-rule.ts` (the same one the API
 * validates bodies with), with an error naming the field's whole path; this file adds the one rule the
 * schema cannot say (`clear` against `threshold`) and the defaults.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type Static, Type } from 'typebox';
import { SiperfError } from '../errors.ts';
import {
  ALERT_RULE_DEFAULTS,
  type AlertExpressionInput,
  AlertRuleInput,
  type EndpointExpression,
  type ExhaustionExpression,
  type MetricExpression,
  type ResourceExpression,
} from '../model/alert-rule.ts';
import { schemaCheck } from '../util/schema-check.ts';
import type { Receiver } from './notifiers.ts';
import type { Condition } from './state-machine.ts';

/**
 * What a rule evaluates to a number (the schemas of `model/alert-rule.ts` describe each kind), with the
 * defaults filled in: an `endpoint` expression has its `minRequests`, a `metric` expression its `stat`.
 */
export type AlertExpression =
  | Static<typeof ResourceExpression>
  | Static<typeof ExhaustionExpression>
  | (Static<typeof EndpointExpression> & { minRequests: number })
  | (Static<typeof MetricExpression> & { stat: 'mean' | 'max' | 'last' });

/** A rule. Durations in ms. */
export interface AlertRule extends Condition {
  id: string;
  name: string;
  expr: AlertExpression;
  /** Window the value is computed over. Default 5 min. */
  windowMs: number;
  severity: 'info' | 'warning' | 'critical';
  labels: Record<string, string>;
  receivers: Receiver[];
  /** Shipped with siperf (switch off with `alertDefaultRules: 0`). */
  builtIn?: boolean;
  /** Loaded from `alertRulesFile` (not saved with the API's rules: the file stays the source). */
  fromFile?: boolean;
}

const checkRule = schemaCheck(AlertRuleInput, 'body');
const checkRulesFile = schemaCheck(
  Type.Object({ rules: Type.Array(AlertRuleInput) }, { additionalProperties: false }),
  'file',
);

function exprOf(e: AlertExpressionInput): AlertExpression {
  const d = ALERT_RULE_DEFAULTS;
  switch (e.kind) {
    case 'resource':
    case 'exhaustion':
      return e;
    case 'endpoint':
      return {
        ...e,
        minRequests: e.minRequests ?? d.minRequests,
        baselineMs: e.baselineMs ?? d.baselineMs,
        minP95Ms: e.minP95Ms ?? d.minP95Ms,
      };
    case 'metric':
      return { ...e, stat: e.stat ?? d.metricStat };
  }
}

/**
 * A rule from input that fits {@link AlertRuleInput} (a validated API body): checks what the schema
 * cannot say, gives the rule an id when it has none, and leaves out the flags only the server sets.
 * @throws SiperfError `ERR_API_BODY` naming `clear` when it is on the wrong side of `threshold`.
 */
export function ruleFromInput(input: AlertRuleInput): AlertRule {
  const { op, threshold, clear } = input;
  if (clear !== undefined && (op === '>' ? clear > threshold : clear < threshold)) {
    throw new SiperfError(
      'ERR_API_BODY',
      `clear: must be ${op === '>' ? '≤' : '≥'} threshold (${threshold}) so the alert can clear`,
      { field: 'clear' },
    );
  }
  const d = ALERT_RULE_DEFAULTS;
  return {
    id: input.id ?? randomUUID(),
    name: input.name,
    expr: exprOf(input.expr),
    op,
    threshold,
    ...(clear !== undefined ? { clear } : {}),
    forMs: input.forMs ?? d.forMs,
    windowMs: input.windowMs ?? d.windowMs,
    severity: input.severity ?? d.severity,
    labels: input.labels ?? {},
    receivers: input.receivers ?? [],
  };
}

/**
 * Validates a rule posted to the API or saved in `alert-rules.json` against {@link AlertRuleInput}.
 * @throws SiperfError `ERR_API_BODY` naming the field's whole path (`expr.name`), what was expected,
 *   what was given, and the limit.
 */
export function parseRule(body: unknown): AlertRule {
  const problem = checkRule(body);
  if (problem) {
    throw new SiperfError('ERR_API_BODY', problem.detail, {
      ...(problem.field ? { field: problem.field } : {}),
      ...(problem.limit !== undefined ? { limit: problem.limit } : {}),
    });
  }
  return ruleFromInput(body as AlertRuleInput);
}

/**
 * Rules of an `alertRulesFile` (`{ "rules": [ … ] }`, each as the API takes it).
 * @throws SiperfError `ERR_CONFIG_INVALID` naming the file and the field's path from the top of the file
 *   (`rules[3].expr.name: required, …`).
 */
export function parseRulesFile(text: string, file: string): AlertRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SiperfError(
      'ERR_CONFIG_INVALID',
      `alertRulesFile ${file}: not JSON (${(err as Error).message})`,
    );
  }
  if (!Array.isArray((doc as { rules?: unknown } | null)?.rules))
    throw new SiperfError('ERR_CONFIG_INVALID', `alertRulesFile ${file}: expected { "rules": [ … ] }`);
  const invalid = (detail: string, field: string, limit?: string | number) =>
    new SiperfError('ERR_CONFIG_INVALID', `alertRulesFile ${file}: ${detail}`, {
      field,
      ...(limit !== undefined ? { limit } : {}),
    });
  const problem = checkRulesFile(doc);
  if (problem) throw invalid(problem.detail, problem.field, problem.limit);
  return (doc as { rules: AlertRuleInput[] }).rules.map((r, i) => {
    try {
      return { ...ruleFromInput(r), fromFile: true };
    } catch (err) {
      const e = err as SiperfError;
      throw invalid(`rules[${i}].${e.detail}`, `rules[${i}].${e.field}`);
    }
  });
}

/** The rules shipped with siperf (each can be deleted; `alertDefaultRules: 0` leaves them out). */
export function defaultRules(): AlertRule[] {
  const base = { receivers: [] as Receiver[], labels: {}, builtIn: true };
  return [
    {
      ...base,
      id: 'cpu-high',
      name: 'CPU high',
      expr: { kind: 'resource', resource: 'cpu' },
      op: '>',
      threshold: 0.9,
      clear: 0.8,
      forMs: 600_000,
      windowMs: 300_000,
      severity: 'warning',
    },
    {
      ...base,
      id: 'memory-high',
      name: 'Memory high',
      expr: { kind: 'resource', resource: 'memory' },
      op: '>',
      threshold: 0.9,
      clear: 0.85,
      forMs: 600_000,
      windowMs: 300_000,
      severity: 'warning',
    },
    {
      ...base,
      id: 'disk-full-24h',
      name: 'Disk full within 24 h',
      expr: { kind: 'exhaustion', resource: 'disk' },
      op: '<',
      threshold: 24,
      clear: 36,
      forMs: 0,
      windowMs: 300_000,
      severity: 'critical',
    },
    {
      ...base,
      id: 'error-rate-high',
      name: 'Error rate high',
      expr: { kind: 'endpoint', stat: 'errorRate', minRequests: 20 },
      op: '>',
      threshold: 0.05,
      clear: 0.02,
      forMs: 300_000,
      windowMs: 300_000,
      severity: 'critical',
    },
    {
      ...base,
      id: 'p95-slow',
      name: 'p95 latency above 2 s',
      expr: { kind: 'endpoint', stat: 'p95Ms', minRequests: 20 },
      op: '>',
      threshold: 2000,
      clear: 1500,
      forMs: 600_000,
      windowMs: 600_000,
      severity: 'warning',
    },
    {
      ...base,
      id: 'p95-regression',
      name: 'p95 latency 50% above the last day',
      expr: {
        kind: 'endpoint',
        stat: 'p95Regression',
        minRequests: 20,
        baselineMs: 86_400_000,
        minP95Ms: 100,
      },
      op: '>',
      threshold: 1.5,
      clear: 1.2,
      forMs: 600_000,
      windowMs: 600_000,
      severity: 'warning',
    },
  ];
}
