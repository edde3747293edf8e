import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Recommendation } from '../model/index.ts';
import { afterWindows, figureOf, judgeOutcome, OUTCOME_RULE, startOutcome } from './outcome.ts';
import { draft, evidence, gain, target } from './shape.ts';
import { RecommendationStates } from './states.ts';

const H = 3_600_000;
const MIN = 60_000;
/** 2026-12-07T10:00:00Z: the evidence window is the hour before it. */
const T0 = Date.parse('2026-12-07T10:00:00Z');

function rec(kind: Recommendation['kind'], o: Partial<Parameters<typeof draft>[0]> = {}): Recommendation {
  const d = draft({
    key: `${kind}:x`,
    kind,
    area: 'query',
    severity: 'warning',
    title: 'x',
    target: target({ service: 'shop', endpoint: 'GET /results' }),
    evidence: evidence({ fromMs: T0 - H, toMs: T0 }),
    gain: gain({ arithmetic: [], confidence: 'low', confidenceReason: '', description: '' }),
    apply: { kind: 'sql', how: 'create it', change: null },
    ...o,
  });
  return {
    ...d,
    state: 'open',
    stateChangedAt: null,
    stateReason: null,
    outcome: null,
    firstSeen: new Date(T0).toISOString(),
    lastSeen: new Date(T0).toISOString(),
  };
}

/** An index whose endpoint's p95 is 180 ms, expected 10 ms after: 170 ms expected, 85 ms required. */
const index = rec('index', {
  gain: gain({
    arithmetic: [],
    confidence: 'high',
    confidenceReason: '',
    description: '',
    msPerRequest: 150,
    endpoints: [
      {
        service: 'shop',
        endpoint: 'GET /results',
        requestsPerHour: 600,
        p95Ms: 180,
        expectedP95Ms: 10,
        statementShare: 0.9,
        dominant: true,
        msPerRequest: 150,
        sampledRequests: 100,
      },
    ],
  }),
});

test('the figure of each kind: endpoint p95, error rate, statement mean, cache hit ratio, or none', () => {
  const p95 = figureOf(index)!;
  assert.equal(p95.metric, 'endpoint-p95');
  assert.equal(p95.figure, 'p95 of GET /results (shop)');
  assert.equal(p95.expectedImprovement, 170);
  const errors = figureOf(rec('error-origin'))!;
  assert.equal(errors.metric, 'endpoint-error-rate');
  assert.equal(errors.unit, '%');
  assert.equal(errors.expectedImprovement, null);
  const plan = figureOf(
    rec('plan', { target: target({ service: 'shop', fingerprint: 'ab12', statement: 'SELECT 1' }) }),
  )!;
  assert.equal(plan.metric, 'statement-mean');
  assert.equal(plan.figure, 'mean of SELECT 1 (shop)');
  const cache = figureOf(
    rec('cache-size', {
      target: target({ service: 'shop', cache: 'products' }),
      gain: gain({
        arithmetic: [],
        confidence: 'medium',
        confidenceReason: '',
        description: '',
        hitRatioPoints: 12,
      }),
    }),
  )!;
  assert.equal(cache.metric, 'cache-hit-ratio');
  assert.equal(cache.better, 'higher');
  assert.equal(cache.expectedImprovement, 12);
  assert.equal(figureOf(rec('right-size', { target: target({ host: 'db-1' }) })), null);
  assert.equal(
    figureOf(rec('n-plus-one', { target: target({ service: 'shop', fingerprint: 'ab12' }) })),
    null,
  );
});

test('applied at 10:00:20 (injected clock): judged over 10:01 … 11:01 once it has passed with 30 requests', () => {
  const appliedAt = T0 + 20_000;
  const o = startOutcome(figureOf(index)!, index, appliedAt, { value: 180, samples: 600 });
  assert.equal(o.before, 180);
  assert.equal(o.samplesBefore, 600);
  assert.equal(o.judgeableAt, '2026-12-07T11:01:00.000Z');
  assert.match(o.verdict, /can be judged from 2026-12-07T11:01:00.000Z \(in 60.7 min\)/);
  assert.match(o.rule, /falls by at least half the 170 ms the gain expects \(85 ms\)/);

  // Not yet at 11:00:59; at 11:01 the first like window; at 11:30:30 also the latest one (10:30 … 11:30).
  assert.deepEqual(afterWindows(o, T0 + H + 59_000), []);
  assert.deepEqual(afterWindows(o, T0 + H + MIN), [{ fromMs: T0 + MIN, toMs: T0 + H + MIN }]);
  assert.deepEqual(afterWindows(o, T0 + H + 30 * MIN + 30_000), [
    { fromMs: T0 + MIN, toMs: T0 + H + MIN },
    { fromMs: T0 + 30 * MIN, toMs: T0 + H + 30 * MIN },
  ]);

  const w = { fromMs: T0 + MIN, toMs: T0 + H + MIN };
  const now = T0 + H + MIN;
  // 180 → 12 ms: 168 ≥ 85.
  const yes = judgeOutcome(o, w, { value: 12, samples: 40 }, now);
  assert.equal(yes.state, 'confirmed');
  assert.equal(yes.outcome.after, 12);
  assert.equal(yes.outcome.samplesAfter, 40);
  assert.deepEqual(yes.outcome.afterWindow, {
    from: '2026-12-07T10:01:00.000Z',
    to: '2026-12-07T11:01:00.000Z',
  });
  assert.equal(
    yes.outcome.verdict,
    'p95 of GET /results (shop) 180 → 12 ms: 168 ms better, at least the 85 ms required (half the 170 ms expected): confirmed',
  );
  // 180 → 100 ms: 80 < 85.
  const no = judgeOutcome(o, w, { value: 100, samples: 40 }, now);
  assert.equal(no.state, 'not-confirmed');
  assert.match(no.outcome.verdict, /80 ms better, less than the 85 ms required/);
  // 29 requests are too few, whatever the figure.
  const few = judgeOutcome(o, w, { value: 12, samples: OUTCOME_RULE.minSamples - 1 }, now);
  assert.equal(few.state, 'applied');
  assert.equal(few.outcome.after, null);
  assert.match(few.outcome.verdict, /has 29 of the 30 requests needed/);
});

test('without a number in the gain: confirmed from a 20% improvement of the before figure', () => {
  const r = rec('error-origin');
  const o = startOutcome(figureOf(r)!, r, T0, { value: 10, samples: 200 });
  assert.match(o.rule, /falls by at least 20% of its before figure/);
  const w = { fromMs: T0, toMs: T0 + H };
  // Error rate 10% → 8%: 2 points ≥ 20% of 10.
  assert.equal(judgeOutcome(o, w, { value: 8, samples: 200 }, T0 + H).state, 'confirmed');
  // 10% → 8.5%: 1.5 < 2.
  assert.equal(judgeOutcome(o, w, { value: 8.5, samples: 200 }, T0 + H).state, 'not-confirmed');
  // Nothing measured before: never judged.
  const none = startOutcome(figureOf(r)!, r, T0, { value: null, samples: 0 });
  assert.deepEqual(afterWindows(none, T0 + 2 * H), []);
  assert.match(none.verdict, /not judged: no requests in the before window/);
});

test('outcomes are saved with the state and read back; a file written before outcomes reads as null', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siperf-outcome-'));
  try {
    const file = join(dir, 'recommendations.json');
    const a = await RecommendationStates.open({ file });
    const o = startOutcome(figureOf(index)!, index, T0, { value: 180, samples: 600 });
    a.set(index, 'applied', 'created the index', T0, o);
    await a.flush();
    const b = await RecommendationStates.open({ file });
    assert.deepEqual(b.get(index.id)!.outcome, o);
    assert.deepEqual(b.get(index.id)!.snapshot.outcome, o);
    assert.equal(b.get(index.id)!.state, 'applied');

    const old = { ...index } as Partial<Recommendation>;
    delete old.outcome;
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        records: [
          {
            id: index.id,
            key: index.key,
            kind: index.kind,
            state: 'dismissed',
            changedAt: new Date(T0).toISOString(),
            reason: null,
            snapshot: { ...old, state: 'dismissed' },
          },
        ],
      }),
    );
    const c = await RecommendationStates.open({ file });
    assert.equal(c.get(index.id)!.state, 'dismissed');
    assert.equal(c.get(index.id)!.outcome, null);
    assert.equal(c.get(index.id)!.snapshot.outcome, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
