/**
 * The ClickHouse store behind the API when ClickHouse fails: unreachable at start (one line naming the
 * URL without the password), down while ingesting (503 with Retry-After, nothing acknowledged lost),
 * queries answering 503 at once, and a restarted ClickHouse picked up without restarting siperf. Runs a
 * private ClickHouse (scripts/clickhouse.sh, on a free port with a scratch folder) that it stops and
 * restarts; skipped with a message when `clickhouse-server` is not installed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startTestClickHouse, type TestClickHouse } from '../src/storage/clickhouse/test-server.ts';
import { createClickHouseStore, type Store } from '../src/storage/index.ts';
import { REPO_ROOT, TEST_SERVER_FLAGS } from './helpers.ts';

const run = promisify(execFile);
const installed = await run('bash', ['-c', 'command -v clickhouse-server']).then(
  () => true,
  () => false,
);
const SKIP = installed
  ? false
  : 'clickhouse-server is not installed (apt-get install clickhouse-server): skipped';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** An OTLP/JSON body of one SERVER span of `checkout` (`GET /cart`) lasting `ms`, at `startMs`. */
function otlp(traceId: string, spanId: string, startMs: number, ms: number): string {
  const start = BigInt(startMs) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId,
                name: 'GET /cart',
                kind: 2,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + BigInt(ms) * 1_000_000n),
                attributes: [
                  { key: 'http.request.method', value: { stringValue: 'GET' } },
                  { key: 'http.route', value: { stringValue: '/cart' } },
                  { key: 'http.response.status_code', value: { intValue: 200 } },
                ],
                status: {},
              },
            ],
          },
        ],
      },
    ],
  });
}

test('unreachable at start: one line naming the URL without the password, and the cause', {
  skip: SKIP,
}, async () => {
  const port = await freePort();
  await assert.rejects(
    createClickHouseStore({ url: `clickhouse://ann:pa55word@127.0.0.1:${port}/perf`, timeoutMs: 2000 }),
    (err: Error & { code?: string; status?: number }) => {
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE');
      assert.equal(err.status, 503);
      assert.ok(err.message.includes(`clickhouse://ann@127.0.0.1:${port}/perf`), err.message);
      assert.ok(err.message.includes('ECONNREFUSED'), err.message);
      assert.ok(!err.message.includes('pa55word'), err.message);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    },
  );
  // The CLI prints that line and exits with 1.
  const cli = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'packages/server/src/cli/main.ts',
      'serve',
      '--port',
      '0',
      '--store',
      `clickhouse://ann:pa55word@127.0.0.1:${port}/perf`,
    ],
    { cwd: REPO_ROOT, env: { ...process.env, SIPERF_LOG_LEVEL: 'silent', SIPERF_GRPC_PORT: '0' } },
  ).then(
    () => assert.fail('serve should exit with 1'),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
  assert.equal(cli.code, 1);
  const lines = cli.stderr.trim().split('\n');
  assert.equal(lines.length, 1, cli.stderr);
  assert.match(
    lines[0]!,
    new RegExp(`^siperf: ClickHouse at clickhouse://ann@127\\.0\\.0\\.1:${port}/perf did not answer`),
  );
  assert.ok(!`${cli.stdout}${cli.stderr}`.includes('pa55word'), 'no password in any output');
});

let ch: TestClickHouse | undefined;
let store: Store | undefined;
let app: FastifyInstance | undefined;
before(async () => {
  if (SKIP) return;
  ch = await startTestClickHouse({ privateServer: true });
});
after(async () => {
  await app?.close();
  await store?.close();
  await ch?.stop();
});

test('ClickHouse down while ingesting: 503 with Retry-After, queries 503 at once, a restarted ClickHouse is used again, nothing acknowledged lost', {
  skip: SKIP,
}, async () => {
  const t0 = Date.UTC(2026, 5, 1, 12, 0, 0);
  const config = loadConfig({ flags: { ...TEST_SERVER_FLAGS, alertEvaluationIntervalMs: 0 } });
  store = await createClickHouseStore({ url: ch!.newDatabaseUrl(), timeoutMs: 3000 });
  app = await buildApp({ config, store, logger: false, now: () => t0 + 120_000 });
  const ingest = (body: string) =>
    app!.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
  const metrics = () =>
    app!.inject({
      method: 'GET',
      url: `/api/v1/apm/metrics/api?from=${t0}&to=${t0 + 60_000}&service=checkout`,
    });
  const trace = (n: number) => `${n}`.padStart(32, '0');
  const span = (n: number) => `${n}`.padStart(16, '0');

  assert.equal((await ingest(otlp(trace(1), span(1), t0 + 1000, 10))).statusCode, 200);

  await ch!.stopServer();
  const refused = await ingest(otlp(trace(2), span(2), t0 + 2000, 20));
  assert.equal(refused.statusCode, 503, refused.body);
  assert.equal(refused.headers['retry-after'], '5');
  assert.equal(refused.json().code, 'ERR_STORE_UNAVAILABLE');
  const read = await metrics();
  assert.equal(read.statusCode, 503, read.body);
  assert.equal(read.json().code, 'ERR_STORE_UNAVAILABLE');
  assert.ok(!read.body.includes('password'), read.body);

  await ch!.startServer();
  // The exporter retries the refused batch (and a new one) once ClickHouse is back.
  assert.equal((await ingest(otlp(trace(2), span(2), t0 + 2000, 20))).statusCode, 200);
  assert.equal((await ingest(otlp(trace(2), span(2), t0 + 2000, 20))).statusCode, 200, 'a second retry');
  assert.equal((await ingest(otlp(trace(3), span(3), t0 + 3000, 30))).statusCode, 200);
  const back = await metrics();
  assert.equal(back.statusCode, 200, back.body);
  const [row] = back.json().endpoints;
  assert.equal(back.json().endpoints.length, 1);
  assert.equal(row.requests, 3, 'spans 1 and 3, and span 2 once');
  assert.equal(row.maxMs, 30);
  for (const n of [1, 2, 3]) {
    const res: { statusCode: number; body: string } = await app!.inject({
      method: 'GET',
      url: `/api/v1/apm/traces/${trace(n)}`,
    });
    assert.equal(res.statusCode, 200, res.body);
  }
});

/**
 * A TCP proxy to ClickHouse that can hang: while frozen it swallows what either side sends, as a server
 * that stopped answering (or a network that drops packets) does.
 */
async function hangingProxy(
  targetPort: number,
): Promise<{ port: number; frozen: boolean; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = {
    port: 0,
    frozen: false,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => {
      if (!state.frozen) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!state.frozen) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  state.port = typeof a === 'object' && a ? a.port : 0;
  return state;
}

test('a ClickHouse that stops answering: ingest and queries answer 503 once the call times out, not hang', {
  skip: SKIP,
}, async () => {
  const t0 = Date.UTC(2026, 5, 1, 12, 0, 0);
  const proxy = await hangingProxy(ch!.port);
  const url = ch!.newDatabaseUrl().replace(`:${ch!.port}/`, `:${proxy.port}/`);
  const hung = await createClickHouseStore({ url, timeoutMs: 3000 });
  const config = loadConfig({ flags: { ...TEST_SERVER_FLAGS, alertEvaluationIntervalMs: 0 } });
  const node = await buildApp({ config, store: hung, logger: false, now: () => t0 + 120_000 });
  try {
    const ingest = (body: string) =>
      node.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
    assert.equal((await ingest(otlp('a'.repeat(32), '1'.repeat(16), t0 + 1000, 10))).statusCode, 200);
    proxy.frozen = true;
    const refused = await ingest(otlp('b'.repeat(32), '2'.repeat(16), t0 + 2000, 20));
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.headers['retry-after'], '5');
    const read = await node.inject({
      method: 'GET',
      url: `/api/v1/apm/traces/recent?from=${t0}&to=${t0 + 60_000}`,
    });
    assert.equal(read.statusCode, 503, read.body);
    assert.equal(read.json().code, 'ERR_STORE_UNAVAILABLE');
    proxy.frozen = false;
    assert.equal((await ingest(otlp('b'.repeat(32), '2'.repeat(16), t0 + 2000, 20))).statusCode, 200);
    const recent = await node.inject({
      method: 'GET',
      url: `/api/v1/apm/traces/recent?from=${t0}&to=${t0 + 60_000}`,
    });
    assert.equal(recent.statusCode, 200, recent.body);
    assert.equal(recent.json().traces.length, 2);
  } finally {
    await node.close();
    await hung.close();
    await proxy.close();
  }
});
