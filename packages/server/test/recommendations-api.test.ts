/**
 * `/api/v1/recommendations` against the machine's real PostgreSQL (with HypoPG when it is there): traces of
 * an endpoint whose time is one unindexed statement, and of an N+1, go in; the one list joins the endpoint's
 * p95 to the statement, its plan and the index, with figures computed here by hand; the N+1 gets its
 * batched query. Filters, ids, dismissal (kept across a restart) and the seed's route answering from the
 * same engine. Tables are named per run and dropped at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type MetricPoint, scalarPoint } from '../src/model/index.ts';
import { get, post, startTestApp, type TestApp } from './helpers.ts';

const PG = process.env.SIPERF_TEST_PG ?? 'postgresql://postgres@127.0.0.1:5432/test';
const hex = (n: number) => randomBytes(n).toString('hex');
const str = (v: string) => ({ stringValue: v });
const RUN = hex(4);
const ORDERS = `siperf_rec_${RUN}_orders`;
const ITEMS = `siperf_rec_${RUN}_items`;

interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: { stringValue: string } }[];
}

/** A request of `route`: a server span of `durationMs` with database calls [sql, fromMs, toMs]. */
function request(
  route: string,
  t0Ms: number,
  durationMs: number,
  calls: [string, number, number][],
): SpanSpec[] {
  const traceId = hex(16);
  const root = hex(8);
  const ns = (ms: number) => String(BigInt(Math.round((t0Ms + ms) * 1000)) * 1000n);
  return [
    {
      traceId,
      spanId: root,
      name: `GET ${route}`,
      kind: 2,
      startTimeUnixNano: ns(0),
      endTimeUnixNano: ns(durationMs),
      attributes: [
        { key: 'http.request.method', value: str('GET') },
        { key: 'http.route', value: str(route) },
      ],
    },
    ...calls.map(([sql, from, to]) => ({
      traceId,
      spanId: hex(8),
      parentSpanId: root,
      name: 'pg.query',
      kind: 3,
      startTimeUnixNano: ns(from),
      endTimeUnixNano: ns(to),
      attributes: [
        { key: 'db.system', value: str('postgresql') },
        { key: 'db.name', value: str('test') },
        { key: 'db.statement', value: str(sql) },
      ],
    })),
  ];
}

const otlp = (spans: SpanSpec[]) =>
  JSON.stringify({
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: str('shop') }] }, scopeSpans: [{ spans }] },
    ],
  });

/**
 * The data, in the last hour:
 * - GET /orders/:customer, 20 requests: 19 of 100 ms with one 80 ms orders query, one of 300 ms with a
 *   250 ms one; each also runs `SELECT now()` for 5 ms. The orders query: 20 calls, mean (19 × 80 + 250) ÷
 *   20 = 88.5 ms; 1,770 of the 2,200 ms of the requests.
 * - GET /customers/:id/items, 10 requests of 40 ms, each 6 serial 2 ms item lookups (an N+1).
 */
function traces(): string {
  const start = Date.now() - 30 * 60_000;
  const spans: SpanSpec[] = [];
  for (let i = 0; i < 20; i++) {
    const slow = i === 7;
    spans.push(
      ...request('/orders/:customer', start + i * 30_000, slow ? 300 : 100, [
        [`SELECT * FROM ${ORDERS} WHERE customer_id = ${i}`, 10, slow ? 260 : 90],
        ['SELECT now()', 2, 7],
      ]),
    );
  }
  for (let i = 0; i < 10; i++) {
    const calls: [string, number, number][] = Array.from({ length: 6 }, (_, k) => [
      `SELECT * FROM ${ITEMS} WHERE id = ${k + 1}`,
      5 + 5 * k,
      7 + 5 * k,
    ]);
    spans.push(...request('/customers/:id/items', start + 15_000 + i * 60_000, 40, calls));
  }
  return otlp(spans);
}

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('recommendations API on PostgreSQL', () => {
  const admin = new pg.Pool({ connectionString: PG, max: 1 });
  let t: TestApp;
  let hypopg = false;
  before(async () => {
    await admin.query(
      `CREATE TABLE ${ORDERS} (id int PRIMARY KEY, customer_id int NOT NULL, total int NOT NULL)`,
    );
    await admin.query(`INSERT INTO ${ORDERS} SELECT g, g % 1000, g % 97 FROM generate_series(1, 100000) g`);
    await admin.query(`CREATE TABLE ${ITEMS} (id int PRIMARY KEY, name text)`);
    await admin.query(`ANALYZE ${ORDERS}`);
    await admin.query('CREATE EXTENSION IF NOT EXISTS hypopg').catch(() => {});
    hypopg = (await admin.query(`SELECT 1 FROM pg_extension WHERE extname = 'hypopg'`)).rowCount === 1;
    // The test role is a superuser: the advisor explains on it only when told it may.
    t = await startTestApp({ pools: `main=${PG}`, allowWritablePools: 1 });
    const r = await post(t.app, '/v1/traces', traces(), 'application/json');
    assert.equal(r.status, 200);
  });
  after(async () => {
    await t?.close();
    await admin.query(`DROP TABLE IF EXISTS ${ORDERS}, ${ITEMS}`);
    await admin.end();
  });

  test('join (a): the endpoint’s p95 → the statement that dominates it → its plan → the index → time saved and the p95 after', async () => {
    const { status, json } = await get(t.app, '/api/v1/recommendations?window=1h');
    assert.equal(status, 200, JSON.stringify(json));
    const index = json.recommendations.find((r: any) => r.kind === 'index' && r.target.table === ORDERS);
    assert.ok(index, JSON.stringify(json.notes));
    assert.match(index.id, /^index\.[0-9a-f]{16}$/);
    assert.equal(index.target.service, 'shop');
    assert.equal(index.target.endpoint, 'GET /orders/:customer');
    assert.equal(index.target.pool, 'main');
    assert.equal(index.target.statement, `SELECT * FROM ${ORDERS} WHERE customer_id = $1`);
    const db = await get(t.app, '/api/v1/apm/metrics/database?window=1h');
    const row = db.json.queries.find((q: any) => q.statement === index.target.statement);
    assert.equal(index.target.fingerprint, row.fingerprint);
    assert.equal(index.evidence.fingerprint, row.fingerprint);
    assert.equal(
      index.apply.change,
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${ORDERS}_customer_id_idx ON ${ORDERS} (customer_id)`,
    );
    assert.equal(index.apply.kind, 'sql');
    assert.match(index.evidence.planExcerpt, new RegExp(`^Seq Scan on ${ORDERS} `));
    assert.match(index.evidence.planExcerpt, /Filter: \(customer_id = \$1\)/);
    assert.ok(index.evidence.traceIds.length > 0);
    // The share of the statement's time the index removes: HypoPG's cost change, else the 90% estimate.
    const m = index.evidence.measured;
    const s = hypopg ? 1 - m.costAfter / m.costBefore : 0.9;
    assert.equal(m.verifiedWith, hypopg ? 'hypopg' : 'estimate');
    assert.equal(index.gain.confidence, hypopg ? 'high' : 'low');
    if (hypopg) assert.ok(s > 0.8, `cost ${m.costBefore} → ${m.costAfter}`);
    // 20 calls in the hour × 88.5 ms × s of database time.
    assert.ok(close(index.gain.databaseSecondsPerHour, (20 * 88.5 * s) / 1000), JSON.stringify(index.gain));
    assert.equal(index.gain.timeSavedSecondsPerHour, index.gain.databaseSecondsPerHour);
    const e = index.gain.endpoints[0];
    assert.equal(index.gain.endpoints.length, 1);
    assert.equal(e.endpoint, 'GET /orders/:customer');
    assert.equal(e.sampledRequests, 20);
    assert.ok(close(e.requestsPerHour, 20));
    // 1,770 of 2,200 ms; the largest share (SELECT now() has 100 ms).
    assert.ok(close(e.statementShare, 1770 / 2200));
    assert.equal(e.dominant, true);
    assert.ok(close(e.msPerRequest, (1770 * s) / 20));
    assert.ok(close(index.gain.msPerRequest, e.msPerRequest));
    // p95 between the 19th and 20th of 20 durations (r = 0.95 × 19 = 18.05): before 100 + 0.05 × (300 − 100)
    // = 110 ms; after, 19 requests of 100 − 80 s and one of 300 − 250 s: (100 − 80 s) + 0.05 × (200 − 170 s)
    // = 110 − 88.5 s. The window's p95 (DDSketch, within 1% of 110) is scaled by after ÷ before.
    const api = await get(t.app, '/api/v1/apm/metrics/api?window=1h');
    const figures = api.json.endpoints.find((x: any) => x.endpoint === 'GET /orders/:customer');
    assert.equal(e.p95Ms, figures.p95Ms);
    assert.ok(Math.abs(e.p95Ms - 110) <= 1.1, String(e.p95Ms));
    assert.ok(close(e.expectedP95Ms, e.p95Ms * ((110 - 88.5 * s) / 110)), `${e.expectedP95Ms}`);
    assert.ok(index.gain.arithmetic.some((l: string) => l.includes('20 calls per hour × 88.5 ms')));
    assert.ok(index.evidence.series.some((x: any) => x.query.startsWith('/api/v1/apm/metrics/series?')));
  });

  test('join (b): the N+1 gets its batched query, per-request and per-hour gains, and the endpoint’s p95 after', async () => {
    const { json } = await get(t.app, '/api/v1/recommendations?window=1h&kind=n-plus-one');
    assert.ok(json.recommendations.length >= 1);
    assert.ok(json.recommendations.every((r: any) => r.kind === 'n-plus-one'));
    const n1 = json.recommendations.find((r: any) => r.target.endpoint === 'GET /customers/:id/items');
    assert.ok(n1, JSON.stringify(json.recommendations.map((r: any) => r.title)));
    assert.equal(n1.apply.change, `SELECT * FROM ${ITEMS} WHERE id = ANY($1)`);
    // 6 × 2 ms per request, one batched call ≈ 2 calls: 12 − 4 = 8 ms; 60 calls ÷ 6 = 10 requests in 1 h.
    assert.ok(close(n1.gain.msPerRequest, 8));
    assert.ok(close(n1.gain.timeSavedSecondsPerHour, 0.08));
    assert.equal(n1.gain.confidence, 'medium');
    const e = n1.gain.endpoints[0];
    assert.equal(e.sampledRequests, 10);
    assert.ok(close(e.msPerRequest, 8));
    // Every request 40 ms → 32 ms: the p95 scales by 32 ÷ 40.
    assert.ok(close(e.expectedP95Ms, e.p95Ms * 0.8));
    assert.equal(n1.alternatives.length, 0, 'no cache reports for shop: no cache alternative');
  });

  test('one list ranked by gain; filters by kind, service and state; stable ids', async () => {
    const a = await get(t.app, '/api/v1/recommendations?window=1h');
    const b = await get(t.app, '/api/v1/recommendations?window=1h');
    assert.deepEqual(
      a.json.recommendations.map((r: any) => r.id),
      b.json.recommendations.map((r: any) => r.id),
    );
    const gains = a.json.recommendations
      .map((r: any) => r.gain.timeSavedSecondsPerHour)
      .filter((g: number | null) => g !== null);
    assert.deepEqual(
      gains,
      [...gains].sort((x: number, y: number) => y - x),
    );
    const ids = a.json.recommendations.map((r: any) => r.target.table ?? r.target.endpoint);
    assert.ok(ids.indexOf(ORDERS) < ids.indexOf('GET /customers/:id/items'), 'the index before the N+1');
    const shop = await get(t.app, '/api/v1/recommendations?window=1h&service=shop');
    assert.ok(shop.json.recommendations.length >= 2);
    assert.ok(shop.json.recommendations.every((r: any) => r.target.service === 'shop'));
    const none = await get(t.app, '/api/v1/recommendations?window=1h&service=nobody');
    assert.deepEqual(none.json.recommendations, []);
    const dismissed = await get(t.app, '/api/v1/recommendations?window=1h&state=dismissed');
    assert.deepEqual(dismissed.json.recommendations, []);
  });

  test('bad input: unknown filters and ids are named', async () => {
    const unknown = await get(t.app, '/api/v1/recommendations?window=1h&area=cache');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.code, 'ERR_QUERY_PARAM');
    assert.equal(unknown.json.field, 'area');
    const kind = await get(t.app, '/api/v1/recommendations?kind=magic');
    assert.equal(kind.status, 400);
    assert.equal(kind.json.field, 'kind');
    const state = await get(t.app, '/api/v1/recommendations?state=closed');
    assert.equal(state.json.field, 'state');
    const malformed = await get(t.app, '/api/v1/recommendations/not-an-id');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.field, 'id');
    const missing = await get(t.app, '/api/v1/recommendations/index.0000000000000000');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 'ERR_QUERY_NOT_FOUND');
    assert.equal(missing.json.field, 'id');
    const dismissMissing = await post(
      t.app,
      '/api/v1/recommendations/index.0000000000000000/dismiss',
      '{}',
      'application/json',
    );
    assert.equal(dismissMissing.status, 404);
    const badBody = await post(
      t.app,
      '/api/v1/recommendations/index.0000000000000000/dismiss',
      JSON.stringify({ why: 'x' }),
      'application/json',
    );
    assert.equal(badBody.status, 400);
    assert.equal(badBody.json.field, 'why');
  });

  test('one by id, dismissed: the seed’s route leaves it out, the list keeps it as dismissed', async () => {
    const list = await get(t.app, '/api/v1/recommendations?window=1h&kind=n-plus-one');
    const n1 = list.json.recommendations.find((r: any) => r.target.endpoint === 'GET /customers/:id/items');
    const one = await get(t.app, `/api/v1/recommendations/${n1.id}?window=1h`);
    assert.equal(one.status, 200);
    assert.equal(one.json.inWindow, true);
    assert.equal(one.json.recommendation.key, n1.key);
    const seed = await get(t.app, '/api/v1/cache-db/optimization/recommendations?window=1h');
    assert.ok(
      seed.json.recommendations.some((r: any) => r.id === n1.key),
      'the seed route has the N+1',
    );
    const d = await post(
      t.app,
      `/api/v1/recommendations/${n1.id}/dismiss?window=1h`,
      JSON.stringify({ reason: 'batched in the next release' }),
      'application/json',
    );
    assert.equal(d.status, 200, JSON.stringify(d.json));
    assert.equal(d.json.recommendation.state, 'dismissed');
    assert.equal(d.json.recommendation.stateReason, 'batched in the next release');
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/recommendations/${n1.id}/dismiss?window=1h`,
    });
    assert.equal(again.statusCode, 200, `idempotent, without a body: ${again.body}`);
    assert.equal(again.json().recommendation.stateReason, null);
    const open = await get(t.app, '/api/v1/recommendations?window=1h&state=open');
    assert.ok(!open.json.recommendations.some((r: any) => r.id === n1.id));
    const gone = await get(t.app, '/api/v1/recommendations?window=1h&state=dismissed');
    assert.deepEqual(
      gone.json.recommendations.map((r: any) => r.id),
      [n1.id],
    );
    const seedAfter = await get(t.app, '/api/v1/cache-db/optimization/recommendations?window=1h');
    assert.ok(!seedAfter.json.recommendations.some((r: any) => r.id === n1.key));
    const stats = await get(t.app, '/api/v1/cache-db/statistics/comprehensive?window=1h');
    assert.equal(stats.status, 200);
    assert.deepEqual(
      stats.json.recommendations.map((r: any) => r.id),
      seedAfter.json.recommendations.map((r: any) => r.id),
    );
    // A window without its evidence: shown as last computed, and said so.
    const old = await get(
      t.app,
      `/api/v1/recommendations/${n1.id}?from=2020-01-01T00:00:00Z&to=2020-01-01T01:00:00Z`,
    );
    assert.equal(old.status, 200);
    assert.equal(old.json.inWindow, false);
    assert.match(old.json.note, /left the window or the retention/);
    assert.equal(old.json.recommendation.state, 'dismissed');
  });
  test('join (d) corrected: the database host (the pool is on loopback: this machine) needs fewer cores once the index saves its scans', async () => {
    // Two days of this machine's samples, every 10 minutes up to now: 4 cores, one busy.
    const T1 = Date.now();
    const points: MetricPoint[] = [];
    for (let i = 48 * 6; i >= 0; i--) {
      const at = T1 - i * 600_000;
      const p = (name: string, value: number, attributes: Record<string, string> = {}) =>
        scalarPoint({
          name,
          service: 'siperf-host-sampler',
          unit: '1',
          type: 'gauge',
          value,
          timeUnixNano: BigInt(at) * 1_000_000n,
          attributes,
          resourceAttributes: { 'host.name': hostname() },
        });
      points.push(p('system.cpu.utilization', 0.25, { 'cpu.mode': 'user' }));
      points.push(p('system.cpu.utilization', 0.75, { 'cpu.mode': 'idle' }));
      points.push(p('system.cpu.logical.count', 4));
    }
    await t.store.writeMetricPoints(points);
    const { status, json } = await get(t.app, '/api/v1/recommendations?window=1h');
    assert.equal(status, 200, JSON.stringify(json));
    const cpu = json.recommendations.find(
      (r: any) =>
        r.kind === 'right-size' && r.target.host === hostname() && r.evidence.measured.resource === 'cpu',
    );
    assert.ok(cpu, JSON.stringify(json.recommendations.map((r: any) => r.title)));
    const index = json.recommendations.find((r: any) => r.kind === 'index' && r.target.table === ORDERS);
    const counted: string[] = cpu.evidence.measured.savingsCounted;
    assert.ok(counted.includes(index.id), JSON.stringify(cpu.evidence.measured));
    assert.deepEqual(cpu.related, counted);
    // Every counted one is about the pool on loopback and saves database time; their sum is the saving.
    const saved = counted
      .map((id) => json.recommendations.find((r: any) => r.id === id))
      .reduce((sum: number, r: any) => {
        assert.equal(r.target.pool, 'main');
        return sum + r.gain.databaseSecondsPerHour;
      }, 0);
    // Uncorrected: p90 1 core + 15% = 1.15; corrected: 1.15 − 1.15 × saved ÷ 3600 cores.
    const after = 1.15 - 1.15 * (saved / 3600);
    assert.ok(close(cpu.evidence.measured.recommendedBeforeCorrection, 1.15));
    assert.ok(close(cpu.evidence.measured.recommended, after), JSON.stringify(cpu.evidence.measured));
    assert.ok(close(cpu.gain.cpuSecondsPerHour, (4 - after) * 3600));
    assert.ok(
      cpu.gain.arithmetic.some((l: string) => l.startsWith('other recommendations on ')),
      JSON.stringify(cpu.gain.arithmetic),
    );
  });
});

describe('recommendation states on disk', () => {
  test('a dismissal survives a restart (<dataDir>/recommendations.json, written atomically)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siperf-rec-'));
    try {
      const start = Date.now() - 10 * 60_000;
      const spans = Array.from({ length: 5 }, (_, i) =>
        request(
          '/lines',
          start + i * 1000,
          30,
          Array.from({ length: 5 }, (_, k) => [`SELECT * FROM lines WHERE id = ${k}`, 2 + 4 * k, 5 + 4 * k]),
        ),
      ).flat();
      const first = await startTestApp({ dataDir: dir });
      let id: string;
      try {
        await post(first.app, '/v1/traces', otlp(spans), 'application/json');
        const list = await get(first.app, '/api/v1/recommendations?window=1h&kind=n-plus-one');
        id = list.json.recommendations[0].id;
        const d = await post(first.app, `/api/v1/recommendations/${id}/dismiss`, '{}', 'application/json');
        assert.equal(d.status, 200);
      } finally {
        await first.close();
      }
      const file = join(dir, 'recommendations.json');
      assert.ok(existsSync(file));
      assert.ok(!existsSync(`${file}.tmp`));
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      assert.deepEqual(
        saved.records.map((r: any) => [r.id, r.state]),
        [[id, 'dismissed']],
      );
      // A new server over the same data directory (and an empty store): the saved snapshot answers.
      const second = await startTestApp({ dataDir: dir });
      try {
        const one = await get(second.app, `/api/v1/recommendations/${id}`);
        assert.equal(one.status, 200);
        assert.equal(one.json.inWindow, false);
        assert.equal(one.json.recommendation.state, 'dismissed');
        await post(second.app, '/v1/traces', otlp(spans), 'application/json');
        const list = await get(second.app, '/api/v1/recommendations?window=1h&kind=n-plus-one');
        assert.equal(list.json.recommendations[0].id, id, 'the same finding keeps its id');
        assert.equal(list.json.recommendations[0].state, 'dismissed');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hosts in the list', () => {
  test('join (d) through the API: a 4-core host busy 1 core, 16 GiB holding 3, priced per month', async () => {
    const DAY = 86_400_000;
    const T0 = Date.parse('2026-03-01T00:00:00Z');
    const point = (
      name: string,
      t: number,
      value: number,
      attributes: Record<string, string> = {},
    ): MetricPoint =>
      scalarPoint({
        name,
        service: 'siperf-host-sampler',
        unit: '1',
        type: 'gauge',
        value,
        timeUnixNano: BigInt(t) * 1_000_000n,
        attributes,
        resourceAttributes: { 'host.name': 'db-1' },
      });
    const t = await startTestApp({ priceVcpuHour: 0.02, priceMemoryGibHour: 0.003, currency: 'EUR' });
    try {
      // Every 10 minutes for two days (the samples of resources/scaling.test.ts).
      const points: MetricPoint[] = [];
      for (let i = 0; i <= 48 * 6; i++) {
        const at = T0 + i * 600_000;
        points.push(point('system.cpu.utilization', at, 0.25, { 'cpu.mode': 'user' }));
        points.push(point('system.cpu.utilization', at, 0.75, { 'cpu.mode': 'idle' }));
        points.push(point('system.cpu.logical.count', at, 4));
        points.push(point('system.memory.limit', at, 16 * 2 ** 30));
        const used = at < T0 + DAY ? 2 * 2 ** 30 : 3 * 2 ** 30;
        points.push(point('system.memory.usage', at, used, { 'system.memory.state': 'used' }));
      }
      await t.store.writeMetricPoints(points);
      const to = new Date(T0 + 2 * DAY + 60_000).toISOString();
      const { status, json } = await get(t.app, `/api/v1/recommendations?window=1h&to=${to}&kind=right-size`);
      assert.equal(status, 200, JSON.stringify(json));
      // CPU: p90 1 core + 15% = 1.15 of 4: (4 − 1.15) × 3600 CPU-seconds an hour, × 0.02 × 730 EUR a month.
      // Memory: the 3 GiB peak + 15% = 3.45 of 16 GiB: (16 − 3.45) × 0.003 × 730. Ranked by money.
      const [cpu, memory] = json.recommendations;
      assert.equal(json.recommendations.length, 2);
      assert.equal(cpu.target.host, 'db-1');
      assert.ok(close(cpu.gain.cpuSecondsPerHour, 2.85 * 3600));
      assert.ok(close(cpu.gain.moneyPerMonth, 41.61));
      assert.equal(cpu.gain.currency, 'EUR');
      assert.equal(cpu.gain.confidence, 'medium', 'two days of history');
      assert.ok(close(memory.gain.moneyPerMonth, 27.4845, 1e-6));
      assert.ok(close(memory.gain.memoryBytes, (3.45 - 16) * 2 ** 30, 1e-9));
      assert.match(cpu.title, /^Shrink host db-1 CPU 4 cores → 1\.15 cores: 41\.6 EUR per month saved$/);
      // The seed's advice route has no place for hosts.
      const seed = await get(t.app, `/api/v1/cache-db/optimization/recommendations?window=1h&to=${to}`);
      assert.deepEqual(seed.json.recommendations, []);
    } finally {
      await t.close();
    }
  });
});
