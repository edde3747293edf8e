/**
 * The known data the dashboard's browser tests load into a real server, through its public API only, and
 * the figures the pages must show, computed by hand from it (see {@link EXPECTED}).
 *
 * - `checkout`: 1,800 SERVER spans over the last 10 minutes. `POST /api/checkout` 900 (720 at 20 ms, 180 at
 *   400 ms; 36 of the 20-ms ones answer 500), `GET /api/cart` 900 at 20 ms. Each POST writes an order
 *   (`INSERT INTO orders …`, 8 ms); each slow POST also reads stock for 300 ms (`SELECT sum(qty) FROM stock
 *   …`, over the server's slow-query threshold of 100 ms set by these tests); each GET reads the cart
 *   (`SELECT id, qty FROM cart_items …`, 3 ms).
 * - `catalog`: 360 SERVER spans `GET /api/products/{id}` (300 at 8 ms, 60 at 1,200 ms), each loading 12
 *   authors one by one (`SELECT name FROM users WHERE id = $1`, 0.5 ms each): an N+1.
 * - One known trace (`KNOWN_TRACE_ID`): a slow checkout of 3 spans.
 * - Web vitals of two pages, 4 `purchase` transactions, two alert rules (one fires), host `web-1`'s CPU,
 *   memory and disk over OTLP plus an imported `queue.depth` series, a memory cache and a Redis cache.
 * @module
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

const MIN_MS = 60_000;

/** Headers of every request the loader makes (a server with keys needs the key). */
export type Headers = Record<string, string>;

/** The trace id of the known slow checkout. */
export const KNOWN_TRACE_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** Apdex T of the test servers (the default) and their slow-query threshold. */
export const SERVER_FLAGS = {
  apdexThresholdMs: 500,
  slowQueryThresholdMs: 100,
  alertDefaultRules: 0,
} as const;

/** A unique suffix: the Redis cache lives in the shared Redis, so its name must not collide. */
export const RUN_ID = `${process.pid}-${randomBytes(3).toString('hex')}`;

/**
 * What the pages must show for the known data, by hand. Windows: the dashboard's default (1 h); every span
 * lies in the last 10 minutes, so the 15-min, 1-h … ranges hold them all. Throughput over 1 h is
 * requests / 3,600 s. p95 from the server's DDSketch is within 1% of the exact value and clamped to the
 * exact max, so a p95 that is the max of its group is exact or up to 1% below.
 */
export const EXPECTED = {
  services: {
    checkout: {
      requests: 1800,
      errors: 36,
      /** 36 / 1,800. */
      errorRate: 0.02,
      /** 1,800 / 3,600 s. */
      throughputRps: 0.5,
      /** Ranks 1,620..1,799 (of 0..1,799) are 400 ms; rank ⌊0.95·1,799⌋ = 1,709 is one of them. */
      p95Ms: 400,
      /** All 1,800 under T = 500 ms, 36 of them failed: (1,800 − 36) / 1,800. */
      apdex: 0.98,
    },
    catalog: {
      requests: 360,
      errors: 0,
      errorRate: 0,
      /** 360 / 3,600 s. */
      throughputRps: 0.1,
      /** The 60 slowest (ranks 300..359) are 1,200 ms; rank ⌊0.95·359⌋ = 341. */
      p95Ms: 1200,
      /** 300 satisfied (≤ 500 ms) + 60 tolerating (≤ 2,000 ms) / 2, over 360 = 330/360. */
      apdex: 330 / 360,
    },
  },
  endpoints: {
    'POST /api/checkout': { service: 'checkout', requests: 900, errors: 36, errorRate: 0.04, p95Ms: 400 },
    'GET /api/cart': { service: 'checkout', requests: 900, errors: 0, errorRate: 0, p95Ms: 20 },
    'GET /api/products/{id}': { service: 'catalog', requests: 360, errors: 0, errorRate: 0, p95Ms: 1200 },
  },
  queries: {
    'INSERT INTO orders (id, total) VALUES ($1, $2)': {
      service: 'checkout',
      calls: 900,
      p95Ms: 8,
      slowCalls: 0,
    },
    'SELECT sum(qty) FROM stock WHERE sku = $1': {
      service: 'checkout',
      calls: 180,
      p95Ms: 300,
      slowCalls: 180,
    },
    'SELECT id, qty FROM cart_items WHERE cart_id = $1': {
      service: 'checkout',
      calls: 900,
      p95Ms: 3,
      slowCalls: 0,
    },
    'SELECT name FROM users WHERE id = $1': { service: 'catalog', calls: 4320, p95Ms: 0.5, slowCalls: 0 },
  },
  /** The N+1: 12 calls per request of GET /api/products/{id}. */
  nPlusOne: {
    endpoint: 'GET /api/products/{id}',
    statement: 'SELECT name FROM users WHERE id = $1',
    perRequest: 12,
  },
  knownTrace: {
    traceId: KNOWN_TRACE_ID,
    spanCount: 3,
    durationMs: 400,
    /** Each span's name, and its statement (a waterfall row may show either for a database call). */
    spans: [
      ['POST /api/checkout'],
      ['INSERT orders', 'INSERT INTO orders (id, total) VALUES ($1, $2)'],
      ['SELECT stock', 'SELECT sum(qty) FROM stock WHERE sku = $1'],
    ],
  },
  vitals: {
    /** LCP 1,000, 2,000, 3,000, 4,000: p75 at rank 0.75·3 = 2.25 → 3,000 + 0.25·1,000. */
    '/checkout': { LCP: 3250, CLS: 0.225, INP: 337.5, count: 4 },
    /** LCP 1,200, 1,800: rank 0.75 → 1,200 + 0.75·600. */
    '/': { LCP: 1650, count: 2 },
  },
  transactions: {
    purchase: {
      count: 4,
      successes: 3,
      successRate: 0.75,
      /** pay 100, 100, 100, 300 ms: p95 at rank 0.95·3 = 2.85 → 100 + 0.85·200 = 270. */
      payP95Ms: 270,
      cartP95Ms: 20,
      slowestStep: 'pay',
    },
  },
  host: {
    name: 'web-1',
    /** user 0.3 + system 0.1. */
    cpuBusy: 0.4,
    cores: 4,
    /** 10 GiB of 16 GiB. */
    memoryUsed: 0.625,
    /** `/`: 25 GiB of 100 GiB. */
    diskUsed: 0.25,
    /** The imported series: 10 rows, 1..10. */
    importedMetric: 'queue.depth',
    importedRows: 10,
  },
  alerts: {
    firing: { id: 'checkout-slow', name: 'Checkout p95 above 300 ms', threshold: 300 },
    quiet: { id: 'catalog-errors', name: 'Catalog errors above 50%', threshold: 0.5 },
  },
  caches: {
    /** 4 keys put; user:1..3 read (hits), user:9 read (a miss): 3 / 4. */
    memory: { name: 'sessions', hits: 3, misses: 1, hitRatio: 0.75, entries: 4 },
    /** 2 keys put and both read back. */
    redis: { name: `dash-${RUN_ID}`, hits: 2, misses: 0, hitRatio: 1 },
  },
} as const;

// ------------------------------------------------------------------------------------------ OTLP JSON

const str = (v: string) => ({ stringValue: v });
const int = (v: number) => ({ intValue: String(v) });
const attrs = (o: Record<string, string | number>) =>
  Object.entries(o).map(([key, v]) => ({ key, value: typeof v === 'number' ? int(v) : str(v) }));
/** ms (fractional) since the epoch → ns as a decimal string. */
const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);

let idCounter = 0;
/** A unique hex id of `chars` characters (a counter: ids differ within one server's data). */
function hexId(chars: number): string {
  idCounter += 1;
  return idCounter.toString(16).padStart(chars, '0');
}

interface SpanSpec {
  traceId: string;
  spanId?: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startMs: number;
  durationMs: number;
  attributes?: Record<string, string | number>;
  error?: boolean;
}

/** An OTLP/JSON span. */
export function otlpSpan(s: SpanSpec): Record<string, unknown> {
  return {
    traceId: s.traceId,
    spanId: s.spanId ?? hexId(16),
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: ns(s.startMs),
    endTimeUnixNano: ns(s.startMs + s.durationMs),
    attributes: attrs(s.attributes ?? {}),
    status: s.error ? { code: 2, message: 'boom' } : {},
  };
}

/** An OTLP/JSON export request of one service's spans. */
export function otlpTraces(service: string, spans: unknown[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: attrs({ 'service.name': service, 'host.name': 'web-1' }) },
        scopeSpans: [{ scope: { name: 'siperf-dashboard-test' }, spans }],
      },
    ],
  });
}

const dbAttrs = (statement: string, operation: string, table: string) => ({
  'db.system.name': 'postgresql',
  'db.namespace': 'shop',
  'db.operation.name': operation,
  'db.collection.name': table,
  'db.query.text': statement,
  'server.address': 'postgres',
  'server.port': 5432,
});

const http = (method: string, route: string, status: number) => ({
  'http.request.method': method,
  'http.route': route,
  'http.response.status_code': status,
  'url.scheme': 'http',
});

/** The spans of `checkout` (1,800 requests with their database calls), starting at `fromMs`, over 8 min. */
export function checkoutSpans(fromMs: number): unknown[] {
  const spans: unknown[] = [];
  const every = (8 * MIN_MS) / 1800;
  for (let i = 0; i < 900; i++) {
    // POST /api/checkout: every 5th is slow (180), every 25th from 1 fails (36, all fast ones).
    const slow = i % 5 === 0;
    const failed = i % 25 === 1;
    const start = fromMs + 2 * i * every;
    const traceId = i === 0 ? KNOWN_TRACE_ID : hexId(32);
    const root = hexId(16);
    const duration = slow ? 400 : 20;
    spans.push(
      otlpSpan({
        traceId,
        spanId: root,
        name: 'POST /api/checkout',
        kind: 2,
        startMs: start,
        durationMs: duration,
        attributes: http('POST', '/api/checkout', failed ? 500 : 201),
        error: failed,
      }),
      otlpSpan({
        traceId,
        parentSpanId: root,
        name: 'INSERT orders',
        kind: 3,
        startMs: start + 2,
        durationMs: 8,
        attributes: dbAttrs('INSERT INTO orders (id, total) VALUES ($1, $2)', 'INSERT', 'orders'),
      }),
    );
    if (slow) {
      spans.push(
        otlpSpan({
          traceId,
          parentSpanId: root,
          name: 'SELECT stock',
          kind: 3,
          startMs: start + 20,
          durationMs: 300,
          attributes: dbAttrs('SELECT sum(qty) FROM stock WHERE sku = $1', 'SELECT', 'stock'),
        }),
      );
    }
    // GET /api/cart, between two checkouts.
    const cartTrace = hexId(32);
    const cartRoot = hexId(16);
    const cartStart = start + every;
    spans.push(
      otlpSpan({
        traceId: cartTrace,
        spanId: cartRoot,
        name: 'GET /api/cart',
        kind: 2,
        startMs: cartStart,
        durationMs: 20,
        attributes: http('GET', '/api/cart', 200),
      }),
      otlpSpan({
        traceId: cartTrace,
        parentSpanId: cartRoot,
        name: 'SELECT cart_items',
        kind: 3,
        startMs: cartStart + 1,
        durationMs: 3,
        attributes: dbAttrs('SELECT id, qty FROM cart_items WHERE cart_id = $1', 'SELECT', 'cart_items'),
      }),
    );
  }
  return spans;
}

/** The spans of `catalog` (360 requests, each with 12 author lookups), starting at `fromMs`, over 8 min. */
export function catalogSpans(fromMs: number): unknown[] {
  const spans: unknown[] = [];
  const every = (8 * MIN_MS) / 360;
  for (let i = 0; i < 360; i++) {
    const start = fromMs + i * every + 500;
    const traceId = hexId(32);
    const root = hexId(16);
    spans.push(
      otlpSpan({
        traceId,
        spanId: root,
        name: 'GET /api/products/{id}',
        kind: 2,
        startMs: start,
        // The 60 slow ones: every 6th.
        durationMs: i % 6 === 0 ? 1200 : 8,
        attributes: http('GET', '/api/products/{id}', 200),
      }),
    );
    for (let k = 0; k < 12; k++) {
      spans.push(
        otlpSpan({
          traceId,
          parentSpanId: root,
          name: 'SELECT users',
          kind: 3,
          startMs: start + 0.5 + k * 0.5,
          durationMs: 0.5,
          attributes: dbAttrs('SELECT name FROM users WHERE id = $1', 'SELECT', 'users'),
        }),
      );
    }
  }
  return spans;
}

// ---------------------------------------------------------------------------------------- the loader

async function send(
  base: string,
  method: string,
  path: string,
  body: string | undefined,
  headers: Headers,
  contentType = 'application/json',
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': contentType } : {}), ...headers },
    body: body ?? null,
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Sends `body` and fails the test, with the server's answer, unless the status is one of `ok`. */
async function must(
  base: string,
  method: string,
  path: string,
  body: string | undefined,
  headers: Headers,
  ok: number[] = [200, 201, 204],
  contentType?: string,
): Promise<any> {
  const r = await send(base, method, path, body, headers, contentType);
  assert.ok(ok.includes(r.status), `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** GETs an API path as JSON (fails on a non-200). */
export async function apiGet(base: string, path: string, headers: Headers = {}): Promise<any> {
  return must(base, 'GET', path, undefined, headers, [200]);
}

/** Polls `probe` until it returns a value other than `undefined`/`false` (bounded; no fixed sleeps). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      last = v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const beacon = (name: string, value: number, page: string) => ({
  name,
  value,
  rating: 'good',
  delta: value,
  id: `v5-${hexId(12)}`,
  navigationType: 'navigate',
  page,
});

const GIB = 2 ** 30;

/**
 * OTLP/JSON gauge points of host `web-1` at `times` (ms), as a Collector's hostmetrics receiver with the
 * semantic-convention names: CPU busy 0.4 of 4 cores, memory 10 of 16 GiB used (0.625), `/` 25 of
 * 100 GiB used (0.25).
 */
export function hostMetrics(times: number[]): string {
  const gauge = (name: string, unit: string, series: [Record<string, string>, number][]) => ({
    name,
    unit,
    gauge: {
      dataPoints: series.flatMap(([a, v]) =>
        times.map((t) => ({ attributes: attrs(a), timeUnixNano: ns(t), asDouble: v })),
      ),
    },
  });
  const fs = {
    'system.device': '/dev/sda1',
    'system.filesystem.mountpoint': '/',
    'system.filesystem.type': 'ext4',
  };
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: attrs({ 'host.name': EXPECTED.host.name, 'service.name': 'hostmetrics' }) },
        scopeMetrics: [
          {
            scope: { name: 'siperf-dashboard-test' },
            metrics: [
              gauge('system.cpu.utilization', '1', [
                [{ 'cpu.mode': 'user' }, 0.3],
                [{ 'cpu.mode': 'system' }, 0.1],
                [{ 'cpu.mode': 'idle' }, 0.6],
              ]),
              gauge('system.cpu.logical.count', '{cpu}', [[{}, 4]]),
              gauge('system.memory.utilization', '1', [
                [{ 'system.memory.state': 'used' }, 0.625],
                [{ 'system.memory.state': 'free' }, 0.375],
              ]),
              gauge('system.memory.usage', 'By', [
                [{ 'system.memory.state': 'used' }, 10 * GIB],
                [{ 'system.memory.state': 'free' }, 6 * GIB],
              ]),
              gauge('system.memory.limit', 'By', [[{}, 16 * GIB]]),
              gauge('system.filesystem.utilization', '1', [[fs, 0.25]]),
              gauge('system.filesystem.usage', 'By', [
                [{ ...fs, 'system.filesystem.state': 'used' }, 25 * GIB],
                [{ ...fs, 'system.filesystem.state': 'free' }, 75 * GIB],
              ]),
            ],
          },
        ],
      },
    ],
  });
}

/**
 * Sends one sample of host `web-1` now (as a Collector does every few seconds): the API's "current"
 * figures look back 5 minutes, and a test on a busy machine may reach the Resources page later than that.
 */
export async function sendHostSample(base: string, headers: Headers = {}): Promise<void> {
  await must(base, 'POST', '/v1/metrics', hostMetrics([Date.now()]), headers);
}

/** What {@link loadKnownData} made. */
export interface Loaded {
  /** When the spans end (the last one starts before this), ms. */
  nowMs: number;
  /** The Redis cache's name (delete it when done: it lives in the shared Redis). */
  redisCache: string;
}

/**
 * Loads the known data into the server at `base` through its API, and waits until the API reports all of
 * it (ingest is asynchronous).
 */
export async function loadKnownData(base: string, headers: Headers = {}): Promise<Loaded> {
  const nowMs = Date.now();
  const from = nowMs - 10 * MIN_MS;
  await must(base, 'POST', '/v1/traces', otlpTraces('checkout', checkoutSpans(from)), headers);
  await must(base, 'POST', '/v1/traces', otlpTraces('catalog', catalogSpans(from)), headers);

  // Web vitals: /checkout 4 loads, / 2 loads.
  const vitals = [
    ...[1000, 2000, 3000, 4000].map((v) => beacon('LCP', v, '/checkout')),
    ...[0.05, 0.1, 0.2, 0.3].map((v) => beacon('CLS', v, '/checkout')),
    ...[100, 150, 250, 600].map((v) => beacon('INP', v, '/checkout')),
    ...[1200, 1800].map((v) => beacon('LCP', v, '/')),
  ];
  const ux = await must(base, 'POST', '/api/v1/apm/user-experience', JSON.stringify(vitals), headers);
  assert.equal(ux.accepted, vitals.length, JSON.stringify(ux));

  // Transactions: 4 purchases; the last one's payment (300 ms) fails.
  for (const [pay, ok] of [
    [100, true],
    [100, true],
    [100, true],
    [300, false],
  ] as const) {
    const s = await must(
      base,
      'POST',
      '/api/v1/apm/transactions/start',
      JSON.stringify({ name: 'purchase', service: 'checkout' }),
      headers,
    );
    const step = (name: string, durationMs: number, success: boolean) =>
      must(
        base,
        'POST',
        `/api/v1/apm/transactions/${s.id}/steps`,
        JSON.stringify({ name, durationMs, success }),
        headers,
      );
    await step('cart', 20, true);
    await step('pay', pay, ok);
    await must(
      base,
      'POST',
      `/api/v1/apm/transactions/${s.id}/end`,
      JSON.stringify({ success: ok }),
      headers,
    );
  }

  // Alert rules over the last hour, firing at once: checkout's p95 (400 ms) is above 300; catalog has no error.
  const { firing, quiet } = EXPECTED.alerts;
  await must(
    base,
    'POST',
    '/api/v1/alerts/rules',
    JSON.stringify({
      id: firing.id,
      name: firing.name,
      expr: { kind: 'endpoint', stat: 'p95Ms', service: 'checkout', endpoint: 'POST /api/checkout' },
      op: '>',
      threshold: firing.threshold,
      forMs: 0,
      windowMs: 3_600_000,
      severity: 'critical',
    }),
    headers,
  );
  await must(
    base,
    'POST',
    '/api/v1/alerts/rules',
    JSON.stringify({
      id: quiet.id,
      name: quiet.name,
      expr: { kind: 'endpoint', stat: 'errorRate', service: 'catalog' },
      op: '>',
      threshold: quiet.threshold,
      forMs: 0,
      windowMs: 3_600_000,
      severity: 'warning',
    }),
    headers,
  );

  // Host web-1 over OTLP, and an imported history of a metric of its own.
  await must(
    base,
    'POST',
    '/v1/metrics',
    hostMetrics(Array.from({ length: 10 }, (_, i) => nowMs - (9 - i) * MIN_MS)),
    headers,
  );
  const csv = [
    'timestamp,value',
    ...Array.from({ length: 10 }, (_, i) => `${new Date(nowMs - (10 - i) * MIN_MS).toISOString()},${i + 1}`),
  ].join('\n');
  await must(
    base,
    'POST',
    `/api/v1/resources/import?metric=${EXPECTED.host.importedMetric}&host=${EXPECTED.host.name}`,
    csv,
    headers,
    [200, 201],
    'text/csv',
  );

  // Caches: a memory one and a Redis one, used so their statistics are known.
  const mem = EXPECTED.caches.memory;
  const redis = EXPECTED.caches.redis;
  const existing = await send(
    base,
    'GET',
    `/api/v1/cache-db/caches/${mem.name}/statistics`,
    undefined,
    headers,
  );
  if (existing.status === 404) {
    await must(
      base,
      'POST',
      '/api/v1/cache-db/caches',
      JSON.stringify({ name: mem.name, maxEntries: 100, defaultTtlMs: 3_600_000 }),
      headers,
    );
  }
  await must(
    base,
    'POST',
    '/api/v1/cache-db/caches',
    JSON.stringify({ name: redis.name, backend: 'redis', defaultTtlMs: 3_600_000 }),
    headers,
  );
  const put = (cache: string, key: string) =>
    must(base, 'PUT', `/api/v1/cache-db/caches/${cache}/entries/${key}`, JSON.stringify({ key }), headers);
  const read = (cache: string, key: string) =>
    send(base, 'GET', `/api/v1/cache-db/caches/${cache}/entries/${key}`, undefined, headers);
  for (const k of ['user:1', 'user:2', 'user:3', 'user:4']) await put(mem.name, k);
  for (const k of ['user:1', 'user:2', 'user:3']) assert.equal((await read(mem.name, k)).status, 200);
  assert.equal((await read(mem.name, 'user:9')).status, 404);
  for (const k of ['page:1', 'page:2']) await put(redis.name, k);
  for (const k of ['page:1', 'page:2']) assert.equal((await read(redis.name, k)).status, 200);

  // Ingest is asynchronous: wait until the API counts every request and query.
  await waitFor(async () => {
    const s = await apiGet(base, '/api/v1/apm/metrics/series?window=1h&groupBy=service', headers);
    const by = new Map(s.groups.map((g: any) => [g.service, g.requests]));
    return by.get('checkout') === 1800 && by.get('catalog') === 360;
  }, 'the API counts 1,800 checkout and 360 catalog requests');
  await waitFor(async () => {
    const d = await apiGet(base, '/api/v1/apm/metrics/database?window=1h', headers);
    const calls = d.queries.reduce((n: number, q: any) => n + q.calls, 0);
    return calls === 900 + 180 + 900 + 4320;
  }, 'the API counts every database call');
  await waitFor(async () => {
    const a = await apiGet(base, '/api/v1/alerts', headers);
    return a.alerts.some((x: any) => x.ruleId === firing.id && x.state === 'firing');
  }, `alert ${firing.id} fires (the server evaluates its rules every second in these tests)`);
  return { nowMs, redisCache: redis.name };
}

/** Deletes the Redis cache made by {@link loadKnownData} (its keys live in the shared Redis). */
export async function dropRedisCache(base: string, name: string, headers: Headers = {}): Promise<void> {
  await send(base, 'DELETE', `/api/v1/cache-db/caches/${name}`, undefined, headers).catch(() => undefined);
}

// ------------------------------------------------------------------------------- a 100,000-span trace

/** Shape of the large trace: a root, 99 early leaves under it, then 999 batches of 99 leaves each. */
export const BIG_TRACE = {
  spans: 100_000,
  /** The root's own leaves (the first rows after the root). */
  rootLeaves: 99,
  batches: 999,
  leavesPerBatch: 99,
  /** The name of the last span in the waterfall's order (the last leaf of the last batch). */
  lastName: 'leaf 998.98',
  rootName: 'GET /api/report',
} as const;

/**
 * The spans of one trace of exactly 100,000 spans, as OTLP/JSON requests of at most `perRequest` spans.
 * Every name differs, so the waterfall folds no run of repeated calls: it has 100,000 rows. Children are
 * INTERNAL spans (not rolled up per name). Returns the bodies and the trace and last span ids.
 */
export function bigTrace(
  startMs: number,
  perRequest = 20_000,
): { traceId: string; lastSpanId: string; rootSpanId: string; bodies: string[] } {
  const b = BIG_TRACE;
  const traceId = 'b16b16b16b16b16b16b16b16b16b16b1';
  const id = (n: number) => n.toString(16).padStart(16, '0');
  const spans: unknown[] = [];
  const root = id(1);
  let next = 2;
  // 1 µs steps keep every start distinct and in order.
  const totalMs = 5_000;
  spans.push(
    otlpSpan({
      traceId,
      spanId: root,
      name: b.rootName,
      kind: 2,
      startMs,
      durationMs: totalMs,
      attributes: http('GET', '/api/report', 200),
    }),
  );
  for (let i = 0; i < b.rootLeaves; i++) {
    spans.push(
      otlpSpan({
        traceId,
        spanId: id(next++),
        parentSpanId: root,
        name: `prepare ${i}`,
        kind: 1,
        startMs: startMs + 0.001 * (i + 1),
        durationMs: 0.5,
      }),
    );
  }
  let lastSpanId = '';
  const batchMs = (totalMs - 10) / b.batches;
  for (let k = 0; k < b.batches; k++) {
    const batch = id(next++);
    const bStart = startMs + 1 + k * batchMs;
    spans.push(
      otlpSpan({
        traceId,
        spanId: batch,
        parentSpanId: root,
        name: `batch ${k}`,
        kind: 1,
        startMs: bStart,
        durationMs: batchMs * 0.9,
      }),
    );
    for (let j = 0; j < b.leavesPerBatch; j++) {
      lastSpanId = id(next++);
      spans.push(
        otlpSpan({
          traceId,
          spanId: lastSpanId,
          parentSpanId: batch,
          name: `leaf ${k}.${j}`,
          kind: 1,
          startMs: bStart + 0.001 + j * ((batchMs * 0.85) / b.leavesPerBatch),
          durationMs: (batchMs * 0.8) / b.leavesPerBatch,
        }),
      );
    }
  }
  assert.equal(spans.length, b.spans);
  const bodies: string[] = [];
  for (let i = 0; i < spans.length; i += perRequest)
    bodies.push(otlpTraces('report', spans.slice(i, i + perRequest)));
  return { traceId, lastSpanId, rootSpanId: root, bodies };
}

/** Loads {@link bigTrace} into the server and waits until the API has all of its spans. */
export async function loadBigTrace(
  base: string,
  headers: Headers = {},
): Promise<{ traceId: string; lastSpanId: string; rootSpanId: string }> {
  const t = bigTrace(Date.now() - 5 * MIN_MS);
  for (const body of t.bodies) await must(base, 'POST', '/v1/traces', body, headers);
  await waitFor(async () => {
    const r = await apiGet(base, '/api/v1/apm/traces/recent?window=1h&service=report&limit=5', headers);
    return r.traces.find((x: any) => x.traceId === t.traceId)?.spanCount === BIG_TRACE.spans;
  }, `the API counts the ${BIG_TRACE.spans} spans of the large trace`);
  return { traceId: t.traceId, lastSpanId: t.lastSpanId, rootSpanId: t.rootSpanId };
}
