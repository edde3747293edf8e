/**
 * The memory backend against `lru-cache` 11: get-hit, get-miss and set (evicting) operations per second,
 * and heap bytes per entry (small-integer keys and values, which V8 stores inline, so all measured heap
 * is the cache's own), for siperf's `MemoryStore` (W-TinyLFU and LRU) and `createCache`'s memory backend.
 *
 * Method: each subject runs in its own process (a cache in the same process as another one shares its
 * heap, GC and JIT state, which slowed lru-cache by ~3× in an independent check), one process per
 * (subject, size, key distribution, run); the order of subjects is rotated from run to run, and each
 * figure is reported as min / median / max over the runs. Keys: uniform over the entries, or Zipfian
 * (s = 0.99, ranks shuffled over the keys). Sizes: 100 k and 1 M entries.
 * Each measure is timed twice: by the wall clock and by the process's CPU time (user + system, from
 * `process.cpuUsage`). On a shared machine the wall clock also counts the time other processes held the
 * core, so the CPU-time figures (`--clock=cpu`, the default for the table) are the steadier ones; both
 * are written to the JSON file.
 * Targets (issue 18): W-TinyLFU get hit ≥ 0.8× lru-cache at 1 M entries on uniform keys and ≥ 1× on
 * Zipfian keys (medians); `createCache` memory backend ≤ 90 bytes per entry.
 *
 * Usage: node --expose-gc --import tsx bench/cache/memory-throughput.bench.ts [--runs=5]
 *   [--entries=100000,1000000] [--keys=uniform,zipf] [--ops=4000000] [--subjects=lru-cache,w-tinylfu,…]
 *   [--clock=cpu|wall] [--memory=1|0]
 * (npm run bench:cache-throughput). Writes bench/results/cache-throughput.json.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { createCache } from '../../packages/node/src/cache/cache.ts';
import { MemoryStore } from '../../packages/node/src/cache/memory-store.ts';
import { cpuSnapshot, gitCommit, option, otherCores, writeResults } from '../lib/run-info.ts';

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const gc = (globalThis as { gc?: () => void }).gc;

interface SyncCache {
  get(k: number): unknown;
  set(k: number, v: number): unknown;
}
/** The subjects, by the name each child process is given. `cache` has no sync get: memory only. */
const SUBJECTS: Record<string, { label: string; make(max: number): SyncCache; memoryOnly?: boolean }> = {
  'lru-cache': { label: 'lru-cache 11', make: (max) => new LRUCache<number, number>({ max }) },
  'w-tinylfu': { label: 'siperf W-TinyLFU', make: (max) => new MemoryStore<number>({ maxEntries: max }) },
  lru: { label: 'siperf LRU', make: (max) => new MemoryStore<number>({ maxEntries: max, policy: 'lru' }) },
  cache: {
    label: 'siperf createCache (memory)',
    memoryOnly: true,
    make: (max) => {
      const c = createCache<number>('bench', { maxEntries: max, exportMetrics: false });
      return { get: () => undefined, set: (k, v) => c.set(String(k), v) };
    },
  },
};

// --- child: one subject, one size, one key distribution ---

function keysOf(dist: string, entries: number, ops: number, seed: number): Int32Array {
  const order = new Int32Array(ops);
  let x = seed | 0;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    return (x >>> 0) / 4294967296;
  };
  if (dist === 'uniform') {
    for (let i = 0; i < ops; i++) order[i] = Math.floor(rnd() * entries);
    return order;
  }
  // Zipf(0.99): the CDF over ranks, sampled by binary search; ranks mapped to keys by a shuffle.
  const cdf = new Float64Array(entries);
  let sum = 0;
  for (let r = 0; r < entries; r++) {
    sum += 1 / (r + 1) ** 0.99;
    cdf[r] = sum;
  }
  const perm = new Int32Array(entries);
  for (let i = 0; i < entries; i++) perm[i] = i;
  for (let i = entries - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  for (let i = 0; i < ops; i++) {
    const u = rnd() * sum;
    let lo = 0;
    let hi = entries - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    order[i] = perm[lo]!;
  }
  return order;
}

/** Operations per second of `fn` (which runs `ops` operations) by the wall clock and by CPU time. */
function opsPerSec(fn: () => void, ops: number): { wall: number; cpu: number } {
  fn(); // warm-up pass
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall: ops / (wallMs / 1000), cpu: ops / ((c.user + c.system) / 1e6) };
}

function child(): void {
  const subject = SUBJECTS[option('subject', '', '')]!;
  const entries = Number(option('entries', '', '100000'));
  const dist = option('keys', '', 'uniform');
  const ops = Number(option('ops', '', '4000000'));
  const result: Record<string, number> = {};
  const order = keysOf(dist, entries, ops, 12345);
  const c = subject.make(entries);
  for (let k = 0; k < entries; k++) c.set(k, k);
  let sink = 0;
  const put = (name: string, r: { wall: number; cpu: number }) => {
    result[name] = r.wall;
    result[`${name}Cpu`] = r.cpu;
  };
  put(
    'getHit',
    opsPerSec(() => {
      for (let i = 0; i < ops; i++) sink += c.get(order[i]!) as number;
    }, ops),
  );
  put(
    'getMiss',
    opsPerSec(() => {
      for (let i = 0; i < ops; i++) if (c.get(order[i]! + entries) !== undefined) sink += 1;
    }, ops),
  );
  let next = entries * 2;
  put(
    'set',
    opsPerSec(() => {
      for (let i = 0; i < ops; i++) c.set(next++, i);
    }, ops),
  );
  if (sink === -1) out('');
  out(JSON.stringify(result));
}

async function bytesChild(): Promise<void> {
  const name = option('subject', '', '');
  const subject = SUBJECTS[name]!;
  const entries = Number(option('entries', '', '1000000'));
  // createCache takes string keys: they are the caller's, made before the first reading.
  const keys = name === 'cache' ? Array.from({ length: entries }, (_, k) => String(k)) : [];
  const c =
    name === 'cache'
      ? createCache<number>('bench', { maxEntries: entries, exportMetrics: false })
      : undefined;
  gc!();
  gc!();
  const m0 = process.memoryUsage();
  let s: SyncCache | undefined;
  if (c) for (let k = 0; k < entries; k++) await c.set(keys[k]!, k);
  else {
    s = subject.make(entries);
    for (let k = 0; k < entries; k++) s.set(k, k);
  }
  gc!();
  gc!();
  const m1 = process.memoryUsage();
  if (s?.get(0) === -1 || c?.name === '') out('');
  out(
    JSON.stringify({
      bytesPerEntry: (m1.heapUsed + m1.arrayBuffers - m0.heapUsed - m0.arrayBuffers) / entries,
    }),
  );
}

// --- driver ---

function run(args: string[]): Record<string, number> {
  const text = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...args],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(text.trim().split('\n').pop()!) as Record<string, number>;
}

function driver(): void {
  const runs = Number(option('runs', 'BENCH_RUNS', '5'));
  const sizes = option('entries', 'BENCH_ENTRIES', '100000,1000000').split(',').map(Number);
  const dists = option('keys', 'BENCH_KEYS', 'uniform,zipf').split(',');
  const ops = Number(option('ops', 'BENCH_OPS', '4000000'));
  const names = option('subjects', 'BENCH_SUBJECTS', 'lru-cache,w-tinylfu,lru').split(',');
  const clock = option('clock', 'BENCH_CLOCK', 'cpu');
  const withMemory = option('memory', 'BENCH_MEMORY', '1') !== '0';
  if (clock !== 'cpu' && clock !== 'wall') throw new Error(`--clock: expected cpu or wall, got ${clock}`);
  const sfx: '' | 'Cpu' = clock === 'cpu' ? 'Cpu' : '';
  const before = cpuSnapshot();
  const rows: {
    subject: string;
    entries: number;
    keys: string;
    getHit: number[];
    getMiss: number[];
    set: number[];
    getHitCpu: number[];
    getMissCpu: number[];
    setCpu: number[];
  }[] = [];
  for (const entries of sizes) {
    for (const keys of dists) {
      const mine = names.map((name) => ({
        subject: name,
        entries,
        keys,
        getHit: [] as number[],
        getMiss: [] as number[],
        set: [] as number[],
        getHitCpu: [] as number[],
        getMissCpu: [] as number[],
        setCpu: [] as number[],
      }));
      rows.push(...mine);
      for (let r = 0; r < runs; r++) {
        // Rotated order: each subject runs first, second, … in turn.
        for (let i = 0; i < names.length; i++) {
          const row = mine[(i + r) % names.length]!;
          const res = run([
            '--child',
            `--subject=${row.subject}`,
            `--entries=${entries}`,
            `--keys=${keys}`,
            `--ops=${ops}`,
          ]);
          for (const m of ['getHit', 'getMiss', 'set', 'getHitCpu', 'getMissCpu', 'setCpu'] as const) {
            row[m].push(res[m]!);
          }
        }
      }
    }
  }
  const memoryNames = ['lru-cache', 'w-tinylfu', 'cache'];
  const memory = (withMemory ? memoryNames : []).map((name) => {
    const v: number[] = [];
    for (let r = 0; r < Math.min(runs, 3); r++) v.push(run(['--bytes', `--subject=${name}`]).bytesPerEntry!);
    return { subject: name, bytesPerEntry: v };
  });
  const busy = otherCores(before, cpuSnapshot());

  const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
  const med = (v: number[]) => sorted(v)[Math.floor(v.length / 2)]!;
  const f = (v: number) => `${(v / 1e6).toFixed(2)}`;
  const mmm = (v: number[]) => `${f(sorted(v)[0]!)} / ${f(med(v))} / ${f(sorted(v).at(-1)!)}`;
  out(
    `# Memory cache throughput (commit ${gitCommit()}; one process per subject and run, ${runs} runs in rotated order, ${ops.toLocaleString('en-US')} ops per measure; M ops per ${clock === 'cpu' ? 'CPU' : 'wall-clock'} second, min / median / max)`,
  );
  out();
  out('| entries | keys | subject | get hit | get miss | set (evicting) | get hit / lru-cache (median) |');
  out('| ---: | --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const base = rows.find((x) => x.entries === r.entries && x.keys === r.keys && x.subject === 'lru-cache');
    const hit = r[`getHit${sfx}`]!;
    const ratio = base ? (med(hit) / med(base[`getHit${sfx}`]!)).toFixed(2) : '–';
    out(
      `| ${r.entries.toLocaleString('en-US')} | ${r.keys} | ${SUBJECTS[r.subject]!.label} | ${mmm(hit)} | ${mmm(r[`getMiss${sfx}`]!)} | ${mmm(r[`set${sfx}`]!)} | ${ratio}× |`,
    );
  }
  if (memory.length > 0) {
    out();
    out('| subject | bytes/entry at 1 M entries (min / median / max) |');
    out('| --- | ---: |');
  }
  for (const m of memory) {
    const s = sorted(m.bytesPerEntry);
    out(
      `| ${SUBJECTS[m.subject]!.label} | ${s[0]!.toFixed(1)} / ${med(s).toFixed(1)} / ${s.at(-1)!.toFixed(1)} |`,
    );
  }
  out();
  out(
    'Targets: W-TinyLFU get hit ≥ 0.8× lru-cache at 1 M uniform, ≥ 1× at 1 M Zipfian; createCache ≤ 90 B/entry.',
  );
  if (busy) out(`other processes used ${busy.otherCores.toFixed(2)} cores during the run`);
  writeResults('cache-throughput.json', { commit: gitCommit(), runs, ops, clock, rows, memory, busy });
}

if (process.argv.includes('--child')) child();
else if (process.argv.includes('--bytes')) void bytesChild();
else if (!gc) {
  out('run with node --expose-gc (npm run bench:cache-throughput does)');
  process.exit(1);
} else driver();
