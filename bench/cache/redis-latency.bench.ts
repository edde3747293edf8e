/**
 * The Redis and tiered backends against raw `ioredis` in the same run, on the Redis at 127.0.0.1:6379:
 * - `getOrLoad` hit on the redis backend vs a raw `GET` of the same key: mean latency (sequential) and
 *   ops/s with 64 calls in flight (ioredis pipelines them on one connection). Target: ≤ 1.1× the time.
 * - tiered hit (memory tier) vs memory-backend hit vs `lru-cache` get, all through `getOrLoad`/`get`.
 *
 * Usage: npm run bench:cache-redis -- [--ops=20000]. Writes bench/results/cache-redis.json.
 */
import { Redis } from 'ioredis';
import { createCache } from '../../packages/node/src/cache/index.ts';
import { gitCommit, option, writeResults } from '../lib/run-info.ts';

const OPS = Number(option('ops', 'BENCH_OPS', '20000'));
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

async function sequential(fn: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < 500; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1000) / n; // µs per call
}

async function concurrent(fn: () => Promise<unknown>, n: number, inFlight = 64): Promise<number> {
  let left = n;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (left-- > 0) await fn();
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

const value = { id: 42, name: 'product 42', price: 19.99, tags: ['a', 'b', 'c'] };
const raw = new Redis('redis://127.0.0.1:6379');
const redisCache = createCache<typeof value>('bench-redis', {
  backend: 'redis',
  redis: raw,
  exportMetrics: false,
  earlyRefreshBeta: 0,
});
const tiered = createCache<typeof value>('bench-tiered', {
  backend: 'tiered',
  maxEntries: 1000,
  exportMetrics: false,
  earlyRefreshBeta: 0,
});
const memory = createCache<typeof value>('bench-memory', {
  maxEntries: 1000,
  exportMetrics: false,
  earlyRefreshBeta: 0,
});
await Promise.all([redisCache.whenReady(), tiered.whenReady()]);
const loader = () => value;
await redisCache.set('k', value);
await tiered.set('k', value);
await memory.set('k', value);
await raw.set('raw:k', JSON.stringify(value));

const rows: { subject: string; usPerCall: number; opsPerSec: number }[] = [];
const measure = async (subject: string, fn: () => Promise<unknown>) => {
  const us = await sequential(fn, OPS);
  const ops = await concurrent(fn, OPS * 2);
  rows.push({ subject, usPerCall: us, opsPerSec: ops });
};
for (let round = 0; round < 2; round++) {
  rows.length = 0;
  await measure('ioredis GET + JSON.parse', async () => JSON.parse((await raw.get('raw:k'))!));
  await measure('siperf redis getOrLoad (hit)', () => redisCache.getOrLoad('k', loader));
  await measure('siperf tiered getOrLoad (hit)', () => tiered.getOrLoad('k', loader));
  await measure('siperf memory getOrLoad (hit)', () => memory.getOrLoad('k', loader));
}
out(
  `# Redis-backed cache latency (commit ${gitCommit()}, ${OPS} sequential calls, ${OPS * 2} with 64 in flight)`,
);
out();
out('| subject | µs per call (sequential) | ops/s (64 in flight) |');
out('| --- | ---: | ---: |');
for (const r of rows)
  out(`| ${r.subject} | ${r.usPerCall.toFixed(1)} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} |`);
const [rawRow, redisRow, tieredRow, memRow] = rows as [
  (typeof rows)[0],
  (typeof rows)[0],
  (typeof rows)[0],
  (typeof rows)[0],
];
out();
out(
  `redis getOrLoad / raw GET: ${(redisRow.usPerCall / rawRow.usPerCall).toFixed(2)}× the time sequentially, ${(rawRow.opsPerSec / redisRow.opsPerSec).toFixed(2)}× with 64 in flight (target ≤ 1.1×)`,
);
out(
  `tiered hit / memory hit: ${(tieredRow.usPerCall / memRow.usPerCall).toFixed(2)}× the time; tiered hit / raw GET: ${(tieredRow.usPerCall / rawRow.usPerCall).toFixed(3)}×`,
);
writeResults('cache-redis.json', { commit: gitCommit(), ops: OPS, rows });
await Promise.all([redisCache.close(), tiered.close(), memory.close()]);
await tiered.invalidatePrefix('');
raw.disconnect();
