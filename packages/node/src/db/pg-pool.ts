/**
 * An instrumented PostgreSQL pool over `pg`: a statement timeout and an acquire timeout by default, and
 * the HikariCP figures (see {@link PoolStats}) — acquire wait, hold time from acquire to release,
 * connection creation time (timed in a `pg.Client` subclass), timeouts and errors.
 * @module
 */
import type pg from 'pg';
import { optionalPeer } from '../util/optional-peer.ts';
import { PoolRecorder, type PoolStats } from './pool-recorder.ts';

/** Options of {@link createPgPool}: `pg.PoolConfig` plus two timeouts. */
export interface PgPoolOptions extends pg.PoolConfig {
  /** `statement_timeout` of every connection, ms (default 30,000; 0 turns it off). */
  statementTimeoutMs?: number;
  /** How long `connect()`/`query()` wait for a connection before failing, ms (default 10,000). */
  acquireTimeoutMs?: number;
}

function checkMs(field: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 2_147_483_647)) {
    throw new RangeError(`${field}: expected an integer 0..2147483647 ms, got ${v}`);
  }
}

/** A `pg.Pool` that records its own figures. */
export class InstrumentedPgPool {
  readonly pool: pg.Pool;
  readonly recorder = new PoolRecorder();
  private readonly statementTimeoutMs: number;
  private readonly acquireTimeoutMs: number;
  private readonly max: number;

  /** @throws RangeError naming the option when a timeout or `max` is out of range. */
  constructor(
    readonly name: string,
    o: PgPoolOptions = {},
  ) {
    checkMs('statementTimeoutMs', o.statementTimeoutMs);
    checkMs('acquireTimeoutMs', o.acquireTimeoutMs);
    if (o.max !== undefined && (!Number.isInteger(o.max) || o.max < 1 || o.max > 10_000)) {
      throw new RangeError(`max: expected an integer 1..10000, got ${o.max}`);
    }
    this.statementTimeoutMs = o.statementTimeoutMs ?? 30_000;
    this.acquireTimeoutMs = o.acquireTimeoutMs ?? 10_000;
    this.max = o.max ?? 10;
    const driver = optionalPeer<typeof pg>('pg', 'createPgPool');
    const recorder = this.recorder;
    // Times each new connection (pg-pool calls connect(callback) on the clients it creates).
    class TimedClient extends driver.Client {
      constructor(config?: string | pg.ClientConfig) {
        super(config);
        // Every error a connection raises is counted here, idle or checked out: a backend terminated
        // between two queries of a checked-out client (a failover, `pg_terminate_backend`,
        // `DROP DATABASE … WITH (FORCE)`) would otherwise be an 'error' event without a listener, which
        // Node turns into an uncaught exception; the client's next query fails instead.
        // One termination raises two events (the backend's FATAL message, then the closed socket): counted
        // once per connection.
        let failed = false;
        this.on('error', () => {
          if (!failed) recorder.errors += 1;
          failed = true;
        });
      }
      override connect(callback?: (err: Error) => void): Promise<void> {
        const t0 = performance.now();
        const done = (err?: Error) => {
          if (err) recorder.errors += 1;
          else recorder.recordCreate(performance.now() - t0);
        };
        if (callback) {
          return (super.connect as (cb: (err: Error) => void) => void).call(this, (err: Error) => {
            done(err ?? undefined);
            callback(err);
          }) as unknown as Promise<void>;
        }
        return super.connect().then(
          () => done(),
          (err: Error) => {
            done(err);
            throw err;
          },
        );
      }
    }
    const { statementTimeoutMs: _s, acquireTimeoutMs: _a, ...config } = o;
    this.pool = new driver.Pool({
      ...config,
      max: this.max,
      connectionTimeoutMillis: this.acquireTimeoutMs,
      ...(this.statementTimeoutMs > 0 ? { statement_timeout: this.statementTimeoutMs } : {}),
      Client: TimedClient as unknown as typeof pg.Client,
    });
    // pg-pool re-emits an idle client's error on the pool; the client's own listener above counted it.
    this.pool.on('error', () => {});
  }

  /**
   * A connection, timed from the call to its arrival; its `release()` records the hold time.
   * @throws the driver's error (e.g. "timeout exceeded when trying to connect") after `acquireTimeoutMs`.
   */
  async connect(): Promise<pg.PoolClient> {
    const t0 = performance.now();
    this.recorder.pending += 1;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      if (/timeout/i.test((err as Error).message)) this.recorder.timeouts += 1;
      throw err;
    } finally {
      this.recorder.pending -= 1;
    }
    const acquiredAt = performance.now();
    this.recorder.recordWait(acquiredAt - t0);
    const release = client.release.bind(client);
    let released = false;
    client.release = (err?: Error | boolean) => {
      if (!released) {
        released = true;
        this.recorder.recordHold(performance.now() - acquiredAt);
      }
      return release(err);
    };
    return client;
  }

  /** Runs one statement on a pooled connection (parameters bound, never interpolated). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const client = await this.connect();
    try {
      return await client.query<R>(text, params);
    } finally {
      client.release();
    }
  }

  /** The database's `max_connections`. */
  async serverMaxConnections(): Promise<number> {
    const r = await this.query<{ max_connections: string }>('SHOW max_connections');
    return Number(r.rows[0]!.max_connections);
  }

  stats(): PoolStats {
    const total = this.pool.totalCount;
    const idle = this.pool.idleCount;
    return this.recorder.stats(
      { name: this.name, driver: 'postgresql', max: this.max, total, idle, active: total - idle },
      { statementTimeoutMs: this.statementTimeoutMs, acquireTimeoutMs: this.acquireTimeoutMs },
    );
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Creates an instrumented PostgreSQL pool.
 * @throws RangeError naming the option when a timeout or `max` is out of range.
 */
export function createPgPool(name: string, options: PgPoolOptions = {}): InstrumentedPgPool {
  return new InstrumentedPgPool(name, options);
}
