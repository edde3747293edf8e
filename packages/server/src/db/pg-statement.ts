/**
 * Whether a PostgreSQL statement from outside may run, decided on its parse tree (the real PostgreSQL
 * parser, libpg-query [1]), never on its text: quoted and Unicode-escaped identifiers (`"pg_read_file"`,
 * `U&"\0070g_sleep"`), `E''` strings, dollar quotes and comments are already resolved there.
 *
 * The tree is walked node by node against an allow-list of node types (a node type not listed, e.g. an
 * XML expression or a `JSON_TABLE`, is refused): exactly one `SelectStmt` (which covers `VALUES` and
 * `TABLE t`; the advisor's `explain` mode also takes a top-level INSERT, UPDATE or DELETE, which it plans
 * but never executes), no `INTO`, no `FOR UPDATE/SHARE`, no CTE other than a SELECT, function calls,
 * operators and casts only from `sql-allow-lists.ts` (unqualified or in `pg_catalog`; a function in a
 * row source such as `FROM generate_series(…)` the same), no table of `pg_catalog` or
 * `information_schema` nor any relation named `pg_*` (the catalogs hold password hashes, user-mapping
 * options and other sessions' statements), `TABLESAMPLE` only with the built-in methods.
 *
 * What the parse cannot know is which schema a name resolves to. {@link shadowingSql} lists the functions
 * and operators of the same names defined in another schema on the role's search path (where a call such as
 * `lower(1)` could pick `public.lower(int)`); the runner refuses the statement when there is one, and also
 * sets `search_path` with `pg_catalog` first and `standard_conforming_strings = on` (the parser's own
 * assumption: with it off the server would read `'a\' …'` differently).
 *
 * [1] libpg-query, https://github.com/launchql/libpg-query-node (PostgreSQL's parser compiled to WASM)
 * @module
 */
import '../util/wasm-liftoff.ts';
import { loadModule, parseSync } from 'libpg-query';
import { SiperfError } from '../errors.ts';
import { PG_DENIED_SCHEMAS, PG_FUNCTIONS, PG_OPERATORS, PG_TYPES } from './sql-allow-lists.ts';

/** `query`: a cached query (one SELECT). `explain`: a statement the advisor plans (also INSERT/UPDATE/DELETE). */
export type StatementMode = 'query' | 'explain';

/** What a statement that passed calls: for the server-side check of names shadowed on the search path. */
export interface PgStatementNames {
  functions: string[];
  operators: string[];
}

/** A statement that passed: its names, and its own text (without a trailing `;` or what follows). */
export interface CheckedPgStatement extends PgStatementNames {
  text: string;
}

/** Node types a SELECT may contain. */
const QUERY_NODES = new Set([
  ...['SelectStmt', 'ResTarget', 'ColumnRef', 'A_Star', 'String', 'Integer', 'Float', 'Boolean'],
  ...['BitString', 'A_Const', 'A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'FuncCall', 'TypeCast'],
  ...['TypeName', 'CollateClause', 'SubLink', 'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'MinMaxExpr'],
  ...['RowExpr', 'A_ArrayExpr', 'A_Indirection', 'A_Indices', 'SortBy', 'WindowDef', 'GroupingSet'],
  ...['GroupingFunc', 'ParamRef', 'SQLValueFunction', 'List', 'RangeVar', 'RangeSubselect', 'Alias'],
  ...['RangeFunction', 'JoinExpr', 'RangeTableSample', 'CommonTableExpr', 'WithClause', 'ColumnDef'],
  ...['CTESearchClause', 'CTECycleClause'],
]);
/** Node types a planned (never executed) INSERT, UPDATE or DELETE adds. */
const EXPLAIN_NODES = new Set([
  ...QUERY_NODES,
  ...['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'OnConflictClause', 'InferClause', 'IndexElem'],
  ...['MultiAssignRef', 'SetToDefault', 'ReturningClause'],
]);
const TOP_LEVEL = {
  query: ['SelectStmt'],
  explain: ['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt'],
};

const refuse = (message: string): never => {
  throw new SiperfError('ERR_QUERY_NOT_ALLOWED', `query: ${message}`);
};

let loaded: Promise<unknown> | undefined;

/** Loads the parser (WASM) once; the checks below need it. */
export function loadPgParser(): Promise<unknown> {
  loaded ??= loadModule();
  return loaded;
}

type Json = Record<string, unknown>;
const isNode = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The strings of a name list (`[{String:{sval:'pg_catalog'}}, {String:{sval:'lower'}}]`). */
function nameOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((n) => {
    const s = isNode(n) && isNode(n.String) ? n.String.sval : undefined;
    return typeof s === 'string' ? s : refuse('a name that is not a plain identifier');
  });
}

/** The unqualified name when `parts` is `[name]` or `['pg_catalog', name]`, else undefined. */
function catalogName(parts: string[]): string | undefined {
  if (parts.length === 1) return parts[0];
  if (parts.length === 2 && parts[0] === 'pg_catalog') return parts[1];
  return undefined;
}

/** A name as the client wrote it, for a message (cut; quotes shown as written). */
const shown = (parts: string[]) => parts.join('.').slice(0, 80);

/**
 * Checks a PostgreSQL statement's parse tree (see the module comment).
 * @returns the function and operator names it uses.
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED` naming what was refused (a syntax error too: the parser is
 *   PostgreSQL's own, so a statement it cannot read would not run either).
 */
export async function checkPgStatement(sql: string, mode: StatementMode): Promise<CheckedPgStatement> {
  await loadPgParser();
  if (sql.includes('\u0000')) refuse('NUL characters are not allowed');
  let tree: { stmts?: { stmt?: Json; stmt_location?: number; stmt_len?: number }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (err) {
    return refuse(`the statement does not parse: ${(err as Error).message}`);
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length !== 1) refuse(`one statement only, got ${stmts.length}`);
  const top = stmts[0]!.stmt ?? {};
  const topType = Object.keys(top)[0] ?? '';
  if (!TOP_LEVEL[mode].includes(topType)) {
    refuse(
      mode === 'query'
        ? `only a SELECT (or VALUES, TABLE, WITH … SELECT) may run, got ${topType || 'nothing'}`
        : `only SELECT, INSERT, UPDATE and DELETE are explained, got ${topType || 'nothing'}`,
    );
  }
  const allowed = mode === 'query' ? QUERY_NODES : EXPLAIN_NODES;
  const functions = new Set<string>();
  const operators = new Set<string>();

  const checkType = (typeName: unknown) => {
    if (!isNode(typeName)) return;
    const parts = nameOf(typeName.names);
    const name = catalogName(parts);
    if (typeName.setof || typeName.pct_type || name === undefined || !PG_TYPES.has(name)) {
      refuse(`a cast to ${shown(parts)} is not allowed (built-in types only)`);
    }
  };

  const visit = (type: string, body: Json): void => {
    if (!allowed.has(type))
      refuse(`${type} is not allowed in a ${mode === 'query' ? 'cached query' : 'statement to explain'}`);
    switch (type) {
      case 'SelectStmt':
        if (body.intoClause) refuse('INTO (SELECT INTO) is not allowed');
        if (body.lockingClause)
          refuse('FOR UPDATE / FOR SHARE is not allowed: a cached query takes no row locks');
        break;
      case 'CommonTableExpr': {
        const q = isNode(body.ctequery) ? Object.keys(body.ctequery)[0] : undefined;
        if (q !== 'SelectStmt') refuse(`a WITH query may only SELECT, got ${q ?? 'nothing'}`);
        break;
      }
      case 'FuncCall': {
        const parts = nameOf(body.funcname);
        const name = catalogName(parts);
        if (name === undefined || !PG_FUNCTIONS.has(name))
          refuse(`${shown(parts)}() is not on the list of functions a statement may call`);
        functions.add(name!);
        break;
      }
      case 'A_Expr': {
        const parts = nameOf(body.name);
        const name = catalogName(parts);
        if (name === undefined || !PG_OPERATORS.has(name))
          refuse(`the operator ${shown(parts)} is not allowed`);
        if (/^[^A-Z]/.test(name!)) operators.add(name!);
        break;
      }
      case 'RangeVar': {
        const schema = typeof body.schemaname === 'string' ? body.schemaname : undefined;
        const rel = String(body.relname ?? '');
        if (body.catalogname) refuse('a table of another database is not allowed');
        if (schema !== undefined && (PG_DENIED_SCHEMAS.has(schema) || schema.startsWith('pg_')))
          refuse(`the system catalogs (${shown([schema, rel])}) are not readable here`);
        if (schema === undefined && rel.startsWith('pg_'))
          refuse(`${shown([rel])}: relations named pg_* (the system catalogs) are not readable here`);
        break;
      }
      case 'RangeTableSample': {
        const method = catalogName(nameOf(body.method));
        if (method !== 'bernoulli' && method !== 'system') refuse('TABLESAMPLE BERNOULLI or SYSTEM only');
        break;
      }
      case 'TypeCast':
      case 'ColumnDef':
        checkType(body.typeName);
        break;
      case 'TypeName':
        checkType(body);
        break;
    }
    for (const [key, value] of Object.entries(body)) {
      if (key === 'typeName' && type !== 'TypeName') continue; // checked above; its typmods are constants
      walk(value);
    }
  };

  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v);
      return;
    }
    if (!isNode(value)) return;
    const keys = Object.keys(value);
    if (keys.length === 1 && /^[A-Z]/.test(keys[0]!)) {
      visit(keys[0]!, value[keys[0]!] as Json);
      return;
    }
    // An inline struct (alias, window definition, ON CONFLICT, RETURNING, …): its own fields.
    if ('intoClause' in value && value.intoClause) refuse('INTO is not allowed');
    for (const v of Object.values(value)) walk(v);
  };

  if (mode === 'explain' && topType !== 'SelectStmt') {
    // The DML's target relation is an inline RangeVar: the same rules as a table read.
    const body = top[topType] as Json;
    if (isNode(body.relation)) visit('RangeVar', body.relation);
    visit(topType, { ...body, relation: undefined });
  } else walk(top);
  // The parser's offsets are in bytes of UTF-8; stmt_len 0 means "to the end".
  const bytes = Buffer.from(sql, 'utf8');
  const from = stmts[0]!.stmt_location ?? 0;
  const len = stmts[0]!.stmt_len ?? 0;
  const text = bytes.subarray(from, len > 0 ? from + len : bytes.length).toString('utf8');
  return { functions: [...functions].sort(), operators: [...operators].sort(), text };
}

/**
 * SQL (parameters `$1` functions, `$2` operators, both `text[]`) listing the functions and operators of
 * those names that a schema other than `pg_catalog` on the search path defines: a call could resolve to
 * them (PostgreSQL picks the best match over the whole path when the argument types differ).
 */
export const shadowingSql = `SELECT 'function' AS kind, n.nspname AS schema, p.proname AS name
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE p.proname = ANY($1::text[]) AND n.nspname <> 'pg_catalog' AND n.nspname = ANY(current_schemas(true))
  UNION ALL
  SELECT 'operator', n.nspname, o.oprname FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
  WHERE o.oprname = ANY($2::text[]) AND n.nspname <> 'pg_catalog' AND n.nspname = ANY(current_schemas(true))
  LIMIT 5`;
