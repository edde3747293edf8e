/**
 * Running a read-only statement on a named pool (for cached queries). Layers, each enough on its own for
 * the common case, none relied on alone:
 * 1. The text: exactly one statement (counted outside literals and comments, see `sql-text.ts`), that
 *    reads (SELECT, WITH … SELECT, VALUES, TABLE, SHOW), with no INTO (SELECT INTO, INTO OUTFILE/DUMPFILE/@var)
 *    and none of the functions with effects outside the transaction (terminating backends, reading server
 *    files, notifications, advisory and named locks, settings, statistics resets, dblink, large objects).
 * 2. The driver: parameters are bound, never interpolated; PostgreSQL statements go through the extended
 *    protocol, which refuses a second statement; mysql2 refuses multiple statements by default.
 * 3. The server: a `READ ONLY` transaction with the pool's statement timeout, always rolled back (so
 *    session settings made inside it are undone), and advisory locks released after.
 * The pool's own role is the last line: give it SELECT only — no text check makes a superuser harmless.
 * @module
 */
import { SiperfError } from '../errors.ts';
import type { NamedPool } from './pools.ts';
import { codeOutsideLiterals, extended, statementCount } from './sql-text.ts';

/** Most rows a cached query returns (and caches). */
export const MAX_ROWS = 10_000;

/** Functions a read-only statement may not call (lower case). */
const DENIED = [
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_dir',
  'pg_ls_logdir',
  'pg_ls_waldir',
  'pg_ls_tmpdir',
  'pg_ls_archive_statusdir',
  'pg_stat_file',
  'pg_notify',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_backup_start',
  'pg_backup_stop',
  'set_config',
  'lo_import',
  'lo_export',
  'lo_unlink',
  'lo_create',
  'lo_from_bytea',
  'lo_put',
  'load_file',
  'get_lock',
  'release_lock',
  'release_all_locks',
  'is_free_lock',
  'sys_exec',
  'sys_eval',
];
const DENIED_PREFIXES = [
  'pg_advisory_',
  'pg_try_advisory_',
  'pg_stat_reset',
  'dblink',
  'pg_replication_',
  'pg_drop_replication',
  'pg_create_',
  'pg_logical_',
];

const refuse = (message: string): never => {
  throw new SiperfError('ERR_QUERY_NOT_ALLOWED', `query: ${message}`);
};

/**
 * Checks that `sql` is one reading statement without denied functions.
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED` naming what was refused.
 */
export function assertReadOnly(sql: string, dialect: 'postgresql' | 'mysql'): void {
  if (sql.includes('\u0000')) refuse('NUL characters are not allowed');
  if (statementCount(sql, dialect) !== 1) refuse('one statement only');
  const code = codeOutsideLiterals(sql, dialect).trim().toLowerCase();
  const first = /^[a-z]+/.exec(code)?.[0] ?? '';
  if (!['select', 'with', 'values', 'table', 'show'].includes(first)) {
    refuse(
      `only SELECT, WITH … SELECT, VALUES, TABLE or SHOW, got ${JSON.stringify(first || code.slice(0, 20))}`,
    );
  }
  if (first === 'with' && /\b(insert|update|delete|merge)\b/.test(code))
    refuse('a WITH query may not modify data');
  if (/\binto\b/.test(code)) refuse('INTO (SELECT INTO, INTO OUTFILE, INTO @var) is not allowed');
  for (const m of code.matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/g)) {
    const fn = m[1]!;
    if (DENIED.includes(fn) || DENIED_PREFIXES.some((p) => fn.startsWith(p))) {
      refuse(`${fn}() has effects outside a read-only transaction and is not allowed`);
    }
  }
}

/**
 * Runs a read-only statement and returns its rows.
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED` (not read-only, or more than {@link MAX_ROWS} rows) or
 *   `ERR_DB_QUERY` (the database's error).
 */
export async function runReadOnly(
  pool: NamedPool,
  sql: string,
  params: unknown[],
): Promise<Record<string, unknown>[]> {
  assertReadOnly(sql, pool.setting.driver);
  let rows: unknown;
  try {
    if (pool.setting.driver === 'postgresql') {
      const p = (pool as Extract<NamedPool, { setting: { driver: 'postgresql' } }>).pool;
      const client = await p.connect();
      try {
        await client.query('BEGIN READ ONLY');
        await client.query(`SET LOCAL statement_timeout = ${p.stats().statementTimeoutMs}`);
        rows = (await client.query(extended(sql, params))).rows;
      } finally {
        // Rolled back whatever happened: settings changed inside are undone; then no lock survives.
        await client.query('ROLLBACK').catch(() => {});
        await client.query('SELECT pg_advisory_unlock_all()').catch(() => {});
        client.release();
      }
    } else {
      const conn = await (pool as Extract<NamedPool, { setting: { driver: 'mysql' } }>).pool.getConnection();
      try {
        await conn.query('START TRANSACTION READ ONLY');
        [rows] = await conn.query(sql, params);
      } finally {
        await conn.query('ROLLBACK').catch(() => {});
        conn.release();
      }
    }
  } catch (err) {
    if (err instanceof SiperfError) throw err;
    throw new SiperfError('ERR_DB_QUERY', `pool ${pool.setting.name}: ${(err as Error).message}`);
  }
  if (!Array.isArray(rows)) refuse('the statement returned no rows');
  const list = rows as Record<string, unknown>[];
  if (list.length > MAX_ROWS)
    refuse(`the result has ${list.length} rows; a cached query returns at most ${MAX_ROWS}: add a LIMIT`);
  return list;
}
