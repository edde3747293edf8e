/**
 * Alerting rules: what to watch (an expression), the condition, the labels and severity, and where to
 * send notifications. Validated once, with an error naming the field.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { SiperfError } from '../errors.ts';
import type { Receiver } from './notifiers.ts';
import type { Condition } from './state-machine.ts';

/** What a rule evaluates to a number. */
export type AlertExpression =
  /** Mean utilisation (0..1) of a host's CPU or memory, or of its fullest filesystem, over the window. */
  | {
      kind: 'resource';
      resource: 'cpu' | 'memory' | 'disk';
      host?: string | undefined;
      select?: string | undefined;
    }
  /** Hours until a filesystem (or memory) is predicted full (the P50 crossing of a 24 h forecast). */
  | {
      kind: 'exhaustion';
      resource: 'disk' | 'memory';
      host?: string | undefined;
      select?: string | undefined;
    }
  /**
   * An endpoint's p95 (ms), error rate (0..1), or p95 regression (the window's p95 over the p95 of the
   * `baselineMs` before the window, counted only when the window's p95 is at least `minP95Ms`); without
   * `endpoint`, the worst one. Both windows need `minRequests`.
   */
  | {
      kind: 'endpoint';
      stat: 'p95Ms' | 'errorRate' | 'p95Regression';
      service?: string | undefined;
      endpoint?: string | undefined;
      minRequests: number;
      /** Baseline length for `p95Regression`, ms (default a day). */
      baselineMs?: number | undefined;
      /** `p95Regression` ignores endpoints whose p95 is below this, ms (default 100). */
      minP95Ms?: number | undefined;
    }
  /** Any stored metric (rates for counters): mean, max or last over the window, the largest series. */
  | { kind: 'metric'; name: string; stat: 'mean' | 'max' | 'last'; host?: string | undefined };

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

type Body = Record<string, unknown>;

function bad(field: string, message: string): never {
  throw new SiperfError('ERR_API_BODY', `${field}: ${message}`, { field });
}

function str(b: Body, field: string, max = 256, required = false): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) {
    if (required) bad(field, `required, a string of 1..${max} characters`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '' || v.length > max)
    bad(field, `expected a string of 1..${max} characters`);
  return v;
}

function num(b: Body, field: string, min: number, max: number, fallback?: number): number {
  const v = b[field];
  if (v === undefined || v === null) {
    if (fallback === undefined) bad(field, `required, a number ${min}..${max}`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    bad(field, `expected a number ${min}..${max}`);
  return v;
}

function oneOf<T extends string>(b: Body, field: string, values: readonly T[], fallback?: T): T {
  const v = b[field] ?? fallback;
  if (typeof v !== 'string' || !values.includes(v as T)) bad(field, `expected one of ${values.join(', ')}`);
  return v as T;
}

function receiversOf(v: unknown): Receiver[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 10) bad('receivers', 'expected an array of at most 10 receivers');
  return v.map((r, i) => {
    if (typeof r !== 'object' || r === null) bad(`receivers[${i}]`, 'expected an object');
    const o = r as Body;
    const type = oneOf(o, `type`, ['webhook', 'slack', 'pagerduty'] as const);
    const url = str(o, 'url', 2048, type !== 'pagerduty');
    if (url !== undefined && !/^https?:\/\//.test(url)) bad(`receivers[${i}].url`, 'expected an http(s) URL');
    if (type === 'pagerduty') {
      const routingKey = str(o, 'routingKey', 64, true)!;
      return { type, routingKey, ...(url ? { url } : {}) };
    }
    return { type, url: url! };
  });
}

function exprOf(v: unknown): AlertExpression {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('expr', 'expected an object with a kind');
  const e = v as Body;
  const kind = oneOf(e, 'kind', ['resource', 'exhaustion', 'endpoint', 'metric'] as const);
  switch (kind) {
    case 'resource':
      return {
        kind,
        resource: oneOf(e, 'resource', ['cpu', 'memory', 'disk'] as const),
        host: str(e, 'host'),
        select: str(e, 'select', 1024),
      };
    case 'exhaustion':
      return {
        kind,
        resource: oneOf(e, 'resource', ['disk', 'memory'] as const),
        host: str(e, 'host'),
        select: str(e, 'select', 1024),
      };
    case 'endpoint':
      return {
        kind,
        stat: oneOf(e, 'stat', ['p95Ms', 'errorRate', 'p95Regression'] as const),
        service: str(e, 'service'),
        endpoint: str(e, 'endpoint', 1024),
        minRequests: num(e, 'minRequests', 0, 1e9, 10),
        baselineMs: num(e, 'baselineMs', 60_000, 30 * 86_400_000, 86_400_000),
        minP95Ms: num(e, 'minP95Ms', 0, 3_600_000, 100),
      };
    case 'metric':
      return {
        kind,
        name: str(e, 'name', 255, true)!,
        stat: oneOf(e, 'stat', ['mean', 'max', 'last'] as const, 'mean'),
        host: str(e, 'host'),
      };
  }
}

/**
 * Validates a rule posted to the API (or read from the config file).
 * @throws SiperfError `ERR_API_BODY` naming the field and its limit.
 */
export function parseRule(body: unknown): AlertRule {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) bad('body', 'expected a JSON object');
  const b = body as Body;
  const op = oneOf(b, 'op', ['>', '<'] as const);
  const threshold = num(b, 'threshold', -1e15, 1e15);
  const clear = b.clear === undefined ? undefined : num(b, 'clear', -1e15, 1e15);
  if (clear !== undefined && (op === '>' ? clear > threshold : clear < threshold)) {
    bad('clear', `must be ${op === '>' ? '≤' : '≥'} threshold (${threshold}) so the alert can clear`);
  }
  const labels = b.labels ?? {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    bad('labels', 'expected an object of strings');
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string' || k.length > 128 || v.length > 1024)
      bad(`labels.${k}`, 'expected a string (≤ 1024 characters)');
  }
  const id = str(b, 'id', 64);
  if (id !== undefined && !/^[A-Za-z0-9_.-]+$/.test(id)) bad('id', 'expected letters, digits, _ . -');
  return {
    id: id ?? randomUUID(),
    name: str(b, 'name', 256, true)!,
    expr: exprOf(b.expr),
    op,
    threshold,
    clear,
    forMs: num(b, 'forMs', 0, 7 * 86_400_000, 0),
    windowMs: num(b, 'windowMs', 10_000, 7 * 86_400_000, 300_000),
    severity: oneOf(b, 'severity', ['info', 'warning', 'critical'] as const, 'warning'),
    labels: labels as Record<string, string>,
    receivers: receiversOf(b.receivers),
  };
}

/**
 * Rules of an `alertRulesFile` (`{ "rules": [ … ] }`).
 * @throws SiperfError `ERR_CONFIG_INVALID` naming the file, the rule's index and the field.
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
  const rules = (doc as { rules?: unknown })?.rules;
  if (!Array.isArray(rules))
    throw new SiperfError('ERR_CONFIG_INVALID', `alertRulesFile ${file}: expected { "rules": [ … ] }`);
  return rules.map((r, i) => {
    try {
      return { ...parseRule(r), fromFile: true };
    } catch (err) {
      throw new SiperfError(
        'ERR_CONFIG_INVALID',
        `alertRulesFile ${file}: rules[${i}]: ${(err as Error).message}`,
      );
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
