import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { type EndpointMetrics, endpointMetrics } from '../../packages/server/src/apm/index.ts';
import type { Attributes, DbCall, Span } from '../../packages/server/src/model/span.ts';
import { createDuckDbStore, type Store, type TimeWindow } from '../../packages/server/src/storage/index.ts';
import { cpuSnapshot, gitCommit, numberOption, option, otherCores, writeResults } from '../lib/run-info.ts';

// ---------------------------------------------------------------------------------------------- options

const SPANS = numberOption('spans', 'BENCH_SPANS', 10_000_000, true);
const BATCH = numberOption('batch', 'BENCH_BATCH', 50_000, true);
const FLUSH_EVERY = numberOption('flush-every', 'BENCH_FLUSH_EVERY', 1, true);
const RUNS = numberOption('runs', 'BENCH_RUNS', 7, true);
const DATA_DIR_OPTION = option('data-dir', 'BENCH_DATA_DIR', '');
const KEEP = ['1', 'true'].includes(option('keep', 'BENCH_KEEP', '0')) || DATA_DIR_OPTION !== '';
const APDEX_T_MS = 500;
const TARGETS = { speedRatio: 20, maxRelativeDiff: 0.01 };

const NS_PER_MS = 1_000_000n;
const NS_PER_MINUTE = 60_000_000_000n;
const NS_PER_HOUR = 3_600_000_000_000n;
const DAY_NS = 24n * NS_PER_HOUR;

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

// ---------------------------------------------------------------------------------- random helpers

let seed = 0x2545f491;
/** Deterministic PRNG (mulberry32). */
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function gauss(): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
/** Log-normal duration in ns: median `medianMs`, shape `sigma`; at least 1 µs. */
function lognormalNs(medianMs: number, sigma: number): bigint {
  return BigInt(Math.max(1000, Math.round(medianMs * Math.exp(sigma * gauss()) * 1e6)));
}

// -------------------------------------------------------------------------------- the synthetic system

interface Endpoint {
  service: string;
  route: string;
  method: string;
  weight: number;
  medianMs: number;
  sigma: number;
  errorRate: number;
  attributes: Attributes;
  errorAttributes: Attributes;
  /** Indexes into the service's statements called by this route (0–2). */
  calls: number[];
}
interface Statement {
  name: string;
  db: DbCall;
  medianMs: number;
  sigma: number;
  attributes: Attributes;
}
interface ServiceDef {
  name: string;
  resource: Attributes;
  endpoints: Endpoint[];
  statements: Statement[];
  job: { name: string; medianMs: number; everyMs: number };
}

const SERVICE_NAMES = ['frontend', 'catalog', 'cart', 'checkout', 'orders'];
const ROUTE_NAMES = [
  ['GET', '/'],
  ['GET', '/items'],
  ['GET', '/items/{id}'],
  ['POST', '/items'],
  ['PUT', '/items/{id}'],
  ['DELETE', '/items/{id}'],
  ['GET', '/items/{id}/related'],
  ['GET', '/search'],
  ['POST', '/batch'],
  ['GET', '/health'],
];
const TABLES = ['products', 'carts', 'orders', 'users', 'inventory'];

function buildSystem(): ServiceDef[] {
  return SERVICE_NAMES.map((name, si) => {
    const table = TABLES[si]!;
    const statements: Statement[] = [
      ['SELECT', `SELECT id, name, updated_at FROM ${table} WHERE id = $1`, 1.2, 0.5],
      [
        'SELECT',
        `SELECT id, name FROM ${table} WHERE owner_id = $1 ORDER BY updated_at DESC LIMIT $2`,
        6,
        0.8,
      ],
      ['UPDATE', `UPDATE ${table} SET updated_at = now(), version = version + 1 WHERE id = $1`, 3, 0.9],
    ].map(([op, text, medianMs, sigma], k) => ({
      name: `${op} ${table}`,
      db: {
        system: 'postgresql',
        database: 'shop',
        statement: String(text),
        fingerprint: `${si}${k}`.padStart(16, 'f'),
      },
      medianMs: Number(medianMs),
      sigma: Number(sigma),
      attributes: {
        'db.system.name': 'postgresql',
        'db.namespace': 'shop',
        'db.operation.name': String(op),
        'db.collection.name': table,
        'db.query.text': String(text),
        'server.address': 'postgres',
        'server.port': 5432,
      },
    }));
    // Statement span names repeat for k = 0 and 1 (both `SELECT table`): 2 CLIENT endpoints per service.
    const endpoints: Endpoint[] = ROUTE_NAMES.map(([method, path], k) => {
      const route = `/api/${name}${path === '/' ? '' : path}`;
      const base = { 'http.request.method': method!, 'http.route': route, 'url.scheme': 'http' };
      return {
        service: name,
        route,
        method: method!,
        // Zipf-like popularity: a few routes take most traffic.
        weight: 1 / (k + 1),
        medianMs: [4, 12, 25, 40, 80, 150, 300][(si + k) % 7]!,
        sigma: 0.4 + ((si * 10 + k) % 7) / 10,
        errorRate: k === 8 ? 0.05 : 0.005,
        attributes: { ...base, 'http.response.status_code': method === 'POST' ? 201 : 200 },
        errorAttributes: { ...base, 'http.response.status_code': 500 },
        calls: k === 9 ? [] : k % 3 === 0 ? [0] : k % 3 === 1 ? [0, 1] : [2],
      };
    });
    return {
      name,
      resource: {
        'service.name': name,
        'service.namespace': 'shop',
        'service.version': `1.${si}.0`,
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.version': '2.0.1',
        'deployment.environment.name': 'production',
        'host.name': `${name}-7d9f8c-${si}`,
      },
      endpoints,
      statements,
      job: { name: `${name}.refresh-cache`, medianMs: 200, everyMs: 10_000 },
    };
  });
}

const NO_EVENTS: Span['events'] = [];
const NO_LINKS: Span['links'] = [];
const INTERNAL_ATTRS: Attributes = { 'code.function.name': 'handler' };

/**
 * Spans for one time slice [fromNs, toNs): `count` spans (±a trace) as traces of SERVER root → INTERNAL →
 * 0–2 CLIENT db calls, plus the services' periodic INTERNAL root jobs that fall in the slice.
 */
function genSlice(system: ServiceDef[], fromNs: bigint, toNs: bigint, count: number): Span[] {
  const spans: Span[] = [];
  const sliceNs = Number(toNs - fromNs);
  const allEndpoints = system.flatMap((s) => s.endpoints);
  const cumulative: number[] = [];
  let total = 0;
  for (const e of allEndpoints) {
    total += e.weight;
    cumulative.push(total);
  }
  // Random hex in bulk (32 chars per trace id, 16 per span id), refilled when used up.
  const refill = (): string => randomBytes(Math.ceil(count * 1.1 + 64) * 16).toString('hex');
  let hex = refill();
  let h = 0;
  const id = (chars: number): string => {
    if (h + chars > hex.length) {
      hex = refill();
      h = 0;
    }
    const v = hex.slice(h, h + chars);
    h += chars;
    return v;
  };
  const push = (s: Omit<Span, 'endTimeUnixNano' | 'events' | 'links' | 'statusMessage' | 'clockFlagged'>) => {
    spans.push({
      ...s,
      endTimeUnixNano: s.startTimeUnixNano + s.durationNano,
      statusMessage: '',
      clockFlagged: false,
      events: NO_EVENTS,
      links: NO_LINKS,
    });
  };
  // Background jobs: INTERNAL root spans.
  for (const svc of system) {
    const every = BigInt(svc.job.everyMs) * NS_PER_MS;
    for (let t = fromNs + (every - (fromNs % every)); t < toNs; t += every) {
      const dur = lognormalNs(svc.job.medianMs, 0.5);
      push({
        traceId: id(32),
        spanId: id(16),
        parentSpanId: '',
        service: svc.name,
        name: svc.job.name,
        endpoint: svc.job.name,
        kind: 1,
        startTimeUnixNano: t,
        durationNano: dur,
        statusCode: 0,
        httpStatusCode: 0,
        isError: false,
        db: undefined,
        scope: 'shop-app',
        resourceAttributes: svc.resource,
        attributes: INTERNAL_ATTRS,
      });
    }
  }
  while (spans.length < count) {
    const x = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    const e = allEndpoints[lo]!;
    const svc = system.find((s) => s.name === e.service)!;
    const start = fromNs + BigInt(Math.floor(rand() * sliceNs));
    const traceId = id(32);
    const rootId = id(16);
    const isError = rand() < e.errorRate;
    let dbTotal = 0n;
    const calls = e.calls.map((k) => {
      const st = svc.statements[k]!;
      const d = lognormalNs(st.medianMs, st.sigma);
      dbTotal += d;
      return { st, d };
    });
    const innerDur = dbTotal + lognormalNs(e.medianMs * 0.6, e.sigma);
    const rootDur = innerDur + lognormalNs(e.medianMs * 0.3, 0.3);
    push({
      traceId,
      spanId: rootId,
      parentSpanId: '',
      service: e.service,
      name: `${e.method} ${e.route}`,
      endpoint: `${e.method} ${e.route}`,
      kind: 2,
      startTimeUnixNano: start,
      durationNano: rootDur,
      statusCode: isError ? 2 : 0,
      httpStatusCode: isError ? 500 : (e.attributes['http.response.status_code'] as number),
      isError,
      db: undefined,
      scope: '@opentelemetry/instrumentation-http',
      resourceAttributes: svc.resource,
      attributes: isError ? e.errorAttributes : e.attributes,
    });
    const innerId = id(16);
    const innerStart = start + 100_000n;
    push({
      traceId,
      spanId: innerId,
      parentSpanId: rootId,
      service: e.service,
      name: 'handler',
      endpoint: 'handler',
      kind: 1,
      startTimeUnixNano: innerStart,
      durationNano: innerDur,
      statusCode: 0,
      httpStatusCode: 0,
      isError: false,
      db: undefined,
      scope: 'shop-app',
      resourceAttributes: svc.resource,
      attributes: INTERNAL_ATTRS,
    });
    let at = innerStart + 50_000n;
    for (const { st, d } of calls) {
      push({
        traceId,
        spanId: id(16),
        parentSpanId: innerId,
        service: e.service,
        name: st.name,
        endpoint: st.name,
        kind: 3,
        startTimeUnixNano: at,
        durationNano: d,
        statusCode: 0,
        httpStatusCode: 0,
        isError: false,
        db: st.db,
        scope: '@opentelemetry/instrumentation-pg',
        resourceAttributes: svc.resource,
        attributes: st.attributes,
      });
      at += d + 20_000n;
    }
  }
  return spans;
}

// ------------------------------------------------------------------------------------------- helpers

function floorMinute(ns: bigint): bigint {
  return ns - (((ns % NS_PER_MINUTE) + NS_PER_MINUTE) % NS_PER_MINUTE);
}
/** Smallest minute start ≥ ns. */
function ceilMinute(ns: bigint): bigint {
  const f = floorMinute(ns);
  return f === ns ? ns : f + NS_PER_MINUTE;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const key = (service: string, endpoint: string, kind: string): string =>
  `${service}\u0000${endpoint}\u0000${kind}`;
const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

interface Exact {
  requests: number;
  p95: number;
  p99: number;
}

interface Meta {
  endNs: string;
  spans: number;
  generationS: number;
  batch: number;
  flushEvery: number;
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const benchStart = performance.now();
  const commit = gitCommit(); // at start: the code this process loaded
  out('# endpointMetrics (DDSketch rollups) vs exact quantiles over raw spans');
  out(
    `commit ${commit}, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${fmt(totalmem() / 2 ** 20)} MiB RAM`,
  );

  const dataDir = DATA_DIR_OPTION || mkdtempSync(join(tmpdir(), 'siperf-bench-query-'));
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'siperf.duckdb');
  const metaPath = join(dataDir, 'bench-meta.json');
  const reuse = existsSync(path) && existsSync(metaPath);

  // 1. Data.
  let meta: Meta;
  let store: Store;
  let openMs = 0;
  if (reuse) {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Meta;
    out(
      `reusing ${meta.spans.toLocaleString('en-US')} spans in ${path} (generated in ${fmt(meta.generationS, 1)} s)`,
    );
    const t0 = performance.now();
    store = await createDuckDbStore({ path });
    openMs = performance.now() - t0;
    out(`store reopened in ${fmt(openMs)} ms`);
  } else {
    out(
      `generating ${fmt(SPANS)} spans over 24 h in batches of ${fmt(BATCH)}, rollups flushed every ${FLUSH_EVERY} batch(es)`,
    );
    store = await createDuckDbStore({ path });
    const system = buildSystem();
    const endNs = floorMinute(BigInt(Date.now()) * NS_PER_MS) - NS_PER_MINUTE; // whole minutes, all in the past
    const startNs = endNs - DAY_NS;
    const batches = Math.ceil(SPANS / BATCH);
    const genStart = performance.now();
    const cpuAtGenStart = cpuSnapshot();
    let written = 0;
    let nextReport = genStart + 30_000;
    for (let b = 0; b < batches; b++) {
      const want = Math.min(BATCH, SPANS - written);
      const from = startNs + (DAY_NS * BigInt(b)) / BigInt(batches);
      const to = startNs + (DAY_NS * BigInt(b + 1)) / BigInt(batches);
      const spans = genSlice(system, from, to, want);
      const r = await store.writeSpans(spans);
      written += r.written;
      if (r.duplicates > 0) throw new Error(`${r.duplicates} generated spans taken for duplicates`);
      if ((b + 1) % FLUSH_EVERY === 0) await store.flushRollups();
      if (performance.now() > nextReport) {
        const s = (performance.now() - genStart) / 1000;
        out(
          `  ${fmt(written)} spans, ${fmt(s)} s, ${fmt(written / s)} spans/s, rss ${fmt(process.memoryUsage().rss / 2 ** 20)} MiB`,
        );
        nextReport += 30_000;
      }
    }
    await store.flushRollups();
    const generationS = (performance.now() - genStart) / 1000;
    const genCpu = otherCores(cpuAtGenStart, cpuSnapshot());
    if (genCpu) {
      out(
        `  CPU while generating: this process ${fmt(genCpu.thisProcessCores, 2)} cores, other processes ` +
          `${fmt(genCpu.otherCores, 2)} cores`,
      );
    }
    meta = { endNs: String(endNs), spans: written, generationS, batch: BATCH, flushEvery: FLUSH_EVERY };
    writeFileSync(metaPath, JSON.stringify(meta));
    out(
      `generated ${fmt(written)} spans in ${fmt(generationS, 1)} s (${fmt(written / generationS)} spans/s)`,
    );
  }
  // What the server's 60-s compaction timer would have done by now (app.ts: minutes older than 2 min).
  const compactStart = performance.now();
  const compaction = await store.compactRollups(BigInt(Date.now()) * NS_PER_MS - 120_000_000_000n);
  const compactMs = performance.now() - compactStart;
  out(`compactRollups: ${fmt(compactMs)} ms, ${JSON.stringify(compaction)}`);
  const endNs = BigInt(meta.endNs);
  const windows: { name: string; window: TimeWindow }[] = [
    { name: '1h', window: { fromNs: endNs - NS_PER_HOUR, toNs: endNs } },
    { name: '24h', window: { fromNs: endNs - DAY_NS, toNs: endNs } },
  ];

  // 2. endpointMetrics over rollups (store open).
  const cpuAtQueries = cpuSnapshot();
  const sketchTimes: Record<string, number[]> = {};
  const sketchRows: Record<string, EndpointMetrics[]> = {};
  for (const { name, window } of windows) {
    await endpointMetrics(store, { window, apdexThresholdMs: APDEX_T_MS }); // warm-up
    sketchTimes[name] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      sketchRows[name] = await endpointMetrics(store, { window, apdexThresholdMs: APDEX_T_MS });
      sketchTimes[name].push(performance.now() - t0);
    }
    out(
      `endpointMetrics ${name.padEnd(3)}: median ${fmt(median(sketchTimes[name]), 1)} ms ` +
        `(runs ${sketchTimes[name].map((x) => fmt(x, 1)).join(', ')}), ${sketchRows[name]!.length} rows`,
    );
  }
  const closeStart = performance.now();
  await store.close();
  const closeMs = performance.now() - closeStart;
  const fileBytes = statSync(path).size;

  // 3. Exact answers over raw spans (store closed; the file opened directly).
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  const counts = (
    await conn.runAndReadAll(
      `SELECT count(*) AS spans, (SELECT count(DISTINCT (service, endpoint, kind)) FROM endpoint_rollups) AS groups
       FROM spans`,
    )
  ).getRowObjects()[0]!;
  const rollupTables: Record<string, number> = {};
  for (const t of (
    await conn.runAndReadAll(
      `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%rollups%' ORDER BY table_name`,
    )
  ).getRowObjects()) {
    const name = String(t.table_name);
    const n = (await conn.runAndReadAll(`SELECT count(*) AS n FROM "${name}"`)).getRowObjects()[0]!.n;
    rollupTables[name] = Number(n);
  }
  out(
    `store: ${fmt(Number(counts.spans))} spans, rollup rows ${JSON.stringify(rollupTables)} ` +
      `(${fmt(Number(counts.groups))} service/endpoint/kind groups), file ${fmt(fileBytes / 2 ** 20)} MiB`,
  );
  const ROLLED_UP = `(kind IN (2, 3, 4, 5) OR parent_span_id = '')`;
  const exactSql = `SELECT service, endpoint, kind, count(*) AS requests,
         quantile_cont(duration_ns / 1e6, [0.95, 0.99]) AS q
       FROM spans WHERE start_ns >= $1 AND start_ns < $2 AND ${ROLLED_UP}
       GROUP BY service, endpoint, kind`;
  // The same with two separate aggregates (DuckDB may sort twice); the faster of the two is the baseline.
  const exactSql2 = `SELECT service, endpoint, kind, count(*) AS requests,
         [quantile_cont(duration_ns / 1e6, 0.95), quantile_cont(duration_ns / 1e6, 0.99)] AS q
       FROM spans WHERE start_ns >= $1 AND start_ns < $2 AND ${ROLLED_UP}
       GROUP BY service, endpoint, kind`;
  const discSql = `SELECT service, endpoint, kind, count(*) AS requests,
         quantile_disc(duration_ns / 1e6, [0.95, 0.99]) AS q
       FROM spans WHERE start_ns >= $1 AND start_ns < $2 AND ${ROLLED_UP}
       GROUP BY service, endpoint, kind`;
  // The reference DDSketch rank convention: the value of 0-based rank ⌊q·(n−1)⌋ (quantile_disc uses ⌈q·n⌉−1).
  const rankSql = `WITH r AS (
         SELECT service, endpoint, kind, duration_ns / 1e6 AS ms,
                row_number() OVER (PARTITION BY service, endpoint, kind ORDER BY duration_ns) - 1 AS rn,
                count(*) OVER (PARTITION BY service, endpoint, kind) AS n
         FROM spans WHERE start_ns >= $1 AND start_ns < $2 AND ${ROLLED_UP})
       SELECT service, endpoint, kind, any_value(n) AS requests,
              [max(ms) FILTER (WHERE rn = floor(0.95 * (n - 1))), max(ms) FILTER (WHERE rn = floor(0.99 * (n - 1)))] AS q
       FROM r GROUP BY service, endpoint, kind`;
  const readExact = async (sql: string, window: TimeWindow): Promise<Map<string, Exact>> => {
    const rows = (
      await conn.runAndReadAll(sql, [floorMinute(window.fromNs), ceilMinute(window.toNs)])
    ).getRowObjects();
    const m = new Map<string, Exact>();
    for (const r of rows) {
      const qs = (r.q as unknown as { items: number[] }).items;
      m.set(key(String(r.service), String(r.endpoint), KIND_NAMES[Number(r.kind)] ?? 'unspecified'), {
        requests: Number(r.requests),
        p95: Number(qs[0]),
        p99: Number(qs[1]),
      });
    }
    return m;
  };

  const exactTimes: Record<string, number[]> = {};
  const report: Record<string, unknown> = {};
  let worstOverall = { cont: 0, disc: 0, rank: 0 };
  let countsMatch = true;
  for (const { name, window } of windows) {
    await readExact(exactSql, window); // warm-up
    exactTimes[name] = [];
    const exactTimes2: number[] = [];
    let exact = new Map<string, Exact>();
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      exact = await readExact(exactSql, window);
      exactTimes[name].push(performance.now() - t0);
      const t1 = performance.now();
      await readExact(exactSql2, window);
      exactTimes2.push(performance.now() - t1);
    }
    const disc = await readExact(discSql, window);
    const rank = await readExact(rankSql, window);
    const sketchMs = median(sketchTimes[name]!);
    const exactListMs = median(exactTimes[name]);
    const exactTwoMs = median(exactTimes2);
    const exactMs = Math.min(exactListMs, exactTwoMs);
    out(
      `exact SQL       ${name.padEnd(3)}: median ${fmt(exactListMs, 1)} ms with quantile_cont(x, [0.95, 0.99]) ` +
        `(runs ${exactTimes[name].map((x) => fmt(x, 1)).join(', ')}), ${fmt(exactTwoMs, 1)} ms with two ` +
        `quantile_cont aggregates (runs ${exactTimes2.map((x) => fmt(x, 1)).join(', ')}); ${exact.size} rows`,
    );
    // Accuracy.
    const rows = sketchRows[name]!;
    const worst = {
      cont: { diff: 0, at: '' },
      disc: { diff: 0, at: '' },
      rank: { diff: 0, at: '' },
    };
    const mismatches: string[] = [];
    const perGroup: unknown[] = [];
    for (const row of rows) {
      const k = key(row.service, row.endpoint, row.kind);
      const e = exact.get(k);
      const d = disc.get(k);
      const rk = rank.get(k);
      if (!e || !d || !rk) {
        mismatches.push(`${k.replaceAll('\u0000', ' | ')}: missing from the exact answer`);
        continue;
      }
      if (e.requests !== row.requests)
        mismatches.push(`${k.replaceAll('\u0000', ' | ')}: ${row.requests} vs ${e.requests}`);
      const rel = (a: number, b: number): number => (b === 0 ? (a === 0 ? 0 : 1) : Math.abs(a - b) / b);
      const diffs = {
        cont: Math.max(rel(row.p95Ms, e.p95), rel(row.p99Ms, e.p99)),
        disc: Math.max(rel(row.p95Ms, d.p95), rel(row.p99Ms, d.p99)),
        rank: Math.max(rel(row.p95Ms, rk.p95), rel(row.p99Ms, rk.p99)),
      };
      const label = `${row.service} ${row.endpoint} (${row.kind}, n=${row.requests})`;
      for (const c of ['cont', 'disc', 'rank'] as const) {
        if (diffs[c] > worst[c].diff) worst[c] = { diff: diffs[c], at: label };
      }
      perGroup.push({
        service: row.service,
        endpoint: row.endpoint,
        kind: row.kind,
        requests: row.requests,
        sketch: { p95: row.p95Ms, p99: row.p99Ms },
        cont: { p95: e.p95, p99: e.p99 },
        disc: { p95: d.p95, p99: d.p99 },
        rank: { p95: rk.p95, p99: rk.p99 },
      });
    }
    if (exact.size !== rows.length) mismatches.push(`${rows.length} sketch rows vs ${exact.size} exact rows`);
    if (mismatches.length > 0) countsMatch = false;
    out(
      `  ${name}: speed ratio ${fmt(exactMs / sketchMs, 3)}×; largest relative difference of p95/p99, sketch vs ` +
        `quantile_cont ${fmt(worst.cont.diff * 100, 3)}% [${worst.cont.at}], ` +
        `quantile_disc ${fmt(worst.disc.diff * 100, 3)}% [${worst.disc.at}], ` +
        `value at rank ⌊q(n−1)⌋ ${fmt(worst.rank.diff * 100, 3)}% [${worst.rank.at}]`,
    );
    out(
      `  ${name}: requests per group ${mismatches.length === 0 ? 'match the raw spans exactly' : `MISMATCH: ${mismatches.slice(0, 5).join('; ')}`}`,
    );
    worstOverall = {
      cont: Math.max(worstOverall.cont, worst.cont.diff),
      disc: Math.max(worstOverall.disc, worst.disc.diff),
      rank: Math.max(worstOverall.rank, worst.rank.diff),
    };
    report[name] = {
      window: { fromNs: String(window.fromNs), toNs: String(window.toNs) },
      exactBoundsNs: [String(floorMinute(window.fromNs)), String(ceilMinute(window.toNs))],
      sketchMedianMs: sketchMs,
      sketchRunsMs: sketchTimes[name],
      exactMedianMs: exactMs,
      exactListFormMedianMs: exactListMs,
      exactListFormRunsMs: exactTimes[name],
      exactTwoAggregatesMedianMs: exactTwoMs,
      exactTwoAggregatesRunsMs: exactTimes2,
      speedRatio: exactMs / sketchMs,
      groups: rows.length,
      requests: rows.reduce((a, r) => a + r.requests, 0),
      maxRelativeDiff: {
        vsQuantileCont: worst.cont,
        vsQuantileDisc: worst.disc,
        vsValueAtSketchRank: worst.rank,
      },
      requestMismatches: mismatches,
      perGroup,
    };
  }
  conn.closeSync();
  instance.closeSync();
  const contention = otherCores(cpuAtQueries, cpuSnapshot());
  if (contention) {
    out(
      `CPU while timing queries: this process ${fmt(contention.thisProcessCores, 2)} cores, other processes ` +
        `${fmt(contention.otherCores, 2)} cores${contention.otherCores > 0.2 ? ' (the machine was NOT idle)' : ''}`,
    );
  }
  if (!KEEP) rmSync(dataDir, { recursive: true, force: true });

  const ratio1h = (report['1h'] as { speedRatio: number }).speedRatio;
  const ratio24h = (report['24h'] as { speedRatio: number }).speedRatio;
  const pass = {
    speedRatio1h: ratio1h >= TARGETS.speedRatio,
    speedRatio24h: ratio24h >= TARGETS.speedRatio,
    accuracyVsCont: worstOverall.cont <= TARGETS.maxRelativeDiff,
    accuracyVsDisc: worstOverall.disc <= TARGETS.maxRelativeDiff,
    accuracyVsSketchRank: worstOverall.rank <= TARGETS.maxRelativeDiff,
    requestCounts: countsMatch,
  };
  const v = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  out();
  out('figure                                   value        target');
  out(
    `speed ratio 1 h (exact / endpointMetrics)  ${`${fmt(ratio1h, 3)}×`.padEnd(13)}≥ ${TARGETS.speedRatio}×  ${v(pass.speedRatio1h)}`,
  );
  out(
    `speed ratio 24 h                           ${`${fmt(ratio24h, 3)}×`.padEnd(13)}≥ ${TARGETS.speedRatio}×  ${v(pass.speedRatio24h)}`,
  );
  out(
    `max rel. diff p95/p99 vs quantile_cont     ${`${fmt(worstOverall.cont * 100, 3)}%`.padEnd(13)}≤ 1%   ${v(pass.accuracyVsCont)}`,
  );
  out(
    `max rel. diff p95/p99 vs quantile_disc     ${`${fmt(worstOverall.disc * 100, 3)}%`.padEnd(13)}≤ 1%   ${v(pass.accuracyVsDisc)}`,
  );
  out(
    `max rel. diff p95/p99 vs value at ⌊q(n−1)⌋  ${`${fmt(worstOverall.rank * 100, 3)}%`.padEnd(13)}≤ 1%   ${v(pass.accuracyVsSketchRank)}`,
  );
  out(`requests per group = raw span count        ${countsMatch ? 'yes' : 'NO'}`);
  out(`store.close() ${fmt(closeMs)} ms; whole bench ${fmt((performance.now() - benchStart) / 1000, 1)} s`);
  if (KEEP) out(`data kept in ${dataDir} (rerun with --data-dir=${dataDir} to skip generation)`);

  const results = {
    benchmark: 'metrics-api',
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    settings: {
      spans: meta.spans,
      batch: meta.batch,
      flushEvery: meta.flushEvery,
      runs: RUNS,
      apdexThresholdMs: APDEX_T_MS,
    },
    generationS: meta.generationS,
    cpuWhileTimingQueries: contention ?? null,
    reusedData: reuse,
    storeReopenMs: reuse ? openMs : undefined,
    storeCloseMs: closeMs,
    fileBytes,
    spansStored: Number(counts.spans),
    rollupTableRows: rollupTables,
    compaction: { ms: compactMs, ...compaction },
    exactQuery: exactSql.replace(/\s+/g, ' '),
    exactQueryTwoAggregates: exactSql2.replace(/\s+/g, ' '),
    windows: report,
    maxRelativeDiff: worstOverall,
    targets: TARGETS,
    pass,
    totalS: (performance.now() - benchStart) / 1000,
  };
  out(`results written to ${writeResults('metrics-api.json', results)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
