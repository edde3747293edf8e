/**
 * Alerting: the state machine by hand, the engine against local HTTP receivers (Alertmanager webhook,
 * Slack, PagerDuty Events v2 shapes; a retry after a 500; a silence), and the rules API.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { AlertState } from '../src/alerts/index.ts';
import { AlertEngine, parseRule, step } from '../src/alerts/index.ts';
import { scalarPoint } from '../src/model/index.ts';
import { get, post, startTestApp, TEST_SERVER_FLAGS, waitFor } from './helpers.ts';

const rule = parseRule({
  id: 'cpu',
  name: 'CPU high',
  expr: { kind: 'resource', resource: 'cpu' },
  op: '>',
  threshold: 0.9,
  clear: 0.8,
  forMs: 600_000,
});

test('state machine: pending, firing after `for`, hysteresis on clear, resolved, no data', () => {
  let s: AlertState = { phase: 'inactive' };
  const seq: [number, number | undefined, string, string | undefined][] = [
    [0, 0.95, 'pending', undefined],
    [300_000, 0.95, 'pending', undefined],
    [600_000, 0.92, 'firing', 'firing'],
    [700_000, 0.85, 'firing', undefined], // between clear (0.8) and threshold: still firing
    [750_000, undefined, 'firing', undefined], // no data keeps it firing
    [800_000, 0.79, 'resolved', 'resolved'],
    [900_000, 0.5, 'inactive', undefined],
    [1_000_000, 0.95, 'pending', undefined],
    [1_100_000, 0.5, 'inactive', undefined], // a pending alert that stops holding never fires
  ];
  for (const [t, v, phase, transition] of seq) {
    const r = step(s, rule, v, t);
    assert.equal(r.state.phase, phase, `t=${t}`);
    assert.equal(r.transition, transition, `t=${t}`);
    s = r.state;
  }
  const immediate = step({ phase: 'inactive' }, { op: '<', threshold: 24, forMs: 0 }, 10, 0);
  assert.deepEqual([immediate.state.phase, immediate.transition], ['firing', 'firing']);
});

test('engine: notifies webhook (Alertmanager shape), Slack and PagerDuty; retries a 500; silences', async () => {
  const got: { path: string; body: any }[] = [];
  let failNext = true;
  const receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      if (req.url === '/flaky' && failNext) {
        failNext = false;
        res.writeHead(500).end();
        return;
      }
      got.push({ path: req.url ?? '', body: JSON.parse(data) });
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  try {
    let value = 0.95;
    const engine = new AlertEngine(async () => ({ value, labels: { host: 'web-1' } }), {
      deliver: (r, n) => import('../src/alerts/index.ts').then((m) => m.deliver(r, n, { backoffMs: 10 })),
    });
    engine.upsert({
      ...rule,
      forMs: 0,
      receivers: [
        { type: 'webhook', url: `${base}/flaky` },
        { type: 'slack', url: `${base}/slack` },
        { type: 'pagerduty', routingKey: 'R0UT1NG', url: `${base}/pd` },
      ],
    });
    await engine.evaluate(1_000);
    const wh = got.find((g) => g.path === '/flaky')!.body;
    assert.equal(wh.version, '4');
    assert.equal(wh.status, 'firing');
    assert.equal(wh.alerts[0].labels.alertname, 'CPU high');
    assert.equal(wh.alerts[0].labels.host, 'web-1');
    assert.match(got.find((g) => g.path === '/slack')!.body.text, /FIRING.*CPU high/);
    const trigger = got.find((g) => g.path === '/pd')!.body;
    assert.equal(trigger.event_action, 'trigger');
    assert.equal(trigger.routing_key, 'R0UT1NG');
    const first = engine.events()[0]!;
    assert.equal(first.transition, 'firing');
    assert.equal(first.deliveries.find((d) => d.receiver === 'webhook')!.attempts, 2, 'the 500 was retried');
    value = 0.5;
    await engine.evaluate(2_000);
    const resolve = got.filter((g) => g.path === '/pd')[1]!.body;
    assert.equal(resolve.event_action, 'resolve');
    assert.equal(resolve.dedup_key, trigger.dedup_key, 'PagerDuty closes the incident it opened');
    // Silenced: the next firing is recorded but not sent.
    engine.addSilence({ id: 's', ruleId: 'cpu', labels: {}, endsAtMs: 1e12, comment: 'maintenance' });
    const before = got.length;
    value = 0.99;
    await engine.evaluate(3_000);
    assert.equal(got.length, before);
    assert.equal(engine.events()[0]!.silenced, true);
    assert.equal(engine.states()[0]!.state.phase, 'firing');
  } finally {
    receiver.close();
  }
});

test('rules API: the default rules are listed; a bad rule names its field; create and delete', async () => {
  const t = await startTestApp();
  try {
    const list = await get(t.app, '/api/v1/alerts/rules');
    assert.deepEqual(
      list.json.rules.map((r: any) => r.id),
      ['cpu-high', 'memory-high', 'disk-full-24h', 'error-rate-high', 'p95-slow', 'p95-regression'],
    );
    const bad = await post(
      t.app,
      '/api/v1/alerts/rules',
      JSON.stringify({ name: 'x', expr: { kind: 'resource', resource: 'cpu' }, threshold: 1 }),
      'application/json',
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.json.detail, 'op: required, one of >, <');
    assert.equal(bad.json.field, 'op');
    const badClear = await post(
      t.app,
      '/api/v1/alerts/rules',
      JSON.stringify({ name: 'x', expr: { kind: 'metric', name: 'm' }, op: '>', threshold: 1, clear: 2 }),
      'application/json',
    );
    assert.match(badClear.json.detail, /clear: must be ≤ threshold/);
    const ok = await post(
      t.app,
      '/api/v1/alerts/rules',
      JSON.stringify({
        id: 'slow-checkout',
        name: 'Checkout slow',
        expr: { kind: 'endpoint', stat: 'p95Ms', endpoint: 'POST /checkout' },
        op: '>',
        threshold: 800,
        forMs: 60000,
      }),
      'application/json',
    );
    assert.equal(ok.status, 201);
    const states = await get(t.app, '/api/v1/alerts');
    assert.equal(states.json.alerts.find((a: any) => a.ruleId === 'slow-checkout').state, 'inactive');
    const del = await t.app.inject({ method: 'DELETE', url: '/api/v1/alerts/rules/slow-checkout' });
    assert.equal(del.statusCode, 204);
    const again = await t.app.inject({ method: 'DELETE', url: '/api/v1/alerts/rules/slow-checkout' });
    assert.equal(again.statusCode, 404);
    const silence = await post(
      t.app,
      '/api/v1/alerts/silences',
      JSON.stringify({ ruleId: 'cpu-high', durationMs: 60000 }),
      'application/json',
    );
    assert.equal(silence.status, 201);
  } finally {
    await t.close();
  }
});

test('rules API: unknown and nested fields are named by their whole path; the schema fills defaults', async () => {
  const t = await startTestApp();
  try {
    const send = (rule: object) =>
      post(t.app, '/api/v1/alerts/rules', JSON.stringify(rule), 'application/json');
    const base = {
      name: 'Queue long',
      expr: { kind: 'metric', name: 'queue.depth' },
      op: '>',
      threshold: 100,
    };
    // A misspelt member is refused by name instead of being dropped (the rule would be a silent "warning").
    const typo = await send({ ...base, severty: 'critical' });
    assert.equal(typo.status, 400);
    assert.equal(typo.json.code, 'ERR_API_BODY');
    assert.equal(typo.json.field, 'severty');
    assert.match(
      typo.json.detail,
      /^severty: unknown field; expected one of id, name, expr, op, threshold, /,
    );
    // The expression's branch is chosen by `kind`: its own members are required, and named with their path.
    const nested = await send({ ...base, expr: { kind: 'metric' } });
    assert.equal(nested.status, 400);
    assert.equal(nested.json.field, 'expr.name');
    assert.equal(nested.json.detail, 'expr.name: required, a string of 1..255 characters');
    const extra = await send({ ...base, expr: { kind: 'metric', name: 'm', resource: 'cpu' } });
    assert.equal(extra.json.detail, 'expr.resource: unknown field; expected one of kind, name, stat, host');
    const kind = await send({ ...base, expr: { kind: 'cpu' } });
    assert.equal(kind.json.field, 'expr.kind');
    assert.equal(
      kind.json.detail,
      'expr.kind: expected one of resource, exhaustion, endpoint, metric, got "cpu"',
    );
    const receiver = await send({
      ...base,
      receivers: [{ type: 'slack', url: 'https://x' }, { type: 'pagerduty' }],
    });
    assert.equal(receiver.json.field, 'receivers[1].routingKey');
    assert.equal(receiver.json.detail, 'receivers[1].routingKey: required, a string of 1..64 characters');
    const url = await send({ ...base, receivers: [{ type: 'webhook', url: 'ftp://x' }] });
    assert.equal(
      url.json.detail,
      'receivers[0].url: expected an http(s) URL of at most 2048 characters, got "ftp://x"',
    );
    const range = await send({ ...base, forMs: -1 });
    assert.equal(range.json.detail, 'forMs: expected a number 0..604800000, got -1');
    assert.equal(range.json.limit, '0..604800000');
    // Defaults come from the schema; the answer is the rule as stored.
    const ok = await send({ ...base, id: 'q', expr: { kind: 'endpoint', stat: 'errorRate' } });
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.json, {
      id: 'q',
      name: 'Queue long',
      expr: { kind: 'endpoint', stat: 'errorRate', minRequests: 10, baselineMs: 86_400_000, minP95Ms: 100 },
      op: '>',
      threshold: 100,
      forMs: 0,
      windowMs: 300_000,
      severity: 'warning',
      labels: {},
      receivers: [],
    });
    // A rule read back (with the server's builtIn flag) can be posted again to change it.
    const cpu = (await get(t.app, '/api/v1/alerts/rules')).json.rules.find((r: any) => r.id === 'cpu-high');
    assert.equal(cpu.builtIn, true);
    const changed = await send({ ...cpu, threshold: 0.95 });
    assert.equal(changed.status, 201);
    assert.equal(changed.json.threshold, 0.95);
    assert.equal(changed.json.builtIn, undefined, "a rule posted is the user's, whatever the flag said");
    // Silences and history: the same schema rules.
    const silence = await post(
      t.app,
      '/api/v1/alerts/silences',
      JSON.stringify({ durationMs: 60_000, labels: { host: 'web-1' }, until: 'tomorrow' }),
      'application/json',
    );
    assert.equal(silence.status, 400);
    assert.equal(silence.json.field, 'until');
    const noMatcher = await post(
      t.app,
      '/api/v1/alerts/silences',
      JSON.stringify({ durationMs: 60_000 }),
      'application/json',
    );
    assert.equal(noMatcher.json.detail, 'ruleId or labels: a silence needs at least one matcher');
    const made = await post(
      t.app,
      '/api/v1/alerts/silences',
      JSON.stringify({ durationMs: 60_000, labels: { host: 'web-1' } }),
      'application/json',
    );
    assert.equal(made.status, 201);
    assert.equal(made.json.comment, '');
    assert.equal((await get(t.app, '/api/v1/alerts/silences')).json.silences.length, 1);
    const limit = await get(t.app, '/api/v1/alerts/history?limit=0');
    assert.equal(limit.status, 400);
    assert.equal(limit.json.detail, 'limit: expected an integer 1..10000, got 0');
    assert.equal((await get(t.app, '/api/v1/alerts/history?limit=5')).status, 200);
    const unknown = await get(t.app, '/api/v1/alerts?state=firing');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.detail, 'state: unknown parameter; none are accepted here');
  } finally {
    await t.close();
  }
});

test('rules made through the API and deleted built-ins survive a restart (alert-rules.json)', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createAlertEngine } = await import('../src/app.ts');
  const { loadConfig } = await import('../src/config.ts');
  const dir = mkdtempSync(join(tmpdir(), 'siperf-alerts-'));
  const t = await startTestApp();
  try {
    const config = loadConfig({ flags: { dataDir: dir, logLevel: 'silent' } });
    const log = { warn() {}, error() {} } as any;
    const first = createAlertEngine(config, t.store, log);
    first.upsert(
      parseRule({ id: 'mine', name: 'Mine', expr: { kind: 'metric', name: 'm' }, op: '>', threshold: 1 }),
    );
    assert.equal(first.remove('p95-slow'), true);
    // The file is written off the event loop: wait for the last change.
    await first.saved();
    const second = createAlertEngine(config, t.store, log);
    const ids = second.list().map((r) => r.id);
    assert.ok(ids.includes('mine'));
    assert.ok(!ids.includes('p95-slow'));
    assert.ok(ids.includes('cpu-high'));
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alertRulesFile: rules load at start; a bad rule names the file, its index and the field', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createAlertEngine } = await import('../src/app.ts');
  const { loadConfig } = await import('../src/config.ts');
  const dir = mkdtempSync(join(tmpdir(), 'siperf-rules-'));
  const t = await startTestApp();
  try {
    const file = join(dir, 'rules.json');
    const good = {
      id: 'q',
      name: 'Queue long',
      expr: { kind: 'metric', name: 'queue.depth', stat: 'max' },
      op: '>',
      threshold: 100,
    };
    writeFileSync(file, JSON.stringify({ rules: [good] }));
    const log = { warn() {}, error() {} } as any;
    const config = loadConfig({
      flags: { dataDir: ':memory:', logLevel: 'silent', alertRulesFile: file, alertDefaultRules: 0 },
    });
    assert.deepEqual(
      createAlertEngine(config, t.store, log)
        .list()
        .map((r) => r.id),
      ['q'],
    );
    writeFileSync(file, JSON.stringify({ rules: [good, { ...good, id: 'r', op: '>=' }] }));
    assert.throws(
      () => createAlertEngine(config, t.store, log),
      /alertRulesFile .*rules\.json: rules\[1\]\.op: expected one of >, <, got ">="$/,
    );
    // A nested field is named by its whole path from the top of the file.
    writeFileSync(file, JSON.stringify({ rules: [good, { ...good, id: 'r', expr: { kind: 'metric' } }] }));
    assert.throws(
      () => createAlertEngine(config, t.store, log),
      (err: any) =>
        err.code === 'ERR_CONFIG_INVALID' &&
        err.field === 'rules[1].expr.name' &&
        /rules\.json: rules\[1\]\.expr\.name: required, a string of 1\.\.255 characters$/.test(err.detail),
    );
    // What the schema cannot say (clear on the wrong side of threshold) names the rule too.
    writeFileSync(file, JSON.stringify({ rules: [{ ...good, clear: 200 }] }));
    assert.throws(
      () => createAlertEngine(config, t.store, log),
      /rules\.json: rules\[0\]\.clear: must be ≤ threshold \(100\) so the alert can clear/,
    );
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deleting a firing rule resolves it at the receivers', async () => {
  const got: any[] = [];
  const receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      got.push(JSON.parse(data));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
    const engine = new AlertEngine(async () => ({ value: 1, labels: {} }));
    engine.upsert({ ...rule, forMs: 0, receivers: [{ type: 'webhook', url }] });
    await engine.evaluate(1000);
    assert.equal(got[0].status, 'firing');
    assert.equal(engine.remove('cpu'), true);
    // The resolve notice is sent in the background: wait for it (a busy machine only makes it later).
    await waitFor(() => got.length >= 2, 'the resolve notice reaches the receiver');
    assert.equal(got[1]?.status, 'resolved');
    assert.equal(got[1].alerts[0].fingerprint, got[0].alerts[0].fingerprint);
  } finally {
    receiver.close();
  }
});

test('p95 regression: the window p95 over the last day p95, per endpoint; fast endpoints are ignored', async () => {
  const { storeValueSource, defaultRules } = await import('../src/alerts/index.ts');
  const { alertQueries } = await import('../src/app.ts');
  const { randomBytes } = await import('node:crypto');
  const t = await startTestApp();
  try {
    const nowMs = Date.now();
    const spans: object[] = [];
    const add = (name: string, startMs: number, durationMs: number, n: number) => {
      for (let i = 0; i < n; i++) {
        const start = BigInt(startMs + i * 1000) * 1_000_000n;
        spans.push({
          traceId: randomBytes(16).toString('hex'),
          spanId: randomBytes(8).toString('hex'),
          name,
          kind: 2,
          startTimeUnixNano: String(start),
          endTimeUnixNano: String(start + BigInt(durationMs) * 1_000_000n),
        });
      }
    };
    // Two hours ago (the baseline): /slow at 100 ms, /fast at 10 ms. Now (the 10 min window): 300 and 50.
    add('GET /slow', nowMs - 2 * 3_600_000, 100, 30);
    add('GET /fast', nowMs - 2 * 3_600_000, 10, 30);
    add('GET /slow', nowMs - 120_000, 300, 30);
    add('GET /fast', nowMs - 120_000, 50, 30);
    const r = await post(
      t.app,
      '/v1/traces',
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
            scopeSpans: [{ spans }],
          },
        ],
      }),
      'application/json',
    );
    assert.equal(r.status, 200);
    const rule = defaultRules().find((x) => x.id === 'p95-regression')!;
    const source = storeValueSource(alertQueries(t.store), async () => undefined);
    const v = await source(rule, nowMs + 60_000);
    // /fast regressed 5× but its p95 (50 ms) is under minP95Ms (100); /slow went 100 → 300 ms: 3×.
    assert.ok(Math.abs(v.value! - 3) < 0.01, String(v.value));
    assert.equal(v.labels.endpoint, 'GET /slow');
    assert.equal(v.labels.baselineP95Ms, '100.0');
    const lower = await source(
      { ...rule, expr: { ...rule.expr, minP95Ms: 0 } as typeof rule.expr },
      nowMs + 60_000,
    );
    assert.equal(lower.labels.endpoint, 'GET /fast');
    assert.ok(Math.abs(lower.value! - 5) < 0.01, String(lower.value));
  } finally {
    await t.close();
  }
});

/** A local HTTP receiver that records each JSON body with its path. */
async function recordingReceiver(): Promise<{
  base: string;
  got: { path: string; body: any }[];
  close(): void;
}> {
  const got: { path: string; body: any }[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      got.push({ path: req.url ?? '', body: JSON.parse(data) });
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    close: () => server.close(),
  };
}

/** `queue.depth` = 5 now, and a rule without receivers that fires above 1 at once. */
async function queueRule(t: Awaited<ReturnType<typeof startTestApp>>, nowMs: number): Promise<void> {
  await t.store.writeMetricPoints([
    scalarPoint({
      name: 'queue.depth',
      service: 'worker',
      unit: '{job}',
      type: 'gauge',
      value: 5,
      timeUnixNano: BigInt(nowMs - 1000) * 1_000_000n,
      resourceAttributes: { 'service.name': 'worker', 'host.name': 'web-1' },
    }),
  ]);
  const r = await post(
    t.app,
    '/api/v1/alerts/rules',
    JSON.stringify({
      id: 'queue-deep',
      name: 'Queue deep',
      expr: { kind: 'metric', name: 'queue.depth' },
      op: '>',
      threshold: 1,
    }),
    'application/json',
  );
  assert.equal(r.status, 201);
}

const engineOf = (t: Awaited<ReturnType<typeof startTestApp>>) =>
  (t.app as unknown as { alertEngine: AlertEngine }).alertEngine;

test('without alertReceivers a rule with no receiver fires to nobody, and the API says "firing, not delivered"', async () => {
  const t = await startTestApp();
  try {
    const now = Date.now();
    await queueRule(t, now);
    await engineOf(t).evaluate(now);
    const states = await get(t.app, '/api/v1/alerts');
    const queue = states.json.alerts.find((a: any) => a.ruleId === 'queue-deep');
    assert.deepEqual(
      [queue.state, queue.value, queue.receivers, queue.delivery],
      ['firing', 5, 0, 'no-receiver'],
    );
    // The built-in rules have no receivers: 0, and no delivery while they are not firing.
    const cpu = states.json.alerts.find((a: any) => a.ruleId === 'cpu-high');
    assert.deepEqual([cpu.receivers, cpu.delivery], [0, null]);
    assert.deepEqual(engineOf(t).events()[0]!.deliveries, []);
  } finally {
    await t.close();
  }
});

test('alertReceivers routes every rule without receivers: Alertmanager JSON with publicUrl links, Slack, PagerDuty', async () => {
  const rx = await recordingReceiver();
  const t = await startTestApp({
    alertReceivers: `${rx.base}/am, slack:${rx.base}/slack,pagerduty:R0UT1NG@${rx.base}/pd`,
    publicUrl: 'https://siperf.example.com/',
  });
  try {
    const nowMs = Date.now();
    await queueRule(t, nowMs);
    await engineOf(t).evaluate(nowMs);
    const at = (path: string) => rx.got.find((g) => g.path === path)?.body;
    const rule = 'https://siperf.example.com/alerts?rule=queue-deep';
    // fingerprint: the first 16 hex digits of sha256("queue-deep|metric=queue.depth").
    assert.deepEqual(at('/am'), {
      version: '4',
      groupKey: '{}:{alertname="Queue deep"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'siperf',
      groupLabels: { alertname: 'Queue deep' },
      commonLabels: { alertname: 'Queue deep', severity: 'warning', metric: 'queue.depth' },
      commonAnnotations: { summary: 'Queue deep: 5 > 1' },
      externalURL: 'https://siperf.example.com',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'Queue deep', severity: 'warning', metric: 'queue.depth' },
          annotations: { summary: 'Queue deep: 5 > 1', value: '5', threshold: '1' },
          startsAt: new Date(nowMs).toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: rule,
          fingerprint: '46f05c02f02c4b5f',
        },
      ],
    });
    // Slack's mrkdwn escapes > as &gt; (shown as "5 > 1"); the name once, linked to the rule.
    assert.deepEqual(at('/slack'), {
      text: `:red_circle: FIRING [warning] <${rule}|*Queue deep*>: 5 &gt; 1`,
    });
    const pd = at('/pd');
    // The rule's name once (it read "Queue deep: Queue deep: 5 > 1").
    assert.equal(pd.payload.summary, 'Queue deep: 5 > 1');
    assert.deepEqual(
      [pd.routing_key, pd.event_action, pd.dedup_key, pd.client_url],
      ['R0UT1NG', 'trigger', '46f05c02f02c4b5f', rule],
    );
    const states = await get(t.app, '/api/v1/alerts');
    const queue = states.json.alerts.find((a: any) => a.ruleId === 'queue-deep');
    assert.deepEqual([queue.state, queue.receivers, queue.delivery], ['firing', 3, 'delivered']);
    assert.equal(states.json.alerts.find((a: any) => a.ruleId === 'cpu-high').receivers, 3);
  } finally {
    await t.close();
    rx.close();
  }
});

test('alertReceivers and publicUrl are checked entry by entry; no receiver is said once at start', async () => {
  const { alertReceiverList, loadConfig } = await import('../src/config.ts');
  assert.deepEqual(
    alertReceiverList(
      'https://am.example/hook, slack:https://hooks.slack.com/services/T/B/X,pagerduty:abc123,pagerduty:k@http://127.0.0.1:9/e,webhook:http://x/y',
    ),
    [
      { type: 'webhook', url: 'https://am.example/hook' },
      { type: 'slack', url: 'https://hooks.slack.com/services/T/B/X' },
      { type: 'pagerduty', routingKey: 'abc123' },
      { type: 'pagerduty', routingKey: 'k', url: 'http://127.0.0.1:9/e' },
      { type: 'webhook', url: 'http://x/y' },
    ],
  );
  assert.throws(
    () => loadConfig({ flags: { alertReceivers: 'https://ok.example/, ftp://x' } }),
    /alertReceivers: entry 2: expected an http\(s\) URL, slack:<url>, webhook:<url> or pagerduty:<routing key>, got "ftp:\/\/x"/,
  );
  assert.throws(
    () =>
      loadConfig({ flags: { alertReceivers: 'slack:hooks.slack.com/services/T000/B000/secret-token-xyz' } }),
    (err: any) =>
      /alertReceivers: entry 1: slack: expected an http\(s\) URL after "slack:", got "hooks\.slack\.com\/services\/T000\/B0…"/.test(
        err.detail,
      ) && !err.detail.includes('secret'),
  );
  assert.throws(
    () => loadConfig({ flags: { alertReceivers: 'pagerduty:' } }),
    /pagerduty: expected a routing key of 1\.\.64 letters, digits, _ or -, got 0 characters/,
  );
  assert.throws(
    () => loadConfig({ flags: { publicUrl: 'siperf.example.com' } }),
    /publicUrl: expected an http\(s\) URL without query or fragment, got "siperf\.example\.com"/,
  );
  // The warning at start: once, naming the rules that notify nobody; none when receivers are set.
  const { buildApp, publicUrlOf } = await import('../src/app.ts');
  const { createDuckDbStore } = await import('../src/storage/index.ts');
  const { default: pino } = await import('pino');
  for (const [flags, expected] of [
    [{}, 1],
    [{ alertReceivers: 'http://127.0.0.1:9/' }, 0],
    [{ alertEvaluationIntervalMs: 0 }, 0],
  ] as const) {
    const lines: any[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const config = loadConfig({ flags: { ...TEST_SERVER_FLAGS, logLevel: 'info', ...flags } });
    const store = await createDuckDbStore({ path: ':memory:' });
    const app = await buildApp({ config, store, logger });
    try {
      const warned = lines.filter((l) => /alertReceivers is unset/.test(l.msg ?? ''));
      assert.equal(warned.length, expected, JSON.stringify(flags));
      if (expected === 1) {
        assert.deepEqual(warned[0].rules, [
          'cpu-high',
          'memory-high',
          'disk-full-24h',
          'error-rate-high',
          'p95-slow',
          'p95-regression',
        ]);
        assert.match(
          warned[0].msg,
          /^6 alert rule\(s\) have no receiver and alertReceivers is unset: they fire to nobody/,
        );
      }
    } finally {
      await app.close();
      await store.close();
    }
  }
  assert.equal(
    publicUrlOf(loadConfig({ flags: { publicUrl: 'https://a.example/x/' } })),
    'https://a.example/x',
  );
  assert.equal(publicUrlOf(loadConfig({ flags: { port: 4318 } })), 'http://127.0.0.1:4318');
});

test('a shutdown during an evaluation waits for it: no rule reads a closed store', async () => {
  const { startServer } = await import('../src/app.ts');
  const { loadConfig } = await import('../src/config.ts');
  const { default: pino } = await import('pino');
  const lines: any[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const config = loadConfig({
    flags: {
      ...TEST_SERVER_FLAGS,
      logLevel: 'info',
      port: 0,
      resourceSampleIntervalMs: 0,
      alertEvaluationIntervalMs: 3_600_000,
    },
  });
  const server = await startServer(config, logger);
  const engine = (server.app as unknown as { alertEngine: AlertEngine }).alertEngine;
  // Forty more rules, each a store read, so the evaluation is mid-way when the shutdown begins.
  for (let i = 0; i < 40; i++) {
    engine.upsert(
      parseRule({
        id: `m${i}`,
        name: `m${i}`,
        expr: { kind: 'metric', name: `m${i}` },
        op: '>',
        threshold: 1,
      }),
    );
  }
  let evaluated = false;
  const evaluation = engine.evaluate(Date.now()).then(() => {
    evaluated = true;
  });
  await server.stop();
  assert.equal(evaluated, true, 'the evaluation ended before stop() resolved');
  await evaluation;
  const closed = lines.filter((l) => JSON.stringify(l).includes('the store is closed'));
  assert.deepEqual(closed, [], 'no rule read the closed store');
  assert.ok(lines.some((l) => l.msg === 'siperf stopped; store closed'));
  // Stopped for good: a later tick evaluates nothing.
  const before = engine.states().map((s) => s.lastEvaluatedMs);
  await engine.evaluate(Date.now() + 60_000);
  assert.deepEqual(
    engine.states().map((s) => s.lastEvaluatedMs),
    before,
  );
});
