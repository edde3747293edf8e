/**
 * The small HTTP service the SDK overhead bench loads: `GET /` answers a small JSON document. With
 * SIPERF_BENCH_INIT=1 it calls `init()` first and wraps the work in `traceRequest`; SIPERF_BENCH_NO_AUTO=1
 * leaves out init()'s default instrumentations (to tell their cost from traceRequest's). Prints its port.
 */
import { createRequire } from 'node:module';
import { init, traceRequest } from '../../packages/node/src/index.ts';

const instrumented = process.env.SIPERF_BENCH_INIT === '1';
const handle = instrumented
  ? init({
      serviceName: 'bench-app',
      endpoint: process.env.SIPERF_ENDPOINT ?? 'http://127.0.0.1:4318',
      defaultInstrumentations: process.env.SIPERF_BENCH_NO_AUTO !== '1',
    })
  : undefined;
// Required after init() so the HTTP instrumentation patches it.
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
const work = () =>
  JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) });
const server = http.createServer((_req, res) => {
  const body = instrumented ? traceRequest('render', work) : work();
  res.setHeader('content-type', 'application/json');
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
// Export what is queued before leaving, so the bench can count what reached the server.
process.on('SIGTERM', () => {
  (handle ? handle.shutdown() : Promise.resolve()).finally(() => process.exit(0));
});
