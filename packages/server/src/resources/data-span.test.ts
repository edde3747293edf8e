import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataSpan, durationText, overData } from './data-span.ts';

test('durations read in the unit a person uses; the span of data is said, with the window when shorter', () => {
  assert.deepEqual([45_000, 540_000, 86_400_000, 5.5 * 3_600_000, 2.25 * 86_400_000].map(durationText), [
    '45 s',
    '9 min',
    '24 h',
    '5.5 h',
    '2.3 days',
  ]);
  const minute = 60_000;
  const nine = dataSpan(Array.from({ length: 10 }, (_, i) => 1_000_000 + i * minute));
  assert.deepEqual(nine, { fromMs: 1_000_000, toMs: 1_000_000 + 9 * minute, samples: 10 });
  assert.equal(overData(nine, 86_400_000), 'over 9 min of data (10 samples) of the 24 h asked');
  // 55 of 60 minutes asked (≥ 90%): the window is not repeated.
  assert.equal(overData(dataSpan([0, 55 * minute]), 60 * minute), 'over 55 min of data (2 samples)');
  assert.equal(overData(dataSpan([5]), 3_600_000), 'from 1 sample of the 1 h asked');
  assert.equal(overData(dataSpan([]), 3_600_000), 'without data');
  // Several series: the earliest and latest of all of them, the largest count.
  assert.deepEqual(dataSpan([3, 4], [1, 2, 9]), { fromMs: 1, toMs: 9, samples: 3 });
});
