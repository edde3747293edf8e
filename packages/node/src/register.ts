/**
 * The one import that sets up an ESM app: `node --import @siperf/node/register app.mjs`. It registers the
 * OpenTelemetry loader hook (import-in-the-middle), so that `http`, `pg`, `mysql2`, `ioredis` and Fastify
 * imported by the app are patched, then calls {@link init} from the environment:
 * - `SIPERF_SERVICE_NAME` (or `OTEL_SERVICE_NAME`) — required;
 * - `SIPERF_ENDPOINT` — the server, default `http://127.0.0.1:4318`;
 * - `SIPERF_INGEST_KEY` — the ingest key, when the server has one.
 * Spans and metrics are flushed when the process ends normally or on SIGTERM/SIGINT.
 * CommonJS apps do not need this: `require('@siperf/node').init({ … })` before anything else.
 * @module
 */
import { register } from 'node:module';
import { init } from './init.ts';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const serviceName = process.env.SIPERF_SERVICE_NAME ?? process.env.OTEL_SERVICE_NAME;
if (!serviceName) {
  throw new Error(
    '@siperf/node/register: set SIPERF_SERVICE_NAME (or OTEL_SERVICE_NAME) to name the service',
  );
}
const handle = init({
  serviceName,
  ...(process.env.SIPERF_ENDPOINT ? { endpoint: process.env.SIPERF_ENDPOINT } : {}),
  ...(process.env.SIPERF_INGEST_KEY ? { ingestKey: process.env.SIPERF_INGEST_KEY } : {}),
});

let done = false;
const flush = (): Promise<void> => {
  if (done) return Promise.resolve();
  done = true;
  return handle.shutdown();
};
process.once('beforeExit', () => {
  flush().catch(() => undefined);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    flush()
      .catch(() => undefined)
      .finally(() => process.kill(process.pid, signal));
  });
}
