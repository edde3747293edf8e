import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdaptiveTtl, solveStaleShare, staleShare } from './adaptive-ttl.ts';
import { CacheLoadTimeoutError, createCache } from './cache.ts';
import { hashKey } from './hash.ts';
import { ShardsMrc } from './shards.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `probe` until it returns true, every 5 ms, at most 10 s: a background task lands "soon", not by a deadline. */
async function until(probe: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within 10 s`);
    await sleep(5);
  }
}

/** A promise and the function that resolves it: a loader that finishes when the test says so. */
function gate<T>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    open = r;
  });
  return { promise, open };
}

test('single flight: 100 concurrent misses of one key make exactly one load', async () => {
  const cache = createCache<string>('stampede', { exportMetrics: false });
  let loads = 0;
  const loader = async (k: string) => {
    loads += 1;
    await sleep(20);
    return `v:${k}`;
  };
  const values = await Promise.all(Array.from({ length: 100 }, () => cache.getOrLoad('user:1', loader)));
  assert.equal(loads, 1);
  assert.ok(values.every((v) => v === 'v:user:1'));
  const s = cache.stats();
  assert.equal(s.loads, 1);
  assert.equal(s.coalescedLoads, 99);
  assert.equal(s.misses, 100);
  assert.equal(await cache.getOrLoad('user:1', loader), 'v:user:1');
  assert.equal(cache.stats().hits, 1);
});

test('stale-while-revalidate: a failing loader serves the stale value within the grace, then fails', async () => {
  let now = 0;
  const cache = createCache<number>('swr', {
    now: () => now,
    defaultTtlMs: 1000,
    staleGraceMs: 5000,
    ttlJitter: 0,
    earlyRefreshBeta: 0,
    exportMetrics: false,
  });
  await cache.getOrLoad('k', () => 1);
  now = 1500; // expired, within grace
  assert.equal(await cache.get('k'), undefined, 'get() gives only fresh values');
  const failing = () => {
    throw new Error('db down');
  };
  assert.equal(await cache.getOrLoad('k', failing), 1);
  assert.equal(cache.stats().staleServed, 1);
  await until(() => cache.stats().loadFailures === 1, 'the background reload failed and was counted');
  now = 6001; // past the grace: nothing to fall back on
  await assert.rejects(cache.getOrLoad('k', failing), /db down/);
});

test('stale-while-revalidate with staleGraceMs alone answers the stale value at once and reloads behind', async () => {
  let now = 0;
  const cache = createCache<number>('swr-now', {
    now: () => now,
    defaultTtlMs: 1000,
    staleGraceMs: 60_000,
    ttlJitter: 0,
    earlyRefreshBeta: 0,
    exportMetrics: false,
  });
  await cache.getOrLoad('k', () => 1);
  now = 2000;
  // The reload never finishes until the gate opens: the answer can only be the stale value.
  const reload = gate<number>();
  let calls = 0;
  const loader = () => {
    calls += 1;
    return reload.promise;
  };
  assert.equal(await cache.getOrLoad('k', loader), 1);
  assert.equal(await cache.getOrLoad('k', loader), 1, 'a second caller too, joining the same reload');
  assert.equal(calls, 1);
  assert.equal(cache.stats().staleServed, 2);
  reload.open(2);
  await until(async () => (await cache.get('k')) === 2, 'the reload landed');
});

test('a set() or delete() made while a load of the key runs wins over the older load', async () => {
  const cache = createCache<string>('lost-writes', { exportMetrics: false });
  const slow = gate<string>();
  const loading = cache.getOrLoad('k', () => slow.promise);
  await cache.set('k', 'written');
  slow.open('loaded before the write');
  assert.equal(await loading, 'loaded before the write', 'the caller of the load gets what it loaded');
  assert.equal(await cache.get('k'), 'written', 'the cache keeps the write');

  const slow2 = gate<string>();
  const loading2 = cache.getOrLoad('k', () => slow2.promise);
  await cache.delete('k');
  // A caller after the delete does not join the superseded load: it loads afresh.
  const fresh = cache.getOrLoad('k', () => 'after the delete');
  slow2.open('loaded before the delete');
  await loading2;
  assert.equal(await fresh, 'after the delete');
  assert.equal(await cache.get('k'), 'after the delete');

  const slow3 = gate<string>();
  const loading3 = cache.getOrLoad('gone', () => slow3.promise);
  await cache.delete('gone');
  slow3.open('stale');
  await loading3;
  assert.equal(await cache.get('gone'), undefined, 'the delete wins: nothing cached');
  await cache.close();
});

test('soft timeout serves stale and the slow load still lands; hard timeout fails without stale', async () => {
  let now = 0;
  const cache = createCache<number>('timeouts', {
    now: () => now,
    defaultTtlMs: 1000,
    staleGraceMs: 60_000,
    ttlJitter: 0,
    earlyRefreshBeta: 0,
    softTimeoutMs: 20,
    exportMetrics: false,
  });
  await cache.getOrLoad('k', () => 1);
  now = 2000;
  // The loader finishes only when the test opens its gate, so the stale answer cannot be a race won by
  // a fast machine: it comes from the 20 ms soft timeout while the load is still running.
  const slow = gate<number>();
  assert.equal(await cache.getOrLoad('k', () => slow.promise), 1, 'answered before the slow loader finished');
  slow.open(2);
  await until(async () => (await cache.get('k')) === 2, 'the slow load replaced the value');
  const never = gate<number>();
  await assert.rejects(
    cache.getOrLoad('other', () => never.promise, { hardTimeoutMs: 30 }),
    (e: unknown) => e instanceof CacheLoadTimeoutError && e.timeoutMs === 30,
  );
  never.open(3);
});

test('XFetch: a hit near expiry refreshes early when −δ·β·ln(U) reaches the expiry', async () => {
  let now = 0;
  let u = 0.99;
  const cache = createCache<number>('xfetch', {
    now: () => now,
    random: () => u,
    defaultTtlMs: 1000,
    ttlJitter: 0,
    exportMetrics: false,
  });
  let version = 0;
  const loader = async () => {
    await sleep(25); // δ ≈ 25 ms
    return ++version;
  };
  await cache.getOrLoad('k', loader);
  now = 700;
  // U = 0.99: −ln U ≈ 0.01, δ·0.01 ≈ 0.25 ms, 700.25 < 1000: no refresh.
  assert.equal(await cache.getOrLoad('k', loader), 1);
  assert.equal(cache.stats().earlyRefreshes, 0);
  // U = 1e-9: −ln U ≈ 20.7, δ·20.7 ≈ 520 ms, 700 + 520 ≥ 1000: refresh in the background.
  u = 1e-9;
  assert.equal(await cache.getOrLoad('k', loader), 1, 'the current value is served during the refresh');
  assert.equal(cache.stats().earlyRefreshes, 1);
  u = 0.99;
  // The refresh runs in the background (a 25 ms load): it lands when it lands.
  await until(async () => (await cache.getOrLoad('k', loader)) === 2, 'the early refresh stored version 2');
  assert.equal(version, 2, 'one refresh, no second load');
});

test('jittered expiry stays within (1 − jitter)·TTL .. TTL', async () => {
  let now = 0;
  const rs = [0, 0.5, 0.999];
  let i = 0;
  const cache = createCache<number>('jitter', {
    now: () => now,
    random: () => rs[i++ % rs.length]!,
    defaultTtlMs: 1000,
    ttlJitter: 0.2,
    earlyRefreshBeta: 0,
    exportMetrics: false,
  });
  for (const k of ['a', 'b', 'c']) await cache.set(k, 1);
  // Expiries 1000, 900, 800.2 → at 850 only c has expired; at 950 b too.
  now = 850;
  assert.deepEqual(await cache.getMany(['a', 'b', 'c']), [1, 1, undefined]);
  now = 950;
  assert.deepEqual(await cache.getMany(['a', 'b', 'c']), [1, undefined, undefined]);
});

test('a value too heavy for the cache is not kept, nor indexed under its tags; a closed cache refuses calls', async () => {
  const cache = createCache<string>('heavy', { maxBytes: 2048, exportMetrics: false });
  for (let i = 0; i < 100; i++)
    assert.equal(await cache.set(`k${i}`, 'x'.repeat(5000), { tags: [`t${i}`] }), false);
  assert.equal(cache.stats().entries, 0);
  assert.equal(await cache.invalidateTag('t1'), 0);
  assert.equal(await cache.set('small', 'x'), true);
  await cache.close();
  await assert.rejects(
    cache.get('small').then(() => cache.set('small', 'y')),
    /cache heavy is closed/,
  );
});

test('stats after an expiry count only what is held', async () => {
  let now = 0;
  const cache = createCache<string>('expiring', { now: () => now, ttlJitter: 0, exportMetrics: false });
  await cache.set('a', 'x', { ttlMs: 100 });
  await cache.set('b', 'y');
  now = 200;
  const s = cache.stats();
  assert.equal(s.entries, 1);
  assert.equal(s.expirations, 1);
});

test('maxBytes sizes values nested deep and held in Maps and Sets; a value too large to walk is refused', async () => {
  const cache = createCache<unknown>('bytes', { maxBytes: 100_000, exportMetrics: false });
  const mb = 'x'.repeat(500_000); // 1 MB of UTF-16
  const nested = (i: number) => ({ a: { b: { c: { d: { e: `${mb}${i}` } } } } });
  for (let i = 0; i < 10; i++) assert.equal(await cache.set(`deep:${i}`, nested(i)), false);
  for (let i = 0; i < 5; i++) assert.equal(await cache.set(`map:${i}`, new Map([['v', `${mb}${i}`]])), false);
  for (let i = 0; i < 5; i++) assert.equal(await cache.set(`set:${i}`, new Set([`${mb}${i}`])), false);
  const s = cache.stats();
  assert.equal(s.entries, 0, 'twenty 1 MB values under a 100 kB bound: none kept');
  assert.ok(s.bytes <= 100_000, String(s.bytes));
  // Small values fit, and the bound holds with them.
  for (let i = 0; i < 100; i++) await cache.set(`small:${i}`, new Map([['n', { deep: [i, [i, [i]]] }]]));
  assert.ok(cache.stats().entries > 0);
  assert.ok(cache.stats().bytes <= 100_000, String(cache.stats().bytes));
  // More than 100,000 objects: not walked to the end, refused instead of under-counted.
  const wide = Array.from({ length: 100_001 }, () => ({}));
  assert.equal(await cache.set('wide', wide), false);
  // A cycle is sized once.
  const cyclic: { self?: unknown; n: number } = { n: 1 };
  cyclic.self = cyclic;
  assert.equal(await cache.set('cyclic', cyclic), true);
  await cache.close();
});

test('stats() checks a bounded number of slots for expired entries per call (incremental at any size)', async () => {
  let now = 0;
  const cache = createCache<number>('stats-cost', {
    now: () => now,
    maxEntries: 20_000,
    ttlJitter: 0,
    missRatioCurve: false,
    exportMetrics: false,
  });
  for (let i = 0; i < 10_000; i++) await cache.set(`k${i}`, i, { ttlMs: 1_000_000 });
  await cache.set('short', 0, { ttlMs: 10 }); // the last slot
  now = 100;
  // 10,001 entries, 4,096 slots checked per call: the expired entry is reached on the third call.
  assert.equal(cache.stats().entries, 10_001);
  assert.equal(cache.stats().entries, 10_001);
  assert.equal(cache.stats().entries, 10_000);
  assert.equal(cache.stats().expirations, 1);
  await cache.close();
});

test('tags and prefixes invalidate exactly their keys; wrap caches by arguments', async () => {
  const cache = createCache<number>('tags', { exportMetrics: false });
  await cache.set('product:1', 1, { tags: ['catalog'] });
  await cache.set('product:2', 2, { tags: ['catalog', 'sale'] });
  await cache.set('user:1', 3);
  assert.equal(await cache.invalidateTag('sale'), 1);
  assert.deepEqual(await cache.getMany(['product:1', 'product:2', 'user:1']), [1, undefined, 3]);
  assert.equal(await cache.invalidatePrefix('product:'), 1);
  assert.equal(await cache.get('product:1'), undefined);
  let calls = 0;
  const square = cache.wrap(
    async (n: number) => {
      calls += 1;
      return n * n;
    },
    (n) => `square:${n}`,
  );
  assert.deepEqual([await square(3), await square(3), await square(4)], [9, 9, 16]);
  assert.equal(calls, 2);
  const groups = Object.fromEntries(cache.stats().groups.map((g) => [g.name, [g.hits, g.misses]]));
  assert.deepEqual(groups.square, [1, 2]);
});

test('warming loads what is missing; hot keys are the most frequent', async () => {
  const cache = createCache<string>('warm', { maxEntries: 100, exportMetrics: false });
  assert.equal(await cache.warm(['a', 'b', 'c'], (k) => k.toUpperCase()), 3);
  assert.equal(await cache.warm(['a', 'd'], (k) => k.toUpperCase()), 1);
  for (let i = 0; i < 5; i++) await cache.get('c');
  for (let i = 0; i < 3; i++) await cache.get('a');
  assert.deepEqual(cache.hotKeys(2), ['c', 'a']);
  // The second warm found 'a' in memory: a check, not a read. The 8 reads are the 8 memory hits.
  const s = cache.stats();
  assert.deepEqual(
    { hits: s.hits, memoryHits: s.memoryHits, remoteHits: s.remoteHits },
    { hits: 8, memoryHits: 8, remoteHits: 0 },
  );
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const file = `${mkdtempSync(`${tmpdir()}/siperf-hot-`)}/hot.json`;
  assert.equal(await cache.saveHotKeys(file, 2), 2);
  const next = createCache<string>('warm', { maxEntries: 100, exportMetrics: false });
  assert.equal(await next.warmFromFile(file, (k) => `${k}!`), 2);
  assert.equal(await next.get('c'), 'c!');
  assert.equal(await next.warmFromFile(`${file}.missing`, (k) => k), 0);
});

test('scheduled warming reloads the keys each round, and stops', async () => {
  const cache = createCache<number>('scheduled', { exportMetrics: false, defaultTtlMs: 1, ttlJitter: 0 });
  let loads = 0;
  const stop = cache.scheduleWarm(
    () => ['a', 'b'],
    () => ++loads,
    1000,
  );
  await until(() => loads >= 2, 'the first round ran');
  stop();
  assert.equal(loads, 2, 'the first round runs at once');
  assert.throws(
    () =>
      cache.scheduleWarm(
        () => [],
        () => 1,
        10,
      ),
    /everyMs: expected 1000\.\.2147483647 ms, got 10/,
  );
});

test('bad options and keys name the field and the limit', () => {
  assert.throws(
    () => createCache('x', { backend: 'disk' as never }),
    /backend: expected memory, redis or tiered/,
  );
  assert.throws(
    () => createCache('x', { maxEntries: -1 }),
    /maxEntries: expected an integer 1\.\.2147483648, got -1/,
  );
  assert.throws(() => createCache('x', { ttlJitter: 2 }), /ttlJitter: expected 0\.\.0\.5, got 2/);
  assert.throws(
    () => createCache('x', { adaptiveTtl: { minTtlMs: 10, maxTtlMs: 5 } }),
    /maxTtlMs: must be ≥ minTtlMs/,
  );
  assert.throws(() => createCache('bad name!'), /name: expected 1\.\.128/);
  assert.throws(() => createCache('tenant:secret'), /name: expected 1\.\.128 of A-Z a-z 0-9 _ \. -/);
  assert.throws(
    () => createCache('x', { hardTimeoutMs: 2 ** 31 }),
    /hardTimeoutMs: expected 0\.\.2147483647 ms/,
  );
  assert.throws(() => createCache('x', { policy: 'bogus' as never }), /policy: expected w-tinylfu or lru/);
  assert.throws(() => createCache('x', { maxEntries: 10, maxBytes: 1000 }), /give one, not both/);
  assert.throws(
    () => createCache('x', { redisKeyPrefix: '' }),
    /redisKeyPrefix: expected 1\.\.128 characters/,
  );
  assert.throws(() => createCache('x', { redisKeyPrefix: 'a*' }), /redisKeyPrefix/);
  assert.throws(
    () => createCache('x', { adaptiveTtl: true, defaultTtlMs: 0 }),
    /defaultTtlMs: must be > 0 with adaptiveTtl/,
  );
  assert.throws(
    () => createCache('x', { missRatioCurve: { maxKeys: Number.NaN } }),
    /missRatioCurve\.maxKeys/,
  );
  const c = createCache('x', { exportMetrics: false });
  assert.throws(() => c.wrap(async (n: number) => n), /keyOf: required for an anonymous function/);
  assert.rejects(
    c.getOrLoad('k', () => 1, { ttlMs: -5 }),
    /ttlMs: expected 0\.\.2147483647 ms, got -5/,
  );
  assert.rejects(
    c.getOrLoad('k', () => 1, { hardTimeoutMs: Number.NaN }),
    /hardTimeoutMs/,
  );
  assert.rejects(c.set('k', 1, { tags: 'abc' as never }), /tags: expected an array/);
  assert.rejects(
    c.warm(['k'], () => 1, { concurrency: Number.NaN }),
    /concurrency: expected an integer 1\.\.1000/,
  );
  const sized = createCache<string>('sized', {
    maxBytes: 10_000,
    sizeOf: () => Number.NaN,
    exportMetrics: false,
  });
  assert.rejects(sized.set('k', 'v'), /sizeOf: must return a finite number/);
  assert.rejects(c.get(''), /key: expected a string of 1\.\.1024 characters/);
});

test('staleness model: s(x) = 1 − (1 − e^−x)/x and its inverse', () => {
  // Series: s(x) ≈ x/2 − x²/6 + x³/24; at x = 0.1: 0.05 − 0.001667 + 0.0000417 = 0.048375.
  assert.ok(Math.abs(staleShare(0.1) - 0.048374) < 1e-5);
  const x = solveStaleShare(0.05);
  assert.ok(Math.abs(staleShare(x) - 0.05) < 1e-9);
  assert.ok(x > 0.103 && x < 0.104, String(x));
});

test('adaptive TTL shrinks on a source that changes often and grows on one that never does', async () => {
  // A source that changes every 2 s; reads every 100 ms for 10 minutes (simulated clock).
  let now = 0;
  const changing = createCache<number>('adaptive', {
    now: () => now,
    adaptiveTtl: { minTtlMs: 100, maxTtlMs: 600_000, maxStaleness: 0.05 },
    defaultTtlMs: 10_000,
    earlyRefreshBeta: 0,
    exportMetrics: false,
  });
  let staleReads = 0;
  let reads = 0;
  for (; now < 600_000; now += 100) {
    const v = await changing.getOrLoad('price:1', () => Math.floor(now / 2000));
    reads += 1;
    if (v !== Math.floor(now / 2000)) staleReads += 1;
  }
  const g = changing.stats().groups.find((x) => x.name === 'price')!;
  // λ ≈ 0.5 changes/s: the TTL for 5% stale reads is ≈ 0.103/λ ≈ 200 ms; it started at 10 s.
  assert.ok(g.ttlMs < 1000, `learned TTL ${g.ttlMs} ms`);
  assert.ok(g.adaptive!.changesPerHour! > 900, String(g.adaptive!.changesPerHour));
  assert.ok(staleReads / reads < 0.15, `stale share ${staleReads / reads}`);

  now = 0;
  const steady = createCache<number>('steady', {
    now: () => now,
    adaptiveTtl: { minTtlMs: 100, maxTtlMs: 600_000 },
    defaultTtlMs: 10_000,
    ttlJitter: 0,
    earlyRefreshBeta: 0,
    exportMetrics: false,
  });
  for (; now < 3_600_000; now += 1000) await steady.getOrLoad('config:site', () => 42);
  const hour = steady.stats().groups.find((x) => x.name === 'config')!;
  // One hour without a change bounds λ by ≈ 3.7 changes/h (97.5%): a TTL of ≈ 100 s at most, not 600 s.
  assert.ok(hour.ttlMs > 10_000 && hour.ttlMs <= 100_000, `after 1 h: ${hour.ttlMs} ms`);
  for (; now < 24 * 3_600_000; now += 1000) await steady.getOrLoad('config:site', () => 42);
  const s = steady.stats().groups.find((x) => x.name === 'config')!;
  assert.equal(s.ttlMs, 600_000, 'no change in a day: the TTL reaches its maximum');
  assert.ok(s.hitRatio > 0.99);
  assert.throws(() => new AdaptiveTtl(1000, { maxStaleness: 1.5 }), /maxStaleness: expected 0 < x < 1/);
});

test('adaptive TTL does not outrun its evidence: eleven unchanged reloads in four minutes keep the start TTL', () => {
  const ttl = new AdaptiveTtl(60_000);
  for (let i = 0; i < 11; i++) ttl.observe(22_000, false);
  assert.equal(ttl.ttlMs, 60_000);
  const e = ttl.estimate();
  assert.equal(e.changesPerHour, 0);
  // Wilson upper bound with none changed: q⁺ = z² / (n + z²), n = 11 observations decayed by 0.98 (≈ 9.96),
  // ≈ 0.28; λ⁺ = −ln(1 − q⁺) / 22 s ≈ 53 changes/h, so the TTL for 5% stale is ≈ 7 s: no reason to grow.
  const n = e.observations;
  assert.ok(Math.abs(n - (1 - 0.98 ** 11) / (1 - 0.98)) < 1e-9, String(n));
  const q = 1.96 ** 2 / (n + 1.96 ** 2);
  const expected = (-Math.log(1 - q) / 22_000) * 3_600_000;
  assert.ok(Math.abs(e.changesPerHourUpper! - expected) < 1e-6, `${e.changesPerHourUpper} vs ${expected}`);
  // Growth also needs observed time: 50 unchanged 1 s intervals do not lift a 60 s TTL.
  const short = new AdaptiveTtl(60_000);
  for (let i = 0; i < 50; i++) short.observe(1000, false);
  assert.equal(short.ttlMs, 60_000);
});

/** mulberry32: a seeded generator, so the simulated sources and reads are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const kind of ['periodic', 'Poisson'] as const) {
  test(`adaptive TTL keeps the stale share under maxStaleness for ${kind} sources changing every 30 s, 5 min and 30 min`, async () => {
    for (const meanMs of [30_000, 300_000, 1_800_000]) {
      const random = seeded(meanMs);
      let now = 0;
      const cache = createCache<number>(`sim-${kind}`, {
        now: () => now,
        random,
        adaptiveTtl: { minTtlMs: 1000, maxTtlMs: 3_600_000, maxStaleness: 0.05 },
        earlyRefreshBeta: 0,
        exportMetrics: false,
      });
      // A 5-key group read once a second on average (Poisson reads), each key's source changing on its own.
      const keys = 5;
      const gap = () => (kind === 'periodic' ? meanMs : -Math.log(1 - random()) * meanMs);
      const version = new Array<number>(keys).fill(0);
      const nextChange = Array.from({ length: keys }, () => random() * gap());
      let reads = 0;
      let stale = 0;
      while (now < 24 * 3_600_000) {
        now += -Math.log(1 - random()) * 1000;
        for (let i = 0; i < keys; i++) {
          while (nextChange[i]! <= now) {
            version[i]! += 1;
            nextChange[i]! += gap();
          }
        }
        const k = Math.floor(random() * keys);
        const v = await cache.getOrLoad(`src:${k}`, () => version[k]!);
        reads += 1;
        if (v !== version[k]) stale += 1;
      }
      const g = cache.stats().groups.find((x) => x.name === 'src')!;
      assert.ok(
        stale / reads < 0.05,
        `${kind} every ${meanMs} ms: stale share ${stale / reads}, TTL ${g.ttlMs} ms`,
      );
      await cache.close();
    }
  });
}

test('SHARDS at rate 1 is the exact LRU curve: a b c a b c has reuse distance 2 three times', () => {
  const m = new ShardsMrc({ rate: 1 });
  for (const k of ['a', 'b', 'c', 'a', 'b', 'c']) m.record(hashKey(k));
  assert.deepEqual(
    m.curve([1, 2, 3, 4]).map((p) => p.hitRatio),
    [0, 0, 0.5, 0.5],
  );
});
