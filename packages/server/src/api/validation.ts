/**
 * Request validation and response serialization from the route schemas (the same TypeBox schemas that
 * `@fastify/swagger` turns into the OpenAPI document).
 *
 * - Bodies are checked as sent: no type coercion, unknown fields refused (`additionalProperties: false`
 *   in the schemas), defaults filled in.
 * - Query strings and path parameters arrive as text: a value declared as a number must be written in
 *   decimal (`0x10`, `1e`, ` ` are refused, where a bare `Number()` would accept them), a boolean as
 *   `true`/`false`/`1`/`0`; then the same checks as bodies, unknown parameters refused.
 * - The first failure becomes a {@link SiperfError} (`ERR_API_BODY` for a body, `ERR_QUERY_PARAM` for a
 *   query or path) whose detail names the whole path of the field (`expr.name: required`), what was
 *   expected, what was given, and the limit.
 * - Answers are written with `JSON.stringify`, so a field the response schema forgot is never dropped;
 *   with `validateResponses` every answer is checked against its schema first (tests turn it on, so a
 *   schema that drifts from the code fails a test instead of misleading a client).
 *
 * Validator: Ajv 8 (https://ajv.js.org), the JSON Schema validator Fastify itself uses.
 * @module
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ErrorCode, SiperfError } from '../errors.ts';
import { AJV_OPTIONS, describeError, pickError, type Schema } from '../util/schema-check.ts';

export { describeSchema, fieldPath } from '../util/schema-check.ts';

/** Strict decimal number text (what `optionalNumber` accepted before schemas). */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Shared schemas (`$id`-named, referenced with `$ref`) known to every validator. */
const sharedSchemas: Schema[] = [];

function newAjv(): Ajv {
  const ajv = new Ajv(AJV_OPTIONS);
  for (const s of sharedSchemas) ajv.addSchema(s);
  return ajv;
}

let ajvInstance: Ajv | undefined;
function ajv(): Ajv {
  ajvInstance ??= newAjv();
  return ajvInstance;
}

/**
 * Registers a shared schema (with `$id`) for `$ref` in route schemas: with the app (for OpenAPI
 * components) and with the validators. Idempotent per `$id`.
 */
export function addSharedSchema(app: FastifyInstance, shared: object): void {
  const schema = shared as Schema;
  const id = schema.$id as string;
  if (!sharedSchemas.some((s) => s.$id === id)) {
    sharedSchemas.push(schema);
    if (ajvInstance && !ajvInstance.getSchema(id)) ajvInstance.addSchema(schema);
  }
  if (!app.getSchema(id)) app.addSchema(schema);
}

const compiled = new WeakMap<object, ValidateFunction>();
/** Schemas handed to the validator compiler and not compiled yet (see {@link compilePendingValidators}). */
const pending = new Set<Schema>();
function compile(schema: Schema): ValidateFunction {
  pending.delete(schema);
  let v = compiled.get(schema);
  if (!v) {
    v = ajv().compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/**
 * Turns the first Ajv error into a {@link SiperfError} whose detail names the field's whole path, what
 * was expected, what was given, and the limit (the words come from `util/schema-check.ts`).
 */
export function validationError(error: ErrorObject, code: ErrorCode, root: string): SiperfError {
  const { field, detail, limit } = describeError(error, root);
  return new SiperfError(code, detail, {
    ...(field ? { field } : {}),
    ...(limit !== undefined ? { limit } : {}),
  });
}

/** Reads query/path text as the schema's scalar types (strict decimal numbers, strict booleans). */
function coerceScalar(value: unknown, schema: Schema | undefined): unknown {
  if (typeof value !== 'string' || !schema) return value;
  const types = (
    Array.isArray(schema.type)
      ? schema.type
      : schema.type !== undefined
        ? [schema.type]
        : ((schema.anyOf as Schema[] | undefined) ?? []).map((s) => s.type)
  ) as unknown[];
  if ((types.includes('integer') || types.includes('number')) && DECIMAL.test(value)) return Number(value);
  if (types.includes('boolean')) {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
  }
  return value;
}

function coerceText(data: unknown, schema: Schema): unknown {
  if (data === null || typeof data !== 'object') return data;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    // An empty value means "not given" (`?service=` is how a form sends an unset filter).
    if (v === '') continue;
    out[k] = coerceScalar(v, props[k]);
  }
  return out;
}

/**
 * Fastify validator compiler: Ajv without coercion for bodies, strict text coercion for query strings and
 * path parameters; failures become {@link SiperfError}s. An absent body passes when the schema requires
 * no property.
 */
export function validatorCompiler({
  schema,
  httpPart,
}: {
  schema: Schema;
  httpPart?: string | undefined;
}): (data: unknown) => { value?: unknown; error?: SiperfError } {
  // Compiled on the route's first request: Ajv took ~350 ms of the server's start-up for all routes.
  let validate: ValidateFunction | undefined;
  if (!compiled.has(schema)) pending.add(schema);
  const isBody = httpPart === 'body';
  const code: ErrorCode = isBody ? 'ERR_API_BODY' : 'ERR_QUERY_PARAM';
  const root = isBody ? 'body' : httpPart === 'params' ? 'path' : 'query';
  const optionalBody = isBody && !((schema.required as unknown[] | undefined)?.length ?? 0);
  return (data) => {
    if (isBody && (data === null || data === undefined) && optionalBody) return { value: undefined };
    const value = isBody ? data : coerceText(data, schema);
    validate ??= compile(schema);
    if (validate(value)) return { value };
    return { error: validationError(pickError(validate.errors!), code, root) };
  };
}

/**
 * Fastify serializer compiler: `JSON.stringify`, after a check against the response schema when
 * `validateResponses` is on.
 * @throws SiperfError `ERR_INTERNAL` (from the serializer) when an answer does not match its schema.
 */
export function serializerCompiler(
  validateResponses: boolean,
): (route: {
  schema: Schema;
  method?: string;
  url?: string;
  httpStatus?: string;
}) => (data: unknown) => string {
  return ({ schema, method, url, httpStatus }) => {
    if (!validateResponses) return (data) => JSON.stringify(data);
    let validate: ValidateFunction | undefined;
    if (!compiled.has(schema)) pending.add(schema);
    return (data) => {
      validate ??= compile(schema);
      // Check what a client would read (Dates become strings, undefined members vanish).
      const text = JSON.stringify(data);
      if (!validate(text === undefined ? undefined : JSON.parse(text))) {
        const e = pickError(validate.errors!);
        throw new SiperfError(
          'ERR_INTERNAL',
          `the ${httpStatus} answer of ${method} ${url} does not match its schema: ${
            validationError(e, 'ERR_INTERNAL', 'response').detail
          } (${e.keyword} at ${e.instancePath || '/'})`,
        );
      }
      return text;
    };
  };
}

/**
 * Compiles every schema the compilers were handed and not yet used (validators are compiled on a route's
 * first request, for a faster start-up); tests call it once the app is ready, so that a schema Ajv
 * refuses fails a test rather than a route's first request.
 * @returns how many schemas were compiled.
 * @throws Error as Ajv's `compile` does, naming the schema's problem.
 */
export function compilePendingValidators(): number {
  const schemas = [...pending];
  for (const schema of schemas) compile(schema);
  return schemas.length;
}

/**
 * The validator compiler of routes whose body the handler decodes itself (OTLP, Zipkin, beacons: binary or
 * per-item partial acceptance): the body schema documents, the rest validates as everywhere.
 */
export function bodyDecodedByHandler(route: {
  schema: Schema;
  httpPart?: string | undefined;
}): (data: unknown) => { value?: unknown; error?: SiperfError } {
  if (route.httpPart === 'body') return (data) => ({ value: data });
  return validatorCompiler(route);
}

/** Methods whose request carries a body. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * `preValidation` hook of the app: a request that sent no body to a route whose body schema is declared
 * per content type (OTLP, Zipkin, beacons, CSV and log uploads: bodies the handler decodes) is refused
 * before its handler runs. Fastify validates such a body only under a content type it knows, so without
 * one the handler met `undefined` (a 500). No Content-Type: 415 naming the types the route takes; a
 * Content-Type but no body: 400 (`ERR_INGEST_DECODE` on ingest routes, `ERR_API_BODY` elsewhere).
 * Routes with a JSON body schema get their 400 from the schema itself.
 */
export async function refuseMissingBody(request: FastifyRequest): Promise<void> {
  if (request.body !== undefined || !BODY_METHODS.has(request.method)) return;
  const body = (request.routeOptions.schema as { body?: { content?: Record<string, unknown> } } | undefined)
    ?.body;
  if (body?.content === undefined) return;
  const config = request.routeOptions.config as { accepts?: unknown; ingest?: boolean } | undefined;
  const accepts =
    typeof config?.accepts === 'string' ? config.accepts : Object.keys(body.content).join(' or ');
  if (request.headers['content-type'] === undefined) {
    throw new SiperfError(
      'ERR_INGEST_CONTENT_TYPE',
      `the request has no body and no Content-Type; send ${accepts}`,
    );
  }
  throw new SiperfError(
    config?.ingest === true ? 'ERR_INGEST_DECODE' : 'ERR_API_BODY',
    `body: the request has no body; send ${accepts}`,
    { field: 'body' },
  );
}
