/**
 * Overhead of the built-in host sampler (`/proc`, `statfs`, cgroups → metric points → the DuckDB store):
 * CPU time per sample measured over many samples, scaled to CPU seconds per hour at 1 s and 10 s
 * intervals, against the limit of 0.5% of one core at 10 s (18 CPU-s/h) and Netdata's published 1–5% at
 * 1 s. RSS of the process after the run (the store included).
 *
 * Usage: npm run bench:sampler -- [--samples=300]
 * Writes bench/results/sampler-overhead.json.
 */
import { hostname } from 'node:os';
import { HostSampler, ProcReader } from '../../packages/server/src/resources/index.ts';
import { createDuckDbStore } from '../../packages/server/src/storage/index.ts';
import { nowNs } from '../../packages/server/src/util/time.ts';
import { gitCommit, numberOption, writeResults } from '../lib/run-info.ts';

const SAMPLES = numberOption('samples', 'BENCH_SAMPLES', 300, true);
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

const store = await createDuckDbStore({ path: ':memory:' });
const sampler = new HostSampler(new ProcReader('/'), hostname(), nowNs);
const rssBefore = process.memoryUsage().rss;
// Warm-up: JIT, DuckDB appender paths.
for (let i = 0; i < 20; i++) await store.writeMetricPoints(await sampler.sample());
let points = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < SAMPLES; i++) {
  const p = await sampler.sample();
  points += p.length;
  await store.writeMetricPoints(p);
}
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMsPerSample = (cpu.user + cpu.system) / 1000 / SAMPLES;
const perHour = (intervalS: number) => (cpuMsPerSample / 1000) * (3600 / intervalS);
const rss = process.memoryUsage().rss;
out('# Host sampler overhead');
out(
  `commit ${gitCommit()}, node ${process.version}, ${SAMPLES} samples, ${(points / SAMPLES).toFixed(0)} points each`,
);
out(
  `CPU per sample (read + write to the store): ${cpuMsPerSample.toFixed(2)} ms; wall ${(wallMs / SAMPLES).toFixed(2)} ms`,
);
for (const s of [1, 10]) {
  const h = perHour(s);
  out(
    `at ${s} s: ${h.toFixed(1)} CPU-s per hour = ${((100 * h) / 3600).toFixed(3)}% of one core` +
      (s === 10 ? ' (limit 0.5%, 18 CPU-s/h)' : ' (Netdata: 1–5% at 1 s)'),
  );
}
out(
  `RSS ${(rss / 2 ** 20).toFixed(0)} MiB after the run (${(rssBefore / 2 ** 20).toFixed(0)} MiB before the store and sampler ran)`,
);
writeResults('sampler-overhead.json', {
  commit: gitCommit(),
  samples: SAMPLES,
  cpuMsPerSample,
  cpuSecondsPerHour: { at1s: perHour(1), at10s: perHour(10) },
  rssBytes: rss,
});
await store.close();
