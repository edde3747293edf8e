/**
 * `GET /metrics` scraped by a real Prometheus (Debian's `prometheus`, installed by scripts/start-services.sh;
 * started here on loopback with a scratch config and data folder, stopped after): PromQL through
 * Prometheus's HTTP API returns what siperf's own API says about the same spans, and the bucket counts
 * computed here from the durations sent. Skipped with a message when `prometheus` is not installed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DURATION_BUCKETS_SECONDS } from '../src/api/index.ts';
import { startTestApp, type TestApp, waitFor } from './helpers.ts';

const HAS_PROMETHEUS = spawnSync('prometheus', ['--version']).status === 0;
const SKIP = HAS_PROMETHEUS
  ? false
  : 'prometheus is not installed (bash scripts/start-services.sh installs it)';

const API_KEY = 'read-key';
const INGEST_KEY = 'ingest-key';
const SERVICE = 'prom-shop';
/** Per endpoint: the durations sent (ms) and which of them failed (HTTP 503). */
const SENT = {
  'GET /items/:id': { durationsMs: [3, 8, 20, 40, 120, 700], failed: [4] },
  'POST /orders': { durationsMs: [15, 30, 2600], failed: [1, 2] },
} as const;

function otlpJson(): string {
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
  let i = 0;
  const spans = Object.entries(SENT).flatMap(([endpoint, { durationsMs, failed }]) => {
    const [method, route] = endpoint.split(' ');
    return durationsMs.map((ms, j) => {
      i++;
      const start = t0 + BigInt(i) * 1_000_000_000n;
      return {
        traceId: i.toString(16).padStart(32, '0'),
        spanId: i.toString(16).padStart(16, '0'),
        name: endpoint,
        kind: 2,
        startTimeUnixNano: String(start),
        endTimeUnixNano: String(start + BigInt(ms) * 1_000_000n),
        attributes: [
          { key: 'http.request.method', value: { stringValue: method } },
          { key: 'http.route', value: { stringValue: route } },
          {
            key: 'http.response.status_code',
            value: { intValue: (failed as readonly number[]).includes(j) ? 503 : 200 },
          },
        ],
      };
    });
  });
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
        scopeSpans: [{ spans }],
      },
    ],
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let t: TestApp;
let dir: string;
let prometheus: ChildProcess | undefined;
let promUrl: string;

/** Runs a PromQL instant query; the result vector as `{ labels, value }`. */
async function query(promql: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as any;
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result.map((r: any) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

before(async () => {
  if (SKIP) return;
  t = await startTestApp({ apiKey: API_KEY, ingestKey: INGEST_KEY });
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/traces',
    payload: otlpJson(),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  // Two failed ingest requests: one without the key, one undecodable.
  const bad = async (headers: Record<string, string>, payload: string) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/v1/traces',
        payload,
        headers: { 'content-type': 'application/json', ...headers },
      })
    ).statusCode;
  assert.equal(await bad({}, otlpJson()), 401);
  assert.equal(await bad({ authorization: `Bearer ${INGEST_KEY}` }, '{"resourceSpans": ['), 400);
  dir = mkdtempSync(join(tmpdir(), 'siperf-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: siperf',
      '    metrics_path: /metrics',
      '    authorization:',
      `      credentials: ${API_KEY}`,
      '    static_configs:',
      `      - targets: ['${new URL(base).host}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prometheus.stderr?.on('data', (b) => {
    stderr = `${stderr}${b}`.slice(-4000);
  });
  await waitFor(
    async () =>
      prometheus?.exitCode === null &&
      (await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )),
    `prometheus ready (${stderr})`,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  // Scraped with the key: `up` is 1 and the RED series are there.
  await waitFor(
    async () => (await query(`siperf_requests_total{service="${SERVICE}"}`)).length === 2,
    'prometheus scraped siperf',
    { timeoutMs: 60_000, intervalMs: 200 },
  );
});

after(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('/metrics needs the API key and is the Prometheus text format', { skip: SKIP }, async () => {
  assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  const res = await t.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.match(res.body, /^# TYPE siperf_request_duration_seconds histogram$/m);
  assert.match(res.body, /^# TYPE nodejs_eventloop_lag_p99_seconds gauge$/m);
  const [up] = await query('up{job="siperf"}');
  assert.equal(up?.value, 1, 'the scrape with the key succeeded');
});

test('PromQL over the scraped RED metrics gives what the siperf API gives', { skip: SKIP }, async () => {
  const api = await t.app.inject({
    method: 'GET',
    url: `/api/v1/apm/metrics/api?window=15m&service=${SERVICE}&kind=server`,
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  const rows = api.json().endpoints as {
    endpoint: string;
    requests: number;
    errors: number;
    meanMs: number;
  }[];
  assert.equal(rows.length, 2);
  const byEndpoint = async (promql: string) =>
    Object.fromEntries((await query(promql)).map((r) => [r.labels.endpoint, r.value]));
  const requests = await byEndpoint(
    `sum by (endpoint) (siperf_requests_total{service="${SERVICE}",kind="server"})`,
  );
  const errors = await byEndpoint(`sum by (endpoint) (siperf_request_errors_total{service="${SERVICE}"})`);
  const meanS = await byEndpoint(
    `sum by (endpoint) (siperf_request_duration_seconds_sum{service="${SERVICE}"}) / sum by (endpoint) (siperf_request_duration_seconds_count{service="${SERVICE}"})`,
  );
  for (const row of rows) {
    assert.equal(requests[row.endpoint], row.requests, `${row.endpoint} requests`);
    assert.equal(errors[row.endpoint], row.errors, `${row.endpoint} errors`);
    assert.ok(Math.abs(meanS[row.endpoint]! * 1000 - row.meanMs) < 1e-6, `${row.endpoint} mean`);
  }
  // And against what was sent, computed here.
  for (const [endpoint, { durationsMs, failed }] of Object.entries(SENT)) {
    assert.equal(requests[endpoint], durationsMs.length);
    assert.equal(errors[endpoint], failed.length);
    for (const le of [0.01, 0.05, 1]) {
      assert.ok(DURATION_BUCKETS_SECONDS.includes(le));
      const [bucket] = await query(
        `siperf_request_duration_seconds_bucket{service="${SERVICE}",endpoint="${endpoint}",le="${le}"}`,
      );
      assert.equal(bucket?.value, durationsMs.filter((ms) => ms / 1000 <= le).length, `${endpoint} le=${le}`);
    }
  }
  const [spans] = await query('siperf_ingest_spans_total{transport="otlp-http"}');
  assert.equal(spans?.value, 9);
  const failed = Object.fromEntries(
    (await query('siperf_ingest_requests_failed_total')).map((r) => [r.labels.code, r.value]),
  );
  assert.deepEqual(failed, { ERR_AUTH_MISSING: 1, ERR_INGEST_DECODE: 1 });
  const [queue] = await query('siperf_write_queue_spans');
  assert.equal(queue?.value, 0);
});
