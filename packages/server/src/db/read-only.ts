/**
 * Running a read-only statement on a named pool (for cached queries): one statement only, that reads
 * (SELECT, WITH … SELECT, VALUES, TABLE, SHOW), parameters bound by the driver (never interpolated), inside
 * a `READ ONLY` transaction — so even a function with side effects called from a SELECT cannot write —
 * with the pool's statement timeout.
 * @module
 */
import { SiperfError } from '../errors.ts';
import type { NamedPool } from './pools.ts';

/** The statement without comments and a trailing semicolon. */
function stripped(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .trim()
    .replace(/;\s*$/, '');
}

/**
 * Checks that `sql` is one reading statement.
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED` naming what was refused.
 */
export function assertReadOnly(sql: string): void {
  const s = stripped(sql);
  // A `;` outside string literals means a second statement.
  const outside = s.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`/g, "''");
  if (outside.includes(';')) throw new SiperfError('ERR_QUERY_NOT_ALLOWED', 'query: one statement only');
  if (!/^(select|with|values|table|show)\b/i.test(s)) {
    throw new SiperfError(
      'ERR_QUERY_NOT_ALLOWED',
      `query: only SELECT, WITH … SELECT, VALUES, TABLE or SHOW, got ${JSON.stringify(s.split(/\s/)[0] ?? '')}`,
    );
  }
  if (/^with\b/i.test(s) && /\b(insert|update|delete|merge)\b/i.test(outside)) {
    throw new SiperfError('ERR_QUERY_NOT_ALLOWED', 'query: a WITH query may not modify data');
  }
}

/**
 * Runs a read-only statement and returns its rows.
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED` (not read-only) or `ERR_DB_QUERY` (the database's error).
 */
export async function runReadOnly(
  pool: NamedPool,
  sql: string,
  params: unknown[],
): Promise<Record<string, unknown>[]> {
  assertReadOnly(sql);
  try {
    if (pool.setting.driver === 'postgresql') {
      const client = await (pool as Extract<NamedPool, { setting: { driver: 'postgresql' } }>).pool.connect();
      try {
        await client.query('BEGIN READ ONLY');
        const r = await client.query(sql, params);
        await client.query('COMMIT');
        return r.rows;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    }
    const conn = await (pool as Extract<NamedPool, { setting: { driver: 'mysql' } }>).pool.getConnection();
    try {
      await conn.query('START TRANSACTION READ ONLY');
      const [rows] = await conn.query(sql, params);
      await conn.query('COMMIT');
      return rows as Record<string, unknown>[];
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      conn.release();
    }
  } catch (err) {
    if (err instanceof SiperfError) throw err;
    throw new SiperfError('ERR_DB_QUERY', `pool ${pool.setting.name}: ${(err as Error).message}`);
  }
}
