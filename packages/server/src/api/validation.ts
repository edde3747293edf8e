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
import type { FastifyInstance } from 'fastify';
import { type ErrorCode, SiperfError } from '../errors.ts';

/** A JSON schema as a plain object (TypeBox schemas are plain JSON Schema). */
type Schema = Record<string, unknown>;

/** Strict decimal number text (what `optionalNumber` accepted before schemas). */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Shared schemas (`$id`-named, referenced with `$ref`) known to every validator. */
const sharedSchemas: Schema[] = [];

function newAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
    verbose: true,
    validateFormats: false,
  });
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
function compile(schema: Schema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv().compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** `/expr/items/3/name` → `expr.items[3].name`. */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const raw of parts) {
    const p = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  }
  return out;
}

/** A value as a person reads it in a message, cut to 64 characters. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  const s = JSON.stringify(value);
  return s.length > 64 ? `${s.slice(0, 61)}…"` : s;
}

function range(min: unknown, max: unknown): string | undefined {
  if (min === undefined && max === undefined) return undefined;
  return `${min ?? ''}..${max ?? ''}`;
}

/** What a schema expects, in words: `an integer 1..1000`, `a string of 1..256 characters`, `one of a, b`. */
export function describeSchema(schema: Schema | undefined): string {
  if (!schema) return 'a valid value';
  if (typeof schema.description === 'string' && typeof schema.pattern === 'string') return schema.description;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(', ')}`;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return union.map(describeSchema).join(' or ');
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const r = range(schema.minimum ?? schema.exclusiveMinimum, schema.maximum ?? schema.exclusiveMaximum);
      return `${type === 'integer' ? 'an integer' : 'a number'}${r ? ` ${r}` : ''}`;
    }
    case 'string': {
      const min = schema.minLength as number | undefined;
      const max = schema.maxLength as number | undefined;
      const base =
        min !== undefined && max !== undefined
          ? `a string of ${min}..${max} characters`
          : max !== undefined
            ? `a string of at most ${max} characters`
            : min !== undefined
              ? `a string of at least ${min} characters`
              : 'a string';
      return typeof schema.pattern === 'string' ? `${base} matching ${schema.pattern}` : base;
    }
    case 'boolean':
      return 'true or false';
    case 'array': {
      const r = range(schema.minItems, schema.maxItems);
      return r ? `an array of ${r} items` : 'an array';
    }
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    default:
      return 'a valid value';
  }
}

/**
 * Turns the first Ajv error into a {@link SiperfError} whose detail names the field's whole path, what
 * was expected, what was given, and the limit.
 */
export function validationError(error: ErrorObject, code: ErrorCode, root: string): SiperfError {
  const params = error.params as Record<string, unknown>;
  const parent = error.parentSchema as Schema | undefined;
  let field = fieldPath(error.instancePath);
  let detail: string;
  let limit: string | number | undefined;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      field = fieldPath(error.instancePath, missing);
      const props = (parent?.properties ?? {}) as Record<string, Schema>;
      detail = `${field}: required, ${describeSchema(props[missing])}`;
      break;
    }
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      field = fieldPath(error.instancePath, extra);
      const known = Object.keys((parent?.properties ?? {}) as object);
      detail = `${field}: unknown ${root === 'body' ? 'field' : 'parameter'}${
        known.length > 0 ? `; expected one of ${known.join(', ')}` : '; none are accepted here'
      }`;
      break;
    }
    case 'minLength':
    case 'maxLength': {
      limit = range(parent?.minLength, parent?.maxLength);
      const len = typeof error.data === 'string' ? error.data.length : 0;
      detail = `${field}: expected ${describeSchema(parent)}, got ${len} characters`;
      break;
    }
    case 'minItems':
    case 'maxItems': {
      limit = range(parent?.minItems, parent?.maxItems);
      const len = Array.isArray(error.data) ? error.data.length : 0;
      detail = `${field}: expected ${describeSchema(parent)}, got ${len} items`;
      break;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      limit = range(parent?.minimum ?? parent?.exclusiveMinimum, parent?.maximum ?? parent?.exclusiveMaximum);
      detail = `${field}: expected ${describeSchema(parent)}, got ${shown(error.data)}`;
      break;
    case 'maxProperties':
      limit = parent?.maxProperties as number;
      detail = `${field || root}: at most ${limit} entries`;
      break;
    default:
      detail = `${field || root}: expected ${describeSchema(parent)}, got ${shown(error.data)}`;
  }
  if (field === '') detail = detail.replace(/^: /, `${root}: `);
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
  const validate = compile(schema);
  const isBody = httpPart === 'body';
  const code: ErrorCode = isBody ? 'ERR_API_BODY' : 'ERR_QUERY_PARAM';
  const root = isBody ? 'body' : httpPart === 'params' ? 'path' : 'query';
  const optionalBody = isBody && !((schema.required as unknown[] | undefined)?.length ?? 0);
  return (data) => {
    if (isBody && (data === null || data === undefined) && optionalBody) return { value: undefined };
    const value = isBody ? data : coerceText(data, schema);
    if (validate(value)) return { value };
    return { error: validationError(validate.errors![0]!, code, root) };
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
    const validate = compile(schema);
    return (data) => {
      // Check what a client would read (Dates become strings, undefined members vanish).
      const text = JSON.stringify(data);
      if (!validate(text === undefined ? undefined : JSON.parse(text))) {
        const e = validate.errors![0]!;
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
