/**
 * Test helpers: an app over a fresh in-memory store, and the shared fixtures (skipped with a visible
 * message when `../shared` is absent, as in a user's clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { createClickHouseStore, createDuckDbStore, type Store } from '../src/storage/index.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const HAS_SHARED = existsSync(`${SHARED}fixtures/otlp`);
/** Pass as the `skip` option of a test that reads ../shared. */
export const NEEDS_SHARED = HAS_SHARED ? false : `../shared is absent (${SHARED}): fixture test skipped`;

/** Reads a file of ../shared/fixtures. */
export function fixture(path: string): Buffer {
  return readFileSync(`${SHARED}fixtures/${path}`);
}

/** A wide window that covers every fixture (2026) as query parameters. */
export const FIXTURE_WINDOW = 'from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z';

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  config: Config;
  close(): Promise<void>;
}

/**
 * Flags every test server gets unless the test passes its own. `maxEventLoopDelayMs: 0` turns off the
 * production overload guard (@fastify/under-pressure), which on a busy machine would answer a test's
 * ingest with 503: only a test about overload sets it. `validateResponses: 1` checks every answer against
 * its schema.
 */
export const TEST_SERVER_FLAGS = {
  dataDir: ':memory:',
  logLevel: 'silent',
  validateResponses: 1,
  maxEventLoopDelayMs: 0,
} as const;

/**
 * `SIPERF_TEST_STORE=clickhouse://user@host:port` runs the suites built on {@link startTestApp} against
 * ClickHouse (a new database per app, dropped by its `close`) instead of DuckDB `:memory:`.
 */
const TEST_STORE = process.env.SIPERF_TEST_STORE;
let testDatabases = 0;

/** A new empty store: DuckDB `:memory:`, or a new ClickHouse database under `SIPERF_TEST_STORE`. */
async function openTestStore(): Promise<{ store: Store; drop: () => Promise<void> }> {
  if (TEST_STORE === undefined || TEST_STORE === '')
    return { store: await createDuckDbStore({ path: ':memory:' }), drop: async () => {} };
  const database = `siperf_api_${process.pid}_${++testDatabases}`;
  const store = await createClickHouseStore({ url: `${TEST_STORE.replace(/\/+$/, '')}/${database}` });
  const u = new URL(TEST_STORE);
  const drop = async () => {
    const c = createClient({
      url: `http://${u.hostname}:${u.port || 8123}`,
      username: decodeURIComponent(u.username) || 'default',
      password: decodeURIComponent(u.password),
    });
    try {
      await c.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    } finally {
      await c.close();
    }
  };
  return { store, drop };
}

/**
 * An app over a new `:memory:` store (or ClickHouse: see {@link TEST_STORE}), without the overload guard
 * unless `flags` sets one; `options.now` is the recommendations' clock (default `Date.now`).
 */
export async function startTestApp(
  flags: Record<string, unknown> = {},
  options: { now?: () => number } = {},
): Promise<TestApp> {
  const config = loadConfig({ flags: { ...TEST_SERVER_FLAGS, ...flags } });
  const { store, drop } = await openTestStore();
  let app: FastifyInstance;
  try {
    app = await buildApp({ config, store, logger: false, now: options.now });
  } catch (err) {
    await store.close();
    await drop();
    throw err;
  }
  return {
    app,
    store,
    config,
    async close() {
      await app.close();
      await store.close();
      await drop();
    },
  };
}

/** POSTs a body and returns status, headers and parsed JSON (when JSON). */
export async function post(
  app: FastifyInstance,
  url: string,
  body: Buffer | string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; json: any; raw: Buffer }> {
  const res = await app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'content-type': contentType, ...headers },
  });
  const ct = String(res.headers['content-type'] ?? '');
  return {
    status: res.statusCode,
    headers: res.headers,
    json: ct.includes('json') ? res.json() : undefined,
    raw: res.rawPayload,
  };
}

/** GETs a JSON API path. */
export async function get(
  app: FastifyInstance,
  url: string,
): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, json: res.json(), headers: res.headers };
}

/** Endpoint row of metrics/api by service and endpoint. */
export function endpointRow(json: any, service: string, endpoint: string): any {
  return json.endpoints.find((e: any) => e.service === service && e.endpoint === endpoint);
}

/** Every node of a trace tree from the API, depth first. */
export function flattenTree(tree: any): any[] {
  const out: any[] = [];
  const walk = (n: any) => {
    out.push(n);
    n.children.forEach(walk);
  };
  tree.roots.forEach(walk);
  return out;
}

/**
 * Polls `probe` until it returns something other than `undefined` or `false`, and returns that. A wait on
 * another process, a socket or a timer polls like this with a generous bound instead of sleeping a fixed
 * time, so a busy machine makes the test slower, not red.
 * @param message - what was awaited, for the error when it does not come.
 * @param timeoutMs - give up after this long. Default 30 s.
 * @param intervalMs - pause between probes. Default 20 ms.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  message: string,
  { timeoutMs = 30_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Exclude<T, undefined | false>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    if (performance.now() > deadline) {
      throw new Error(`${message}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
