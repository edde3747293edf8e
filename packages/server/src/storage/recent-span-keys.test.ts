import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentSpanKeys, spanKeyHash } from './recent-span-keys.ts';

test('sequential and zero-padded span ids get distinct keys (every hex digit counts)', () => {
  const trace = 'e'.repeat(32);
  const keys = new Set<number>();
  for (let i = 0; i < 100_000; i++) keys.add(spanKeyHash(trace, i.toString(16).padStart(16, '0')));
  for (let i = 0; i < 1000; i++) keys.add(spanKeyHash(i.toString(16).padStart(32, '0'), '0000000000000001'));
  assert.equal(keys.size, 101_000);
  for (const k of keys) assert.ok(Number.isSafeInteger(k) && k >= 0 && k < 2 ** 52);
});

test('two generations: the last generationSize keys are always remembered, older ones age out', () => {
  const r = new RecentSpanKeys(3);
  for (const k of [1, 2, 3, 4, 5, 6, 7]) r.add(k);
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((k) => r.has(k)),
    [false, false, false, true, true, true, true],
  );
});
