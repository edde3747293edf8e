/**
 * The demo service's process: `init()` of `@siperf/node` first, then the app (imported afterwards so the
 * instrumentations see `pg`, `http` and Fastify load). Settings from the environment: `SIPERF_ENDPOINT`
 * (default `http://127.0.0.1:4318`), `PORT` (default 3000; 0 picks a free port), `DATABASE_URL`
 * (PostgreSQL; PGlite in memory when unset), `DEMO_ANNOTATIONS` (rows to seed, default 100,000).
 * Prints one JSON line `{"listening": "<url>", "database": "pglite|postgres"}` when ready.
 * @module
 */
import { init } from '@siperf/node';

const endpoint = process.env.SIPERF_ENDPOINT ?? 'http://127.0.0.1:4318';
const siperf = init({
  serviceName: 'annotate-api',
  serviceVersion: '1.0.0',
  endpoint,
  metricExportIntervalMs: 2000,
  spanExportDelayMs: 500,
});

const { openDatabase, seed } = await import('./db.ts');
const { buildApp } = await import('./app.ts');
const db = await openDatabase(process.env.DATABASE_URL);
await seed(db, Number(process.env.DEMO_ANNOTATIONS ?? 100_000));
const app = await buildApp({ db, siperfEndpoint: endpoint });
const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
process.stdout.write(`${JSON.stringify({ listening: url, database: db.kind })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await app.close();
  await siperf.shutdown();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
