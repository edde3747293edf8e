/**
 * The demo's database: PostgreSQL at `DATABASE_URL` through `pg` (traced by the SDK's pg
 * instrumentation), or PGlite — real PostgreSQL compiled to WebAssembly, in memory — when it is unset, so
 * the demo runs on a bare machine. PGlite has no OpenTelemetry instrumentation, so its queries are wrapped
 * here in CLIENT spans with the same semantic-convention attributes the pg instrumentation writes. PGlite
 * can also be served over the PostgreSQL wire protocol on a loopback port (`serveWire`), so that siperf's
 * query advisor reads its plans as it reads PostgreSQL's.
 * @module
 */
import { PGlite } from '@electric-sql/pglite';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import pg from 'pg';
import { SessionLock, serveWire, type WireServer } from './pglite-wire.ts';

/** A row as returned by either driver. */
export type Row = Record<string, unknown>;

/** The little the demo needs of a database. */
export interface Database {
  /** `postgres` (pg) or `pglite`. */
  readonly kind: 'postgres' | 'pglite';
  /** Runs one statement with bound parameters (`$1`, `$2`, …). */
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /**
   * PGlite only: serves the database over the PostgreSQL wire protocol on 127.0.0.1:`port` (0: any free
   * port) until `close`; resolves to its URL (`postgresql://postgres@127.0.0.1:<port>/postgres`).
   */
  serveWire?(port: number): Promise<string>;
  close(): Promise<void>;
}

const tracer = trace.getTracer('siperf-demo-db');

/** Opens the database: `pg` when `url` is given, PGlite otherwise. */
export async function openDatabase(url: string | undefined): Promise<Database> {
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 10, statement_timeout: 10_000 });
    // An idle connection the server closes (a restart, a failover) is dropped from the pool; without a
    // listener its 'error' would end the process.
    pool.on('error', (err) => process.stderr.write(`demo database pool: ${err.message}\n`));
    return {
      kind: 'postgres',
      async query(sql, params = []) {
        return (await pool.query(sql, params)).rows as Row[];
      },
      close: () => pool.end(),
    };
  }
  const db = await PGlite.create();
  // One session for the service and the wire's clients: a client's transaction keeps the service out.
  const lock = new SessionLock();
  let wire: WireServer | undefined;
  return {
    kind: 'pglite',
    async serveWire(port) {
      wire ??= await serveWire(db, { port, lock });
      return wire.url;
    },
    query(sql, params = []) {
      const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'QUERY';
      return tracer.startActiveSpan(
        `${operation} demo`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'db.system.name': 'postgresql',
            'db.system': 'postgresql',
            'db.namespace': 'demo',
            'db.query.text': sql,
            'db.operation.name': operation,
          },
        },
        async (span) => {
          try {
            return (await lock.run(() => db.query<Row>(sql, params))).rows;
          } catch (err) {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            throw err;
          } finally {
            span.end();
          }
        },
      );
    },
    async close() {
      await wire?.close();
      await db.close();
    },
  };
}

/** Annotators seeded: each has 1 in 5,000 of the annotations, so an index on `created_by` pays. */
const USERS = 5000;

/**
 * Creates and fills the demo schema (idempotent): users, tasks, and `annotations` with an index on
 * `task_id` but deliberately none on `created_by`, so the per-user results query scans the table for the
 * 20 rows of one of the 5,000 annotators (the sessions log in as the first 50).
 * @param annotations rows of annotations to seed (default 100,000).
 */
export function seed(db: Database, annotations = 100_000): Promise<void> {
  // Set-up statements are not the service's work: keep them out of the traces.
  return context.with(suppressTracing(context.active()), () => seedUntraced(db, annotations));
}

async function seedUntraced(db: Database, annotations: number): Promise<void> {
  // PostgreSQL with HypoPG installed: create the extension in the demo's own database so the advisor can
  // check the index it suggests (best effort: PGlite and servers without the package skip it).
  await db.query('CREATE EXTENSION IF NOT EXISTS hypopg').catch(() => {});
  await db.query(`CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, name text NOT NULL UNIQUE)`);
  await db.query(
    `CREATE TABLE IF NOT EXISTS tasks (id int PRIMARY KEY, title text NOT NULL, image_url text)`,
  );
  await db.query(`CREATE TABLE IF NOT EXISTS annotations (
    id bigserial PRIMARY KEY, task_id int NOT NULL, created_by int NOT NULL, label text NOT NULL,
    box jsonb, created_at timestamptz NOT NULL DEFAULT now())`);
  await db.query('CREATE INDEX IF NOT EXISTS annotations_task_id ON annotations (task_id)');
  const [{ n } = { n: 0 }] = await db.query('SELECT count(*)::int AS n FROM annotations');
  if (Number(n) > 0) return;
  await db.query(
    `INSERT INTO users SELECT g, 'annotator' || g FROM generate_series(1, ${USERS}) g ON CONFLICT DO NOTHING`,
  );
  await db.query(
    `INSERT INTO tasks SELECT g, 'Street scene ' || g, '/images/' || g || '.jpg' FROM generate_series(1, 200) g
     ON CONFLICT DO NOTHING`,
  );
  await db.query(
    `INSERT INTO annotations (task_id, created_by, label, box)
     SELECT 1 + (g % 200), 1 + (g * 7 % ${USERS}), (ARRAY['car','bus','bike','person','truck'])[1 + g % 5],
            jsonb_build_object('x', g % 640, 'y', g % 480, 'w', 40, 'h', 30)
     FROM generate_series(1, $1::int) g`,
    [annotations],
  );
  await db.query('ANALYZE');
}
