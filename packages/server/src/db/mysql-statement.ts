/**
 * Whether a MySQL/MariaDB statement from outside may run, decided on its parse tree (node-sql-parser [1],
 * MySQL grammar), with the same rules as `pg-statement.ts`: one SELECT (in the advisor's `explain` mode
 * too: MariaDB refuses EXPLAIN of a write in a read-only transaction, and a role that may only read cannot
 * explain one anyway), no INTO (OUTFILE, DUMPFILE,
 * `@var`), no locking read, no user or system variables (`@x :=`, `@@secure_file_priv`), functions,
 * operators and casts only from `sql-allow-lists.ts` (so no `LOAD_FILE`, `SLEEP`, `BENCHMARK`, `GET_LOCK`,
 * `NEXTVAL`, stored functions), no table of `mysql`, `information_schema`, `performance_schema` or `sys`,
 * and, to explain, no derived table nor CTE (MariaDB's EXPLAIN materialises them: it runs them).
 *
 * node-sql-parser is not the server's parser, so before parsing the text is read as the server's lexer
 * reads it [2] and refused when the two could disagree: executable comments (`/*! … *\/`, `/*M! … *\/`:
 * code to the server, a comment to a parser) and optimizer hints (`/*+ … *\/`); `--` not followed by a
 * space (two minus signs to the server, a comment to node-sql-parser: `SELECT 1 --1, LOAD_FILE(…)`); an
 * unterminated comment or literal. Then the server is given the statement regenerated from the tree that
 * was checked (`sqlify`), never the client's text, and the regenerated text must pass the same checks: what
 * runs is what was read. Parameters are bound by the server (a prepared statement), not interpolated by the
 * driver (which would also replace a `?` inside a literal).
 *
 * [1] node-sql-parser, https://github.com/taozhi8833998/node-sql-parser
 * [2] MariaDB, Comment Syntax, https://mariadb.com/kb/en/comment-syntax/
 * @module
 */
import { createRequire } from 'node:module';
import { SiperfError } from '../errors.ts';
import type { StatementMode } from './pg-statement.ts';
import { MYSQL_DENIED_SCHEMAS, MYSQL_FUNCTIONS, MYSQL_OPERATORS } from './sql-allow-lists.ts';

interface SqlParser {
  astify(sql: string, opt: { database: string }): unknown;
  sqlify(ast: unknown, opt: { database: string }): string;
}

let parser: SqlParser | undefined;
/** The MySQL build of node-sql-parser only (the whole package is 89 MB and slow to load), on first use. */
function mysqlParser(): SqlParser {
  if (!parser) {
    const require = createRequire(import.meta.url);
    const { Parser } = require('node-sql-parser/build/mysql') as { Parser: new () => SqlParser };
    parser = new Parser();
  }
  return parser;
}
const OPT = { database: 'MySQL' };

const refuse = (message: string): never => {
  throw new SiperfError('ERR_QUERY_NOT_ALLOWED', `query: ${message}`);
};

/**
 * Refuses the text where MySQL/MariaDB's lexer and node-sql-parser's could read it differently (see the
 * module comment). Literals: `'…'` and `"…"` with backslash escapes and doubled quotes (the session runs
 * without NO_BACKSLASH_ESCAPES and ANSI_QUOTES, see `read-only.ts`), `` `…` `` with doubled backticks.
 */
export function assertUnambiguousMysqlText(sql: string): void {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      i++;
      let closed = false;
      while (i < n) {
        if (sql[i] === '\\' && c !== '`') {
          i += 2;
          continue;
        }
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          closed = true;
          break;
        }
        i++;
      }
      if (!closed) refuse('an unterminated quoted string or identifier');
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const after = sql[i + 2];
      // MySQL: `--` starts a comment only when followed by whitespace or a control character.
      if (after !== undefined && after.charCodeAt(0) > 0x20)
        refuse(
          '"--" not followed by a space is two minus signs to MySQL/MariaDB but a comment to a parser: write "-- " for a comment or "- -" for the arithmetic',
        );
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const open = sql.slice(i + 2, i + 4);
      if (open.startsWith('!') || open === 'M!')
        refuse('executable comments (/*! … */, /*M! … */) are code to the server: not allowed');
      if (open.startsWith('+')) refuse('optimizer hints (/*+ … */) are not allowed');
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) refuse('an unterminated /* comment');
      i = end + 2;
      continue;
    }
    i++;
  }
}

/** Cast targets allowed (CAST(x AS …), CONVERT(x, …)). */
const CAST_TYPES = new Set([
  ...['CHAR', 'NCHAR', 'SIGNED', 'UNSIGNED', 'INTEGER', 'INT', 'DECIMAL', 'DOUBLE', 'FLOAT', 'DATE'],
  ...['DATETIME', 'TIME', 'BINARY', 'JSON', 'VARCHAR', 'TEXT'],
]);
/** Node types that are literals, names or plain structure. */
const PLAIN = new Set([
  ...['number', 'single_quote_string', 'double_quote_string', 'natural_string', 'hex_string', 'bool'],
  ...['full_hex_string', 'bit_string', 'null', 'star', 'date', 'datetime', 'time', 'timestamp'],
  ...['default', 'backticks_quote_string', 'expr_list', 'case', 'when', 'else', 'interval', 'extract'],
  ...['window', 'dual', 'fulltext_search', 'column_ref', 'ASC', 'DESC'],
]);
/** SQL keywords the parser keeps as `origin` nodes that may stand as values. */
const ORIGIN_VALUES = new Set([
  '?',
  'CURRENT_TIMESTAMP',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'LOCALTIME',
  'LOCALTIMESTAMP',
]);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

/** The name parts of a function node (`{ name: [{ value }], schema? }`). */
function functionName(fn: Json): string {
  const name = fn.name;
  if (typeof name === 'string') return name;
  if (!isObject(name) || !Array.isArray(name.name)) return refuse('a function call without a plain name');
  if (name.schema) refuse('a schema-qualified function (a stored function) is not allowed');
  const parts = (name.name as Json[]).map((p) => String(p?.value ?? ''));
  if (parts.length !== 1) refuse(`the function ${JSON.stringify(parts.join('.'))} is not allowed`);
  return parts[0]!;
}

/** Walks a node-sql-parser tree; counts `?` placeholders. */
function checkTree(ast: Json, mode: StatementMode): number {
  let placeholders = 0;
  const tableRef = (o: Json) => {
    const db = typeof o.db === 'string' ? o.db : undefined;
    if (db !== undefined && MYSQL_DENIED_SCHEMAS.has(db.toLowerCase()))
      refuse(`the system database ${JSON.stringify(db)} is not readable here`);
  };
  const walk = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x, key);
      return;
    }
    if (!isObject(v)) return;
    if ('db' in v) tableRef(v);
    if (mode === 'explain' && (key === 'from' || key === 'table') && isObject(v.expr) && 'ast' in v.expr)
      refuse("a derived table (a subquery in FROM) is not explained: MariaDB's EXPLAIN runs it");
    const type = typeof v.type === 'string' ? v.type : undefined;
    let skip: string[] = [];
    switch (type) {
      case undefined:
        break;
      case 'select':
        if (isObject(v.into) && v.into.position)
          refuse('INTO (OUTFILE, DUMPFILE, @variables) is not allowed');
        if (v.locking_read) refuse('locking reads (FOR UPDATE, LOCK IN SHARE MODE) are not allowed');
        if (mode === 'explain' && Array.isArray(v.with) && v.with.length > 0)
          refuse("a WITH query is not explained: MariaDB's EXPLAIN materialises it");
        if (Array.isArray(v.options)) {
          for (const o of v.options)
            if (
              ![
                'SQL_NO_CACHE',
                'SQL_CACHE',
                'SQL_CALC_FOUND_ROWS',
                'STRAIGHT_JOIN',
                'HIGH_PRIORITY',
              ].includes(String(o))
            )
              refuse(`the SELECT option ${JSON.stringify(String(o))} is not allowed`);
        }
        break;
      case 'function': {
        const name = functionName(v).toUpperCase();
        if (!MYSQL_FUNCTIONS.has(name) && !(name === 'CONVERT' && isConvertCast(v)))
          refuse(`${name}() is not on the list of functions a statement may call`);
        skip = ['name'];
        break;
      }
      case 'aggr_func': {
        const name = String(v.name ?? '').toUpperCase();
        if (!MYSQL_FUNCTIONS.has(name))
          refuse(`${name}() is not on the list of functions a statement may call`);
        break;
      }
      case 'binary_expr':
      case 'unary_expr': {
        const op = String(v.operator ?? '').toUpperCase();
        if (!MYSQL_OPERATORS.has(op)) refuse(`the operator ${JSON.stringify(op)} is not allowed`);
        break;
      }
      case 'cast': {
        for (const t of Array.isArray(v.target) ? v.target : [v.target])
          if (!isObject(t) || !CAST_TYPES.has(String(t.dataType ?? '').toUpperCase()))
            refuse(`a cast to ${JSON.stringify(isObject(t) ? t.dataType : t)} is not allowed`);
        skip = ['target'];
        break;
      }
      case 'datatype':
        if (!CAST_TYPES.has(String(v.dataType ?? '').toUpperCase()))
          refuse(`the type ${JSON.stringify(v.dataType)} is not allowed`);
        break;
      case 'origin': {
        const value = String(v.value ?? '');
        if (!ORIGIN_VALUES.has(value.toUpperCase()))
          refuse(`${JSON.stringify(value.slice(0, 40))} is not allowed`);
        if (value === '?') placeholders++;
        break;
      }
      case 'var':
        refuse('user variables (@x) and system variables (@@x) are not allowed');
        break;
      case 'assign':
        refuse('assignments (@x := …) are not allowed');
        break;
      case 'into':
        refuse('INTO (OUTFILE, DUMPFILE, @variables) is not allowed');
        break;
      default:
        if (!PLAIN.has(type)) refuse(`${JSON.stringify(type)} is not allowed in a statement from outside`);
    }
    for (const [k, x] of Object.entries(v)) if (!skip.includes(k)) walk(x, k);
  };
  walk(ast);
  return placeholders;
}

/** CONVERT(x, TYPE) (a cast) rather than CONVERT(x USING charset). */
function isConvertCast(fn: Json): boolean {
  const args = isObject(fn.args) && Array.isArray(fn.args.value) ? (fn.args.value as Json[]) : [];
  const target = args[1];
  return args.length === 2 && isObject(target) && target.type === 'datatype';
}

/** A statement that passed: the text to run (regenerated from the tree) and its `?` placeholders. */
export interface CheckedMysqlStatement {
  sql: string;
  placeholders: number;
}

function parseOne(sql: string, mode: StatementMode): Json {
  let ast: unknown;
  try {
    ast = mysqlParser().astify(sql, OPT);
  } catch (err) {
    return refuse(`the statement could not be read (${(err as Error).message.slice(0, 160)})`);
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) refuse(`one statement only, got ${ast.length}`);
    ast = ast[0];
  }
  if (!isObject(ast)) return refuse('the statement could not be read');
  const type = String(ast.type ?? '');
  if (type !== 'select')
    refuse(
      mode === 'query'
        ? `only a SELECT may run, got ${type.toUpperCase() || 'nothing'}`
        : `only SELECT statements are explained on MySQL/MariaDB (in a read-only transaction), got ${type.toUpperCase()}`,
    );
  return ast;
}

/**
 * Checks a MySQL/MariaDB statement (see the module comment).
 * @returns the statement regenerated from its checked tree, and its placeholder count.
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED` naming what was refused.
 */
export function checkMysqlStatement(sql: string, mode: StatementMode): CheckedMysqlStatement {
  if (sql.includes('\u0000')) refuse('NUL characters are not allowed');
  assertUnambiguousMysqlText(sql);
  const ast = parseOne(sql, mode);
  const placeholders = checkTree(ast, mode);
  let regenerated: string;
  try {
    regenerated = mysqlParser().sqlify(ast, OPT);
  } catch (err) {
    return refuse(`the statement could not be written back (${(err as Error).message.slice(0, 160)})`);
  }
  // What runs is the regenerated text: it must read back as a statement that passes too.
  assertUnambiguousMysqlText(regenerated);
  const again = checkTree(parseOne(regenerated, mode), mode);
  if (again !== placeholders) refuse('the statement does not read back the same');
  return { sql: regenerated, placeholders };
}
