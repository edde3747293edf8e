/**
 * The real fixtures of ../shared go in through the HTTP API and come out with the values an independent
 * computation gives (a Python script over the same JSON files computed each expected number below:
 * counts, errors, sums and maxima of end−start in ns, and nearest-rank medians).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  endpointRow,
  FIXTURE_WINDOW,
  fixture,
  flattenTree,
  get,
  NEEDS_SHARED,
  post,
  startTestApp,
  type TestApp,
} from './helpers.ts';

const close = (a: number, b: number, rel: number) =>
  assert.ok(Math.abs(a - b) <= Math.abs(b) * rel, `${a} is not within ${rel * 100}% of ${b}`);

describe('OTLP fixtures (JSON and protobuf)', { skip: NEEDS_SHARED }, () => {
  let json: TestApp;
  let proto: TestApp;
  before(async () => {
    json = await startTestApp();
    proto = await startTestApp();
    for (const f of ['n_plus_one_positive', 'error_timeout_masked']) {
      const r1 = await post(json.app, '/v1/traces', fixture(`otlp/jaeger/${f}.json`), 'application/json');
      assert.equal(r1.status, 200);
      assert.deepEqual(r1.json, {});
      const r2 = await post(
        proto.app,
        '/v1/traces',
        fixture(`otlp/protobuf/jaeger__${f}.pb`),
        'application/x-protobuf',
      );
      assert.equal(r2.status, 200);
      assert.equal(r2.headers['content-type'], 'application/x-protobuf');
    }
  });
  after(async () => {
    await json?.close();
    await proto?.close();
  });

  test('per-endpoint counts, errors, mean, max and Apdex match a hand computation', async () => {
    const { json: m } = await get(json.app, `/api/v1/apm/metrics/api?${FIXTURE_WINDOW}`);
    const redis = endpointRow(m, 'redis-manual', 'GetDriver');
    assert.equal(redis.kind, 'client');
    assert.equal(redis.requests, 13);
    assert.equal(redis.errors, 3);
    close(redis.meanMs, 192.423314 / 13, 1e-9);
    assert.equal(redis.maxMs, 30.454597);
    close(redis.p50Ms, 11.240012, 0.01);
    const dispatch = endpointRow(m, 'frontend', 'GET /dispatch');
    assert.equal(dispatch.kind, 'server');
    assert.equal(dispatch.requests, 1);
    assert.equal(dispatch.maxMs, 1684.896164);
    assert.equal(dispatch.apdex, 0.5, '1684.9 ms is tolerating for T = 500 ms');
    const proxyPost = endpointRow(m, 'frontend-proxy', 'POST');
    assert.equal(proxyPost.requests, 2);
    assert.equal(proxyPost.errors, 1);
    assert.equal(proxyPost.errorRate, 0.5);
    assert.equal(proxyPost.apdex, 0.5, 'one satisfied (6.2 ms), one frustrated (15 s)');
    const single = endpointRow(m, 'frontend', 'POST');
    assert.equal(single.maxMs, 15000.947152);
    assert.equal(single.minMs, 15000.947152);
    assert.equal(single.p50Ms, 15000.947152, 'one request: every percentile is its exact duration');
    assert.equal(single.p99Ms, 15000.947152);
  });

  test('a JSON file and its protobuf twin give identical analysis', async () => {
    for (const path of ['metrics/api', 'metrics/database', 'traces/recent', 'services']) {
      const a = await get(json.app, `/api/v1/apm/${path}?${FIXTURE_WINDOW}`);
      const b = await get(proto.app, `/api/v1/apm/${path}?${FIXTURE_WINDOW}`);
      assert.equal(a.status, 200);
      assert.deepEqual(a.json, b.json, path);
    }
    const t1 = await get(json.app, '/api/v1/apm/traces/ea6db5d7b317ca1a5e2c4e0e7cea53ce');
    const t2 = await get(proto.app, '/api/v1/apm/traces/EA6DB5D7B317CA1A5E2C4E0E7CEA53CE');
    assert.deepEqual(t1.json, t2.json);
  });

  test('the N+1 trace tree: 16 spans, parent self time, the serial calls on the critical path', async () => {
    const { status, json: t } = await get(json.app, '/api/v1/apm/traces/ea6db5d7b317ca1a5e2c4e0e7cea53ce');
    assert.equal(status, 200);
    assert.equal(t.spanCount, 16);
    const all = flattenTree(t);
    assert.equal(all.length, 16);
    const parent = all.find((n) => n.spanId === 'be56eec6f3678130');
    assert.equal(parent.children.length, 13);
    assert.ok(parent.children.every((c: any) => c.name === 'GetDriver'));
    // 211.922004 ms minus the 13 non-overlapping children (192.423314 ms in all).
    close(parent.selfTimeMs, 211.922004 - 192.423314, 1e-9);
    assert.ok(parent.onCriticalPath);
    assert.equal(parent.children.filter((c: any) => c.onCriticalPath).length, 13);
    assert.equal(parent.durationMs, 211.922004, 'durations are never adjusted');
  });

  test('nanosecond timestamps survive: the JSON start time is kept to the nanosecond', async () => {
    const spans = await json.store.traceSpans('ea6db5d7b317ca1a5e2c4e0e7cea53ce');
    const span = spans.find((s) => s.spanId === 'be56eec6f3678130')!;
    assert.equal(span.resourceAttributes['service.name'], 'driver');
    assert.equal(span.resourceAttributes['telemetry.sdk.language'], 'go');
    assert.equal(span.startTimeUnixNano, 1786057568475144853n);
    assert.equal(span.endTimeUnixNano, 1786057568687066857n);
  });

  test('the masked timeout: the 15 s frontend POST is visible although it carries no error status', async () => {
    const { json: t } = await get(
      json.app,
      `/api/v1/apm/traces/recent?${FIXTURE_WINDOW}&minDurationMs=15000`,
    );
    assert.equal(t.traces.length, 1);
    assert.equal(t.traces[0].spanCount, 26);
    const tree = (await get(json.app, `/api/v1/apm/traces/${t.traces[0].traceId}`)).json;
    const flat = flattenTree(tree);
    const masked = flat.find((n) => n.spanId === '909a94f934468e91');
    assert.equal(masked.service, 'frontend');
    assert.equal(masked.status, 'unset');
    close(masked.durationMs, 15000.947152, 1e-12);
    assert.ok(masked.onCriticalPath);
  });
});

describe('whole HotROD trace: database metrics', { skip: NEEDS_SHARED }, () => {
  test('the MySQL query is normalised, timed and tied to the endpoint that issued it', async () => {
    const t = await startTestApp();
    try {
      const r = await post(
        t.app,
        '/v1/traces',
        fixture('otlp/jaeger/n_plus_one_full_concurrent.json'),
        'application/json',
      );
      assert.equal(r.status, 200);
      const { json: m } = await get(t.app, `/api/v1/apm/metrics/database?${FIXTURE_WINDOW}`);
      const mysql = m.queries.find((q: any) => q.system === 'mysql');
      assert.equal(mysql.statement, 'SELECT * FROM customer WHERE customer_id=?');
      assert.equal(mysql.calls, 1);
      assert.equal(mysql.totalMs, 282.3873);
      assert.equal(mysql.maxMs, 282.3873);
      assert.equal(mysql.slowCalls, 0);
      assert.deepEqual(mysql.endpoints, ['GET /customer']);
      const { json: api } = await get(t.app, `/api/v1/apm/metrics/api?${FIXTURE_WINDOW}&service=route`);
      assert.equal(api.endpoints.length, 1);
      assert.equal(api.endpoints[0].requests, 10);
      close(api.endpoints[0].meanMs, 494.816023 / 10, 1e-9);
      close(api.endpoints[0].p50Ms, (49.993159 + 52.612923) / 2, 0.01); // type-7 median of the 10 durations
    } finally {
      await t.close();
    }
  });

  test('the protocol example with upper-case hex ids parses into one server span', async () => {
    const t = await startTestApp();
    try {
      const r = await post(
        t.app,
        '/v1/traces',
        fixture('otlp/opentelemetry-proto/trace.json'),
        'application/json',
      );
      assert.equal(r.status, 200);
      const r2 = await post(
        t.app,
        '/v1/traces',
        fixture('otlp/jaeger/otel_traces_01.json'),
        'application/json',
      );
      assert.equal(r2.status, 200);
      assert.deepEqual(r2.json, {});
      const tree = (await get(t.app, '/api/v1/apm/traces/5b8efff798038103d269b633813fc60c')).json;
      assert.equal(tree.spanCount, 1);
      assert.equal(tree.roots[0].service, 'my.service');
      assert.equal(tree.roots[0].kind, 'server');
      assert.equal(tree.roots[0].durationMs, 1000);
      assert.equal(tree.roots[0].clockFlagged, true, 'a 2018 span is older than maxPastSkewMs (5 years)');
      const full = await t.store.traceSpans('00000000000000010000000000000000');
      assert.equal(full.length, 1);
      assert.equal(full[0]!.events.length > 0, true);
      assert.equal(full[0]!.links.length > 0, true);
      assert.equal(full[0]!.statusCode, 2);
    } finally {
      await t.close();
    }
  });
});

describe('Zipkin v2 fixtures', { skip: NEEDS_SHARED }, () => {
  test('every span is kept, sql.query spans are database calls, Envoy gets a fallback service', async () => {
    const t = await startTestApp();
    try {
      const files: [string, number][] = [
        ['simple-db-p6.json', 5],
        ['yelp.json', 16],
        ['messaging.json', 4],
        ['messaging-kafka.json', 28],
        ['envoy.json', 1],
        ['smartthings-oauth-authorization.json', 175],
        ['zipkin2-client.json', 1],
      ];
      let total = 0;
      for (const [f, n] of files) {
        const r = await post(t.app, '/api/v2/spans', fixture(`zipkin/zipkin/${f}`), 'application/json');
        assert.equal(r.status, 202, f);
        assert.equal(r.json.accepted, n, f);
        assert.deepEqual(r.json.rejected, [], f);
        const body = JSON.parse(fixture(`zipkin/zipkin/${f}`).toString('utf8'));
        const traceIds = new Set<string>(
          (Array.isArray(body) ? body : [body]).map((z: any) => z.traceId.padStart(32, '0')),
        );
        let stored = 0;
        for (const id of traceIds) stored += (await t.store.traceSpans(id)).length;
        assert.equal(stored, n, `${f}: every span stored, shared client/server halves both kept`);
        total += n;
      }
      assert.equal(total, 230);
      const db = await t.store.dbAggregates({ window: { fromNs: 0n, toNs: 2n ** 62n } });
      const p6 = db.filter((d) => d.system === 'sql');
      assert.equal(
        p6.reduce((s, d) => s + d.calls, 0),
        4,
      );
      const services = (await t.store.services({ fromNs: 0n, toNs: 2n ** 62n })).map((s) => s.service);
      assert.ok(services.includes('unknown_service'), 'the Envoy span without serviceName');
    } finally {
      await t.close();
    }
  });
});
