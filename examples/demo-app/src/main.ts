/**
 * The demo service's process: `init()` of `@siperf/node` first, then the app (imported afterwards so the
 * instrumentations see `pg`, `http` and Fastify load). Settings from the environment: `SIPERF_ENDPOINT`
 * (default `http://127.0.0.1:4318`), `PORT` (default 3000; 0 picks a free port), `DATABASE_URL`
 * (PostgreSQL; PGlite in memory when unset), `PGLITE_PORT` (with PGlite: serve it over the PostgreSQL
 * wire protocol on this loopback port, for siperf's query advisor), `DEMO_ANNOTATIONS` (rows to seed,
 * default 100,000). Prints one JSON line `{"listening": "<url>", "database": "pglite|postgres",
 * "postgresUrl": "<url>"}` when ready (`postgresUrl` with `PGLITE_PORT` only).
 *
 * Run by `npm run demo` (with an IPC channel), the message `drain` stops the HTTP service and flushes the
 * SDK's spans and metrics, then answers `drained`; the database stays open, so the advisor can still read
 * its plans while the report is made. `flush` flushes the SDK and answers `flushed` (the service keeps
 * serving); `{ fix: { sql?, batchAuthors? } }` runs the statement on the database (untraced) and/or turns
 * on the batched author query, then answers `{ fixed: true }` or `{ fixed: false, error }` (`--fix`).
 * SIGTERM, SIGINT or the parent's going away stop everything.
 * @module
 */
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { init } from '@siperf/node';

const endpoint = process.env.SIPERF_ENDPOINT ?? 'http://127.0.0.1:4318';
const siperf = init({
  serviceName: 'annotate-api',
  serviceVersion: '1.0.0',
  endpoint,
  metricExportIntervalMs: 2000,
  spanExportDelayMs: 500,
  // The demo's load outruns OTel's default queue of 2,048 spans on a busy machine; its report counts
  // every request, so none may be dropped.
  maxQueuedSpans: 200_000,
  exportTimeoutMs: 60_000,
});

const { openDatabase, seed } = await import('./db.ts');
const { buildApp } = await import('./app.ts');
type DemoFixes = import('./app.ts').DemoFixes;
const db = await openDatabase(process.env.DATABASE_URL);
await seed(db, Number(process.env.DEMO_ANNOTATIONS ?? 100_000));
const postgresUrl =
  db.serveWire && process.env.PGLITE_PORT !== undefined
    ? await db.serveWire(Number(process.env.PGLITE_PORT))
    : undefined;
const fixes: DemoFixes = { batchAuthors: false };
const app = await buildApp({ db, siperfEndpoint: endpoint, fixes });
const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
process.stdout.write(`${JSON.stringify({ listening: url, database: db.kind, postgresUrl })}\n`);

/** Stops serving HTTP and flushes the SDK (once); the database stays open. */
let draining: Promise<void> | undefined;
const drain = (): Promise<void> => {
  draining ??= (async () => {
    await app.close();
    await siperf.shutdown();
  })();
  return draining;
};
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await drain();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
/** `--fix`: runs the index's statement (an operator's change, kept out of the traces) and batches the N+1. */
async function applyFix(fix: { sql?: string; batchAuthors?: boolean }): Promise<void> {
  if (fix.sql) {
    const sql = fix.sql;
    await context.with(suppressTracing(context.active()), () => db.query(sql));
  }
  if (fix.batchAuthors) fixes.batchAuthors = true;
}
process.on('message', (m) => {
  if (m === 'drain') drain().then(() => process.send?.('drained'));
  else if (m === 'flush') siperf.forceFlush().then(() => process.send?.('flushed'));
  else if (typeof m === 'object' && m !== null && 'fix' in m)
    applyFix((m as { fix: { sql?: string; batchAuthors?: boolean } }).fix).then(
      () => process.send?.({ fixed: true }),
      (err: unknown) => process.send?.({ fixed: false, error: (err as Error).message }),
    );
});
