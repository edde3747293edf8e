/**
 * Business transactions over REST: marks stored as spans, reassembled per name with step statistics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, post, startTestApp } from './helpers.ts';

const json = 'application/json';

test('start, steps and end over REST give per-name and per-step statistics; an idle one is abandoned', async () => {
  const t = await startTestApp({ transactionAbandonAfterMs: 1000 });
  try {
    const ids: string[] = [];
    for (const [pay, ok] of [
      [100, true],
      [300, false],
    ] as const) {
      const s = await post(
        t.app,
        '/api/v1/apm/transactions/start',
        JSON.stringify({ name: 'checkout', service: 'shop' }),
        json,
      );
      assert.equal(s.status, 201);
      assert.match(s.json.id, /^[0-9a-f]{32}$/);
      ids.push(s.json.id);
      const cart = await post(
        t.app,
        `/api/v1/apm/transactions/${s.json.id}/steps`,
        JSON.stringify({ name: 'cart', durationMs: 20 }),
        json,
      );
      assert.equal(cart.status, 201);
      await post(
        t.app,
        `/api/v1/apm/transactions/${s.json.id}/steps`,
        JSON.stringify({ name: 'pay', durationMs: pay, success: ok }),
        json,
      );
      const end = await post(
        t.app,
        `/api/v1/apm/transactions/${s.json.id}/end`,
        JSON.stringify({ success: ok }),
        json,
      );
      assert.equal(end.status, 200);
      assert.equal(end.json.name, 'checkout');
    }
    const idle = await post(
      t.app,
      '/api/v1/apm/transactions/start',
      JSON.stringify({ name: 'checkout', id: 'order-77' }),
      json,
    );
    assert.equal(idle.json.id, 'order-77');
    await new Promise((r) => setTimeout(r, 1100));

    const { status, json: body } = await get(t.app, '/api/v1/apm/transactions?window=15m');
    assert.equal(status, 200);
    const checkout = body.transactions.find((x: any) => x.name === 'checkout');
    assert.equal(checkout.count, 2);
    assert.equal(checkout.successes, 1);
    assert.equal(checkout.successRate, 0.5);
    assert.equal(checkout.abandoned, 1, 'started, never ended, idle longer than 1 s');
    assert.equal(checkout.inProgress, 0);
    const pay = checkout.steps.find((s: any) => s.step === 'pay');
    assert.equal(pay.count, 2);
    assert.equal(pay.failures, 1);
    assert.equal(pay.failureRate, 0.5);
    assert.ok(
      Math.abs(pay.p95Ms - (100 + 0.95 * 200)) < 1e-6,
      `p95 of 100 and 300 (type 7) is 290, got ${pay.p95Ms}`,
    );
    assert.equal(checkout.slowestStep, 'pay');
    const cart = checkout.steps.find((s: any) => s.step === 'cart');
    assert.equal(cart.p95Ms, 20);
    assert.ok(pay.shareOfTime > cart.shareOfTime && pay.shareOfTime <= 1);
  } finally {
    await t.close();
  }
});

test('bad transaction calls name the field; unknown ids are 404', async () => {
  const t = await startTestApp();
  try {
    const noName = await post(t.app, '/api/v1/apm/transactions/start', JSON.stringify({}), json);
    assert.equal(noName.status, 400);
    assert.equal(noName.json.code, 'ERR_API_BODY');
    assert.equal(noName.json.field, 'name');
    const badId = await post(
      t.app,
      '/api/v1/apm/transactions/start',
      JSON.stringify({ name: 'x', id: 'a b' }),
      json,
    );
    assert.equal(badId.json.field, 'id');
    const unknown = await post(t.app, `/api/v1/apm/transactions/${'f'.repeat(32)}/end`, '{}', json);
    assert.equal(unknown.status, 404);
    const s = await post(t.app, '/api/v1/apm/transactions/start', JSON.stringify({ name: 'x' }), json);
    const badStep = await post(
      t.app,
      `/api/v1/apm/transactions/${s.json.id}/steps`,
      JSON.stringify({ name: 'y', durationMs: -1 }),
      json,
    );
    assert.equal(badStep.status, 400);
    assert.equal(badStep.json.field, 'durationMs');
  } finally {
    await t.close();
  }
});

test('GET transactions?service= keeps the transactions of that service', async () => {
  const t = await startTestApp();
  try {
    // checkout in shop twice (pay 100 and 300 ms) and once in backoffice (pay 50 ms), one refund in backoffice.
    for (const [service, name, pay] of [
      ['shop', 'checkout', 100],
      ['shop', 'checkout', 300],
      ['backoffice', 'checkout', 50],
      ['backoffice', 'refund', 70],
    ] as const) {
      const s = await post(t.app, '/api/v1/apm/transactions/start', JSON.stringify({ name, service }), json);
      await post(
        t.app,
        `/api/v1/apm/transactions/${s.json.id}/steps`,
        JSON.stringify({ name: 'pay', durationMs: pay }),
        json,
      );
      await post(t.app, `/api/v1/apm/transactions/${s.json.id}/end`, JSON.stringify({ success: true }), json);
    }
    /** [name, completed, p95 of the pay step] per transaction name. */
    const list = async (query: string) => {
      const r = await get(t.app, `/api/v1/apm/transactions?window=15m${query}`);
      assert.equal(r.status, 200);
      return r.json.transactions
        .map((x: any) => [x.name, x.count, x.steps.find((s: any) => s.step === 'pay').p95Ms])
        .sort((a: any, b: any) => a[0].localeCompare(b[0]));
    };
    // p95 (type 7) of 100 and 300 is 100 + 0.95·200 = 290; of 50, 100, 300 it is 100 + 0.9·200 = 280.
    assert.deepEqual(await list(''), [
      ['checkout', 3, 280],
      ['refund', 1, 70],
    ]);
    assert.deepEqual(await list('&service=shop'), [['checkout', 2, 290]]);
    assert.deepEqual(await list('&service=backoffice'), [
      ['checkout', 1, 50],
      ['refund', 1, 70],
    ]);
    assert.deepEqual(await list('&service=nobody'), []);
  } finally {
    await t.close();
  }
});
