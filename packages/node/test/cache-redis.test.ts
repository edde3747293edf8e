/**
 * The Redis and tiered caches against real Redis servers: the one on 127.0.0.1:6379 (started by
 * scripts/start-services.sh) and, for the outage, a private redis-server this test starts and kills.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { type Cache, createCache } from '../src/cache/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unique = (base: string) => `${base}-${randomBytes(4).toString('hex')}`;

/**
 * Calls `probe` until it returns true, every 20 ms, at most `timeoutMs` (default 30 s): waits on Redis
 * pub/sub or another process poll with a generous bound, so a busy machine is slower, not red.
 */
async function until(
  probe: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Whether the Redis behind `probe` (lazyConnect, with a retryStrategy) answers. The first call connects; when
 * that attempt is refused (a redis-server still starting on a busy machine) ioredis goes on reconnecting by
 * itself and a second `connect()` would reject as "already connecting" for ever, so later calls read the
 * connection's status instead.
 */
async function redisAnswers(probe: Redis): Promise<boolean> {
  if (probe.status === 'wait') await probe.connect().catch(() => {});
  return probe.status === 'ready';
}

/** Resolves once `child` has exited (at once when it already has), SIGKILLing it after `graceMs`. */
async function reap(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A breaker that does not open on a busy machine: the tests that count hits, misses and invalidations
 * exactly would see a Redis call slowed past the default 250 ms as a miss. The breaker's own tests below
 * set theirs.
 */
const PATIENT = { timeoutMs: 30_000 };

test('redis backend: values, TTL and tags live in Redis; getMany is one MGET', async () => {
  const name = unique('redis-backend');
  const cache = createCache<{ n: number }>(name, {
    backend: 'redis',
    defaultTtlMs: 60_000,
    ttlJitter: 0,
    exportMetrics: false,
    redisBreaker: PATIENT,
  });
  const raw = new Redis('redis://127.0.0.1:6379');
  try {
    await cache.whenReady();
    await cache.set('a', { n: 1 }, { tags: ['t'] });
    await cache.set('b', { n: 2 });
    const pttl = await raw.pttl(`siperf:cache:${name}:a`);
    // 60 s less the time since the write: bounded loosely, a stalled machine may take seconds here.
    assert.ok(pttl > 50_000 && pttl <= 60_000, `PTTL ${pttl}`);
    const stored = await raw.get(`siperf:cache:${name}:a`);
    assert.match(stored!, /^\d+:\d+:0:\{"n":1\}$/);
    assert.deepEqual(await cache.getMany(['a', 'b', 'c']), [{ n: 1 }, { n: 2 }, undefined]);
    let loads = 0;
    const v = await Promise.all(
      Array.from({ length: 20 }, () =>
        cache.getOrLoad('c', async () => {
          loads += 1;
          await sleep(10);
          return { n: 3 };
        }),
      ),
    );
    assert.equal(loads, 1);
    assert.deepEqual(v[19], { n: 3 });
    assert.equal(await cache.invalidateTag('t'), 1);
    assert.equal(await raw.exists(`siperf:cache:${name}:a`), 0);
    assert.equal(await cache.invalidatePrefix(''), 2);
    assert.equal((await raw.keys(`siperf:cache:${name}:*`)).length, 0);
    assert.equal(cache.stats().remote!.up, true);
  } finally {
    await cache.close();
    raw.disconnect();
  }
});

test('tiered: a write in one process evicts the stale copy in another (Redis pub/sub)', async () => {
  const name = unique('tiered');
  const peer = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/tiered-peer.ts', name], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: peer.stdout! })[Symbol.asyncIterator]();
  const ask = async (cmd: string) => {
    peer.stdin!.write(`${cmd}\n`);
    return JSON.parse(String((await lines.next()).value));
  };
  const cache = createCache<string>(name, {
    backend: 'tiered',
    maxEntries: 100,
    exportMetrics: false,
    redisBreaker: PATIENT,
  });
  try {
    assert.equal((await lines.next()).value, 'ready');
    await cache.whenReady();
    await cache.set('greeting', 'hello');
    assert.equal(await ask('get greeting'), 'hello'); // from Redis, now in the peer's memory
    assert.equal(await ask('get greeting'), 'hello'); // from the peer's memory
    assert.deepEqual(await ask('stats'), { memoryHits: 1, remoteHits: 1 });
    await cache.set('greeting', 'bonjour');
    // The invalidation message crosses Redis: until it arrives the peer answers from its stale copy.
    await until(async () => (await ask('get greeting')) === 'bonjour', 'the peer dropped its stale copy');
    await cache.delete('greeting');
    await until(async () => (await ask('get greeting')) === null, 'the peer dropped the deleted key');
  } finally {
    if (peer.exitCode === null) peer.stdin!.write('quit\n');
    await reap(peer, 10_000);
    await cache.invalidatePrefix('');
    await cache.close();
  }
});

test('Redis stops: the tiered cache serves memory and loaders, reports the outage, never throws', async () => {
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  let cache: Cache<number> | undefined;
  try {
    await until(() => redisAnswers(probe), 'the private redis-server answers');
    probe.disconnect();
    cache = createCache<number>('outage', {
      backend: 'tiered',
      redis: `redis://127.0.0.1:${port}`,
      maxEntries: 100,
      exportMetrics: false,
    });
    await cache.whenReady();
    await cache.set('kept', 1);
    assert.equal(cache.stats().remote!.up, true);
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    await sleep(50);
    assert.equal(await cache.get('kept'), 1, 'served from memory');
    assert.equal(await cache.getOrLoad('new', () => 7), 7, 'loaded, though Redis cannot store it');
    await cache.set('written', 2);
    assert.equal(await cache.get('written'), 2);
    assert.equal(await cache.delete('kept'), true);
    const s = cache.stats();
    assert.equal(s.remote!.up, false);
    assert.ok(s.remote!.errors >= 1, String(s.remote!.errors));
    assert.ok(s.remote!.lastError);
  } finally {
    probe.disconnect();
    await cache?.close();
    server.kill('SIGKILL');
    await reap(server, 10_000);
  }
});

test('a set() or delete() during a load wins locally, in Redis and across the tier', async () => {
  const name = unique('lost-writes');
  const opts = { backend: 'tiered' as const, maxEntries: 100, exportMetrics: false, redisBreaker: PATIENT };
  const a = createCache<string>(name, opts);
  const b = createCache<string>(name, opts);
  const raw = new Redis('redis://127.0.0.1:6379');
  const stored = async (k: string) => raw.get(`siperf:cache:${name}:${k}`);
  /** A loader that says when it started and finishes when the test opens it. */
  const slowLoad = () => {
    let open!: (v: string) => void;
    let started!: () => void;
    const begun = new Promise<void>((r) => {
      started = r;
    });
    const loader = () => {
      started();
      return new Promise<string>((r) => {
        open = r;
      });
    };
    return { loader, begun, open: (v: string) => open(v) };
  };
  try {
    await Promise.all([a.whenReady(), b.whenReady()]);
    // Locally: the same process writes while its own load runs.
    const l1 = slowLoad();
    const p1 = a.getOrLoad('one', l1.loader);
    await l1.begun;
    await a.set('one', 'written');
    l1.open('loaded');
    assert.equal(await p1, 'loaded');
    assert.match((await stored('one'))!, /:"written"$/, 'Redis keeps the write');
    assert.equal(await a.get('one'), 'written');

    // Across the tier: another process writes while this one loads.
    const l2 = slowLoad();
    const p2 = a.getOrLoad('two', l2.loader);
    await l2.begun;
    await b.set('two', 'from b');
    l2.open('loaded by a');
    assert.equal(await p2, 'loaded by a');
    assert.match((await stored('two'))!, /:"from b"$/, 'the older load did not overwrite Redis');
    await until(async () => (await a.get('two')) === 'from b', 'a agrees with b');
    assert.equal(await b.get('two'), 'from b');

    // A delete in another process while this one loads: nothing is stored anywhere.
    const l3 = slowLoad();
    const p3 = a.getOrLoad('three', l3.loader);
    await l3.begun;
    await b.delete('three');
    l3.open('loaded before the delete');
    await p3;
    assert.equal(await stored('three'), '~', 'a tombstone, not the loaded value');
    assert.equal(await a.get('three'), undefined);
    assert.equal(await b.get('three'), undefined);
    // After the delete, a new load stores normally (the tombstone is what it read).
    assert.equal(await a.getOrLoad('three', () => 'reloaded'), 'reloaded');
    assert.equal(await b.get('three'), 'reloaded');
  } finally {
    await a.invalidatePrefix('');
    await Promise.all([a.close(), b.close()]);
    raw.disconnect();
  }
});

test('Redis keys with lone surrogates and U+FFFD stay distinct', async () => {
  const name = unique('surrogates');
  const cache = createCache<string>(name, { backend: 'redis', exportMetrics: false, redisBreaker: PATIENT });
  const raw = new Redis('redis://127.0.0.1:6379');
  try {
    await cache.whenReady();
    const keys = ['\uD800', '\uFFFD', '\uDC00', 'a\uD800b', 'a\uFFFDb', '\uD83D\uDE00', '\uFFFDD800'];
    for (const [i, k] of keys.entries()) await cache.set(k, `v${i}`, { tags: [k] });
    for (const [i, k] of keys.entries()) assert.equal(await cache.get(k), `v${i}`, JSON.stringify(k));
    assert.equal((await raw.keys(`siperf:cache:${name}:*`)).length, keys.length);
    // A well-formed key without U+FFFD is stored as it is.
    assert.equal(await raw.exists(`siperf:cache:${name}:\uD83D\uDE00`), 1);
    assert.equal(await cache.invalidateTag('\uD800'), 1);
    assert.equal(await cache.get('\uD800'), undefined);
    assert.equal(await cache.get('\uFFFD'), 'v1');
  } finally {
    await cache.invalidatePrefix('');
    await cache.close();
    raw.disconnect();
  }
});

test('a hanging Redis (SIGSTOP) trips the breaker: calls are served from memory or the loader without waiting', async () => {
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  let cache: Cache<number> | undefined;
  let stopped = false;
  let now = 1_000_000;
  try {
    await until(() => redisAnswers(probe), 'the private redis-server answers');
    probe.disconnect();
    cache = createCache<number>('hanging', {
      backend: 'tiered',
      redis: `redis://127.0.0.1:${port}`,
      maxEntries: 100,
      redisBreaker: { timeoutMs: 100, failures: 2, cooldownMs: 10_000 },
      now: () => now,
      exportMetrics: false,
    });
    await cache.whenReady();
    await cache.set('kept', 1);
    server.kill('SIGSTOP');
    stopped = true;
    assert.equal(await cache.get('kept'), 1, 'a memory hit does not touch Redis');
    // The miss reads Redis (times out), the load reads its token (times out): two failures open the breaker.
    assert.equal(await cache.getOrLoad('new', () => 7), 7);
    assert.equal(cache.redisBreaker()!.state, 'open');
    const { skipped } = cache.redisBreaker()!;
    // Each failure is a command timeout (ioredis's or the breaker's own, whichever fires first).
    const errors = cache.stats().remote!.errors;
    assert.equal(errors, 2);
    // While open, nothing is sent: no call waits on Redis (the errors stay 2), each is skipped instead.
    assert.equal(await cache.getOrLoad('other', () => 8), 8);
    assert.equal(await cache.get('new'), 7, 'the loaded value is in memory');
    await cache.set('written', 9);
    assert.equal(await cache.get('written'), 9);
    const open = cache.redisBreaker()!;
    assert.equal(cache.stats().remote!.errors, errors);
    assert.ok(open.skipped > skipped, `skipped ${open.skipped}`);
    assert.equal(cache.stats().remote!.up, false);
    // Redis answers again; after the cool-down (the injected clock) one call probes and closes the breaker.
    server.kill('SIGCONT');
    stopped = false;
    now += 10_001;
    assert.equal(await cache.getOrLoad('after', () => 10), 10);
    await until(() => cache!.redisBreaker()!.state === 'closed', 'the probe closed the breaker');
    assert.equal(cache.stats().remote!.up, true);
  } finally {
    if (stopped) server.kill('SIGCONT');
    probe.disconnect();
    await cache?.close();
    server.kill('SIGKILL');
    await reap(server, 10_000);
  }
});
