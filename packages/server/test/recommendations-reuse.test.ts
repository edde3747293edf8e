/**
 * The findings behind `GET /api/v1/recommendations` are reused for `recommendationsMaxAgeMs` (issue 15: a
 * day's list over 10 M spans took 5–6 s to compute), and computed again when the age, the traffic or the
 * sources say so. A computation is counted by the store reads only it makes (`endpointAggregates`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, post, startTestApp } from './helpers.ts';

const hex = (n: number) => randomBytes(n).toString('hex');
const str = (v: string) => ({ stringValue: v });

/** `n` requests of GET /items, each with 6 serial lookups (an N+1), starting at `t0Ms`, 1 s apart. */
function requests(n: number, t0Ms: number): string {
  const ns = (ms: number) => String(BigInt(Math.round(ms)) * 1_000_000n);
  const spans = [];
  for (let i = 0; i < n; i++) {
    const traceId = hex(16);
    const root = hex(8);
    const t = t0Ms + i * 1000;
    spans.push({
      traceId,
      spanId: root,
      name: 'GET /items',
      kind: 2,
      startTimeUnixNano: ns(t),
      endTimeUnixNano: ns(t + 40),
      attributes: [
        { key: 'http.request.method', value: str('GET') },
        { key: 'http.route', value: str('/items') },
      ],
    });
    for (let k = 0; k < 6; k++)
      spans.push({
        traceId,
        spanId: hex(8),
        parentSpanId: root,
        name: 'pg.query',
        kind: 3,
        startTimeUnixNano: ns(t + 5 + 5 * k),
        endTimeUnixNano: ns(t + 7 + 5 * k),
        attributes: [
          { key: 'db.system', value: str('postgresql') },
          { key: 'db.statement', value: str(`SELECT * FROM items WHERE id = ${k + 1}`) },
        ],
      });
  }
  return JSON.stringify({
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: str('reuse') }] }, scopeSpans: [{ spans }] },
    ],
  });
}

test('findings are reused within recommendationsMaxAgeMs, and computed again on new traffic or age', async () => {
  let clock = Date.now();
  const t = await startTestApp({ recommendationsMaxAgeMs: 60_000 }, { now: () => clock });
  try {
    let computations = 0;
    const store = t.store as unknown as Record<string, (...a: unknown[]) => unknown>;
    const read = store.endpointAggregates!.bind(t.store);
    store.endpointAggregates = (...a: unknown[]) => {
      computations++;
      return read(...a);
    };
    const list = async () => {
      const r = await get(t.app, '/api/v1/recommendations?window=1h');
      assert.equal(r.status, 200);
      return r.json as { to: string; recommendations: { kind: string }[] };
    };
    assert.equal(
      (await post(t.app, '/v1/traces', requests(100, clock - 600_000), 'application/json')).status,
      200,
    );

    const first = await list();
    assert.equal(computations, 1);
    assert.ok(first.recommendations.some((r) => r.kind === 'n-plus-one'));
    assert.equal(first.to, new Date(clock).toISOString());

    // 10 s later, the same traffic: reused, over the first window.
    clock += 10_000;
    const again = await list();
    assert.equal(computations, 1);
    assert.equal(again.to, first.to);

    // One more request in the window (100 → 101: 1%): still reused; two more (3%): computed again.
    await post(t.app, '/v1/traces', requests(1, clock - 300_000), 'application/json');
    await list();
    assert.equal(computations, 1);
    await post(t.app, '/v1/traces', requests(2, clock - 200_000), 'application/json');
    const fresh = await list();
    assert.equal(computations, 2);
    assert.equal(fresh.to, new Date(clock).toISOString());

    // Half the age gone (30 s): the old answer at once, and a recomputation over the new window behind it.
    const before = clock;
    clock += 30_000;
    const stale = await list();
    assert.equal(stale.to, new Date(before).toISOString());
    let refreshed = stale;
    for (let i = 0; i < 600 && refreshed.to === stale.to; i++) {
      await sleep(50);
      refreshed = await list();
    }
    assert.equal(refreshed.to, new Date(clock).toISOString(), 'the background computation replaced it');
    assert.equal(computations, 3);

    // Past the age (60 s after that computation): computed on the request.
    clock += 61_000;
    const late = await list();
    assert.equal(late.to, new Date(clock).toISOString());
    assert.equal(computations, 4);

    // A host's first samples (the week the hosts are judged on): computed again at once.
    const points = Array.from({ length: 10 }, (_, i) => ({
      timeUnixNano: String(BigInt(clock - (i + 1) * 600_000) * 1_000_000n),
      asInt: String(8 * 2 ** 30),
    }));
    const metrics = JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'host.name', value: str('web-9') }] },
          scopeMetrics: [
            { metrics: [{ name: 'system.memory.usage', unit: 'By', gauge: { dataPoints: points } }] },
          ],
        },
      ],
    });
    assert.equal((await post(t.app, '/v1/metrics', metrics, 'application/json')).status, 200);
    await list();
    assert.equal(computations, 5);
  } finally {
    await t.close();
  }
});
