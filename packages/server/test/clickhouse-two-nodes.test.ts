/**
 * Two siperf nodes on one ClickHouse database answer what one node fed the same spans answers: the batches
 * are spread over the two nodes, some are retried on the other node (an exporter's retry after a lost
 * answer), and every API read about stored spans is compared, node A, node B and a DuckDB node, field by
 * field (floating-point sums may differ in the last bits with the order they were added), after both
 * nodes ran their compaction at the same moment (one of them holds the upkeep lease). Uses the
 * ClickHouse of scripts/start-services.sh (or starts a private one); skipped when none can run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startTestClickHouse, type TestClickHouse } from '../src/storage/clickhouse/test-server.ts';
import { createClickHouseStore, createDuckDbStore, type Store } from '../src/storage/index.ts';
import { TEST_SERVER_FLAGS } from './helpers.ts';

const installed = await promisify(execFile)('bash', ['-c', 'command -v clickhouse-server']).then(
  () => true,
  () => false,
);
const SKIP = installed
  ? false
  : 'clickhouse-server is not installed (apt-get install clickhouse-server): skipped';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const str = (v: string) => ({ stringValue: v });

let seed = 7;
/** Deterministic PRNG (mulberry32). */
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

/** OTLP/JSON batches: `traces` traces over 5 minutes, each a SERVER span with 0–6 database calls. */
function batches(traces: number, perBatch: number): string[] {
  const out: string[] = [];
  let spanNo = 0;
  for (let b = 0; b < traces; b += perBatch) {
    const byService = new Map<string, unknown[]>();
    for (let i = b; i < Math.min(traces, b + perBatch); i++) {
      const service = i % 3 === 0 ? 'cart' : 'checkout';
      const route = ['/a', '/b/:id', '/c'][i % 3]!;
      const startNs = BigInt(T0 + Math.floor(rand() * 300_000)) * 1_000_000n;
      const durNs = BigInt(Math.round((5 + rand() * 200) * 1e6));
      const traceId = hex(i + 1, 32);
      const rootId = hex(++spanNo, 16);
      const failed = rand() < 0.1;
      const spans: unknown[] = [
        {
          traceId,
          spanId: rootId,
          name: `GET ${route}`,
          kind: 2,
          startTimeUnixNano: String(startNs),
          endTimeUnixNano: String(startNs + durNs),
          attributes: [
            { key: 'http.request.method', value: str('GET') },
            { key: 'http.route', value: str(route) },
            { key: 'http.response.status_code', value: { intValue: failed ? 500 : 200 } },
          ],
          status: failed ? { code: 2, message: 'boom' } : {},
        },
      ];
      const calls = Math.floor(rand() * 7);
      for (let c = 0; c < calls; c++) {
        const s = startNs + BigInt(c) * 1_000_000n;
        spans.push({
          traceId,
          spanId: hex(++spanNo, 16),
          parentSpanId: rootId,
          name: 'SELECT items',
          kind: 3,
          startTimeUnixNano: String(s),
          endTimeUnixNano: String(s + BigInt(Math.round((0.2 + rand() * 3) * 1e6))),
          attributes: [
            { key: 'db.system', value: str('postgresql') },
            { key: 'db.name', value: str('shop') },
            { key: 'db.statement', value: str(`SELECT * FROM items WHERE cart_id = ${i}`) },
          ],
          status: {},
        });
      }
      const list = byService.get(service) ?? [];
      list.push(...spans);
      byService.set(service, list);
    }
    out.push(
      JSON.stringify({
        resourceSpans: [...byService].map(([service, spans]) => ({
          resource: { attributes: [{ key: 'service.name', value: str(service) }] },
          scopeSpans: [{ spans }],
        })),
      }),
    );
  }
  return out;
}

/** Numbers within 1e-9 relative (sums added in another order), everything else equal. */
function assertSame(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(
      Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
      `${path}: ${actual} ≠ ${expected}`,
    );
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: not an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => {
      assertSame(actual[i], e, `${path}[${i}]`);
    });
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: not an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path}: keys`);
    // Equal-sized groups of a series come in the store's row order, which no API promises: compare them
    // in (service, endpoint) order.
    const bySeries = (o: Record<string, unknown>) =>
      Array.isArray(o.groups)
        ? {
            ...o,
            groups: [...(o.groups as { service?: string; endpoint?: string }[])].sort((x, y) =>
              `${x.service}\u0000${x.endpoint}` < `${y.service}\u0000${y.endpoint}` ? -1 : 1,
            ),
          }
        : o;
    const act = bySeries(actual as Record<string, unknown>);
    expected = bySeries(expected as Record<string, unknown>);
    for (const [k, v] of Object.entries(expected as object))
      assertSame((act as Record<string, unknown>)[k], v, `${path}.${k}`);
    return;
  }
  assert.equal(actual, expected, path);
}

const open: { app: FastifyInstance; store: Store }[] = [];
let ch: TestClickHouse | undefined;
after(async () => {
  for (const o of open) {
    await o.app.close();
    await o.store.close();
  }
  await ch?.stop();
});

test('two nodes on one ClickHouse answer what one node answers, retries on the other node counted once', {
  skip: SKIP,
}, async () => {
  ch = await startTestClickHouse();
  const config = loadConfig({ flags: { ...TEST_SERVER_FLAGS, alertEvaluationIntervalMs: 0 } });
  const now = () => T0 + 600_000;
  const node = async (store: Store) => {
    const app = await buildApp({ config, store, logger: false, now });
    open.push({ app, store });
    return app;
  };
  const url = ch.newDatabaseUrl();
  const a = await node(await createClickHouseStore({ url }));
  const b = await node(await createClickHouseStore({ url }));
  const single = await node(await createDuckDbStore({ path: ':memory:' }));

  const bodies = batches(120, 15);
  const post = async (app: FastifyInstance, body: string) => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    assert.equal(r.statusCode, 200, r.body);
  };
  for (const [i, body] of bodies.entries()) {
    await post(i % 2 === 0 ? a : b, body);
    await post(single, body);
    // Every third batch is retried on the other node, as an exporter does when an answer was lost.
    if (i % 3 === 0) await post(i % 2 === 0 ? b : a, body);
  }

  // Both nodes' upkeep fires at once: one of them holds the lease and compacts, the other does nothing.
  const runs = await Promise.all(
    open.slice(0, 2).map((o) => o.store.compactRollups(BigInt(T0 + 360_000) * 1_000_000n)),
  );
  assert.equal(runs.filter((r) => r.merged > 0 || r.rebuilt.tenminute! > 0).length, 1, JSON.stringify(runs));

  const w = `from=${T0}&to=${T0 + 360_000}`;
  const urls = [
    `/api/v1/apm/metrics/api?${w}`,
    `/api/v1/apm/metrics/api?${w}&service=cart`,
    `/api/v1/apm/metrics/database?${w}`,
    `/api/v1/apm/services?${w}`,
    `/api/v1/apm/traces/recent?${w}&limit=50`,
    `/api/v1/apm/traces/recent?${w}&error=true&limit=20`,
    `/api/v1/apm/metrics/series?${w}&groupBy=endpoint`,
    `/api/v1/apm/traces/${hex(5, 32)}`,
    `/api/v1/apm/bottlenecks?${w}`,
  ];
  for (const u of urls) {
    const [ra, rb, rs] = await Promise.all(
      [a, b, single].map((app) => app.inject({ method: 'GET', url: u })),
    );
    assert.equal(rs!.statusCode, 200, `${u}: ${rs!.body}`);
    assert.equal(ra!.statusCode, 200, `${u}: ${ra!.body}`);
    assert.equal(rb!.statusCode, 200, `${u}: ${rb!.body}`);
    assertSame(ra!.json(), rs!.json(), `A ${u}`);
    assertSame(rb!.json(), rs!.json(), `B ${u}`);
  }
  const cart = (await a.inject({ method: 'GET', url: `/api/v1/apm/metrics/api?${w}&service=cart` })).json();
  const endpoint = cart.endpoints.find((e: { endpoint: string }) => e.endpoint === 'GET /a');
  assert.equal(endpoint.requests, 40, 'every third of 120 traces is of cart, retries counted once');
});
