/**
 * Normalised statements and fingerprints of database queries.
 *
 * PostgreSQL statements go through the real PostgreSQL parser (libpg-query [1]): `normalize` replaces
 * every constant with `$n`, and `fingerprint` hashes the parse tree so that the same query with other
 * literals or another IN-list length gets the same fingerprint. When the parser rejects a statement (or
 * for any other system) the statement is normalised by the rules of pt-query-digest's `fingerprint` [2]:
 * comments dropped, quoted strings and numbers replaced by `?`, IN lists collapsed to `(?+)`, whitespace
 * collapsed, and the fingerprint is the first 16 hex digits of the SHA-1 of the lower-cased result.
 *
 * Parsing costs ~10–30 µs per statement, so results are memoised per exact statement text (applications
 * send parameterised SQL, so a few hundred distinct texts cover nearly all calls).
 *
 * [1] libpg-query, https://github.com/launchql/libpg-query-node (the PostgreSQL parser compiled to WASM)
 * [2] Percona Toolkit, pt-query-digest, section "FINGERPRINTS", https://docs.percona.com/percona-toolkit/
 * @module
 */
import { createHash } from 'node:crypto';
import { fingerprintSync, loadModule, normalizeSync } from 'libpg-query';

/** A statement after normalisation. */
export interface NormalisedStatement {
  /** Literals replaced by `$n` (PostgreSQL) or `?`. */
  statement: string;
  /** 16 hex characters. */
  fingerprint: string;
}

let parserReady: Promise<void> | undefined;
let parserLoaded = false;

/** Loads the PostgreSQL parser (WASM). Call once before ingesting; later calls return the same promise. */
export function loadSqlParser(): Promise<void> {
  parserReady ??= loadModule().then(() => {
    parserLoaded = true;
  });
  return parserReady;
}

const MAX_MEMO = 20_000;
const memo = new Map<string, NormalisedStatement>();

/**
 * Normalises a statement and computes its fingerprint.
 *
 * @param system - `db.system.name`, e.g. `postgresql`, `mysql`, `redis`.
 * @param text - the statement as sent.
 * @returns the normalised statement and fingerprint; never throws.
 */
export function normaliseStatement(system: string, text: string): NormalisedStatement {
  const key = `${system}\u0000${text}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const result =
    isPostgres(system) && parserLoaded
      ? normalisePostgres(text)
      : isKeyValue(system)
        ? normaliseCommand(text)
        : normaliseGeneric(text);
  if (memo.size >= MAX_MEMO) memo.delete(memo.keys().next().value as string);
  memo.set(key, result);
  return result;
}

function isKeyValue(system: string): boolean {
  return system === 'redis' || system === 'valkey' || system === 'memcached';
}

/**
 * Key-value commands (`HGET cart:42 field`): the command word stays, every argument becomes `?`, so all
 * calls of one command share a fingerprint (keys carry ids). Exported for tests.
 */
export function normaliseCommand(text: string): NormalisedStatement {
  const words = text.trim().split(/\s+/);
  const command = (words[0] ?? '').toUpperCase();
  const statement = [command, ...words.slice(1).map(() => '?')].join(' ');
  const fingerprint = createHash('sha1').update(statement.toLowerCase()).digest('hex').slice(0, 16);
  return { statement, fingerprint };
}

function isPostgres(system: string): boolean {
  return system === 'postgresql' || system === 'postgres' || system === 'cockroachdb';
}

function normalisePostgres(text: string): NormalisedStatement {
  try {
    const statement = normalizeSync(text).replace(/\s+/g, ' ').trim();
    const fingerprint = fingerprintSync(text);
    return { statement, fingerprint };
  } catch {
    return normaliseGeneric(text);
  }
}

/**
 * pt-query-digest style normalisation for any SQL dialect (and for command-like statements such as Redis).
 * Exported for tests.
 */
export function normaliseGeneric(text: string): NormalisedStatement {
  const statement = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/(--|#)[^\n]*/g, ' ')
    .replace(/'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/"(?:[^"\\]|\\.)*"/g, '?')
    .replace(/\b0x[0-9a-f]+\b/gi, '?')
    .replace(/(?<![\w$])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, '?')
    .replace(/\b(in|values)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)/gi, (_m, kw: string) => `${kw} (?+)`)
    .replace(/\s+/g, ' ')
    .trim();
  const fingerprint = createHash('sha1').update(statement.toLowerCase()).digest('hex').slice(0, 16);
  return { statement, fingerprint };
}
