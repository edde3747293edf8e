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
import '../util/wasm-liftoff.ts';
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
/** Statements longer than this are not memoised (the memo stays under ~40 MB). */
const MAX_MEMO_CHARS = 2048;
/** Only the first 16 KiB of a statement are normalised (and PostgreSQL's parser sees none longer). */
const MAX_STATEMENT_CHARS = 16_384;
const memo = new Map<string, NormalisedStatement>();

/**
 * Normalises a statement and computes its fingerprint.
 *
 * @param system - `db.system.name`, e.g. `postgresql`, `mysql`, `redis`.
 * @param text - the statement as sent.
 * @returns the normalised statement and fingerprint; never throws.
 */
export function normaliseStatement(system: string, text: string): NormalisedStatement {
  const memoised = text.length <= MAX_MEMO_CHARS;
  const key = `${system}\u0000${text}`;
  if (memoised) {
    const hit = memo.get(key);
    if (hit) return hit;
  }
  const clipped = text.length > MAX_STATEMENT_CHARS ? text.slice(0, MAX_STATEMENT_CHARS) : text;
  const result =
    isPostgres(system) && parserLoaded && clipped === text && !text.includes('\u0000')
      ? normalisePostgres(text)
      : isKeyValue(system)
        ? normaliseCommand(clipped)
        : normaliseGeneric(clipped);
  if (clipped !== text) result.statement += ' …';
  if (memoised) {
    if (memo.size >= MAX_MEMO) memo.delete(memo.keys().next().value as string);
    memo.set(key, result);
  }
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
    // The parser reports some failures (e.g. "memory exhausted") as its output: never keep those.
    if (/^[0-9a-f]{16}$/.test(fingerprint)) return { statement, fingerprint };
  } catch {
    // not PostgreSQL syntax the parser accepts: fall through
  }
  return normaliseGeneric(text);
}

/**
 * pt-query-digest style normalisation for any SQL dialect (and for command-like statements such as Redis).
 * Exported for tests.
 */
export function normaliseGeneric(text: string): NormalisedStatement {
  const statement = stripLiteralsAndComments(text)
    .replace(/\b0x[0-9a-f]+\b/gi, '?')
    .replace(/(?<![\w$])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, '?')
    .replace(/\b(in|values)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)/gi, (_m, kw: string) => `${kw} (?+)`)
    .replace(/\s+/g, ' ')
    .trim();
  const fingerprint = createHash('sha1').update(statement.toLowerCase()).digest('hex').slice(0, 16);
  return { statement, fingerprint };
}

/**
 * One left-to-right pass (linear time, whatever the input) that replaces quoted strings ('…' and "…",
 * with backslash escapes and doubled quotes) by `?` and comments (/* … *\/, -- …, # …) by a space.
 */
function stripLiteralsAndComments(text: string): string {
  const parts: string[] = [];
  const n = text.length;
  let from = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 39 || c === 34) {
      // ' or "
      parts.push(text.slice(from, i), '?');
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92)
          j += 2; // backslash escape
        else if (d === c && text.charCodeAt(j + 1) === c)
          j += 2; // doubled quote
        else if (d === c) break;
        else j++;
      }
      i = j + 1;
      from = i;
    } else if (
      (c === 47 && text.charCodeAt(i + 1) === 42) ||
      (c === 45 && text.charCodeAt(i + 1) === 45) ||
      c === 35
    ) {
      // /* … */, -- …, # …
      const block = c === 47;
      const end = block ? text.indexOf('*/', i + 2) : text.indexOf('\n', i);
      parts.push(text.slice(from, i), ' ');
      i = end < 0 ? n : block ? end + 2 : end;
      from = i;
    } else i++;
  }
  parts.push(text.slice(from));
  return parts.join('');
}
