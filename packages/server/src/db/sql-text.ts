/**
 * What the advisor and cached queries need to know about SQL text without running it: the code outside
 * string literals, quoted identifiers and comments (PostgreSQL's `'…'` with `''`, `E'…'` with backslash
 * escapes, `$tag$…$tag$` dollar quotes, `"…"`, MySQL's backslash-escaped `'…'`/`"…"` and `` `…` ``, `--`,
 * `#` (MySQL) and nested `/* … *\/` comments), and so how many statements it holds.
 * @module
 */

import type { QueryConfig } from 'pg';

/**
 * A `pg` query that goes through the extended protocol (Parse/Bind/Execute) even without parameters, so
 * the server refuses a second statement in the text (`queryMode` is in pg ≥ 8.11, not in its types).
 */
export function extended(text: string, values: unknown[] = []): QueryConfig {
  return { text, values, queryMode: 'extended' } as unknown as QueryConfig;
}

/** The SQL with every literal, quoted identifier and comment replaced by a space. */
export function codeOutsideLiterals(sql: string, dialect: 'postgresql' | 'mysql'): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++;
      out += ' ';
      continue;
    }
    if (c === '#' && dialect === 'mysql') {
      while (i < n && sql[i] !== '\n') i++;
      out += ' ';
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*' && dialect === 'postgresql') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      out += ' ';
      continue;
    }
    if (c === '$' && dialect === 'postgresql') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
        out += ' ';
        continue;
      }
    }
    const backslashes =
      dialect === 'mysql' ||
      (c === "'" && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? ''));
    if (c === "'" || c === '"' || (c === '`' && dialect === 'mysql')) {
      i++;
      while (i < n) {
        if (backslashes && sql[i] === '\\') {
          i += 2;
          continue;
        }
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
      out += ' ';
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Statements in the text: `;`-separated parts with code in them (a trailing `;` adds none). */
export function statementCount(sql: string, dialect: 'postgresql' | 'mysql'): number {
  return codeOutsideLiterals(sql, dialect)
    .split(';')
    .filter((part) => part.trim() !== '').length;
}
