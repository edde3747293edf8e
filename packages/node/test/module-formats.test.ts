/**
 * The built package in plain Node.js (no tsx): a CommonJS app that requires `@siperf/node`, and an ESM
 * app started with `node --import @siperf/node/register`. Both must deliver their HTTP server span and
 * their `traceRequest` span to a real siperf server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createDuckDbStore, type Store } from '../../server/src/storage/index.ts';

const execFileAsync = promisify(execFile);
/** Runs a fixture app; killed after 120 s so a stuck child fails the test instead of hanging the run. */
const run = (file: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }) =>
  execFileAsync(file, args, { ...options, timeout: 120_000, killSignal: 'SIGKILL' });
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
let server: Awaited<ReturnType<typeof buildApp>>;
let store: Store;
let base: string;

before(async () => {
  store = await createDuckDbStore({ path: ':memory:' });
  server = await buildApp({
    // No overload guard (maxEventLoopDelayMs 0): on a busy machine it would turn the exporters away.
    config: loadConfig({ flags: { dataDir: ':memory:', logLevel: 'silent', maxEventLoopDelayMs: 0 } }),
    store,
    logger: false,
  });
  base = await server.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await server?.close();
  await store?.close();
});

/** Span names of a service's recent traces, flattened. */
async function spanNames(service: string): Promise<string[]> {
  const recent: any = await (await fetch(`${base}/api/v1/apm/traces/recent?service=${service}`)).json();
  const names: string[] = [];
  const walk = (nodes: any[]) => {
    for (const n of nodes) {
      names.push(`${n.kind} ${n.name}`);
      walk(n.children);
    }
  };
  for (const t of recent.traces)
    walk(((await (await fetch(`${base}/api/v1/apm/traces/${t.traceId}`)).json()) as any).roots);
  return names.sort();
}

// The env of the children: no NODE_OPTIONS from the test runner (it loads tsx).
const env = (extra: Record<string, string>) => {
  const { NODE_OPTIONS: _, ...rest } = process.env;
  return { ...rest, SIPERF_ENDPOINT: base, ...extra };
};

test('CommonJS: require("@siperf/node") then init() traces http and traceRequest', async () => {
  const { stdout } = await run(process.execPath, [fixture('cjs-app.cjs')], { env: env({}) });
  assert.equal(stdout.trim(), 'done');
  const names = await spanNames('cjs-app');
  assert.ok(names.includes('server GET'), names.join(', '));
  assert.ok(names.includes('internal render'), names.join(', '));
  assert.ok(names.includes('client GET'), names.join(', '));
});

test('ESM: node --import @siperf/node/register traces http and traceRequest with no init() in the app', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', '@siperf/node/register', fixture('esm-app.mjs')],
    { env: env({ SIPERF_SERVICE_NAME: 'esm-app' }), cwd: fileURLToPath(new URL('.', import.meta.url)) },
  );
  assert.equal(stdout.trim(), 'done');
  const names = await spanNames('esm-app');
  assert.ok(names.includes('server GET'), names.join(', '));
  assert.ok(names.includes('internal render'), names.join(', '));
});

test('Express: requests are one endpoint per route (GET /users/:id), not one per URL', async () => {
  const { stdout } = await run(process.execPath, [fixture('express-app.cjs')], { env: env({}) });
  assert.equal(stdout.trim(), 'done');
  const api: any = await (
    await fetch(`${base}/api/v1/apm/metrics/api?service=express-app&kind=server`)
  ).json();
  assert.deepEqual(
    api.endpoints.map((e: any) => [e.endpoint, e.requests]),
    [['GET /users/:id', 3]],
  );
});
