import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TransactionMarkRow } from '../storage/index.ts';
import { transactionStats } from './transactions.ts';

/** A mark of transaction `id` from `fromMs` to `toMs` (ms on a made-up clock). */
function mark(id: string, event: 'start' | 'step' | 'end', step: string, fromMs: number, toMs: number) {
  return {
    id,
    name: 'annotate',
    event,
    step,
    success: event === 'start' ? undefined : true,
    service: 'annotate-api',
    startNs: BigInt(fromMs) * 1_000_000n,
    durationNs: BigInt(toMs - fromMs) * 1_000_000n,
    isError: false,
  } satisfies TransactionMarkRow;
}

test('time between the steps: what no step covers, parallel steps counted once', () => {
  const marks = [
    // As the demo's sessions: log in 1–5, load task 10–30, save 40–45, list results 50–70, end at 70.
    // 70 ms, of which the steps cover 4 + 20 + 5 + 20 = 49: 21 ms between them.
    mark('a', 'start', '', 0, 0),
    mark('a', 'step', 'log in', 1, 5),
    mark('a', 'step', 'load task', 10, 30),
    mark('a', 'step', 'save annotation', 40, 45),
    mark('a', 'step', 'list results', 50, 70),
    mark('a', 'end', '', 70, 70),
    // Two steps in parallel, 10–40 and 20–50: together they cover 10–50 = 40 ms of 100; 60 between.
    mark('b', 'start', '', 1000, 1000),
    mark('b', 'step', 'load task', 1010, 1040),
    mark('b', 'step', 'list results', 1020, 1050),
    mark('b', 'end', '', 1100, 1100),
  ];
  const [t] = transactionStats(marks, 10_000_000_000n, 60_000);
  assert.equal(t!.count, 2);
  // (70 + 100) / 2 = 85 ms; between: (21 + 60) / 2 = 40.5 ms, 81 of 170 ms.
  assert.equal(t!.meanMs, 85);
  assert.equal(t!.betweenSteps.meanMs, 40.5);
  assert.equal(t!.betweenSteps.shareOfTime, 81 / 170);
  // The steps' own shares (load task 20 + 30, list results 20 + 30 of 170) count the overlap twice.
  assert.equal(t!.steps.find((s) => s.step === 'load task')!.shareOfTime, 50 / 170);
});
