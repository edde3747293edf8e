/**
 * Outcome tracking over the API (`POST /api/v1/recommendations/{id}/applied`): OTLP/JSON spans make two
 * endpoints regress in a new version; both are marked applied; spans of the hour after are ingested (one
 * endpoint fast again, the other still slow) and, on an injected clock a like window later, one is
 * `confirmed` and the other `not-confirmed`, with their before and after p95 computed here by hand. The
 * verdict survives a restart (<dataDir>/recommendations.json). Responses are validated against their schemas;
 * nothing depends on timing: every span has an explicit time and the server's clock is the test's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { get, post, startTestApp, type TestApp } from './helpers.ts';

const hex = (n: number) => randomBytes(n).toString('hex');
const str = (v: string) => ({ stringValue: v });
const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
/** Within the 1% of the DDSketch rollups. */
const within1 = (v: number, want: number) => Math.abs(v - want) <= 0.01 * want;

/** One request of `route` at `t0`, `durationMs` long: a SERVER span with a child. */
function request(route: string, t0: number, durationMs: number) {
  const traceId = hex(16);
  const root = hex(8);
  return [
    {
      traceId,
      spanId: root,
      name: `GET ${route}`,
      kind: 2,
      startTimeUnixNano: ns(t0),
      endTimeUnixNano: ns(t0 + durationMs),
      attributes: [
        { key: 'http.request.method', value: str('GET') },
        { key: 'http.route', value: str(route) },
      ],
    },
    {
      traceId,
      spanId: hex(8),
      parentSpanId: root,
      name: 'work',
      kind: 1,
      startTimeUnixNano: ns(t0 + 1),
      endTimeUnixNano: ns(t0 + durationMs - 1),
    },
  ];
}

const otlp = (byVersion: Record<string, ReturnType<typeof request>>) =>
  JSON.stringify({
    resourceSpans: Object.entries(byVersion).map(([version, spans]) => ({
      resource: {
        attributes: [
          { key: 'service.name', value: str('shop') },
          { key: 'service.version', value: str(version) },
        ],
      },
      scopeSpans: [{ spans }],
    })),
  });

const MIN = 60_000;
/** The time the change is applied: a whole hour, four hours ago (all spans are in the past). */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 4 * 3_600_000;

/**
 * Before: GET /search and GET /report, a request each every 30 s from T0 − 50 min: 40 of 1.4.0 lasting
 * 10 + (i mod 10) ms, then 40 of 1.5.0 lasting 30 + (i mod 10) ms.
 */
function beforeSpans(): string {
  const v14: ReturnType<typeof request> = [];
  const v15: ReturnType<typeof request> = [];
  for (const route of ['/search', '/report']) {
    for (let i = 0; i < 40; i++) v14.push(...request(route, T0 - 50 * MIN + i * 30_000, 10 + (i % 10)));
    for (let i = 40; i < 80; i++) v15.push(...request(route, T0 - 50 * MIN + i * 30_000, 30 + (i % 10)));
  }
  return otlp({ '1.4.0': v14, '1.5.0': v15 });
}

/**
 * After (the hour from T0): a request of each a minute from T0 + 5 min, 40 each: GET /search of 1.5.1
 * lasting 10 + (i mod 10) ms again; GET /report still of 1.5.0, lasting 30 + (i mod 10) ms.
 */
function afterSpans(): string {
  const fixed: ReturnType<typeof request> = [];
  const slow: ReturnType<typeof request> = [];
  for (let i = 0; i < 40; i++) {
    fixed.push(...request('/search', T0 + 5 * MIN + i * MIN, 10 + (i % 10)));
    slow.push(...request('/report', T0 + 5 * MIN + i * MIN, 30 + (i % 10)));
  }
  return otlp({ '1.5.1': fixed, '1.5.0': slow });
}

describe('recommendation outcomes: applied, then confirmed or not-confirmed a like window later', () => {
  let t: TestApp;
  let now = T0;
  const dir = mkdtempSync(join(tmpdir(), 'siperf-outcome-'));
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startTestApp({ dataDir: dir }, { now: () => now });
    const r = await post(t.app, '/v1/traces', beforeSpans(), 'application/json');
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('marked applied: the before figure is the p95 over the evidence window, judged in an hour', async () => {
    const list = await get(t.app, '/api/v1/recommendations?window=1h&kind=regression');
    assert.equal(list.status, 200, JSON.stringify(list.json));
    for (const r of list.json.recommendations) ids[r.target.endpoint] = r.id;
    assert.deepEqual(Object.keys(ids).sort(), ['GET /report', 'GET /search']);
    for (const r of list.json.recommendations) assert.equal(r.outcome, null);

    const a = await post(
      t.app,
      `/api/v1/recommendations/${ids['GET /search']}/applied?window=1h`,
      JSON.stringify({ note: 'rolled back the search index change' }),
      'application/json',
    );
    assert.equal(a.status, 200, JSON.stringify(a.json));
    const rec = a.json.recommendation;
    assert.equal(rec.state, 'applied');
    assert.equal(rec.stateReason, 'rolled back the search index change');
    const o = rec.outcome;
    assert.equal(o.metric, 'endpoint-p95');
    assert.equal(o.figure, 'p95 of GET /search (shop)');
    assert.equal(o.unit, 'ms');
    assert.equal(o.better, 'lower');
    assert.equal(o.appliedAt, new Date(T0).toISOString());
    assert.deepEqual(o.beforeWindow, {
      from: new Date(T0 - 60 * MIN).toISOString(),
      to: new Date(T0).toISOString(),
    });
    // 80 durations: 10..19 four times each, then 30..39 four times each; rank 0.95 × 79 = 75.05 → the 36th
    // of the slow ones (0-based 35), 30 + ⌊35 / 4⌋ = 38 ms.
    assert.ok(within1(o.before, 38), String(o.before));
    assert.equal(o.samplesBefore, 80);
    // The regression's p95 change, from its sampled requests: 39 − 19 = 20 ms; half is required.
    assert.ok(Math.abs(o.expectedImprovement - 20) < 1e-9, String(o.expectedImprovement));
    assert.match(o.rule, /half the 20 ms the gain expects \(10 ms\).*1 h.*at least 30 requests/);
    assert.equal(o.after, null);
    assert.equal(o.afterWindow, null);
    assert.equal(o.samplesAfter, null);
    assert.equal(o.judgeableAt, new Date(T0 + 60 * MIN).toISOString());
    assert.match(o.verdict, /^applied: can be judged from .* \(in 60 min\)/);

    // Applying again while applied keeps the first record.
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/recommendations/${ids['GET /search']}/applied?window=1h`,
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().recommendation.stateReason, 'rolled back the search index change');

    const b = await post(
      t.app,
      `/api/v1/recommendations/${ids['GET /report']}/applied?window=1h`,
      '{}',
      'application/json',
    );
    assert.equal(b.status, 200, JSON.stringify(b.json));
    assert.ok(within1(b.json.recommendation.outcome.before, 38));
  });

  test('bad bodies are 400 naming the field; unknown ids 404', async () => {
    const tooLong = await post(
      t.app,
      `/api/v1/recommendations/${ids['GET /search']}/applied`,
      JSON.stringify({ note: 'x'.repeat(1001) }),
      'application/json',
    );
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json.field, 'note');
    const unknownField = await post(
      t.app,
      `/api/v1/recommendations/${ids['GET /search']}/applied`,
      JSON.stringify({ reason: 'x' }),
      'application/json',
    );
    assert.equal(unknownField.status, 400);
    assert.equal(unknownField.json.field, 'reason');
    const missing = await post(
      t.app,
      '/api/v1/recommendations/regression.0000000000000000/applied',
      '{}',
      'application/json',
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.json.field, 'id');
  });

  test('before a like window has passed it stays applied and says how long until it can be judged', async () => {
    const r = await post(t.app, '/v1/traces', afterSpans(), 'application/json');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    now = T0 + 30 * MIN;
    const one = await get(t.app, `/api/v1/recommendations/${ids['GET /search']}?window=1h`);
    assert.equal(one.status, 200, JSON.stringify(one.json));
    assert.equal(one.json.recommendation.state, 'applied');
    assert.equal(one.json.recommendation.outcome.after, null);
    assert.match(one.json.recommendation.outcome.verdict, /\(in 30 min\)/);
  });

  test('a like window later: GET /search confirmed (38 → 19 ms), GET /report not-confirmed (38 → 39 ms)', async () => {
    now = T0 + 61 * MIN;
    const list = await get(t.app, '/api/v1/recommendations?window=1h');
    assert.equal(list.status, 200, JSON.stringify(list.json));
    const byId = new Map(list.json.recommendations.map((r: any) => [r.id, r]));
    // Their evidence left the window: listed after the ranked ones, as last computed, with the verdict.
    const search: any = byId.get(ids['GET /search']!);
    const report: any = byId.get(ids['GET /report']!);
    assert.ok(search && report, JSON.stringify(list.json.recommendations.map((r: any) => r.title)));

    assert.equal(search.state, 'confirmed');
    const s = search.outcome;
    // 40 durations 10..19 four times each: rank 0.95 × 39 = 37.05 → 10 + ⌊37 / 4⌋ = 19 ms.
    assert.ok(within1(s.after, 19), String(s.after));
    assert.equal(s.samplesAfter, 40);
    assert.deepEqual(s.afterWindow, {
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 60 * MIN).toISOString(),
    });
    assert.match(
      s.verdict,
      /^p95 of GET \/search \(shop\) 3[78].* → 1[89].* ms: .* better, at least the 10 ms required .*: confirmed$/,
    );
    assert.equal(search.stateReason, 'rolled back the search index change');

    assert.equal(report.state, 'not-confirmed');
    const p = report.outcome;
    assert.ok(within1(p.after, 39), String(p.after));
    assert.equal(p.samplesAfter, 40);
    assert.match(p.verdict, /worse, less than the 10 ms required .*: not-confirmed$/);

    const one = await get(t.app, `/api/v1/recommendations/${ids['GET /search']}?window=1h`);
    assert.equal(one.json.inWindow, false);
    assert.equal(one.json.recommendation.state, 'confirmed');
    const confirmed = await get(t.app, '/api/v1/recommendations?window=1h&state=confirmed');
    assert.deepEqual(
      confirmed.json.recommendations.map((r: any) => r.id),
      [ids['GET /search']],
    );
  });

  test('the verdict and its figures survive a restart', async () => {
    await t.close();
    t = await startTestApp({ dataDir: dir }, { now: () => now });
    const one = await get(t.app, `/api/v1/recommendations/${ids['GET /report']}?window=1h`);
    assert.equal(one.status, 200, JSON.stringify(one.json));
    assert.equal(one.json.recommendation.state, 'not-confirmed');
    assert.ok(within1(one.json.recommendation.outcome.before, 38));
    assert.ok(within1(one.json.recommendation.outcome.after, 39));
  });
});
