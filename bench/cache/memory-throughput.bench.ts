/**
 * The memory backend against `lru-cache` 11 in the same process and run: get-hit, get-miss and set
 * operations per second (siperf's store with its counters and frequency sketch on; W-TinyLFU and LRU
 * policies), and heap bytes per entry beyond key and value (small-integer keys and values, which V8
 * stores inline, so all measured heap is the cache's own).
 * Targets (issue 5): gets ≥ 0.8× lru-cache; ≤ 80 bytes per entry (lru-cache ~52).
 *
 * Usage: node --expose-gc --import tsx bench/cache/memory-throughput.bench.ts [--entries=100000] [--ops=5000000]
 * (npm run bench:cache-throughput). Writes bench/results/cache-throughput.json.
 */
import { LRUCache } from 'lru-cache';
import { MemoryStore } from '../../packages/node/src/cache/memory-store.ts';
import { cpuSnapshot, gitCommit, option, otherCores, writeResults } from '../lib/run-info.ts';

const ENTRIES = Number(option('entries', 'BENCH_ENTRIES', '100000'));
const OPS = Number(option('ops', 'BENCH_OPS', '5000000'));
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  out('run with node --expose-gc (npm run bench:cache-throughput does)');
  process.exit(1);
}

interface Subject {
  name: string;
  make(max: number): { get(k: number): unknown; set(k: number, v: number): unknown };
}
const subjects: Subject[] = [
  { name: 'lru-cache 11', make: (max) => new LRUCache<number, number>({ max }) },
  { name: 'siperf W-TinyLFU', make: (max) => new MemoryStore<number>({ maxEntries: max }) },
  { name: 'siperf LRU', make: (max) => new MemoryStore<number>({ maxEntries: max, policy: 'lru' }) },
];

/** Keys in a fixed pseudo-random order (so neither cache sees a sequential pattern). */
const order = new Int32Array(OPS);
let x = 12345;
for (let i = 0; i < OPS; i++) {
  x = (Math.imul(x, 1103515245) + 12345) | 0;
  order[i] = (x >>> 8) % ENTRIES;
}

function opsPerSec(fn: () => void, ops: number): number {
  fn(); // warm-up
  const t0 = performance.now();
  fn();
  return ops / ((performance.now() - t0) / 1000);
}

const rows: Record<string, number | string>[] = [];
const before = cpuSnapshot();
const ROUNDS = 5;
const perRound: Record<string, { getHit: number[]; getMiss: number[]; set: number[] }> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const s of subjects) {
    const c = s.make(ENTRIES);
    for (let k = 0; k < ENTRIES; k++) c.set(k, k);
    let sink = 0;
    const hit = opsPerSec(() => {
      for (let i = 0; i < OPS; i++) sink += c.get(order[i]!) as number;
    }, OPS);
    const miss = opsPerSec(() => {
      for (let i = 0; i < OPS; i++) if (c.get(order[i]! + ENTRIES) !== undefined) sink += 1;
    }, OPS);
    // Sets of new keys into a full cache: each one evicts (or, for W-TinyLFU, may be rejected).
    let next = ENTRIES * 2;
    const set = opsPerSec(() => {
      for (let i = 0; i < OPS; i++) c.set(next++, i);
    }, OPS);
    if (sink === -1) out('');
    // The first round warms the JIT; the others are kept, and each figure is their median.
    if (round === 0) continue;
    if (!perRound[s.name]) perRound[s.name] = { getHit: [], getMiss: [], set: [] };
    const r = perRound[s.name]!;
    r.getHit.push(hit);
    r.getMiss.push(miss);
    r.set.push(set);
  }
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
for (const sub of subjects) {
  const r = perRound[sub.name]!;
  rows.push({ subject: sub.name, getHit: median(r.getHit), getMiss: median(r.getMiss), set: median(r.set) });
}
const busy = otherCores(before, cpuSnapshot());

function bytesPerEntry(s: Subject, n: number): number {
  gc!();
  gc!();
  const h0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const c = s.make(n);
  for (let k = 0; k < n; k++) c.set(k, k);
  gc!();
  gc!();
  const h1 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  if (!c.get(0) && !c.get(1)) out('');
  return (h1 - h0) / n;
}
const memory = subjects.map((s) => ({ subject: s.name, bytesPerEntry: bytesPerEntry(s, 1_000_000) }));

out(
  `# Memory cache throughput (commit ${gitCommit()}, ${ENTRIES} entries, ${OPS} ops per measure, median of 4 rounds after a warm-up round)`,
);
out();
out('| subject | get hit ops/s | get miss ops/s | set (evicting) ops/s | bytes/entry (1 M entries) |');
out('| --- | ---: | ---: | ---: | ---: |');
const f = (v: number) => Math.round(v).toLocaleString('en-US');
for (const r of rows) {
  const m = memory.find((x) => x.subject === r.subject)!;
  out(
    `| ${r.subject} | ${f(r.getHit as number)} | ${f(r.getMiss as number)} | ${f(r.set as number)} | ${m.bytesPerEntry.toFixed(1)} |`,
  );
}
const base = rows[0]!;
out();
for (const r of rows.slice(1)) {
  out(
    `${r.subject} / lru-cache: get hit ${((r.getHit as number) / (base.getHit as number)).toFixed(2)}×, get miss ${((r.getMiss as number) / (base.getMiss as number)).toFixed(2)}×, set ${((r.set as number) / (base.set as number)).toFixed(2)}× (target ≥ 0.8× for gets)`,
  );
}
if (busy) out(`other processes used ${busy.otherCores.toFixed(2)} cores during the run`);
writeResults('cache-throughput.json', {
  commit: gitCommit(),
  entries: ENTRIES,
  ops: OPS,
  rows,
  memory,
  busy,
});
