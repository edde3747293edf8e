/**
 * The SQL sandbox: running a statement from outside (`POST /api/v1/cache-db/cached-query`) on a named
 * pool so that it can read and nothing else. Layers, each enough for the common case, none relied on
 * alone:
 * 1. The parse tree (`pg-statement.ts`, `mysql-statement.ts`): one SELECT calling only allow-listed
 *    functions, no INTO, no locking, no variables, no system catalogs; on MySQL/MariaDB the server runs
 *    the statement regenerated from the tree that was checked, with parameters bound by the server.
 * 2. The role (`pool-role.ts`): a pool whose role can write or is a superuser is refused
 *    (`ERR_POOL_WRITABLE`) unless `allowWritablePools` is 1.
 * 3. The server: a `READ ONLY` transaction, always rolled back, with a statement timeout (the pool's,
 *    10 s), a lock timeout (1 s), PostgreSQL's `search_path` with `pg_catalog` first and
 *    `standard_conforming_strings` on (the parser's assumption), and MySQL's `sql_mode` without
 *    `NO_BACKSLASH_ESCAPES`/`ANSI_QUOTES` (the lexer's); then the session is reset (`DISCARD ALL`;
 *    MySQL/MariaDB `COM_RESET_CONNECTION`, which clears user variables, named locks, temporary tables and
 *    prepared statements, then the pool's statement timeout is set again), or the connection destroyed.
 * 4. The caps, enforced while rows stream, not after: at most {@link MAX_ROWS} rows and `maxBytes` bytes.
 *    PostgreSQL: the statement is wrapped as a subquery with `LIMIT MAX_ROWS + 1` and a running sum of
 *    each row's text length that makes the server raise an error at the first row over the cap (the row
 *    is never sent); MySQL/MariaDB: rows are counted as they arrive and the connection is destroyed at the
 *    first one over (and `sql_select_limit` stops a statement without its own LIMIT). Both also count the
 *    bytes arriving on the socket and destroy the connection when a single row would blow the cap.
 *
 * Errors: a refused statement is `ERR_QUERY_NOT_ALLOWED` (400), one the database refuses as written is
 * `ERR_DB_STATEMENT` (422, with its SQLSTATE; timeouts too), a result over a cap
 * `ERR_QUERY_RESULT_TOO_LARGE` (422); only the database failing (connection refused or lost, out of
 * resources) is `ERR_DB_QUERY` (502).
 * @module
 */
import type { Socket } from 'node:net';
import type { PoolConnection } from 'mysql2/promise';
import type { PoolClient } from 'pg';
import { SiperfError } from '../errors.ts';
import { checkMysqlStatement } from './mysql-statement.ts';
import { checkPgStatement, type PgStatementNames, shadowingSql } from './pg-statement.ts';
import { cachedRole, mysqlRole, type PoolRole, pgRole } from './pool-role.ts';
import type { NamedPool } from './pools.ts';
import { extended } from './sql-text.ts';

/** Most rows a cached query returns (and caches). */
export const MAX_ROWS = 10_000;
/** Default byte cap of a result (the `cachedQueryMaxBytes` setting). */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
/** How long a statement may wait for a lock, ms. */
export const LOCK_TIMEOUT_MS = 1000;

/** Limits of one run. */
export interface SandboxOptions {
  /** Result cap, bytes of the rows' text (default {@link DEFAULT_MAX_BYTES}). */
  maxBytes?: number;
  /** Row cap (default {@link MAX_ROWS}). */
  maxRows?: number;
  /** Run on a pool whose role can write (the `allowWritablePools` setting). Default false. */
  allowWritablePools?: boolean;
}

type PgPool = Extract<NamedPool, { setting: { driver: 'postgresql' } }>;
type MysqlPool = Extract<NamedPool, { setting: { driver: 'mysql' } }>;

const tooLarge = (detail: string, limit: string) =>
  new SiperfError('ERR_QUERY_RESULT_TOO_LARGE', `query: ${detail}`, { limit });

/** SQLSTATE classes of PostgreSQL errors that are the database failing, not the statement. */
const PG_FAILURE = /^(08|53[0-3]|57P|58|XX|F0|HV)/;
/** MySQL/MariaDB error numbers that are the server failing (resources, connection, shutdown). */
const MYSQL_FAILURE = new Set([1021, 1037, 1038, 1040, 1041, 1053, 1152, 1153, 1158, 1159, 1160, 1161, 1927]);

/**
 * The error to answer for a database error: `ERR_DB_STATEMENT` (422) when the statement was at fault,
 * `ERR_DB_QUERY` (502) when the database failed.
 */
export function databaseError(poolName: string, err: unknown, statementTimeoutMs: number): SiperfError {
  if (err instanceof SiperfError) return err;
  const e = err as Error & { code?: string; errno?: number; sqlState?: string; fatal?: boolean };
  const message = String(e?.message ?? err).slice(0, 500);
  const pgState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const timeout =
    pgState === '57014' || e.errno === 1969 || e.errno === 3024
      ? ` (the statement ran longer than the statement timeout, ${statementTimeoutMs} ms)`
      : pgState === '55P03' || e.errno === 1205 || e.errno === 1105
        ? ` (it waited longer than the lock timeout, ${LOCK_TIMEOUT_MS} ms)`
        : '';
  const statementFault =
    pgState !== undefined
      ? !PG_FAILURE.test(pgState)
      : typeof e.sqlState === 'string' &&
        typeof e.errno === 'number' &&
        e.errno > 0 &&
        e.errno < 2000 &&
        !e.fatal &&
        !MYSQL_FAILURE.has(e.errno);
  if (statementFault) {
    const state = pgState ?? e.sqlState;
    return new SiperfError(
      'ERR_DB_STATEMENT',
      `pool ${poolName}: ${message}${state ? ` [SQLSTATE ${state}]` : ''}${timeout}`,
    );
  }
  return new SiperfError('ERR_DB_QUERY', `pool ${poolName}: ${message}`);
}

/**
 * Refuses a pool whose role can write unless allowed.
 * @throws SiperfError `ERR_POOL_WRITABLE` naming the role's powers.
 */
export function assertReadOnlyRole(poolName: string, role: PoolRole, allowWritablePools: boolean): void {
  if (role.powers.length === 0 || allowWritablePools) return;
  throw new SiperfError(
    'ERR_POOL_WRITABLE',
    `pool ${poolName}: its role ${role.role} ${role.powers.join('; ')}: siperf runs client SQL and EXPLAIN only on a role that cannot write. Give it a role with SELECT only, or set allowWritablePools=1 (runs client SQL on a role that can write).`,
  );
}

/** The role of a PostgreSQL pool (checked on first use, then every few minutes). */
export function pgPoolRole(pool: PgPool, client: PoolClient): Promise<PoolRole> {
  return cachedRole(pool, () => pgRole(client));
}

/** The role of a MySQL/MariaDB pool (checked on first use, then every few minutes). */
export function mysqlPoolRole(pool: MysqlPool, conn: PoolConnection): Promise<PoolRole> {
  return cachedRole(pool, () => mysqlRole(conn));
}

/**
 * The statements that open the sandbox transaction on PostgreSQL: read only, timeouts, the parser's
 * string syntax, `pg_catalog` first on the search path. Run as one simple-protocol batch (our own text).
 */
export function pgSandboxBegin(statementTimeoutMs: number, extra = ''): string {
  return `BEGIN READ ONLY;
SET LOCAL statement_timeout = ${Math.trunc(statementTimeoutMs)};
SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS};
SET LOCAL idle_in_transaction_session_timeout = ${Math.trunc(statementTimeoutMs) + 5000};
SET LOCAL standard_conforming_strings = on;${extra}
SELECT set_config('search_path', CASE WHEN current_setting('search_path') = '' THEN 'pg_catalog' ELSE 'pg_catalog, ' || current_setting('search_path') END, true);`;
}

/**
 * Refuses a statement whose allow-listed function or operator names are also defined in another schema
 * on the search path (a call could resolve there).
 */
export async function assertNotShadowed(client: PoolClient, names: PgStatementNames): Promise<void> {
  if (names.functions.length === 0 && names.operators.length === 0) return;
  const r = await client.query<{ kind: string; schema: string; name: string }>(
    extended(shadowingSql, [names.functions, names.operators]),
  );
  const first = r.rows[0];
  if (first) {
    throw new SiperfError(
      'ERR_QUERY_NOT_ALLOWED',
      `query: the ${first.kind} ${first.name} is also defined in schema ${first.schema}, on the search path: the call could resolve to it`,
    );
  }
}

/** Ends the sandbox on a PostgreSQL connection: rollback and `DISCARD ALL`, or destroy it. */
export async function pgSandboxEnd(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
    await client.query('DISCARD ALL');
    client.release();
  } catch (err) {
    client.release(err instanceof Error ? err : new Error(String(err)));
  }
}

/** The socket under a pg client or a mysql2 connection (undefined when the driver hides it). */
function socketOf(x: unknown): Socket | undefined {
  const s = (x as { connection?: { stream?: Socket } })?.connection?.stream;
  return s && typeof s.on === 'function' ? s : undefined;
}

/**
 * Counts the bytes arriving on `socket` and calls `over` once when they pass `limit`: the backstop that
 * stops a single huge row before the driver has buffered it whole.
 * @returns a function that stops counting.
 */
function guardSocket(socket: Socket | undefined, limit: number, over: () => void): () => void {
  if (!socket) return () => {};
  let bytes = 0;
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limit) {
      socket.off('data', onData);
      over();
    }
  };
  socket.on('data', onData);
  return () => socket.off('data', onData);
}

/** Slack over the byte cap for the wire's own framing (lengths, row headers, column descriptions). */
const wireLimit = (maxBytes: number) => 4 * maxBytes + 1024 * 1024;

async function runPg(
  pool: PgPool,
  sql: string,
  params: unknown[],
  o: Required<SandboxOptions>,
): Promise<Record<string, unknown>[]> {
  const checked = await checkPgStatement(sql, 'query');
  const timeoutMs = pool.pool.stats().statementTimeoutMs || 10_000;
  let client: PoolClient;
  try {
    client = await pool.pool.connect();
  } catch (err) {
    throw databaseError(pool.setting.name, err, timeoutMs);
  }
  let overWire = false;
  const stopGuard = guardSocket(socketOf(client), wireLimit(o.maxBytes), () => {
    overWire = true;
    (client as unknown as { connection?: { stream?: Socket } }).connection?.stream?.destroy();
  });
  let destroyed = false;
  try {
    assertReadOnlyRole(pool.setting.name, await pgPoolRole(pool, client), o.allowWritablePools);
    await client.query(pgSandboxBegin(timeoutMs));
    await assertNotShadowed(client, checked);
    // The statement as a subquery (on its own lines: a trailing -- comment ends there): the server stops
    // at MAX_ROWS + 1 rows, and raises an error at the first row that takes the text over maxBytes.
    const wrapped = `SELECT (siperf_s.siperf_r).* FROM (SELECT siperf_q AS siperf_r,
  sum(octet_length(siperf_q::text)) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS siperf_bytes
  FROM (
${checked.text}
) AS siperf_q LIMIT ${o.maxRows + 1}) AS siperf_s
WHERE CASE WHEN siperf_s.siperf_bytes > ${o.maxBytes}
  THEN ('siperf: result over ' || siperf_s.siperf_bytes || ' bytes')::int IS NULL ELSE true END`;
    const rows = (await client.query(extended(wrapped, params))).rows as Record<string, unknown>[];
    if (rows.length > o.maxRows)
      throw tooLarge(`more than ${o.maxRows} rows: add a LIMIT`, `${o.maxRows} rows`);
    return rows;
  } catch (err) {
    if (overWire) {
      destroyed = true;
      client.release(new Error('result over the byte cap'));
      throw tooLarge(`the result is over ${o.maxBytes} bytes`, `${o.maxBytes} bytes`);
    }
    const m = /siperf: result over (\d+) bytes/.exec((err as Error)?.message ?? '');
    if (m)
      throw tooLarge(
        `the result is over ${o.maxBytes} bytes (${m[1]} by the first row over)`,
        `${o.maxBytes} bytes`,
      );
    throw databaseError(pool.setting.name, err, timeoutMs);
  } finally {
    stopGuard();
    if (!destroyed) await pgSandboxEnd(client);
  }
}

/** `sql_mode` of the sandbox: the server's default without NO_BACKSLASH_ESCAPES and ANSI_QUOTES. */
const SANDBOX_SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** The session settings of the MySQL/MariaDB sandbox. */
export function mysqlSandboxSettings(
  role: PoolRole,
  statementTimeoutMs: number,
  selectLimit?: number,
): string {
  const timeout = role.mariadb
    ? `max_statement_time = ${statementTimeoutMs / 1000}`
    : `max_execution_time = ${Math.trunc(statementTimeoutMs)}`;
  return `SET SESSION sql_mode = '${SANDBOX_SQL_MODE}', lock_wait_timeout = ${Math.ceil(LOCK_TIMEOUT_MS / 1000)}, innodb_lock_wait_timeout = ${Math.ceil(LOCK_TIMEOUT_MS / 1000)}, ${timeout}${selectLimit ? `, sql_select_limit = ${selectLimit}` : ''}`;
}

/**
 * Ends the sandbox on a MySQL/MariaDB connection: rollback, `COM_RESET_CONNECTION` (user variables,
 * named locks, temporary tables, prepared statements and session settings go), then the pool's statement
 * timeout again; a connection where any of it fails is destroyed.
 */
export async function resetMysqlSession(
  conn: PoolConnection,
  role: PoolRole | undefined,
  statementTimeoutMs: number,
): Promise<void> {
  try {
    await conn.query('ROLLBACK');
    await conn.reset();
    if (statementTimeoutMs > 0)
      await conn.query(
        role?.mariadb === false
          ? `SET SESSION max_execution_time = ${Math.trunc(statementTimeoutMs)}`
          : `SET SESSION max_statement_time = ${statementTimeoutMs / 1000}`,
      );
    conn.release();
  } catch {
    conn.destroy();
    conn.release();
  }
}

async function runMysql(
  pool: MysqlPool,
  sql: string,
  params: unknown[],
  o: Required<SandboxOptions>,
): Promise<Record<string, unknown>[]> {
  const checked = checkMysqlStatement(sql, 'query');
  if (checked.placeholders !== params.length) {
    throw new SiperfError(
      'ERR_API_BODY',
      `params: the statement has ${checked.placeholders} ? placeholders, params has ${params.length} values`,
      { field: 'params' },
    );
  }
  const timeoutMs = pool.pool.stats().statementTimeoutMs || 10_000;
  let conn: PoolConnection;
  try {
    conn = await pool.pool.getConnection();
  } catch (err) {
    throw databaseError(pool.setting.name, err, timeoutMs);
  }
  let role: PoolRole | undefined;
  let destroyed = false;
  const destroy = () => {
    if (!destroyed) {
      destroyed = true;
      conn.destroy();
    }
  };
  try {
    role = await mysqlPoolRole(pool, conn);
    assertReadOnlyRole(pool.setting.name, role, o.allowWritablePools);
    await conn.query(mysqlSandboxSettings(role, timeoutMs, o.maxRows + 1));
    await conn.query('START TRANSACTION READ ONLY');
    return await new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const rows: Record<string, unknown>[] = [];
      let bytes = 0;
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        stopGuard();
        reject(err);
      };
      const stopGuard = guardSocket(socketOf(conn), wireLimit(o.maxBytes), () => {
        destroy();
        fail(tooLarge(`the result is over ${o.maxBytes} bytes`, `${o.maxBytes} bytes`));
      });
      type Emitter = { on(event: string, listener: (...args: never[]) => void): Emitter };
      const core = (
        conn as unknown as {
          connection: { query(sql: string): Emitter; execute(sql: string, values: unknown[]): Emitter };
        }
      ).connection;
      const cmd = params.length > 0 ? core.execute(checked.sql, params) : core.query(checked.sql);
      cmd.on('result', (row: Record<string, unknown>) => {
        if (settled) return;
        rows.push(row);
        for (const v of Object.values(row))
          bytes += v === null ? 4 : Buffer.isBuffer(v) ? 2 * v.length : String(v).length;
        if (rows.length > o.maxRows) {
          destroy();
          fail(tooLarge(`more than ${o.maxRows} rows: add a LIMIT`, `${o.maxRows} rows`));
        } else if (bytes > o.maxBytes) {
          destroy();
          fail(tooLarge(`the result is over ${o.maxBytes} bytes`, `${o.maxBytes} bytes`));
        }
      });
      cmd.on('error', (err: unknown) => fail(databaseError(pool.setting.name, err, timeoutMs)));
      cmd.on('end', () => {
        if (settled) return;
        settled = true;
        stopGuard();
        resolve(rows);
      });
    });
  } catch (err) {
    throw databaseError(pool.setting.name, err, timeoutMs);
  } finally {
    if (destroyed) conn.release();
    else await resetMysqlSession(conn, role, pool.pool.stats().statementTimeoutMs);
  }
}

/**
 * Runs a statement from outside in the sandbox (see the module comment) and returns its rows.
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED`, `ERR_POOL_WRITABLE`, `ERR_DB_STATEMENT`,
 *   `ERR_QUERY_RESULT_TOO_LARGE` or `ERR_DB_QUERY`.
 */
export async function runReadOnly(
  pool: NamedPool,
  sql: string,
  params: unknown[],
  options: SandboxOptions = {},
): Promise<Record<string, unknown>[]> {
  const o: Required<SandboxOptions> = {
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    maxRows: options.maxRows ?? MAX_ROWS,
    allowWritablePools: options.allowWritablePools ?? false,
  };
  return pool.setting.driver === 'postgresql'
    ? runPg(pool as PgPool, sql, params, o)
    : runMysql(pool as MysqlPool, sql, params, o);
}
