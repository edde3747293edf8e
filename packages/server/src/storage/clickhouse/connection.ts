/**
 * The HTTP connection of the ClickHouse store: parses the `store` URL (credentials kept out of every
 * message), runs queries and inserts with a timeout, and turns a ClickHouse that does not answer into
 * `SiperfError` `ERR_STORE_UNAVAILABLE` (503 with `Retry-After`), so ingest and queries answer at once
 * instead of hanging. The HTTP client reconnects by itself: a restarted server is used by the next call.
 *
 * ClickHouse 18.16 has no server-side query parameters: values are inlined as literals through
 * {@link lit}, which escapes strings the way ClickHouse's parser reads them (backslash and quote).
 * @module
 */
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { SiperfError } from '../../errors.ts';

/** Seconds a client is told to wait before retrying while ClickHouse is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

/** A parsed `clickhouse://user:password@host:port/database` URL. */
export interface ClickHouseTarget {
  /** `http://host:port` (no credentials). */
  httpUrl: string;
  username: string;
  password: string;
  database: string;
  /** The URL as it may be shown: `clickhouse://user@host:port/database`, never the password. */
  display: string;
}

/**
 * Parses a `clickhouse://user:password@host:port/database` URL (`https` for TLS is `clickhouses://`;
 * port 8123 and database `default` and user `default` when left out).
 * @throws SiperfError `ERR_CONFIG_INVALID` naming the URL without its password.
 */
export function parseClickHouseUrl(url: string): ClickHouseTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SiperfError(
      'ERR_CONFIG_INVALID',
      'store: expected clickhouse://user:password@host:8123/database',
    );
  }
  if (u.protocol !== 'clickhouse:' && u.protocol !== 'clickhouses:')
    throw new SiperfError('ERR_CONFIG_INVALID', `store: expected a clickhouse:// URL, got ${u.protocol}//…`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'default';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw new SiperfError('ERR_CONFIG_INVALID', `store: database name must be [A-Za-z_][A-Za-z0-9_]*`);
  const username = decodeURIComponent(u.username) || 'default';
  const host = u.hostname;
  const port = u.port || '8123';
  const scheme = u.protocol === 'clickhouses:' ? 'https' : 'http';
  return {
    httpUrl: `${scheme}://${host}:${port}`,
    username,
    password: decodeURIComponent(u.password),
    database,
    display: `${u.protocol}//${username}@${host}:${port}/${database}`,
  };
}

/** A ClickHouse literal of a string, number, bigint, boolean or null. */
export function lit(v: string | number | bigint | boolean | null | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? '1' : '0';
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A parenthesised list of string literals, for `IN`. */
export const litList = (vs: readonly string[]): string => `(${vs.map(lit).join(', ')})`;

/** Whether an error means ClickHouse did not answer (refused, reset, timed out) rather than refused the SQL. */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  if (
    code !== undefined &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(
      code,
    )
  )
    return true;
  return /timeout|socket hang up|ECONNREFUSED|ECONNRESET/i.test(e?.message ?? '');
}

/** Row shape of a JSONEachRow answer (64-bit integers arrive as strings). */
export type Row = Record<string, unknown>;

/** One ClickHouse database over HTTP. */
export class ClickHouseConnection {
  readonly client: ClickHouseClient;

  constructor(
    readonly target: ClickHouseTarget,
    /** Per call, ms: past it the call fails with `ERR_STORE_UNAVAILABLE`. */
    readonly timeoutMs: number,
  ) {
    this.client = createClient({
      url: target.httpUrl,
      username: target.username,
      password: target.password,
      database: target.database,
      request_timeout: timeoutMs,
      compression: { request: false, response: false },
      max_open_connections: 8,
      // Failures reach the caller as errors; the client's own logger would print them (and the URL) too.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** The error a caller sees for a failed call: unavailable (503) or the server's own error, no credentials. */
  private wrap(err: unknown, what: string): unknown {
    if (err instanceof SiperfError) return err;
    if (isUnreachable(err))
      return new SiperfError(
        'ERR_STORE_UNAVAILABLE',
        `ClickHouse at ${this.target.display} did not answer (${what}): ${this.redact(err)}`,
        { retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_S },
      );
    const e = new Error(`ClickHouse at ${this.target.display} (${what}): ${this.redact(err)}`);
    return e;
  }

  /** An error's message with the password (if any) cut out. */
  redact(err: unknown): string {
    const m = err instanceof Error ? err.message : String(err);
    const p = this.target.password;
    return (p ? m.split(p).join('***') : m).split('\n')[0]!.slice(0, 500);
  }

  /** Runs a statement that returns nothing (DDL, ALTER, INSERT … SELECT). */
  async command(query: string): Promise<void> {
    try {
      await this.client.command({ query });
    } catch (err) {
      throw this.wrap(err, 'command');
    }
  }

  /** Runs a SELECT and returns its rows. */
  async rows<T extends Row = Row>(query: string): Promise<T[]> {
    try {
      const rs = await this.client.query({ query, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw this.wrap(err, 'query');
    }
  }

  /** Inserts rows (JSONEachRow; one INSERT is one block, written atomically). */
  async insert(table: string, values: readonly Row[]): Promise<void> {
    if (values.length === 0) return;
    try {
      await this.client.insert({ table, values: values as Row[], format: 'JSONEachRow' });
    } catch (err) {
      throw this.wrap(err, `insert into ${table}`);
    }
  }

  /** Resolves when `SELECT 1` answers; throws `ERR_STORE_UNAVAILABLE` (naming the URL, not the password) otherwise. */
  async ping(): Promise<void> {
    await this.rows('SELECT 1 AS ok');
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
