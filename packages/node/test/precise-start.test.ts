/**
 * The anchored clock and the start refinement on their own: readings agree with `Date.now()` and keep
 * sub-ms digits; spans with a start given by their caller are left as they are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { PreciseStartSpanProcessor, refineStartTime } from '../src/precise-start.ts';
import { hrTimeAt, hrTimeMinusMs } from '../src/util/precise-clock.ts';

const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;

test('the anchored clock stays within 1.5 ms of Date.now(), goes back only when it re-anchors and by less than 2 ms, and has sub-ms digits', () => {
  let last = hrTimeAt();
  let subMs = 0;
  let backSteps = 0;
  for (let i = 0; i < 20_000; i++) {
    const before = Date.now();
    const t = hrTimeAt();
    const after = Date.now();
    // Date.now() truncates: the true time is in [before, after + 1); the anchor adds at most 0.5 ms of error.
    assert.ok(ms(t) >= before - 1 && ms(t) <= after + 1.5, `${ms(t)} vs Date.now() ${before}..${after}`);
    // Between re-anchors the readings follow performance.now(); a re-anchor (the estimate left Date.now()'s
    // window, as when the process was descheduled between the two reads) may step back, by less than the
    // ~1.5 ms the readings may be off Date.now() (2 ms allowed). Re-anchors are rare.
    if (ms(t) < ms(last)) {
      backSteps++;
      assert.ok(ms(last) - ms(t) < 2, `stepped back ${ms(last) - ms(t)} ms`);
    }
    assert.ok(t[1] >= 0 && t[1] < 1e9 && Number.isInteger(t[1]));
    if (t[1] % 1_000_000 !== 0) subMs++;
    last = t;
  }
  assert.ok(subMs > 19_900, `${subMs} of 20,000 readings have sub-ms digits`);
  assert.ok(backSteps <= 100, `${backSteps} of 20,000 readings went back`);
  assert.deepEqual(hrTimeMinusMs([10, 100_000], 0.25), [9, 999_850_000], 'borrows a second');
  assert.deepEqual(hrTimeMinusMs([10, 500_000_000], 0.25), [10, 499_750_000]);
});

test('refineStartTime: a start without a time gets sub-ms digits; a given start, or a second call, changes nothing', async () => {
  const provider = new BasicTracerProvider({ spanProcessors: [new PreciseStartSpanProcessor()] });
  const tracer = provider.getTracer('t');
  // A start is left as it is when the precise clock disagrees with it by more than the guard allows (the
  // process descheduled between the two readings, as on a loaded machine): of 50 spans, some are refined.
  const spans = Array.from(
    { length: 50 },
    () => tracer.startSpan('auto') as unknown as { startTime: [number, number] },
  );
  const refined = spans.filter((s) => s.startTime[1] % 1_000_000 !== 0);
  assert.ok(refined.length >= 1, 'no start of 50 was refined by the processor');
  const auto = refined[0]!;
  const before = [...auto.startTime];
  refineStartTime(auto);
  assert.deepEqual(auto.startTime, before, 'idempotent');
  const given = tracer.startSpan('given', { startTime: 1_700_000_000_000 }) as unknown as {
    startTime: [number, number];
  };
  assert.deepEqual(given.startTime, [1_700_000_000, 0], "the caller's start is kept");
  refineStartTime({ not: 'a span' });
  refineStartTime(undefined);
  await provider.shutdown();
});
