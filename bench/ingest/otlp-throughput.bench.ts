import { randomFillSync, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { startServer } from '../../packages/server/src/app.ts';
import { loadConfig } from '../../packages/server/src/config.ts';
import { loadSqlParser, otlpTracesToSpans } from '../../packages/server/src/ingest/index.ts';
import { otlpTypes } from '../../packages/server/src/ingest/otlp-protobuf.ts';
import { cpuSnapshot, gitCommit, numberOption, option, otherCores, writeResults } from '../lib/run-info.ts';

// ---------------------------------------------------------------------------------------------- options

const DURATION_S = numberOption('duration', 'BENCH_DURATION_S', 30);
const CONCURRENCY = Math.round(numberOption('concurrency', 'BENCH_CONCURRENCY', 8));
const DECODE_S = numberOption('decode-seconds', 'BENCH_DECODE_S', 5);
const CLIENT = option('client', 'BENCH_CLIENT', 'fetch');
const KEEP = ['1', 'true'].includes(option('keep', 'BENCH_KEEP', '0'));
const SPANS_PER_BODY = 512;
const TEMPLATES = 16;
const BACKOFF_MS = 50;
if (CLIENT !== 'fetch' && CLIENT !== 'http') throw new Error('--client must be fetch or http');

const TARGETS = { spansPerSecond: 60_000, ratioToDecode: 0.25, peakRssMb: 400, bytesPerSpan: 60 };

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

// ---------------------------------------------------------------------------------- random helpers

let seed = 0x9e3779b9;
/** Deterministic PRNG (mulberry32), so that the templates are the same from run to run. */
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const intBetween = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
function gauss(): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
/** Log-normal duration in ns with the given median (ms) and shape. */
function lognormalNs(medianMs: number, sigma: number): bigint {
  return BigInt(Math.max(1000, Math.round(medianMs * Math.exp(sigma * gauss()) * 1e6)));
}
function randomId(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(rand() * 256);
  if (b[0] === 0) b[0] = 1;
  return b;
}

// -------------------------------------------------------------------------------- the synthetic system

type Kv = { key: string; value: Record<string, unknown> };
const s = (key: string, v: string): Kv => ({ key, value: { stringValue: v } });
const i = (key: string, v: number): Kv => ({ key, value: { intValue: v } });
const arr = (key: string, vs: string[]): Kv => ({
  key,
  value: { arrayValue: { values: vs.map((v) => ({ stringValue: v })) } },
});

const SERVICES = ['frontend', 'catalog', 'cart', 'checkout', 'orders'] as const;
type Service = (typeof SERVICES)[number];

function resourceOf(service: Service, n: number): Kv[] {
  const pod = `${service}-7d9f8c${n}b5-${randomId(3).toString('hex').slice(0, 5)}`;
  return [
    s('service.name', service),
    s('service.namespace', 'shop'),
    s('service.version', `1.${n + 3}.${n * 2}`),
    s('service.instance.id', randomUUID()),
    s('deployment.environment.name', 'production'),
    s('telemetry.sdk.language', 'nodejs'),
    s('telemetry.sdk.name', 'opentelemetry'),
    s('telemetry.sdk.version', '2.0.1'),
    s('host.name', pod),
    s('host.arch', 'amd64'),
    s('os.type', 'linux'),
    s('os.version', '6.1.0-28-cloud-amd64'),
    i('process.pid', 1),
    s('process.executable.name', 'node'),
    s('process.executable.path', '/usr/local/bin/node'),
    arr('process.command_args', ['/usr/local/bin/node', '--enable-source-maps', '/app/dist/server.js']),
    s('process.runtime.name', 'nodejs'),
    s('process.runtime.version', '20.18.1'),
    s('process.runtime.description', 'Node.js'),
    s('process.owner', 'node'),
    s('container.id', randomId(32).toString('hex')),
    s('k8s.namespace.name', 'shop'),
    s('k8s.pod.name', pod),
    s('k8s.deployment.name', service),
  ];
}

interface Query {
  op: string;
  table: string;
  text: string;
  medianMs: number;
}
const q = (op: string, table: string, text: string, medianMs = 1.5): Query => ({ op, table, text, medianMs });

/** Public routes of the frontend and the backend call each makes. */
const ROUTES: {
  method: string;
  route: string;
  path: () => string;
  backend: Service;
  backendRoute: string;
  backendPath: (p: string) => string;
  queries: Query[];
  internal: string;
}[] = [
  {
    method: 'GET',
    route: '/api/products',
    path: () => '/api/products',
    backend: 'catalog',
    backendRoute: '/products',
    backendPath: () => '/products?limit=20',
    queries: [
      q(
        'SELECT',
        'products',
        'SELECT id, name, price_cents FROM products WHERE active = $1 ORDER BY rank LIMIT $2',
        4,
      ),
      q(
        'SELECT',
        'product_images',
        'SELECT product_id, url FROM product_images WHERE product_id = ANY($1)',
        2,
      ),
    ],
    internal: 'ProductService.list',
  },
  {
    method: 'GET',
    route: '/api/products/{id}',
    path: () => `/api/products/${intBetween(1, 5000)}`,
    backend: 'catalog',
    backendRoute: '/products/{id}',
    backendPath: (p) => p.replace('/api', ''),
    queries: [
      q('SELECT', 'products', 'SELECT id, name, description, price_cents FROM products WHERE id = $1'),
      q('SELECT', 'inventory', 'SELECT quantity FROM inventory WHERE product_id = $1 AND warehouse_id = $2'),
    ],
    internal: 'ProductService.get',
  },
  {
    method: 'GET',
    route: '/api/cart',
    path: () => '/api/cart',
    backend: 'cart',
    backendRoute: '/carts/{userId}',
    backendPath: () => `/carts/${intBetween(1, 100_000)}`,
    queries: [
      q('SELECT', 'cart_items', 'SELECT product_id, quantity FROM cart_items WHERE cart_id = $1'),
      q('SELECT', 'carts', 'SELECT id, updated_at FROM carts WHERE user_id = $1'),
    ],
    internal: 'CartService.load',
  },
  {
    method: 'POST',
    route: '/api/cart/items',
    path: () => '/api/cart/items',
    backend: 'cart',
    backendRoute: '/carts/{userId}/items',
    backendPath: () => `/carts/${intBetween(1, 100_000)}/items`,
    queries: [
      q(
        'INSERT',
        'cart_items',
        'INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3) ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + $3',
        2.5,
      ),
      q('UPDATE', 'carts', 'UPDATE carts SET updated_at = now() WHERE id = $1'),
    ],
    internal: 'CartService.addItem',
  },
  {
    method: 'POST',
    route: '/api/checkout',
    path: () => '/api/checkout',
    backend: 'checkout',
    backendRoute: '/checkout',
    backendPath: () => '/checkout',
    queries: [
      q(
        'INSERT',
        'orders',
        'INSERT INTO orders (user_id, total_cents, status) VALUES ($1, $2, $3) RETURNING id',
        3,
      ),
      q('UPDATE', 'inventory', 'UPDATE inventory SET quantity = quantity - $1 WHERE product_id = $2', 2),
      q('DELETE', 'cart_items', 'DELETE FROM cart_items WHERE cart_id = $1'),
    ],
    internal: 'CheckoutService.placeOrder',
  },
  {
    method: 'GET',
    route: '/api/orders/{id}',
    path: () => `/api/orders/${intBetween(1, 1_000_000)}`,
    backend: 'orders',
    backendRoute: '/orders/{id}',
    backendPath: (p) => p.replace('/api', ''),
    queries: [
      q('SELECT', 'orders', 'SELECT id, user_id, status, total_cents, created_at FROM orders WHERE id = $1'),
      q(
        'SELECT',
        'order_items',
        'SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = $1',
      ),
    ],
    internal: 'OrderService.get',
  },
];

const SCOPE_HTTP = { name: '@opentelemetry/instrumentation-http', version: '0.57.1' };
const SCOPE_PG = { name: '@opentelemetry/instrumentation-pg', version: '0.50.0' };
const SCOPE_APP = { name: 'shop-app', version: '' };
type ScopeName = 'http' | 'pg' | 'app';

interface GenSpan {
  service: Service;
  scope: ScopeName;
  span: Record<string, unknown>;
  counted: boolean;
}

/** One trace of 8 spans: frontend SERVER → INTERNAL, CLIENT → backend SERVER → INTERNAL → 2–3 db CLIENT (+ INTERNAL). */
function genTrace(startNs: bigint): GenSpan[] {
  const r = pick(ROUTES);
  const traceId = randomId(16);
  const ids = Array.from({ length: 8 }, () => randomId(8));
  const path = r.path();
  const roll = rand();
  const status =
    roll < 0.01 ? 500 : roll < 0.03 && r.route.includes('{id}') ? 404 : r.method === 'POST' ? 201 : 200;
  const error = status >= 500;
  const spans: GenSpan[] = [];
  const ns = (n: bigint): string => n.toString();
  const mk = (
    service: Service,
    scope: ScopeName,
    idx: number,
    parent: number | undefined,
    name: string,
    kind: number,
    start: bigint,
    dur: bigint,
    attributes: Kv[],
    extra: Record<string, unknown> = {},
  ): void => {
    spans.push({
      service,
      scope,
      counted: kind !== 1 || parent === undefined,
      span: {
        traceId,
        spanId: ids[idx],
        ...(parent === undefined ? {} : { parentSpanId: ids[parent] }),
        name,
        kind,
        startTimeUnixNano: ns(start),
        endTimeUnixNano: ns(start + dur),
        attributes,
        flags: 0x101,
        status: {},
        ...extra,
      },
    });
  };
  // Durations from the leaves up.
  const nDb = r.queries.length + (rand() < 0.3 ? 1 : 0);
  const dbDur = Array.from({ length: Math.min(nDb, 3) }, (_, k) =>
    lognormalNs(r.queries[k % r.queries.length]!.medianMs, 0.6),
  );
  const dbTotal = dbDur.reduce((a, b) => a + b, 0n);
  const innerDur = dbTotal + lognormalNs(0.8, 0.5);
  const backendDur = innerDur + lognormalNs(1.2, 0.5);
  const clientDur = backendDur + lognormalNs(0.6, 0.4);
  const renderDur = lognormalNs(0.7, 0.5);
  const rootDur = clientDur + renderDur + lognormalNs(1.5, 0.5);
  const t0 = startNs;
  const host = `${r.backend}.shop.svc.cluster.local`;
  const backendPath = r.backendPath(path);
  const statusAttr = [i('http.response.status_code', status)];
  const errorStatus = error ? { status: { code: 2, message: '' } } : {};
  // 0 frontend SERVER (root)
  mk(
    'frontend',
    'http',
    0,
    undefined,
    `${r.method} ${r.route}`,
    2,
    t0,
    rootDur,
    [
      s('http.request.method', r.method),
      s('url.scheme', 'https'),
      s('url.path', path),
      s('http.route', r.route),
      ...statusAttr,
      s('server.address', 'shop.example.com'),
      i('server.port', 443),
      s('network.protocol.version', '1.1'),
      s('client.address', `203.0.113.${intBetween(1, 254)}`),
      s('network.peer.address', `10.0.${intBetween(0, 3)}.${intBetween(2, 250)}`),
      i('network.peer.port', intBetween(30_000, 60_000)),
      s(
        'user_agent.original',
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      ),
    ],
    errorStatus,
  );
  // 1 frontend INTERNAL (auth middleware)
  mk('frontend', 'app', 1, 0, 'middleware - authenticate', 1, t0 + 200_000n, renderDur, [
    s('code.function.name', 'authenticate'),
    s('code.file.path', '/app/dist/middleware/auth.js'),
  ]);
  // 2 frontend CLIENT http → backend
  const clientStart = t0 + 200_000n + renderDur + 50_000n;
  mk(
    'frontend',
    'http',
    2,
    0,
    r.method,
    3,
    clientStart,
    clientDur,
    [
      s('http.request.method', r.method),
      s('url.full', `http://${host}:8080${backendPath}`),
      s('server.address', host),
      i('server.port', 8080),
      ...statusAttr,
      s('network.protocol.version', '1.1'),
      s('network.peer.address', `10.1.${intBetween(0, 3)}.${intBetween(2, 250)}`),
      i('network.peer.port', 8080),
    ],
    errorStatus,
  );
  // 3 backend SERVER
  const backendStart = clientStart + 300_000n;
  mk(
    r.backend,
    'http',
    3,
    2,
    `${r.method} ${r.backendRoute}`,
    2,
    backendStart,
    backendDur,
    [
      s('http.request.method', r.method),
      s('url.scheme', 'http'),
      s('url.path', backendPath.split('?')[0]!),
      ...(backendPath.includes('?') ? [s('url.query', backendPath.split('?')[1]!)] : []),
      s('http.route', r.backendRoute),
      ...statusAttr,
      s('server.address', host),
      i('server.port', 8080),
      s('network.protocol.version', '1.1'),
      s('client.address', `10.0.${intBetween(0, 3)}.${intBetween(2, 250)}`),
      s('user_agent.original', 'node'),
    ],
    error
      ? {
          status: { code: 2, message: 'connection terminated unexpectedly' },
          events: [
            {
              timeUnixNano: ns(backendStart + backendDur - 10_000n),
              name: 'exception',
              attributes: [
                s('exception.type', 'Error'),
                s('exception.message', 'connection terminated unexpectedly'),
                s(
                  'exception.stacktrace',
                  'Error: connection terminated unexpectedly\n    at Connection.<anonymous> (/app/node_modules/pg/lib/client.js:132:73)\n    at Object.onceWrapper (node:events:632:28)',
                ),
              ],
            },
          ],
        }
      : {},
  );
  // 4 backend INTERNAL (service method)
  const innerStart = backendStart + 400_000n;
  mk(r.backend, 'app', 4, 3, r.internal, 1, innerStart, innerDur, [s('code.function.name', r.internal)]);
  // 5..7 db CLIENT calls (the 8th span is an INTERNAL serialisation step when there are only 2 calls)
  let at = innerStart + 100_000n;
  for (let k = 0; k < 3; k++) {
    const idx = 5 + k;
    const d = dbDur[k];
    if (d === undefined) {
      mk(r.backend, 'app', idx, 3, 'serialize response', 1, at, lognormalNs(0.2, 0.4), [
        s('code.function.name', 'serialize'),
      ]);
      continue;
    }
    const query = r.queries[k % r.queries.length]!;
    mk(r.backend, 'pg', idx, 4, `${query.op} ${query.table}`, 3, at, d, [
      s('db.system.name', 'postgresql'),
      s('db.namespace', 'shop'),
      s('db.collection.name', query.table),
      s('db.operation.name', query.op),
      s('db.query.text', query.text),
      s('server.address', 'postgres.shop.svc.cluster.local'),
      i('server.port', 5432),
      s('network.peer.address', '10.2.0.17'),
      i('network.peer.port', 5432),
    ]);
    at += d + 30_000n;
  }
  return spans;
}

interface Template {
  buf: Buffer;
  spans: number;
  /** SERVER/CLIENT/PRODUCER/CONSUMER spans and root spans: what endpoint rollups count. */
  counted: number;
  /** [offset, group] of every id occurrence; groups are the distinct ids (16 or 8 bytes). */
  idSlots: Int32Array;
  groupOffsets: Int32Array;
  groupLengths: Int32Array;
  idBytes: number;
  /** Offsets of every fixed64 time (start, end, event time). */
  timeOffsets: Int32Array;
  baseNs: bigint;
}

function buildTemplate(baseNs: bigint): Template {
  const spans: GenSpan[] = [];
  while (spans.length < SPANS_PER_BODY) {
    // Traces start within the last 2 s before baseNs.
    spans.push(...genTrace(baseNs - BigInt(Math.floor(rand() * 2e9))));
  }
  spans.length = SPANS_PER_BODY; // 512 = 64 × 8
  const resources = new Map<Service, Map<ScopeName, Record<string, unknown>[]>>();
  for (const g of spans) {
    let byScope = resources.get(g.service);
    if (!byScope) {
      byScope = new Map();
      resources.set(g.service, byScope);
    }
    let list = byScope.get(g.scope);
    if (!list) {
      list = [];
      byScope.set(g.scope, list);
    }
    list.push(g.span);
  }
  const scopeOf = { http: SCOPE_HTTP, pg: SCOPE_PG, app: SCOPE_APP };
  const request = {
    resourceSpans: [...resources].map(([service, byScope]) => ({
      resource: { attributes: resourceOf(service, SERVICES.indexOf(service)) },
      scopeSpans: [...byScope].map(([scope, list]) => ({ scope: scopeOf[scope], spans: list })),
      schemaUrl: 'https://opentelemetry.io/schemas/1.28.0',
    })),
  };
  const type = otlpTypes().traceRequest;
  const buf = Buffer.from(type.encode(type.fromObject(request)).finish());

  // Locate every id and time in the encoded bytes (random 8/16-byte values: each occurs only where put).
  const ids = new Map<string, Buffer>();
  const times = new Set<string>();
  for (const g of spans) {
    for (const key of ['traceId', 'spanId', 'parentSpanId'] as const) {
      const b = g.span[key] as Buffer | undefined;
      if (b) ids.set(b.toString('hex'), b);
    }
    times.add(g.span.startTimeUnixNano as string);
    times.add(g.span.endTimeUnixNano as string);
    for (const e of (g.span.events as { timeUnixNano: string }[] | undefined) ?? [])
      times.add(e.timeUnixNano);
  }
  const slots: number[] = [];
  const groupOffsets: number[] = [];
  const groupLengths: number[] = [];
  let idBytes = 0;
  for (const b of ids.values()) {
    const group = groupOffsets.length;
    groupOffsets.push(idBytes);
    groupLengths.push(b.length);
    idBytes += b.length;
    let found = 0;
    for (let at = buf.indexOf(b); at >= 0; at = buf.indexOf(b, at + 1)) {
      // Preceded by the length byte of a bytes field.
      if (buf[at - 1] !== b.length) continue;
      slots.push(at, group);
      found++;
    }
    if (found === 0) throw new Error('id not found in the encoded body');
  }
  const timeOffsets: number[] = [];
  const le = Buffer.alloc(8);
  for (const t of times) {
    le.writeBigUInt64LE(BigInt(t));
    let found = 0;
    for (let at = buf.indexOf(le); at >= 0; at = buf.indexOf(le, at + 1)) {
      const tag = buf[at - 1];
      if (tag !== 0x39 && tag !== 0x41 && tag !== 0x09) continue; // start (7), end (8), event time (1)
      timeOffsets.push(at);
      found++;
    }
    if (found === 0) throw new Error('time not found in the encoded body');
  }
  return {
    buf,
    spans: spans.length,
    counted: spans.filter((g) => g.counted).length,
    idSlots: Int32Array.from(slots),
    groupOffsets: Int32Array.from(groupOffsets),
    groupLengths: Int32Array.from(groupLengths),
    idBytes,
    timeOffsets: Int32Array.from(timeOffsets),
    baseNs,
  };
}

/** A copy of the template with fresh random ids (consistent within the body) and times shifted to now. */
function freshBody(t: Template, nowNs: bigint): Buffer {
  const buf = Buffer.allocUnsafe(t.buf.length);
  t.buf.copy(buf);
  const fresh = randomFillSync(Buffer.allocUnsafe(t.idBytes));
  for (let g = 0; g < t.groupOffsets.length; g++) {
    if (fresh[t.groupOffsets[g]!] === 0) fresh[t.groupOffsets[g]!] = 1; // never all-zero
  }
  const slots = t.idSlots;
  for (let k = 0; k < slots.length; k += 2) {
    const g = slots[k + 1]!;
    const from = t.groupOffsets[g]!;
    fresh.copy(buf, slots[k]!, from, from + t.groupLengths[g]!);
  }
  const delta = nowNs - t.baseNs;
  for (const at of t.timeOffsets) buf.writeBigUInt64LE(buf.readBigUInt64LE(at) + delta, at);
  return buf;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

// ------------------------------------------------------------------------------------------- helpers

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number): number => bytes / (1024 * 1024);
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const benchStart = performance.now();
  const commit = gitCommit(); // at start: the code this process loaded
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  let peakExternal = process.memoryUsage().external;
  let rssSamples = 0;
  const rssTimer = setInterval(() => {
    const m = process.memoryUsage();
    rssSamples++;
    if (m.rss > peakRss) peakRss = m.rss;
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
    if (m.external > peakExternal) peakExternal = m.external;
  }, 100);
  rssTimer.unref();

  out(`# OTLP/HTTP protobuf ingest throughput`);
  out(
    `commit ${commit}, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${fmt(mb(totalmem()))} MiB RAM`,
  );
  out(
    `duration ${DURATION_S} s, ${CONCURRENCY} requests in flight, client ${CLIENT}, ${SPANS_PER_BODY} spans/body`,
  );
  out();

  // 1. Bodies.
  const types = otlpTypes();
  const base = nowNs();
  const templates = Array.from({ length: TEMPLATES }, () => buildTemplate(base));
  const bodyBytes = templates.reduce((a, t) => a + t.buf.length, 0) / templates.length;
  const countedPerBody = templates.reduce((a, t) => a + t.counted, 0) / templates.length;
  out(
    `bodies: ${TEMPLATES} templates, mean ${fmt(bodyBytes)} bytes (${fmt(bodyBytes / SPANS_PER_BODY, 1)} bytes/span), ` +
      `${fmt(countedPerBody, 1)} of ${SPANS_PER_BODY} spans counted by endpoint rollups`,
  );
  // Sanity check of the byte patching: decode one patched body and compare with its template.
  {
    const t = templates[0]!;
    const now = nowNs();
    const a = types.traceRequest.toObject(types.traceRequest.decode(t.buf), { longs: String }) as {
      resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
    };
    const b = types.traceRequest.toObject(types.traceRequest.decode(freshBody(t, now)), {
      longs: String,
    }) as {
      resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
    };
    const flat = (x: typeof a) => x.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((ss) => ss.spans));
    const sa = flat(a);
    const sb = flat(b);
    const spanIds = new Set(sb.map((x) => (x.spanId as Buffer).toString('hex')));
    for (let k = 0; k < sa.length; k++) {
      const x = sa[k]!;
      const y = sb[k]!;
      if ((x.spanId as Buffer).equals(y.spanId as Buffer)) throw new Error('patched span id unchanged');
      if (y.parentSpanId && (y.parentSpanId as Buffer).length > 0) {
        if (!spanIds.has((y.parentSpanId as Buffer).toString('hex')))
          throw new Error('patched parent is lost');
      }
      const shift = BigInt(y.startTimeUnixNano as string) - BigInt(x.startTimeUnixNano as string);
      if (shift !== now - t.baseNs) throw new Error('patched time not shifted');
      if (x.name !== y.name) throw new Error('patched body differs');
    }
  }

  // 2. Decode-only rate (and decode + conversion to spans, for reference).
  await loadSqlParser();
  const decodeBodies = templates.map((t) => freshBody(t, nowNs()));
  const measureLoop = (seconds: number, fn: (buf: Buffer) => void): number => {
    let n = 0;
    const warmUntil = performance.now() + 500;
    while (performance.now() < warmUntil) fn(decodeBodies[n++ % decodeBodies.length]!);
    n = 0;
    const t0 = performance.now();
    const until = t0 + seconds * 1000;
    while (performance.now() < until) {
      for (let k = 0; k < decodeBodies.length; k++) fn(decodeBodies[k]!);
      n += decodeBodies.length;
    }
    return (n * SPANS_PER_BODY) / ((performance.now() - t0) / 1000);
  };
  const decodeRate = measureLoop(DECODE_S, (buf) => {
    types.traceRequest.decode(buf);
  });
  const clock = {
    nowNs: nowNs(),
    maxFutureSkewNs: 3_600_000_000_000n,
    maxPastSkewNs: 157_680_000_000_000_000n,
    maxSpanDurationNs: 604_800_000_000_000n,
  };
  const convertRate = measureLoop(Math.min(DECODE_S, 3), (buf) => {
    otlpTracesToSpans(types.traceRequest.decode(buf), clock);
  });
  out(`decode-only (protobufjs decode):        ${fmt(decodeRate)} spans/s`);
  out(`decode + otlpTracesToSpans (reference):  ${fmt(convertRate)} spans/s`);
  out();

  // 3. The server.
  const dataDir = mkdtempSync(join(tmpdir(), 'siperf-bench-ingest-'));
  const config = loadConfig({ flags: { port: 0, dataDir, logLevel: 'warn' } });
  if (config.port !== 0) throw new Error('loadConfig did not keep port 0');
  const server = await startServer(config);
  const url = `${server.url}/v1/traces`;
  const { hostname, port } = new URL(server.url);
  out(`server: ${server.url}, data dir ${dataDir}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  interface Reply {
    status: number;
    body: Buffer;
  }
  const postFetch = async (body: Buffer): Promise<Reply> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  const postHttp = (body: Buffer): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: hostname,
          port: Number(port),
          path: '/v1/traces',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const post = CLIENT === 'fetch' ? postFetch : postHttp;

  let requests = 0;
  let ok = 0;
  let ackedSpans = 0;
  let ackedCounted = 0;
  let rejectedSpans = 0;
  let overloaded = 0;
  let otherStatus = 0;
  let clientErrors = 0;
  const otherStatuses: Record<string, number> = {};
  const latencies: number[] = [];
  const perSecond: number[] = [];
  let next = 0;
  const loadStart = performance.now();
  const loadEnd = loadStart + DURATION_S * 1000;
  const rssBeforeLoad = process.memoryUsage().rss;
  const cpuAtLoadStart = cpuSnapshot();

  const worker = async (): Promise<void> => {
    while (performance.now() < loadEnd) {
      const t = templates[next++ % templates.length]!;
      const body = freshBody(t, nowNs());
      const t0 = performance.now();
      requests++;
      try {
        const res = await post(body);
        const t1 = performance.now();
        if (res.status === 200) {
          ok++;
          const ack = types.traceResponse.decode(res.body) as {
            partialSuccess?: { rejectedSpans?: unknown };
          };
          const rejected = Number(ack.partialSuccess?.rejectedSpans ?? 0);
          rejectedSpans += rejected;
          ackedSpans += t.spans - rejected;
          ackedCounted += t.counted;
          latencies.push(t1 - t0);
          const second = Math.floor((t1 - loadStart) / 1000);
          perSecond[second] = (perSecond[second] ?? 0) + t.spans - rejected;
        } else if (res.status === 503) {
          overloaded++;
          await sleep(BACKOFF_MS);
        } else {
          otherStatus++;
          otherStatuses[res.status] = (otherStatuses[res.status] ?? 0) + 1;
          if (otherStatus <= 3) out(`unexpected ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
        }
      } catch (err) {
        clientErrors++;
        if (clientErrors <= 3) out(`request failed: ${(err as Error).message}`);
        await sleep(BACKOFF_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsedS = (performance.now() - loadStart) / 1000;
  const contention = otherCores(cpuAtLoadStart, cpuSnapshot());
  const peakRssDuringLoad = peakRss;
  agent.destroy();

  const spansPerSecond = ackedSpans / elapsedS;
  latencies.sort((a, b) => a - b);

  // 4. Rollups, verification, disk.
  const flushStart = performance.now();
  await server.store.flushRollups();
  const flushMs = performance.now() - flushStart;
  const aggregates = await server.store.endpointAggregates({
    window: { fromNs: 0n, toNs: BigInt(Date.now() + 3_600_000) * 1_000_000n },
  });
  const rolledUp = aggregates.reduce((a, x) => a + x.requests, 0);
  const diskBytesLive = await server.store.diskBytes();
  const stopStart = performance.now();
  await server.stop();
  const stopMs = performance.now() - stopStart;
  const dbPath = join(dataDir, 'siperf.duckdb');
  const walPath = `${dbPath}.wal`;
  const fileBytes = statSync(dbPath).size + (existsSync(walPath) ? statSync(walPath).size : 0);

  const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  // The schema evolves (e.g. resource attributes inline or in a `resources` table): look before asking.
  const columns = new Set(
    (
      await conn.runAndReadAll(
        `SELECT table_name || '.' || column_name AS c FROM duckdb_columns() WHERE schema_name = 'main'`,
      )
    )
      .getRowObjects()
      .map((r) => String(r.c)),
  );
  const avgLen = (table: string, column: string): string =>
    columns.has(`${table}.${column}`) ? `(SELECT avg(strlen(${column})) FROM ${table})` : 'NULL';
  const countOf = (table: string): string =>
    columns.has(`${table}.service`) || columns.has(`${table}.resource_id`)
      ? `(SELECT count(*) FROM ${table})`
      : 'NULL';
  const stats = (
    await conn.runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT trace_id || span_id) AS distinct_ids,
              ${avgLen('spans', 'resource_json')} AS resource_json,
              ${avgLen('spans', 'attributes_json')} AS attributes_json,
              ${countOf('resources')} AS resources,
              ${countOf('endpoint_rollups')} AS endpoint_rollup_rows,
              ${countOf('db_rollups')} AS db_rollup_rows
       FROM spans`,
    )
  ).getRowObjects()[0]!;
  const dbSize = (
    await conn.runAndReadAll(
      'SELECT total_blocks, used_blocks, free_blocks, block_size FROM pragma_database_size()',
    )
  ).getRowObjects()[0]!;
  conn.closeSync();
  instance.closeSync();
  const storedSpans = Number(stats.n);
  const distinctIds = Number(stats.distinct_ids);
  const usedBytes = Number(dbSize.used_blocks) * Number(dbSize.block_size);
  const bytesPerSpan = fileBytes / storedSpans;
  if (!KEEP) rmSync(dataDir, { recursive: true, force: true });
  clearInterval(rssTimer);

  const ratio = spansPerSecond / decodeRate;
  const countOk = rolledUp === ackedCounted && storedSpans === ackedSpans && distinctIds === storedSpans;
  const pass = {
    spansPerSecond: spansPerSecond >= TARGETS.spansPerSecond,
    ratioToDecode: ratio >= TARGETS.ratioToDecode,
    peakRss: mb(peakRss) < TARGETS.peakRssMb,
    bytesPerSpan: bytesPerSpan <= TARGETS.bytesPerSpan,
    count: countOk,
  };

  out();
  out(
    `load: ${fmt(elapsedS, 1)} s, ${fmt(requests)} requests, ${fmt(ok)} × 200, ${fmt(overloaded)} × 503 (backed off ${BACKOFF_MS} ms),`,
  );
  out(
    `      ${fmt(otherStatus)} other statuses ${JSON.stringify(otherStatuses)}, ${fmt(clientErrors)} client errors, ${fmt(rejectedSpans)} spans rejected`,
  );
  if (contention) {
    out(
      `      CPU during load: this process ${fmt(contention.thisProcessCores, 2)} cores, other processes ` +
        `${fmt(contention.otherCores, 2)} cores${contention.otherCores > 0.2 ? ' (the machine was NOT idle: figures are low)' : ''}`,
    );
  }
  out(
    `      request latency ms: p50 ${fmt(percentile(latencies, 0.5), 1)}, p90 ${fmt(percentile(latencies, 0.9), 1)}, ` +
      `p99 ${fmt(percentile(latencies, 0.99), 1)}, max ${fmt(latencies.at(-1) ?? 0, 1)}`,
  );
  out(`      spans/s per second: ${Array.from(perSecond, (x) => fmt(x ?? 0)).join(' ')}`);
  out();
  out(`figure                         value               target         `);
  out(
    `spans/s acknowledged           ${fmt(spansPerSecond).padEnd(20)}≥ ${fmt(TARGETS.spansPerSecond)}       ${verdict(pass.spansPerSecond)}`,
  );
  out(
    `ratio to decode-only           ${fmt(ratio, 3).padEnd(20)}≥ ${TARGETS.ratioToDecode}          ${verdict(pass.ratioToDecode)}`,
  );
  out(
    `peak RSS (client+server), MiB  ${fmt(mb(peakRss)).padEnd(20)}< ${TARGETS.peakRssMb}           ${verdict(pass.peakRss)}`,
  );
  out(
    `bytes on disk per span         ${fmt(bytesPerSpan, 1).padEnd(20)}≤ ${TARGETS.bytesPerSpan}           ${verdict(pass.bytesPerSpan)}`,
  );
  out(
    `count check                    ${`${fmt(rolledUp)} / ${fmt(ackedCounted)}`.padEnd(20)}rolled up = sent ${verdict(pass.count)}`,
  );
  out();
  out(
    `peak RSS is of the one process that runs client and server (RSS before load ${fmt(mb(rssBeforeLoad))} MiB, ` +
      `during load ${fmt(mb(peakRssDuringLoad))} MiB, ${rssSamples} samples at 100 ms; peak JS heap used ` +
      `${fmt(mb(peakHeap))} MiB, peak external ${fmt(mb(peakExternal))} MiB: the rest is native, mostly DuckDB)`,
  );
  out(
    `disk: file ${fmt(mb(fileBytes), 1)} MiB after stop() (CHECKPOINT) for ${fmt(storedSpans)} spans stored ` +
      `(${fmt(distinctIds)} distinct ids, ${fmt(ackedSpans)} acknowledged); used blocks ${fmt(mb(usedBytes), 1)} MiB ` +
      `= ${fmt(usedBytes / storedSpans, 1)} bytes/span; diskBytes() before stop ${fmt(mb(diskBytesLive), 1)} MiB`,
  );
  out(
    `      mean raw chars per span: resource_json ${stats.resource_json === null ? 'n/a' : fmt(Number(stats.resource_json))}, ` +
      `attributes_json ${stats.attributes_json === null ? 'n/a' : fmt(Number(stats.attributes_json))}; ` +
      `resources rows ${stats.resources === null ? 'n/a' : fmt(Number(stats.resources))}; ` +
      `rollup rows: ${fmt(Number(stats.endpoint_rollup_rows))} endpoint, ${fmt(Number(stats.db_rollup_rows))} db`,
  );
  out(
    `flushRollups after load ${fmt(flushMs)} ms, stop() ${fmt(stopMs)} ms; whole bench ${fmt((performance.now() - benchStart) / 1000, 1)} s`,
  );
  if (KEEP) out(`data kept in ${dataDir}`);

  const results = {
    benchmark: 'otlp-throughput',
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    settings: {
      durationS: DURATION_S,
      concurrency: CONCURRENCY,
      client: CLIENT,
      spansPerBody: SPANS_PER_BODY,
      meanBodyBytes: Math.round(bodyBytes),
      countedSpansPerBody: countedPerBody,
      backoffMs: BACKOFF_MS,
      clientAndServerInOneProcess: true,
    },
    decodeOnlySpansPerSecond: Math.round(decodeRate),
    decodeAndConvertSpansPerSecond: Math.round(convertRate),
    load: {
      elapsedS,
      requests,
      ok,
      overloaded503: overloaded,
      otherStatuses,
      clientErrors,
      rejectedSpans,
      acknowledgedSpans: ackedSpans,
      latencyMs: {
        p50: percentile(latencies, 0.5),
        p90: percentile(latencies, 0.9),
        p99: percentile(latencies, 0.99),
        max: latencies.at(-1) ?? 0,
      },
      cpu: contention ?? null,
      spansPerSecondTimeline: Array.from(perSecond, (x) => x ?? 0),
    },
    spansPerSecond,
    ratioToDecodeOnly: ratio,
    peakRssMb: mb(peakRss),
    rssBeforeLoadMb: mb(rssBeforeLoad),
    peakHeapUsedMb: mb(peakHeap),
    peakExternalMb: mb(peakExternal),
    rssSamples,
    disk: {
      fileBytes,
      usedBlockBytes: usedBytes,
      diskBytesBeforeStop: diskBytesLive,
      storedSpans,
      bytesPerSpan,
      meanResourceJsonChars: stats.resource_json === null ? null : Number(stats.resource_json),
      meanAttributesJsonChars: stats.attributes_json === null ? null : Number(stats.attributes_json),
      resourcesRows: stats.resources === null ? null : Number(stats.resources),
      endpointRollupRows: Number(stats.endpoint_rollup_rows),
      dbRollupRows: Number(stats.db_rollup_rows),
    },
    count: { rolledUpRequests: rolledUp, expected: ackedCounted, storedSpans, distinctIds, ok: countOk },
    flushRollupsMs: flushMs,
    stopMs,
    targets: TARGETS,
    pass,
  };
  out(`results written to ${writeResults('otlp-throughput.json', results)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
