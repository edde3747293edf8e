/**
 * Miss-ratio curve accuracy: the SHARDS estimate that caches keep online (fixed-size variant, at most
 * 8,192 tracked keys, buckets of 1/64 of the cache size) against the exact LRU curve (every key tracked,
 * distances exact; Mattson's stack algorithm) on real traces, and the exact curve against a direct LRU
 * replay (`lru-cache`) at the sizes of the traces' reference table.
 * Target (issue 5): mean absolute error ≤ 2 points of hit ratio.
 *
 * Usage: npm run bench:cache-mrc. Writes bench/results/cache-mrc.json.
 */
import { LRUCache } from 'lru-cache';
import { hashKey } from '../../packages/node/src/cache/hash.ts';
import { ShardsMrc } from '../../packages/node/src/cache/shards.ts';
import { HAS_CACHE_TRACES, REFERENCE, readTrace, replay } from '../lib/cache-traces.ts';
import { gitCommit, writeResults } from '../lib/run-info.ts';

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
if (!HAS_CACHE_TRACES) {
  out('../shared/data/cache-traces is absent: nothing to measure');
  process.exit(1);
}

const CASES = [
  { trace: 'arc/OLTP.lis.zst', cacheSize: 10_000 },
  { trace: 'libcachesim/cloudPhysicsIO.txt', cacheSize: 10_000 },
  { trace: 'scarab/scarab-recs.trace.xz', cacheSize: 100_000 },
];
out(`# Miss-ratio curve: SHARDS (≤ 8,192 keys) vs exact LRU (commit ${gitCommit()})`);
const results: object[] = [];
for (const c of CASES) {
  const t = readTrace(c.trace);
  const sizes = [0.125, 0.25, 0.5, 1, 2, 4, 8].map((f) => Math.round(f * c.cacheSize));
  const exact = new ShardsMrc({ rate: 1, maxKeys: t.distinct + 1 });
  const sampled = new ShardsMrc({
    rate: 1,
    maxKeys: 8192,
    bucket: Math.max(1, Math.floor(c.cacheSize / 64)),
  });
  let t0 = performance.now();
  for (const k of t.keys) exact.record(hashKey(k));
  const exactMs = performance.now() - t0;
  t0 = performance.now();
  for (const k of t.keys) sampled.record(hashKey(k));
  const sampledMs = performance.now() - t0;
  const e = exact.curve(sizes);
  const s = sampled.curve(sizes);
  const err = s.map((p, i) => Math.abs(p.hitRatio - e[i]!.hitRatio) * 100);
  const mae = err.reduce((a, b) => a + b, 0) / err.length;
  out();
  out(
    `## ${c.trace} (${t.keys.length} requests, ${t.distinct} keys; final sampling rate ${(sampled.rate * 100).toFixed(2)}%)`,
  );
  out();
  out('| size | exact LRU hit % | SHARDS hit % | error (points) |');
  out('| ---: | ---: | ---: | ---: |');
  sizes.forEach((size, i) => {
    out(
      `| ${size} | ${(e[i]!.hitRatio * 100).toFixed(2)} | ${(s[i]!.hitRatio * 100).toFixed(2)} | ${err[i]!.toFixed(2)} |`,
    );
  });
  out();
  out(
    `mean absolute error ${mae.toFixed(2)} points (target ≤ 2); ${((sampledMs / t.keys.length) * 1e6).toFixed(0)} ns per reference sampled vs ${((exactMs / t.keys.length) * 1e6).toFixed(0)} ns exact`,
  );
  // The exact curve against a real LRU replay at the reference sizes.
  const checks = REFERENCE.filter((r) => r.trace === c.trace).map((r) => {
    const replayed = 100 * replay(t.keys, new LRUCache<number, number>({ max: r.size }));
    const curve = 100 * exact.curve([r.size])[0]!.hitRatio;
    return { size: r.size, replayed, curve, reference: r.lru };
  });
  for (const k of checks) {
    out(
      `exact curve at ${k.size}: ${k.curve.toFixed(2)}%; lru-cache replay ${k.replayed.toFixed(2)}%; README LRU ${k.reference.toFixed(2)}%`,
    );
  }
  results.push({
    trace: c.trace,
    sizes,
    exact: e,
    sampled: s,
    mae,
    checks,
    sampledNsPerRef: (sampledMs / t.keys.length) * 1e6,
  });
}
writeResults('cache-mrc.json', { commit: gitCommit(), results });
