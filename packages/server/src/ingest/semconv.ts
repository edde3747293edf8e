/**
 * Reading OpenTelemetry semantic-convention attributes, old and new spellings both
 * (https://opentelemetry.io/docs/specs/semconv/): HTTP method, route and status, database system,
 * namespace and statement. Zipkin's tags (`http.path`, `sql.query`) are read here too.
 * @module
 */
import type { Attributes, DbCall, SpanKind, TransactionMark } from '../model/index.ts';
import { SpanKind as Kind } from '../model/index.ts';
import { normaliseStatement } from './sql-fingerprint.ts';

function str(attrs: Attributes, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = attrs[k];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

/** HTTP response status from `http.response.status_code` / `http.status_code`; 0 when absent or invalid. */
export function httpStatusOf(attrs: Attributes): number {
  const text = str(attrs, 'http.response.status_code', 'http.status_code');
  if (text === undefined) return 0;
  const n = Number(text);
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : 0;
}

/**
 * The endpoint of a span: for SERVER spans with an HTTP method and `http.route`, `METHOD route`
 * (`GET /users/{id}`); otherwise the span name, which the HTTP conventions already set to
 * `METHOD route` when the route is known.
 */
export function endpointOf(kind: SpanKind, name: string, attrs: Attributes): string {
  if (kind === Kind.SERVER) {
    const method = str(attrs, 'http.request.method', 'http.method');
    const route = str(attrs, 'http.route');
    if (method && route) return `${method.toUpperCase()} ${route}`;
  }
  return name;
}

/**
 * Database call facts of a span, or `undefined` when it is not a database call.
 * A span is a database call when it carries `db.system.name`/`db.system` or a statement
 * (`db.query.text`/`db.statement`/Zipkin `sql.query`). Without a statement the operation
 * (`db.operation.name`/`db.operation`) or the span name stands in for it — except for connection
 * acquisition (`pg-pool.connect`, `connect`), which is not a call and is left out (it is pool wait time).
 */
export function dbCallOf(name: string, attrs: Attributes): DbCall | undefined {
  const text = str(attrs, 'db.query.text', 'db.statement', 'sql.query');
  let system = str(attrs, 'db.system.name', 'db.system');
  if (system === undefined && text === undefined) return undefined;
  system ??= attrs['sql.query'] !== undefined ? 'sql' : 'other_sql';
  const database = str(attrs, 'db.namespace', 'db.name') ?? '';
  const operation = str(attrs, 'db.operation.name', 'db.operation');
  if (text === undefined && operation === undefined && /(^|[.\s])connect$/i.test(name)) return undefined;
  const raw = text ?? operation ?? name;
  const { statement, fingerprint } = normaliseStatement(system, raw);
  return { system, database, statement, fingerprint };
}

/** Attribute names of business transactions, as `@siperf/node`'s `BusinessTransaction` writes them. */
export const TRANSACTION_ATTRIBUTES = {
  id: 'siperf.transaction.id',
  name: 'siperf.transaction.name',
  event: 'siperf.transaction.event',
  step: 'siperf.transaction.step',
  success: 'siperf.transaction.success',
} as const;

/**
 * Business-transaction facts of a span, or `undefined` when it has none or they are unusable (an id or
 * name missing or longer than 64/256 characters, an unknown event).
 */
export function transactionOf(attrs: Attributes): TransactionMark | undefined {
  const id = attrs[TRANSACTION_ATTRIBUTES.id];
  const name = attrs[TRANSACTION_ATTRIBUTES.name];
  const event = attrs[TRANSACTION_ATTRIBUTES.event];
  if (typeof id !== 'string' || id === '' || id.length > 64) return undefined;
  if (typeof name !== 'string' || name === '' || name.length > 256) return undefined;
  if (event !== 'start' && event !== 'step' && event !== 'end') return undefined;
  const step = attrs[TRANSACTION_ATTRIBUTES.step];
  const success = attrs[TRANSACTION_ATTRIBUTES.success];
  return {
    id,
    name,
    event,
    step: event === 'step' && typeof step === 'string' ? step.slice(0, 256) : '',
    success: typeof success === 'boolean' ? success : undefined,
  };
}
