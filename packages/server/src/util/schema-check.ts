/**
 * Checks of input against a JSON Schema (a TypeBox schema) with messages a person can act on: the whole
 * path of the field (`rules[3].expr.name`), what was expected, what was given, and the limit. Shared by the
 * API's request validation (`api/validation.ts`), the alert rules file (`alerts/rules.ts`) and any other
 * input read against a schema, so each says the same thing the same way.
 *
 * A `oneOf` with `discriminator: { propertyName }` (OpenAPI's tagged union) picks its branch by that
 * member: errors come from the branch meant (`expr.name: required`), not from every branch, and the
 * branch's defaults are filled in.
 *
 * Validator: Ajv 8 (https://ajv.js.org), the JSON Schema validator Fastify itself uses.
 * @module
 */
import { Ajv, type ErrorObject, type Options } from 'ajv';

/** A JSON schema as a plain object (TypeBox schemas are plain JSON Schema). */
export type Schema = Record<string, unknown>;

/**
 * Options of every validator: the first error only, no type coercion, unknown members left for
 * `additionalProperties: false` to refuse, defaults filled in, formats not checked (patterns say it),
 * the failing value kept for the message (`verbose`), tagged unions (`discriminator`).
 */
export const AJV_OPTIONS: Options = {
  allErrors: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
  verbose: true,
  validateFormats: false,
  discriminator: true,
};

/** What is wrong with an input: the field's path (empty for the whole input), a message, the limit. */
export interface SchemaProblem {
  field: string;
  detail: string;
  limit?: string | number | undefined;
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

/** The bounds of a number: `1..1000` when both are inclusive, else `0 < x < 1`, `x ≥ 0`, `x < 5`. */
function numberRange(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  const { minimum: min, maximum: max, exclusiveMinimum: xmin, exclusiveMaximum: xmax } = schema;
  if (xmin === undefined && xmax === undefined) return range(min, max);
  const low = xmin !== undefined ? `${xmin} < ` : min !== undefined ? `${min} ≤ ` : '';
  const high = xmax !== undefined ? ` < ${xmax}` : max !== undefined ? ` ≤ ${max}` : '';
  return `${low}x${high}`;
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
  const tag = (schema.discriminator as { propertyName?: string } | undefined)?.propertyName;
  if (tag) return `an object whose ${tag} is ${describeSchema(memberSchema(schema, tag))}`;
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return union.map(describeSchema).join(' or ');
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const r = numberRange(schema);
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
              ? min === 1
                ? 'a non-empty string'
                : `a string of at least ${min} characters`
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
 * The schema of member `name` of an object schema: from its `properties`, or, for a tagged union, the
 * values its branches fix (`kind` → `{ enum: [resource, metric] }`).
 */
function memberSchema(parent: Schema | undefined, name: string): Schema | undefined {
  const own = (parent?.properties as Record<string, Schema> | undefined)?.[name];
  if (own) return own;
  const branches = (parent?.oneOf ?? parent?.anyOf) as Schema[] | undefined;
  if (!branches) return undefined;
  const values = branches.flatMap((b) => {
    const p = (b.properties as Record<string, Schema> | undefined)?.[name];
    return p?.const !== undefined ? [p.const] : Array.isArray(p?.enum) ? p.enum : [];
  });
  return values.length > 0 ? { enum: values } : undefined;
}

/**
 * The first Ajv error in words: the field's whole path, what was expected, what was given, the limit.
 * @param root - what the input is, named when the whole input is at fault: `body`, `query`, `path`…
 *   Unknown members of `query` and `path` are "parameters", of anything else "fields".
 */
export function describeError(error: ErrorObject, root: string): SchemaProblem {
  const params = error.params as Record<string, unknown>;
  const parent = error.parentSchema as Schema | undefined;
  let field = fieldPath(error.instancePath);
  let detail: string;
  let limit: string | number | undefined;
  const propertyName = (error as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    // A key of a map (`propertyNames`) broke its rule: the map is the field, the key what was given.
    return {
      field,
      detail: `${field || root}: keys are ${describeSchema(parent)}, got ${shown(propertyName)}`,
      ...(error.keyword.endsWith('Length') ? { limit: range(parent?.minLength, parent?.maxLength) } : {}),
    };
  }
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      field = fieldPath(error.instancePath, missing);
      detail = `${field}: required, ${describeSchema(memberSchema(parent, missing))}`;
      break;
    }
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      field = fieldPath(error.instancePath, extra);
      const known = Object.keys((parent?.properties ?? {}) as object);
      const what = root === 'query' || root === 'path' ? 'parameter' : 'field';
      detail = `${field}: unknown ${what}${
        known.length > 0 ? `; expected one of ${known.join(', ')}` : '; none are accepted here'
      }`;
      break;
    }
    case 'discriminator': {
      // The tag of a tagged union is not one of its branches (or not a string).
      const tag = String(params.tag);
      field = fieldPath(error.instancePath, tag);
      detail = `${field}: expected ${describeSchema(memberSchema(parent, tag))}, got ${shown(params.tagValue)}`;
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
      limit = numberRange(parent);
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
  return { field, detail, ...(limit !== undefined ? { limit } : {}) };
}

/**
 * The error to report among Ajv's (it reports each branch of a failed `anyOf`/`oneOf`, then the union's own
 * error): when the value's type fits exactly one branch, that branch's first error, so a nested field is
 * named by its path (`adaptiveTtl.maxStaleness`); when it fits none (or several), the union's own error,
 * which lists every alternative (`true or false or an object`). Otherwise the first error.
 */
export function pickError(errors: readonly ErrorObject[]): ErrorObject {
  const union = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (!union) return errors[0]!;
  const branches = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (!e.schemaPath.startsWith(`${union.schemaPath}/`)) continue;
    const branch = e.schemaPath.slice(union.schemaPath.length + 1).split('/')[0]!;
    branches.set(branch, [...(branches.get(branch) ?? []), e]);
  }
  // A branch "fits" the value's type when none of its errors is a type or const/enum mismatch of the value itself.
  const fitting = [...branches.values()].filter(
    (errs) =>
      !errs.some(
        (e) => e.instancePath === union.instancePath && ['type', 'const', 'enum'].includes(e.keyword),
      ),
  );
  return fitting.length === 1 ? fitting[0]![0]! : union;
}

let shared: Ajv | undefined;

/**
 * Compiles `schema` (self-contained: no `$ref` to other schemas) into a check that returns the first
 * problem of an input, or `undefined` when it fits. The check fills the schema's defaults into `data`.
 * @param root - what the input is called when the whole of it is at fault (see {@link describeError}).
 */
export function schemaCheck(schema: object, root: string): (data: unknown) => SchemaProblem | undefined {
  let validate: ReturnType<Ajv['compile']> | undefined;
  return (data) => {
    shared ??= new Ajv(AJV_OPTIONS);
    validate ??= shared.compile(schema);
    return validate(data) ? undefined : describeError(pickError(validate.errors!), root);
  };
}
