/**
 * Store-level ingest into ClickHouse against the embedded DuckDB store, in the same run: spans/s through
 * `Store.writeSpans` (512-span batches, `--inflight` calls at once, rollups included) and bytes on disk per
 * span. Each subject runs in its own process, `--runs` times, alternating; the driver prints min / median /
 * max and the ClickHouse/DuckDB ratio of the medians, and writes `bench/results/clickhouse-store.json`.
 *
 * Spans: a SERVER span per request (5 HTTP attributes) with 2 database CLIENT children (statement,
 * system, name), ids random, 3 services × 8 routes, log-normal durations, over the last 10 minutes.
 * Bytes per span: DuckDB's file and WAL after close (its checkpoint); ClickHouse's `bytes_on_disk` of the
 * database's active parts once `OPTIMIZE … FINAL` merged them (and before, as inserted).
 *
 *   nice -n 10 node --import tsx bench/ingest/clickhouse-store.bench.ts [--spans=200000] [--runs=3]
 *     [--inflight=4] [--clickhouse=clickhouse://default@127.0.0.1:8123]
 *
 * ClickHouse: the server answering on `--clickhouse` (`scripts/clickhouse.sh start` starts one on 8123);
 * each run writes into a new database and drops it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient } from '@clickhouse/client';
import { type Span, SpanKind, StatusCode } from '../../packages/server/src/model/index.ts';
import {
  createClickHouseStore,
  createDuckDbStore,
  type Store,
} from '../../packages/server/src/storage/index.ts';
import { gitCommit, numberOption, option, writeResults } from '../lib/run-info.ts';

const SPANS = numberOption('spans', 'BENCH_SPANS', 200_000, true);
const RUNS = numberOption('runs', 'BENCH_RUNS', 3, true);
const INFLIGHT = numberOption('inflight', 'BENCH_INFLIGHT', 4, true);
const CLICKHOUSE = option('clickhouse', 'BENCH_CLICKHOUSE', 'clickhouse://default@127.0.0.1:8123');
const SUBJECT = option('subject', 'BENCH_SUBJECT', '');
const BATCH = 512;

const out = (line = '') => process.stdout.write(`${line}\n`);

/** Spans of `n / 3` requests, built before the clock starts. */
function makeSpans(n: number): Span[] {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans: Span[] = [];
  const services = ['checkout', 'cart', 'search'];
  while (spans.length < n) {
    const traceId = randomBytes(16).toString('hex');
    const rootId = randomBytes(8).toString('hex');
    const service = services[spans.length % 3]!;
    const route = `/r${Math.floor(Math.random() * 8)}/:id`;
    const start = now - BigInt(Math.floor(Math.random() * 600e9));
    const ms = Math.exp(Math.log(20) + 0.8 * (Math.random() + Math.random() + Math.random() - 1.5));
    const dur = BigInt(Math.round(ms * 1e6));
    const resourceAttributes = RESOURCES[spans.length % 3]!;
    const base = {
      service,
      statusCode: StatusCode.UNSET,
      statusMessage: '',
      transaction: undefined,
      clockFlagged: false,
      resourceAttributes,
      events: [],
      links: [],
      scope: '@opentelemetry/instrumentation-http',
    };
    spans.push({
      ...base,
      traceId,
      spanId: rootId,
      parentSpanId: '',
      name: `GET ${route}`,
      endpoint: `GET ${route}`,
      kind: SpanKind.SERVER,
      startTimeUnixNano: start,
      endTimeUnixNano: start + dur,
      durationNano: dur,
      httpStatusCode: 200,
      isError: false,
      db: undefined,
      attributes: {
        'http.request.method': 'GET',
        'http.route': route,
        'http.response.status_code': 200,
        'url.path': route.replace(':id', String(Math.floor(Math.random() * 1e6))),
        'server.address': 'shop.internal',
      },
    });
    for (let c = 0; c < 2; c++) {
      const s = start + BigInt(c) * 1_000_000n;
      const d = dur / 4n;
      const statement = `SELECT * FROM items WHERE cart_id = $1 AND kind = ${c}`;
      spans.push({
        ...base,
        traceId,
        spanId: randomBytes(8).toString('hex'),
        parentSpanId: rootId,
        name: 'SELECT items',
        endpoint: 'SELECT items',
        kind: SpanKind.CLIENT,
        startTimeUnixNano: s,
        endTimeUnixNano: s + d,
        durationNano: d,
        httpStatusCode: 0,
        isError: false,
        db: { system: 'postgresql', database: 'shop', statement, fingerprint: `f${c}` },
        attributes: { 'db.system': 'postgresql', 'db.name': 'shop', 'db.statement': statement },
      });
    }
  }
  return spans.slice(0, n);
}
const RESOURCES = ['checkout', 'cart', 'search'].map((s) => ({
  'service.name': s,
  'host.name': `web-${s}`,
  'telemetry.sdk.language': 'nodejs',
}));

/** Writes the spans with `INFLIGHT` calls at once. @returns seconds taken. */
async function ingest(store: Store, spans: Span[]): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < spans.length) {
        const batch = spans.slice(next, next + BATCH);
        next += BATCH;
        const r = await store.writeSpans(batch);
        if (r.written !== batch.length) throw new Error(`wrote ${r.written} of ${batch.length}`);
      }
    }),
  );
  await store.flushRollups();
  return (performance.now() - t) / 1000;
}

/** One run of one subject (in this process): prints a JSON line with spans/s and bytes per span. */
async function child(subject: string): Promise<void> {
  const spans = makeSpans(SPANS);
  if (subject === 'duckdb') {
    const dir = mkdtempSync(join(tmpdir(), 'siperf-bench-chs-'));
    const path = join(dir, 'siperf.duckdb');
    try {
      const store = await createDuckDbStore({ path });
      const s = await ingest(store, spans);
      await store.close();
      const bytes = statSync(path).size + (statSync(`${path}.wal`, { throwIfNoEntry: false })?.size ?? 0);
      out(JSON.stringify({ spansPerSecond: SPANS / s, bytesPerSpan: bytes / SPANS }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const db = `siperf_bench_${process.pid}`;
  const u = new URL(CLICKHOUSE);
  const admin = createClient({
    url: `http://${u.hostname}:${u.port || 8123}`,
    username: decodeURIComponent(u.username) || 'default',
    password: decodeURIComponent(u.password),
    request_timeout: 600_000,
  });
  try {
    const store = await createClickHouseStore({ url: `${CLICKHOUSE.replace(/\/+$/, '')}/${db}` });
    const s = await ingest(store, spans);
    await store.close();
    const bytes = async () => {
      const rs = await admin.query({
        query: `SELECT toString(sum(bytes_on_disk)) AS b FROM system.parts WHERE database = '${db}' AND active`,
        format: 'JSONEachRow',
      });
      return Number(((await rs.json()) as { b: string }[])[0]!.b);
    };
    const inserted = await bytes();
    const tables = (await (
      await admin.query({
        query: `SELECT name FROM system.tables WHERE database = '${db}'`,
        format: 'JSONEachRow',
      })
    ).json()) as { name: string }[];
    for (const t of tables) await admin.command({ query: `OPTIMIZE TABLE ${db}.${t.name} FINAL` });
    const merged = await bytes();
    out(
      JSON.stringify({
        spansPerSecond: SPANS / s,
        bytesPerSpan: merged / SPANS,
        bytesPerSpanAsInserted: inserted / SPANS,
      }),
    );
  } finally {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await admin.close();
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

async function driver(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, Record<string, number>[]> = { duckdb: [], clickhouse: [] };
  out(
    `${SPANS} spans, ${BATCH}-span batches, ${INFLIGHT} in flight, ${RUNS} runs each; ClickHouse ${new URL(CLICKHOUSE).host}`,
  );
  for (let r = 0; r < RUNS; r++) {
    for (const subject of ['duckdb', 'clickhouse']) {
      const line = execFileSync(
        process.execPath,
        ['--import', 'tsx', self, `--subject=${subject}`, ...process.argv.slice(2)],
        {
          encoding: 'utf8',
        },
      )
        .trim()
        .split('\n')
        .pop()!;
      const res = JSON.parse(line) as Record<string, number>;
      results[subject]!.push(res);
      out(
        `run ${r + 1} ${subject.padEnd(10)} ${Math.round(res.spansPerSecond!)} spans/s, ${res.bytesPerSpan!.toFixed(1)} B/span`,
      );
    }
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([k, v]) => [
      k,
      {
        spansPerSecond: stats(v.map((x) => x.spansPerSecond!)),
        bytesPerSpan: stats(v.map((x) => x.bytesPerSpan!)),
        ...(k === 'clickhouse'
          ? { bytesPerSpanAsInserted: stats(v.map((x) => x.bytesPerSpanAsInserted!)) }
          : {}),
      },
    ]),
  );
  const ratio = summary.clickhouse!.spansPerSecond.median / summary.duckdb!.spansPerSecond.median;
  out();
  for (const [k, v] of Object.entries(summary))
    out(
      `${k.padEnd(10)} spans/s min ${Math.round(v.spansPerSecond.min)} median ${Math.round(v.spansPerSecond.median)} max ${Math.round(v.spansPerSecond.max)}; bytes/span median ${v.bytesPerSpan.median.toFixed(1)}`,
    );
  out(`ClickHouse / DuckDB spans/s (medians): ${ratio.toFixed(2)}`);
  const path = writeResults('clickhouse-store.json', {
    commit: gitCommit(),
    at: new Date().toISOString(),
    spans: SPANS,
    batch: BATCH,
    inflight: INFLIGHT,
    runs: RUNS,
    summary,
    ratioClickHouseToDuckDb: ratio,
    raw: results,
  });
  out(`results: ${path}`);
}

if (SUBJECT) await child(SUBJECT);
else await driver();
