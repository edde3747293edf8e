/**
 * The SDK against a real siperf server: an HTTP service traced by init()'s instrumentation, a
 * traceRequest span that fails, and custom metrics, all read back through the server's API.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { context } from '@opentelemetry/api';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createDuckDbStore, type Store } from '../../server/src/storage/index.ts';
import {
  BusinessTransaction,
  counter,
  histogram,
  init,
  type SiperfHandle,
  traceRequest,
} from '../src/index.ts';

let server: Awaited<ReturnType<typeof buildApp>>;
let store: Store;
let sdk: SiperfHandle;
let base: string;

/**
 * GETs until `ready(body)` holds (exporters send asynchronously), at most 30 s (a busy machine is slow,
 * not wrong); returns the last body, which the caller's assertions then explain.
 */
async function getWhen(url: string, ready: (body: any) => boolean): Promise<any> {
  let body: any;
  const deadline = performance.now() + 30_000;
  do {
    body = await getJson(url);
    if (ready(body)) return body;
    await new Promise((r) => setTimeout(r, 100));
  } while (performance.now() < deadline);
  return body;
}

/** GETs a JSON document of the API. */
async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

before(async () => {
  store = await createDuckDbStore({ path: ':memory:' });
  server = await buildApp({
    // No overload guard (maxEventLoopDelayMs 0): on a busy machine it would turn the exporters away.
    config: loadConfig({ flags: { dataDir: ':memory:', logLevel: 'silent', maxEventLoopDelayMs: 0 } }),
    store,
    logger: false,
  });
  base = await server.listen({ host: '127.0.0.1', port: 0 });
  sdk = init({
    serviceName: 'sdk-test',
    endpoint: base,
    metricExportIntervalMs: 60_000,
    spanExportDelayMs: 100,
  });
});

after(async () => {
  await sdk?.shutdown();
  await server?.close();
  await store?.close();
});

test('init() traces an HTTP service; traceRequest spans nest in it and record failures', async () => {
  // Required after init() so that the HTTP instrumentation patches it (ESM apps use the loader hook).
  const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
  const app = http.createServer((req, res) => {
    traceRequest('load order', async () => {
      await new Promise((r) => setTimeout(r, 20));
      if (req.url === '/fail') throw new Error('order 42 not found');
      return 'ok';
    }).then(
      (body) => res.end(body),
      () => {
        res.statusCode = 500;
        res.end('error');
      },
    );
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  try {
    const { port } = app.address() as AddressInfo;
    for (const path of ['/ok', '/ok', '/fail']) {
      await new Promise<void>((r, reject) =>
        http
          .get(`http://127.0.0.1:${port}${path}`, (res) => res.resume().on('end', () => r()))
          .on('error', reject),
      );
    }
  } finally {
    app.close();
  }
  await sdk.forceFlush();

  const api = await getJson(`${base}/api/v1/apm/metrics/api?window=15m&service=sdk-test&kind=server`);
  const get = api.endpoints.find((e: any) => e.endpoint === 'GET');
  assert.ok(get, JSON.stringify(api.endpoints));
  assert.equal(get.requests, 3);
  assert.equal(get.errors, 1, 'the 500 is a server error');
  assert.ok(get.minMs >= 19, `each request waited 20 ms inside traceRequest (min ${get.minMs} ms)`);

  const recent = await getJson(`${base}/api/v1/apm/traces/recent?window=15m&service=sdk-test&error=true`);
  assert.equal(recent.traces.length, 1);
  const tree = await getJson(`${base}/api/v1/apm/traces/${recent.traces[0].traceId}`);
  // The test's own http.get is traced too: client span → server span → the traceRequest span.
  const nodes: any[] = [];
  const walk = (n: any) => {
    nodes.push(n);
    n.children.forEach(walk);
  };
  tree.roots.forEach(walk);
  const serverSpan = nodes.find((n) => n.kind === 'server');
  const inner = serverSpan.children.find((c: any) => c.name === 'load order');
  assert.ok(inner, 'the traceRequest span is a child of the HTTP server span');
  assert.equal(tree.roots[0].kind, 'client');
  assert.equal(inner.status, 'error');
  assert.equal(inner.statusMessage, 'order 42 not found');
  assert.equal(inner.events[0].name, 'exception');
  assert.equal(inner.resource['service.name'], 'sdk-test');
  assert.equal(inner.resource['process.runtime.name'], 'nodejs', 'local resource detectors ran');
});

test('traceRequest returns what fn returns and re-throws what it throws', async () => {
  assert.equal(
    traceRequest('sync', () => 7),
    7,
  );
  assert.equal(await traceRequest('async', async () => 8), 8);
  assert.throws(
    () =>
      traceRequest('boom', () => {
        throw new RangeError('bad');
      }),
    RangeError,
  );
  await assert.rejects(
    traceRequest('boom-async', async () => {
      throw new TypeError('worse');
    }),
    TypeError,
  );
});

test('custom counters and histograms arrive as custom metric series', async () => {
  counter('orders.placed', { unit: '{order}' }).add(3, { region: 'eu' });
  const h = histogram('checkout.duration', { unit: 'ms' });
  for (const v of [10, 30]) h.record(v);
  await sdk.forceFlush();
  const orders = await getWhen(
    `${base}/api/v1/apm/metrics/custom?name=orders.placed&window=15m&service=sdk-test`,
    (b) => b.series?.[0]?.points.at(-1)?.value === 3,
  );
  assert.equal(orders.series[0].points.at(-1).value, 3);
  assert.deepEqual(orders.series[0].attributes, { region: 'eu' });
  const checkout = await getWhen(
    `${base}/api/v1/apm/metrics/custom?name=checkout.duration&window=15m&service=sdk-test`,
    (b) => b.series?.[0]?.points.at(-1)?.count === 2,
  );
  assert.equal(checkout.series[0].points.at(-1).count, 2);
  assert.equal(checkout.series[0].points.at(-1).sum, 40);
});

test('bad options are refused with the option named', () => {
  assert.throws(() => init({ serviceName: '' }), /serviceName must be a non-empty string/);
  assert.throws(
    () => init({ serviceName: 'x', endpoint: 'ftp://host' }),
    /endpoint must be an http\(s\) base URL/,
  );
  assert.throws(
    () => init({ serviceName: 'x', endpoint: 'http://host/?x=1' }),
    /without query or fragment, got "http:\/\/host\/\?x=1"/,
  );
  assert.throws(
    () => init({ serviceName: 'x', metricExportIntervalMs: 5 }),
    /metricExportIntervalMs must be a number ≥ 100/,
  );
});

test('a BusinessTransaction across two "services" (baggage) lands in GET /api/v1/apm/transactions', async () => {
  const tx = BusinessTransaction.start('annotate', { 'user.id': '7' });
  await tx.step('load task', async () => new Promise((r) => setTimeout(r, 15)));
  await assert.rejects(
    tx.step('save', async () => {
      throw new Error('conflict');
    }),
  );
  // Elsewhere (another request or job): the transaction comes back from the baggage in the context.
  await context.with(tx.context(), async () => {
    const there = BusinessTransaction.fromContext();
    assert.ok(there);
    assert.equal(there.id, tx.id);
    there.addStep('review', 40, true);
    there.end(false);
  });
  await sdk.forceFlush();
  const body = await getWhen(`${base}/api/v1/apm/transactions?window=15m`, (b) =>
    b.transactions.some((x: any) => x.name === 'annotate' && x.count === 1),
  );
  const annotate = body.transactions.find((x: any) => x.name === 'annotate');
  assert.equal(annotate.count, 1);
  assert.equal(annotate.successes, 0);
  const byStep = Object.fromEntries(annotate.steps.map((s: any) => [s.step, s]));
  assert.equal(byStep['load task'].failures, 0);
  // setTimeout(15) may fire a fraction of a millisecond early against the span clock.
  assert.ok(byStep['load task'].p95Ms >= 14, `load task took ${byStep['load task'].p95Ms} ms`);
  assert.equal(byStep.save.failures, 1);
  assert.ok(Math.abs(byStep.review.p95Ms - 40) < 1);
  assert.equal(annotate.slowestStep, 'review');
  assert.throws(() => BusinessTransaction.start(''), /name must be a string of 1\.\.256 characters/);
  assert.throws(() => tx.addStep('x', -5), /durationMs must be a finite number/);
});

test('spans keep sub-millisecond starts: a serial loop stays serial (HTTP, traceRequest, BusinessTransaction)', async () => {
  const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
  const app = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  /** Runs for `ms` without yielding: calls a fraction of a millisecond long, one after another. */
  const busy = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  let traceId = '';
  try {
    const { port } = app.address() as AddressInfo;
    await traceRequest('load order', async (span) => {
      traceId = span.spanContext().traceId;
      for (let i = 0; i < 6; i++) traceRequest('load item', () => busy(0.3));
      await new Promise<void>((r, reject) =>
        http
          .get(`http://127.0.0.1:${port}/items`, (res) => res.resume().on('end', () => r()))
          .on('error', reject),
      );
      const tx = BusinessTransaction.start('sub-ms');
      tx.step('check', () => busy(0.2));
      tx.addStep('external', 0.25);
      tx.end();
    });
  } finally {
    app.close();
  }
  await sdk.forceFlush();
  // load order, 6 × load item, HTTP client + server, transaction start, step, addStep, end.
  let spans = await store.traceSpans(traceId);
  for (const deadline = performance.now() + 30_000; spans.length < 13 && performance.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 100));
    spans = await store.traceSpans(traceId);
  }
  assert.equal(spans.length, 13, spans.map((s) => s.name).join(', '));
  const whole = spans.filter((s) => s.startTimeUnixNano % 1_000_000n === 0n).map((s) => s.name);
  assert.deepEqual(whole, [], 'no start on a whole millisecond (1 chance in a million each)');
  const kinds = new Set(spans.map((s) => s.kind));
  assert.ok(
    kinds.has(2) && kinds.has(3),
    'the HTTP instrumentation’s server and client spans are among them',
  );

  // The loop ran serially: each call starts after the one before ended. With starts on whole milliseconds
  // the 0.3 ms calls share starts, and each seems to begin before the previous one ends.
  const items = spans
    .filter((s) => s.name === 'load item')
    .sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
  assert.equal(items.length, 6);
  for (let i = 1; i < items.length; i++) {
    assert.ok(
      items[i]!.startTimeUnixNano >= items[i - 1]!.endTimeUnixNano,
      `call ${i} starts ${items[i]!.startTimeUnixNano - items[i - 1]!.endTimeUnixNano} ns after call ${i - 1} ends`,
    );
    assert.ok(items[i]!.durationNano >= 300_000n, 'durations are measured as before');
  }
  const bn = await getJson(`${base}/api/v1/apm/bottlenecks?window=15m&service=sdk-test`);
  const n1 = bn.findings.find((f: any) => f.type === 'n_plus_one' && f.statement === 'load item');
  assert.ok(n1, JSON.stringify(bn.parallelFanOuts));
  assert.equal(n1.callsPerRequest, 6);
  assert.equal(n1.evidence.overlappingPairs, 0, 'a serial loop, not a fan-out');
  const addStep = spans.find((s) => s.name === 'sub-ms / external')!;
  assert.equal(addStep.durationNano, 250_000n, 'addStep: 0.25 ms, ending now');
});
