/**
 * Web-vitals beacons and the user-experience report: per-item rejection, p75 by hand, threshold counts,
 * the Lighthouse-style score at its control points, CORS and `text/plain` beacons, the served script.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logNormalScore } from '../src/apm/index.ts';
import { get, post, startTestApp } from './helpers.ts';

const beacon = (name: string, value: unknown, page: string, extra: Record<string, unknown> = {}) => ({
  name,
  value,
  rating: 'good',
  delta: typeof value === 'number' ? value : 0,
  id: `v5-${Math.random()}`,
  navigationType: 'navigate',
  page,
  ...extra,
});

/** Standard normal CDF by Simpson's rule on the density (independent of the erfc under test). */
function phi(z: number): number {
  const n = 20_000;
  const a = -12;
  const h = (z - a) / n;
  const f = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  let s = f(a) + f(z);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

test('log-normal score: 0.9 at p10, 0.5 at the median, 0.1 at median²/p10, and Φ between', () => {
  assert.ok(Math.abs(logNormalScore(2500, 2500, 4000) - 0.9) < 1e-6);
  assert.ok(Math.abs(logNormalScore(4000, 2500, 4000) - 0.5) < 1e-6);
  assert.ok(Math.abs(logNormalScore((4000 * 4000) / 2500, 2500, 4000) - 0.1) < 1e-6);
  assert.equal(logNormalScore(0, 2500, 4000), 1);
  const sigma = Math.log(4000 / 2500) / 1.2815515655446004;
  const expected = 1 - phi(Math.log(3750 / 4000) / sigma);
  assert.ok(Math.abs(logNormalScore(3750, 2500, 4000) - expected) < 1e-6, `${expected}`);
  assert.throws(() => logNormalScore(1, 4000, 2500), /0 < p10 < median/);
});

test('a beacon keeps its good items (LCP 0 included) and names each bad one; p75 and counts by hand', async () => {
  const t = await startTestApp();
  try {
    const items = [
      ...[1000, 2000, 3000, 4000, 5000, 0].map((v) => beacon('LCP', v, '/a?user=42#top')),
      beacon('XYZ', 10, '/a'),
      beacon('LCP', null, '/a'),
      beacon('LCP', -1, '/a'),
      beacon('LCP', 'NaN', '/a'),
      { name: 'LCP', page: '/a' },
      beacon('CLS', 0.3, ''),
    ];
    const r = await post(t.app, '/api/v1/apm/user-experience', JSON.stringify(items), 'application/json');
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 6);
    assert.deepEqual(
      r.json.rejected.map((x: any) => [x.index, x.field]),
      [
        [6, 'name'],
        [7, 'value'],
        [8, 'value'],
        [9, 'value'],
        [10, 'value'],
        [11, 'page'],
      ],
    );
    const ux = await get(t.app, '/api/v1/apm/metrics/user-experience');
    assert.equal(ux.status, 200);
    const lcp = ux.json.overall.metrics.LCP;
    // Sorted 0,1000,…,5000: rank (6−1)·0.75 = 3.75 → 3000 + 0.75·1000.
    assert.equal(lcp.p75, 3750);
    assert.deepEqual([lcp.count, lcp.good, lcp.needsImprovement, lcp.poor], [6, 3, 2, 1]);
    assert.equal(lcp.rating, 'needs-improvement');
    assert.deepEqual(
      ux.json.pages.map((p: any) => p.page),
      ['/a'],
    );
    // Only LCP has data: the score is LCP's own, in percent.
    assert.equal(ux.json.overall.score, Math.round(100 * logNormalScore(3750, 2500, 4000)));
    assert.deepEqual(ux.json.overall.scoreBasis, ['LCP']);
  } finally {
    await t.close();
  }
});

test('score at the control points: LCP 2500, INP 200 (0.9), CLS 0.25, FCP 3000 (0.5) → 74', async () => {
  const t = await startTestApp();
  try {
    const items = [
      beacon('LCP', 2500, '/c', {
        attribution: {
          timeToFirstByte: 300,
          resourceLoadDelay: 200,
          resourceLoadDuration: 1500,
          elementRenderDelay: 500,
          lcpEntry: { x: 1 },
        },
      }),
      beacon('INP', 200, '/c'),
      beacon('CLS', 0.25, '/c'),
      beacon('FCP', 3000, '/c'),
      beacon('TTFB', 5000, '/c'),
    ];
    // sendBeacon's text/plain JSON is accepted as well.
    const r = await post(
      t.app,
      '/api/v1/apm/user-experience',
      JSON.stringify(items),
      'text/plain;charset=UTF-8',
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const ux = await get(t.app, '/api/v1/apm/metrics/user-experience?page=/c');
    const page = ux.json.pages[0];
    // 100·(0.30·0.9 + 0.30·0.9 + 0.25·0.5 + 0.15·0.5); TTFB is not weighted.
    assert.equal(page.score, 74);
    assert.deepEqual([...page.scoreBasis].sort(), ['CLS', 'FCP', 'INP', 'LCP']);
    assert.equal(page.metrics.TTFB.rating, 'poor');
    assert.deepEqual(page.loadBreakdown.lcpSubpartsMeanMs, {
      timeToFirstByte: 300,
      resourceLoadDelay: 200,
      resourceLoadDuration: 1500,
      elementRenderDelay: 500,
    });
    assert.equal(page.loadBreakdown.ttfbP75Ms, 5000);
  } finally {
    await t.close();
  }
});

test('reports of one metric id count once, with the latest value (reportAllChanges)', async () => {
  const t = await startTestApp();
  try {
    const send = (items: unknown[]) =>
      post(t.app, '/api/v1/apm/user-experience', JSON.stringify(items), 'application/json');
    await send([beacon('CLS', 0.05, '/d', { id: 'cls-1' }), beacon('CLS', 0.02, '/d', { id: 'cls-2' })]);
    await send([beacon('CLS', 0.3, '/d', { id: 'cls-1' })]);
    const cls = (await get(t.app, '/api/v1/apm/metrics/user-experience')).json.overall.metrics.CLS;
    // Latest values: cls-1 → 0.3, cls-2 → 0.02. p75 of [0.02, 0.3] = 0.02 + 0.75·0.28.
    assert.equal(cls.count, 2);
    assert.ok(Math.abs(cls.p75 - 0.23) < 1e-12, String(cls.p75));
    assert.deepEqual([cls.good, cls.needsImprovement, cls.poor], [1, 0, 1]);
  } finally {
    await t.close();
  }
});

test('a beacon with only bad items is a 400 listing them; nothing is stored', async () => {
  const t = await startTestApp();
  try {
    const r = await post(
      t.app,
      '/api/v1/apm/user-experience',
      JSON.stringify([beacon('LCP', null, '/a'), beacon('FOO', 1, '/a')]),
      'application/json',
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'ERR_INGEST_VITALS');
    assert.equal(r.json.rejected.length, 2);
    const notJson = await post(t.app, '/api/v1/apm/user-experience', '{"name":', 'text/plain');
    assert.equal(notJson.status, 400);
    const tooMany = await post(
      t.app,
      '/api/v1/apm/user-experience',
      JSON.stringify(Array.from({ length: 1001 }, () => beacon('LCP', 1, '/a'))),
      'application/json',
    );
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.json.detail, /items: at most 1000/);
    const ux = await get(t.app, '/api/v1/apm/metrics/user-experience');
    assert.deepEqual(ux.json.pages, []);
    assert.equal(ux.json.overall.score, null);
  } finally {
    await t.close();
  }
});

test('CORS for configured origins; the ingest key may come as ?key=; rum.js is served', async () => {
  const t = await startTestApp({ corsOrigins: 'http://shop.test', ingestKey: 'ik', apiKey: 'ak' });
  try {
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/apm/user-experience',
      headers: {
        origin: 'http://shop.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://shop.test');
    const body = JSON.stringify([beacon('FCP', 900, '/')]);
    const noKey = await post(t.app, '/api/v1/apm/user-experience', body, 'text/plain', {
      origin: 'http://shop.test',
    });
    assert.equal(noKey.status, 401);
    const ok = await post(t.app, '/api/v1/apm/user-experience?key=ik', body, 'text/plain', {
      origin: 'http://shop.test',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], 'http://shop.test');
    const other = await post(t.app, '/api/v1/apm/user-experience?key=ik', body, 'text/plain', {
      origin: 'http://evil.test',
    });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const js = await t.app.inject({ method: 'GET', url: '/rum.js' });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.match(js.body, /siperfRum/);
  } finally {
    await t.close();
  }
});

test('hostile beacons: a deep item costs only itself; bad attribution numbers stay out of the means', async () => {
  const t = await startTestApp({ corsOrigins: 'http://site.test:80' });
  try {
    let deep = '1';
    for (let i = 0; i < 20_000; i++) deep = `[${deep}]`;
    const body = `\uFEFF[${JSON.stringify(beacon('LCP', 1, '/deep'))},${deep},{"name":{"__proto__":{"x":1}},"value":1,"page":"/deep"}]`;
    const r = await post(t.app, '/api/v1/apm/user-experience', body, 'application/json');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.accepted, 1);
    assert.deepEqual(
      r.json.rejected.map((x: any) => [x.index, x.field]),
      [
        [1, 'item'],
        [2, 'name'],
      ],
    );
    const attr = (timeToFirstByte: unknown) =>
      beacon('LCP', 100, 'https://u:secret@shop.test/a;jsessionid=S3CRET?q=1#x', {
        attribution: { timeToFirstByte },
      });
    const r2 = await post(
      t.app,
      '/api/v1/apm/user-experience',
      JSON.stringify([attr('NaN'), attr(-1_000_000), attr(1.7e308), attr(' 12 '), attr(100), attr(300)]),
      'text/plain',
    );
    assert.equal(r2.json.accepted, 6);
    const page = (await get(t.app, '/api/v1/apm/metrics/user-experience?page=https://shop.test/a?z=9')).json
      .pages[0];
    assert.equal(page.page, 'https://shop.test/a');
    // Only the two sane numbers count: (100 + 300) / 2.
    assert.equal(page.loadBreakdown.lcpSubpartsMeanMs.timeToFirstByte, 200);
    // CORS is for the beacon path only; the default port of an origin is ignored.
    const pre = (url: string) =>
      t.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: 'http://site.test', 'access-control-request-method': 'POST' },
      });
    assert.equal(
      (await pre('/api/v1/apm/user-experience')).headers['access-control-allow-origin'],
      'http://site.test',
    );
    const other = await pre('/v1/traces');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.equal(other.statusCode, 404);
    const gz = await post(t.app, '/api/v1/apm/user-experience', '[]', 'application/json', {
      'content-encoding': 'gzip',
    });
    assert.equal(gz.status, 415);
    const form = await post(t.app, '/api/v1/apm/user-experience', 'a=1', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415);
    assert.match(form.json.detail, /text\/plain/);
  } finally {
    await t.close();
  }
});
