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

const S = 1_000_000_000n;

test('every key of the window is remembered whatever the rate; older ones go once minKeys newer remain', () => {
  // 3.5 M keys within one minute: far more than minKeys and than one table holds (1.5 M).
  const r = new RecentSpanKeys({ minKeys: 1000, windowNs: 60n * S });
  const t0 = 1_000n * S;
  const n = 3_500_000;
  for (let i = 0; i < n; i++) r.add(i * 7919, t0 + (BigInt(i) * 50n * S) / BigInt(n));
  assert.equal(r.size, n);
  for (let i = 0; i < n; i += 997) assert.ok(r.has(i * 7919), `key ${i} forgotten`);
  assert.ok(!r.has(n * 7919));
  assert.ok(r.bytes / n < 16, `${r.bytes / n} bytes a key`);
  // Ten minutes later the window holds none of them: the old tables go, at least minKeys stay.
  const t1 = t0 + 600n * S;
  for (let i = 0; i < 2_000_000; i++) r.add(2 ** 40 + i, t1);
  assert.ok(!r.has(0), 'a key older than the window and than minKeys is still remembered');
  assert.ok(r.size < 2_000_000 + 1_600_000, `${r.size} keys kept`);
  for (let i = 0; i < 2_000_000; i += 1009) assert.ok(r.has(2 ** 40 + i));
});

test('at least minKeys are remembered whatever their age', () => {
  const r = new RecentSpanKeys({ minKeys: 2_000_000, windowNs: 1n });
  for (let i = 0; i < 6_000_000; i++) r.add(i, BigInt(i) * S);
  for (let i = 4_000_000; i < 6_000_000; i += 101)
    assert.ok(r.has(i), `key ${i} of the last minKeys forgotten`);
  // Tables go whole: what is kept stays below minKeys plus two tables (1.5 M keys each).
  assert.ok(!r.has(0), 'the oldest key is still remembered');
  assert.ok(r.size < 2_000_000 + 2 * 1_572_864, `${r.size} keys kept`);
});

test('keys at the edges of the 52-bit range', () => {
  const r = new RecentSpanKeys();
  for (const k of [0, 1, 2 ** 32, 2 ** 32 - 1, 2 ** 52 - 1]) r.add(k, 1n);
  for (const k of [0, 1, 2 ** 32, 2 ** 32 - 1, 2 ** 52 - 1]) assert.ok(r.has(k));
  assert.ok(!r.has(2));
  r.add(0, 2n);
  assert.equal(r.size, 5);
});

test('the keys written as chunks come back whole; bytes that are not such a snapshot are refused', () => {
  const keys = new RecentSpanKeys({ minKeys: 10 });
  // 5,000 keys: the first table grows from 2^10 slots to 2^13 on the way.
  for (let k = 1; k <= 5000; k++) keys.add(k * 7919, 1_000n + BigInt(k));
  const bytes = Buffer.concat(keys.toChunks());
  const back = RecentSpanKeys.fromBytes(bytes);
  assert.ok(back);
  assert.equal(back.size, 5000);
  assert.equal(back.bytes, keys.bytes);
  for (const k of [1, 2500, 5000]) assert.equal(back.has(k * 7919), true, `key ${k}`);
  assert.equal(back.has(5001 * 7919), false);
  assert.equal(RecentSpanKeys.fromBytes(bytes.subarray(0, bytes.length - 8)), undefined, 'truncated');
  assert.equal(RecentSpanKeys.fromBytes(Buffer.from('SKEYS0....')), undefined, 'another tag');
  assert.equal(RecentSpanKeys.fromBytes(Buffer.alloc(0)), undefined, 'empty');
});
