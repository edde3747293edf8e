import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HAS_CACHE_TRACES, readTrace, replay } from '../../../../bench/lib/cache-traces.ts';
import { coarseNow } from './coarse-clock.ts';
import { FrequencySketch } from './frequency-sketch.ts';
import { HillClimber } from './hill-climber.ts';
import { MemoryStore } from './memory-store.ts';

test('LRU by hand: capacity 2, a b a c b a → hits on the second a only', () => {
  const s = new MemoryStore<number>({ maxEntries: 2, policy: 'lru' });
  const hits = ['a', 'b', 'a', 'c', 'b', 'a'].map((k) => {
    const hit = s.get(k) !== undefined;
    if (!hit) s.set(k, 1);
    return hit;
  });
  // a, b miss; a hit (order b a); c evicts b (order a c); b misses and evicts a; a misses.
  assert.deepEqual(hits, [false, false, true, false, false, false]);
  assert.deepEqual(s.counters, { hits: 1, misses: 5, evictions: 3, expirations: 0 });
  assert.equal(s.size, 2);
});

test('W-TinyLFU keeps a hot set through a scan that flushes LRU', () => {
  const run = (policy: 'lru' | 'w-tinylfu') => {
    const s = new MemoryStore<number>({ maxEntries: 100, policy, adaptiveWindow: false });
    const access = (k: number) => s.get(k) ?? s.set(k, k);
    for (let round = 0; round < 10; round++) for (let k = 0; k < 50; k++) access(k);
    for (let k = 1000; k < 1500; k++) access(k); // 500 keys seen once
    const before = s.counters.hits;
    for (let k = 0; k < 50; k++) access(k);
    return s.counters.hits - before;
  };
  // The 50 hot keys were seen 10 times (at least 5 after the one halving at 1,000 increments), each
  // scanned key once: a scanned candidate never wins admission over a hot victim, so all 50 are hits;
  // LRU holds only the last 100 scanned keys.
  assert.equal(run('w-tinylfu'), 50);
  assert.equal(run('lru'), 0);
});

test('frequency sketch: counts up to 15 and halves every sample', () => {
  const f = new FrequencySketch(16);
  for (let i = 0; i < 20; i++) f.increment(42);
  assert.equal(f.frequency(42), 15);
  assert.equal(f.frequency(7), 0);
  f.reset();
  assert.equal(f.frequency(42), 7);
});

test('frequency sketch: add(key, n) counts as n increments, saturation included', () => {
  const a = new FrequencySketch(1024);
  const b = new FrequencySketch(1024);
  let x = 7;
  for (let i = 0; i < 600; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const key = (x >>> 8) % 150; // 150 keys, 4 counts each on average: some saturate at 15
    const n = 1 + ((x >>> 4) & 7);
    for (let j = 0; j < n; j++) a.increment(key);
    b.add(key, n);
  }
  for (let key = 0; key < 200; key++) assert.equal(b.frequency(key), a.frequency(key), `key ${key}`);
  // The additions that drive the halving are counted alike (2,700 < the 10,240 of a sample: no halving).
  const additions = (f: FrequencySketch) => (f as unknown as { additions: number }).additions;
  assert.equal(additions(b), additions(a));
});

test('expiry and grace: fresh, then stale (a miss, kept for getStale), then gone', () => {
  let now = 1000;
  const s = new MemoryStore<string>({ maxEntries: 10, now: () => now });
  s.set('k', 'v', 2000, 500);
  assert.equal(s.get('k'), 'v');
  now = 2000;
  assert.equal(s.get('k'), undefined, 'expired at its expiry time');
  assert.deepEqual(s.getStale('k'), { value: 'v', expiresAt: 2000 });
  now = 2500;
  assert.equal(s.getStale('k'), undefined);
  assert.equal(s.size, 0);
  assert.equal(s.counters.expirations, 1);
});

test('maxBytes: entries weigh their size; an entry larger than the cache is refused', () => {
  const s = new MemoryStore<string>({ maxBytes: 100, sizeOf: (_k, v) => v.length, policy: 'lru' });
  s.set('a', 'x'.repeat(40));
  s.set('b', 'x'.repeat(40));
  s.set('c', 'x'.repeat(40)); // 120 > 100: a goes
  assert.deepEqual([s.has('a'), s.has('b'), s.has('c')], [false, true, true]);
  assert.equal(s.weight, 80);
  assert.equal(s.set('d', 'x'.repeat(101)), false);
  assert.equal(s.has('d'), false);
  assert.throws(
    () => new MemoryStore({ maxEntries: 0 }),
    /maxEntries: expected an integer 1\.\.2147483648, got 0/,
  );
  assert.throws(() => new MemoryStore({}), /give exactly one/);
});

test('real traces: LRU matches the exact replay; W-TinyLFU beats it on loops', {
  skip: HAS_CACHE_TRACES ? false : '../shared/data/cache-traces is absent: trace test skipped',
}, () => {
  const cs = readTrace('lirs/cs.trace.gz');
  assert.equal(cs.keys.length, 6781);
  assert.equal(cs.distinct, 1409);
  // The README's exact LRU at 300 entries: 1.83%.
  const lru = replay(cs.keys, new MemoryStore<number>({ maxEntries: 300, policy: 'lru' }));
  assert.equal((100 * lru).toFixed(2), '1.83');
  const w = replay(cs.keys, new MemoryStore<number>({ maxEntries: 1000 }));
  assert.ok(w > 0.55, `cs at 1000: static W-TinyLFU gives 56.54%, got ${(100 * w).toFixed(2)}`);
  const gli = readTrace('lirs/gli.trace.gz');
  const g = replay(gli.keys, new MemoryStore<number>({ maxEntries: 1000 }));
  assert.ok(g > 0.4278, `gli at 1000: above Caffeine 2.6.2's 42.78%, got ${(100 * g).toFixed(2)}`);
});

test('W-TinyLFU: a probation hit promotes at once, protected hits only set a reference bit, every hit reaches the sketch', () => {
  // 10 entries, static window: window 1, protected at most 7.
  const s = new MemoryStore<number>({ maxEntries: 10, adaptiveWindow: false });
  for (const k of 'abcdefghij') s.set(k, 1); // window j; probation a..i (oldest first)
  // Probation hits: each promoted to protected's tail at once (TinyLFU's SLRU), 7 fit in protected.
  for (const k of 'abcdefg') assert.equal(s.get(k), 1);
  assert.deepEqual([...s.keysByRecency()], ['g', 'f', 'e', 'd', 'c', 'b', 'a', 'i', 'h', 'j']);
  assert.equal(s.get('a'), 1); // protected: sets a's reference bit only
  assert.deepEqual([...s.keysByRecency()], ['g', 'f', 'e', 'd', 'c', 'b', 'a', 'i', 'h', 'j']);
  // The set counted once, the promoting hit and the first protected hit each buffered at once.
  assert.equal(s.frequency('a'), 3);
  // c: 10 hits — the promoting one and the next buffered at once, the next seven pending in the word
  // and the eighth pending one flushed as one entry of eight.
  for (let i = 0; i < 9; i++) assert.equal(s.get('c'), 1);
  assert.equal(s.frequency('c'), 11);
  assert.equal(s.frequency('h'), 1);
  assert.equal(s.frequency('j'), 1);
  s.set('k', 1);
  // j leaves the window for probation and must beat probation's oldest entry, h: j (1) does not beat h (1).
  assert.equal(s.contains('j'), false);
  assert.deepEqual([...s.keysByRecency()], ['g', 'f', 'e', 'd', 'c', 'b', 'a', 'i', 'h', 'k']);
  assert.equal(s.get('a'), 1); // protected, bit already set: counted in the word
  assert.equal(s.get('h'), 1); // probation: promoted at once
  // Protected holds 8 > 7 until the next eviction: the hit itself demotes nothing.
  assert.deepEqual([...s.keysByRecency()], ['h', 'g', 'f', 'e', 'd', 'c', 'b', 'a', 'i', 'k']);
  s.set('l', 1);
  // The eviction first brings protected back to 7: a, the oldest, was used since — to protected's tail
  // instead (its bit cleared) — and b (unused) is demoted to probation's tail. Then k goes to
  // probation [i b k]; the victim is i, which k (1) does not beat (1).
  assert.equal(s.contains('k'), false);
  assert.deepEqual([...s.keysByRecency()], ['a', 'h', 'g', 'f', 'e', 'd', 'c', 'b', 'i', 'l']);
  assert.deepEqual(s.counters, { hits: 19, misses: 0, evictions: 2, expirations: 0 });
});

test('W-TinyLFU: hits still pending in an entry reach the sketch when it leaves', () => {
  const s = new MemoryStore<number>({ maxEntries: 100, adaptiveWindow: false });
  s.set('x', 1);
  for (let i = 0; i < 5; i++) assert.equal(s.get('x'), 1); // one buffered, four pending in the word
  s.delete('x');
  assert.equal(s.frequency('x'), 6, 'the set and five hits');
});

test('W-TinyLFU window: a referenced entry at the head of the window gets a second chance there', () => {
  // 200 entries: window 2, protected at most 158.
  const s = new MemoryStore<number>({ maxEntries: 200, adaptiveWindow: false });
  s.set('x', 1);
  s.set('y', 1); // window x y
  assert.equal(s.get('x'), 1);
  s.set('z', 1); // window overflows: x is referenced, goes to the tail; y (unused) leaves for probation
  assert.deepEqual([...s.keysByRecency()], ['y', 'x', 'z']);
});

test('hill climber: a change of 5 points restarts the step only when it stands out from the usual change', () => {
  // Expected amounts computed by hand (and checked with a separate Python model), capacity 1000:
  // initial step -62.5 (6.25%); usual change u starts at 0, u ← 0.7·u + 0.3·|ΔHR| after each sample;
  // restart (step back to 62.5) when |ΔHR| ≥ max(0.05, 2u) measured before the update, else step × 0.98.
  const noisy = new HillClimber(1000, 100);
  // 0 → 0.5: +0.5 ≥ 0.05, restart (-62.5), u = 0.15. 0.5 → 0.5: 0 < 0.3, decay to -61.25, u = 0.105.
  // 0.5 → 0.4: fell, reverse to +61.25; 0.1 < 2u = 0.21 so no restart (Caffeine's rule alone would
  // restart at 62.5): step 60.025. 0.4 → 0.4: +60.025.
  const amounts = [50, 50, 40, 40].map((hits) => noisy.sample(hits, 100));
  const expected = [-62.5, -62.5, 61.25, 60.025];
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(amounts[i]! - expected[i]!) < 1e-9, `sample ${i}: ${amounts[i]} ≠ ${expected[i]}`);
  }
  // A steady workload: after nine equal samples u = 0.15·0.7⁹ ≈ 0.006, so a jump of 20 points restarts
  // as in Caffeine: the step decays to 62.5·0.98⁹ ≈ 52.11 and the sample after the jump is a full 62.5.
  const steady = new HillClimber(1000, 100);
  let last = 0;
  for (let i = 0; i < 10; i++) last = steady.sample(50, 100);
  assert.ok(Math.abs(last - -62.5 * 0.98 ** 8) < 1e-9, `decayed step ${last}`);
  assert.ok(Math.abs(steady.sample(70, 100) - -62.5 * 0.98 ** 9) < 1e-9);
  assert.equal(steady.sample(70, 100), -62.5);
});

test('hill climber: a sample closed by sample() decides as one counted by record()', () => {
  const a = new HillClimber(1000, 100);
  const b = new HillClimber(1000, 100);
  for (const hits of [30, 60, 55, 90, 10]) {
    let ra = 0;
    for (let i = 0; i < 100; i++) ra = a.record(i < hits);
    assert.equal(b.sample(hits, 100), ra);
  }
});

test('coarse clock: one Date.now() read serves 256 calls within a turn of the loop, and a new turn reads it again', async (t) => {
  let now = 1_000;
  let reads = 0;
  t.mock.method(Date, 'now', () => {
    reads += 1;
    return now;
  });
  await new Promise((r) => setImmediate(r)); // a turn of its own: no cached time from before
  assert.equal(coarseNow(), 1_000);
  now = 2_000;
  for (let i = 1; i < 256; i++) assert.equal(coarseNow(), 1_000);
  assert.equal(reads, 1);
  assert.equal(coarseNow(), 2_000, 'the 257th call reads the clock');
  now = 3_000;
  await new Promise((r) => setImmediate(r));
  assert.equal(coarseNow(), 3_000, 'a new turn of the loop reads the clock');
  assert.equal(reads, 3);
});

test('entries that expire are seen expired once their time has passed (default clock)', async () => {
  const s = new MemoryStore<string>({ maxEntries: 10 });
  s.set('k', 'v', Date.now() + 20);
  assert.equal(s.get('k'), 'v');
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(s.get('k'), undefined);
});
