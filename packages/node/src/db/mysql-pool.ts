/**
 * An instrumented MySQL/MariaDB pool over `mysql2`: an acquire timeout (mysql2 has none for pools), a
 * statement timeout set on every new connection (`max_statement_time` on MariaDB, `max_execution_time` on
 * MySQL, which limits SELECT only), and the HikariCP figures (see {@link PoolStats}). A connection's
 * creation time is the wait of the acquisition during which the pool opened it.
 * @module
 */
import type mysql from 'mysql2';
import type { Pool, PoolConnection, PoolOptions } from 'mysql2/promise';
import { optionalPeer } from '../util/optional-peer.ts';
import { PoolRecorder, type PoolStats } from './pool-recorder.ts';

/** Options of {@link createMysqlPool}: mysql2's pool options (or `uri`) plus two timeouts. */
export interface MysqlPoolOptions extends PoolOptions {
  /** Per-statement limit, ms (default 30,000; 0 turns it off). */
  statementTimeoutMs?: number;
  /** How long an acquisition waits before failing, ms (default 10,000). */
  acquireTimeoutMs?: number;
}

/** Thrown when no connection came within `acquireTimeoutMs`. */
export class PoolAcquireTimeoutError extends Error {
  constructor(pool: string, ms: number) {
    super(`pool ${pool}: no connection within acquireTimeoutMs (${ms} ms)`);
    this.name = 'PoolAcquireTimeoutError';
  }
}

/** A mysql2 pool that records its own figures. */
export class InstrumentedMysqlPool {
  readonly pool: Pool;
  readonly recorder = new PoolRecorder();
  private readonly statementTimeoutMs: number;
  private readonly acquireTimeoutMs: number;
  private readonly max: number;
  private created = 0;
  private closed = 0;
  private active = 0;

  /** @throws RangeError naming the option when a timeout or the connection limit is out of range. */
  constructor(
    readonly name: string,
    o: MysqlPoolOptions,
  ) {
    for (const f of ['statementTimeoutMs', 'acquireTimeoutMs'] as const) {
      const v = o[f];
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 2_147_483_647)) {
        throw new RangeError(`${f}: expected an integer 0..2147483647 ms, got ${v}`);
      }
    }
    const limit = o.connectionLimit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new RangeError(`connectionLimit: expected an integer 1..10000, got ${limit}`);
    }
    this.statementTimeoutMs = o.statementTimeoutMs ?? 30_000;
    this.acquireTimeoutMs = o.acquireTimeoutMs ?? 10_000;
    this.max = limit;
    const { statementTimeoutMs: _s, acquireTimeoutMs: _a, ...config } = o;
    const core = optionalPeer<typeof mysql>('mysql2', 'createMysqlPool').createPool({
      ...config,
      connectionLimit: limit,
      waitForConnections: true,
    });
    const seconds = this.statementTimeoutMs / 1000;
    core.on('connection', (conn) => {
      this.created += 1;
      conn.on('end', () => {
        this.closed += 1;
      });
      conn.on('error', () => {
        this.recorder.errors += 1;
      });
      if (this.statementTimeoutMs > 0) {
        conn.query(`SET SESSION max_statement_time = ${seconds}`, (err) => {
          if (err) conn.query(`SET SESSION max_execution_time = ${this.statementTimeoutMs}`, () => {});
        });
      }
    });
    this.pool = core.promise();
  }

  /**
   * A connection; its `release()` records the hold time.
   * @throws PoolAcquireTimeoutError after `acquireTimeoutMs`, or the driver's error.
   */
  async getConnection(): Promise<PoolConnection> {
    const t0 = performance.now();
    const createdBefore = this.created;
    this.recorder.pending += 1;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const acquiring = this.pool.getConnection();
    let conn: PoolConnection;
    try {
      conn = await Promise.race([
        acquiring,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new PoolAcquireTimeoutError(this.name, this.acquireTimeoutMs));
          }, this.acquireTimeoutMs);
        }),
      ]);
    } catch (err) {
      if (timedOut) {
        this.recorder.timeouts += 1;
        // The connection may still come: hand it straight back.
        acquiring.then(
          (c) => c.release(),
          () => {},
        );
      } else this.recorder.errors += 1;
      throw err;
    } finally {
      clearTimeout(timer);
      this.recorder.pending -= 1;
    }
    const acquiredAt = performance.now();
    const waited = acquiredAt - t0;
    this.recorder.recordWait(waited);
    if (this.created > createdBefore) this.recorder.recordCreate(waited);
    this.active += 1;
    const release = conn.release.bind(conn);
    let released = false;
    conn.release = () => {
      if (!released) {
        released = true;
        this.active -= 1;
        this.recorder.recordHold(performance.now() - acquiredAt);
      }
      release();
    };
    return conn;
  }

  /** Runs one statement on a pooled connection (parameters bound, never interpolated). */
  async query<T = unknown>(sql: string, params?: unknown[]): Promise<T> {
    const conn = await this.getConnection();
    try {
      const [rows] = await conn.query(sql, params);
      return rows as T;
    } finally {
      conn.release();
    }
  }

  /** The server's `max_connections`. */
  async serverMaxConnections(): Promise<number> {
    const rows = await this.query<{ Value: string }[]>("SHOW VARIABLES LIKE 'max_connections'");
    return Number(rows[0]!.Value);
  }

  stats(): PoolStats {
    const total = Math.max(0, this.created - this.closed);
    return this.recorder.stats(
      {
        name: this.name,
        driver: 'mysql',
        max: this.max,
        total,
        idle: Math.max(0, total - this.active),
        active: this.active,
      },
      { statementTimeoutMs: this.statementTimeoutMs, acquireTimeoutMs: this.acquireTimeoutMs },
    );
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Creates an instrumented MySQL/MariaDB pool.
 * @throws RangeError naming the option when a timeout or the connection limit is out of range.
 */
export function createMysqlPool(name: string, options: MysqlPoolOptions): InstrumentedMysqlPool {
  return new InstrumentedMysqlPool(name, options);
}
