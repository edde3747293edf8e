/**
 * Building blocks of the route schemas: the problem document, the window parameters every list endpoint
 * takes, the error answers a route can give, and small type helpers. Plain TypeBox (JSON Schema): this
 * folder imports nothing else from the project, so the dashboard and the SDK can use the same schemas.
 * @module
 */
import { type Static, type TSchema, Type } from 'typebox';

/** A string from a closed set, as `{ type: 'string', enum: [...] }` (clearer in OpenAPI than a union). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** `T` or `null`. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** An object whose members are any JSON values (span attributes, evidence, free-form details). */
export const OpenObject = Type.Record(Type.String(), Type.Unknown());

/** A closed object: an unknown member is an error (in bodies and queries) and a schema defect (in answers). */
export function Closed<T extends Parameters<typeof Type.Object>[0]>(
  properties: T,
  options: { description?: string } = {},
) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/**
 * An RFC 9457 problem document (`application/problem+json`), as every error answer of siperf.
 * Extension members: `code` (docs/errors.md), `field`, `limit`; some errors add their own (`rejected`).
 */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'link to the code on the errors page, /docs/errors#<code>' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String({ description: 'what went wrong and what to do' }),
    instance: Type.String({ description: 'the request path' }),
    code: Type.String({ description: 'ERR_*, listed at /docs/errors' }),
    field: Type.Optional(Type.String({ description: 'the input field at fault' })),
    limit: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'the limit broken' })),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof Problem>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: a parameter or the body is invalid (the field is named)',
  401: 'No key sent while the server has keys',
  403: 'The key sent is not valid here (cached queries: or the pool can write, ERR_POOL_WRITABLE)',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body or value too large',
  415: 'Content type or encoding not accepted',
  422: 'Understood but not applicable (cached queries: the database refused the statement, or the result is over a cap)',
  500: 'Internal error (the server log has the cause)',
  502: 'The database failed (connection refused or lost, out of resources)',
  503: 'Overloaded or closing: retry after Retry-After seconds',
};

/** Error answers as problem documents, keyed by status. 400/401/403/500 are always listed. */
export function problems(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const s of [...new Set([400, 401, 403, 500, ...statuses])].sort()) {
    out[s] = {
      description: STATUS_TEXT[s] ?? 'Error',
      content: { 'application/problem+json': { schema: Type.Ref('Problem') } },
    };
  }
  return out;
}

/** The filter and window parameters of every list endpoint. */
export const WindowQuery = {
  service: Type.Optional(Type.String({ maxLength: 1024, description: 'service.name to filter on' })),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'window start: ISO-8601 or epoch ms' })),
  to: Type.Optional(
    Type.String({ maxLength: 64, description: 'window end: ISO-8601 or epoch ms (default now)' }),
  ),
  window: Type.Optional(
    Type.String({
      maxLength: 32,
      description: 'window length ending at `to` (or starting at `from`): 15m, 1h, 24h, 7d (default 1h)',
    }),
  ),
};

/** The window an answer covers, ISO-8601. */
export const WindowAnswer = {
  from: Type.String({ description: 'window start, ISO-8601' }),
  to: Type.String({ description: 'window end, ISO-8601' }),
};

/** A count of milliseconds (float). */
export const Ms = (description?: string) => Type.Number(description ? { description } : {});
