/**
 * The dashboard in headless Chromium on this machine, each subject in its own process (subject.ts), each
 * figure the median of several navigations (min and max shown) read against its named limit:
 *
 * (a) Overview: navigation → the services table drawn, split into the API's time (the `metrics/series`
 *     call, Resource Timing) and the render after it answered; limit: render ≤ 1 s after the server answers.
 * (b) A trace of 100,000 spans: navigation → its first waterfall rows drawn, limit ≤ 1.5 s; the render after
 *     the trace's answer apart; JS heap used at the end (after scrolling to the last row; CDP
 *     Performance.getMetrics JSHeapUsedSize), limit ≤ 300 MB.
 *
 * Usage: npm run bench:dashboard -- [--runs=5] [--subjects=overview,trace]
 * Writes bench/results/dashboard.json.
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cpuSnapshot, gitCommit, numberOption, option, otherCores, writeResults } from '../lib/run-info.ts';
import type { Run } from './subject.ts';

const RUNS = numberOption('runs', 'BENCH_RUNS', 5, true);
const SUBJECTS = option('subjects', 'BENCH_SUBJECTS', 'overview,trace').split(',');
const SUBJECT = fileURLToPath(new URL('./subject.ts', import.meta.url));
const MB = 1e6;

/** The named limits. */
export const LIMITS = {
  overviewRenderMs: 1000,
  traceFirstRowsMs: 1500,
  traceHeapBytes: 300 * MB,
} as const;

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function summary(xs: number[]): { min: number; median: number; max: number; runs: number[] } {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { min: s[0]!, median: s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2, max: s.at(-1)!, runs: xs };
}

async function runSubject(
  subject: string,
): Promise<{ runs: Run[]; wallS: number; contention: unknown; chromium: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', SUBJECT, `--subject=${subject}`, `--runs=${RUNS}`],
    { maxBuffer: 64 * 1024 * 1024, timeout: 3_600_000 },
  );
  // The server's own log lines (warnings) are JSON too: the result is the line with the runs.
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      const r = JSON.parse(line);
      if (r.subject === subject && Array.isArray(r.runs)) return r;
    } catch {
      // not JSON
    }
  }
  throw new Error(`${subject}: no result line in its output:\n${stdout.slice(-2000)}`);
}

async function main(): Promise<void> {
  const cpu0 = cpuSnapshot();
  const started = performance.now();
  const results: Record<string, unknown> = {};
  type Row = { figure: string; s: ReturnType<typeof summary>; unit: 'ms' | 'MB'; limit?: number };
  const rows: Row[] = [];
  let chromium = '';
  for (const subject of SUBJECTS) {
    out(`${subject}: ${RUNS} runs in its own process…`);
    const r = await runSubject(subject);
    chromium = r.chromium;
    const f = (pick: (x: Run) => number) => summary(r.runs.map(pick));
    if (subject === 'overview') {
      const fig = {
        navigationToDrawnMs: f((x) => x.drawnMs),
        apiMs: f((x) => x.apiEndMs - x.apiStartMs),
        apiAnsweredAtMs: f((x) => x.apiEndMs),
        renderAfterApiMs: f((x) => x.renderMs),
        domContentLoadedMs: f((x) => x.domContentLoadedMs),
      };
      rows.push(
        { figure: 'overview: navigation → table drawn', s: fig.navigationToDrawnMs, unit: 'ms' },
        { figure: 'overview: metrics/series call (API)', s: fig.apiMs, unit: 'ms' },
        {
          figure: 'overview: render after the API answered',
          s: fig.renderAfterApiMs,
          unit: 'ms',
          limit: LIMITS.overviewRenderMs,
        },
      );
      results.overview = {
        ...fig,
        apiCallsOfLastRun: r.runs.at(-1)?.apiCalls,
        wallS: r.wallS,
        contention: r.contention,
      };
    } else if (subject === 'trace') {
      const fig = {
        navigationToFirstRowsMs: f((x) => x.drawnMs),
        apiMs: f((x) => x.apiEndMs - x.apiStartMs),
        apiToFirstByteMs: f((x) => x.apiFirstByteMs - x.apiStartMs),
        apiDownloadMs: f((x) => x.apiEndMs - x.apiFirstByteMs),
        answerBytes: f((x) => x.apiCalls.find((c) => c.path.startsWith('/api/v1/apm/traces/'))?.bytes ?? 0),
        renderAfterApiMs: f((x) => x.renderMs),
        heapAtFirstRowsBytes: f((x) => x.heapAtFirstRows ?? 0),
        heapAtEndBytes: f((x) => x.heapAtEnd ?? 0),
        heapAfterGcBytes: f((x) => x.heapAfterGc ?? 0),
      };
      rows.push(
        {
          figure: 'trace 100k: navigation → first rows',
          s: fig.navigationToFirstRowsMs,
          unit: 'ms',
          limit: LIMITS.traceFirstRowsMs,
        },
        { figure: 'trace 100k: traces/{id} call (API)', s: fig.apiMs, unit: 'ms' },
        { figure: '  of which to the first byte (server)', s: fig.apiToFirstByteMs, unit: 'ms' },
        { figure: '  of which the download', s: fig.apiDownloadMs, unit: 'ms' },
        {
          figure: 'trace 100k: render after the API answered',
          s: fig.renderAfterApiMs,
          unit: 'ms',
          limit: LIMITS.traceFirstRowsMs,
        },
        {
          figure: 'trace 100k: JS heap used at the end',
          s: {
            ...fig.heapAtEndBytes,
            min: fig.heapAtEndBytes.min / MB,
            median: fig.heapAtEndBytes.median / MB,
            max: fig.heapAtEndBytes.max / MB,
          },
          unit: 'MB',
          limit: LIMITS.traceHeapBytes / MB,
        },
        {
          figure: 'trace 100k: JS heap after a GC',
          s: {
            ...fig.heapAfterGcBytes,
            min: fig.heapAfterGcBytes.min / MB,
            median: fig.heapAfterGcBytes.median / MB,
            max: fig.heapAfterGcBytes.max / MB,
          },
          unit: 'MB',
        },
      );
      results.trace = {
        ...fig,
        answerMB: fig.answerBytes.median / MB,
        wallS: r.wallS,
        contention: r.contention,
      };
    } else {
      throw new Error(`--subjects: unknown subject ${subject} (overview, trace)`);
    }
  }
  const contention = otherCores(cpu0, cpuSnapshot());
  const fmt = (v: number, unit: string) => (unit === 'MB' ? v.toFixed(1) : v.toFixed(0));
  out();
  out(
    `${'figure'.padEnd(46)}${'min'.padStart(9)}${'median'.padStart(9)}${'max'.padStart(9)}  limit      ratio  `,
  );
  const ratios: Record<string, { median: number; limit: number; ratio: number; pass: boolean }> = {};
  for (const r of rows) {
    const lim = r.limit === undefined ? '' : `≤ ${fmt(r.limit, r.unit)} ${r.unit}`;
    const ratio = r.limit === undefined ? undefined : r.s.median / r.limit;
    if (ratio !== undefined)
      ratios[r.figure] = { median: r.s.median, limit: r.limit!, ratio, pass: ratio <= 1 };
    out(
      `${r.figure.padEnd(46)}${fmt(r.s.min, r.unit).padStart(9)}${fmt(r.s.median, r.unit).padStart(9)}${fmt(r.s.max, r.unit).padStart(9)}  ${lim.padEnd(11)}${ratio === undefined ? '' : `${ratio.toFixed(2)}× ${ratio <= 1 ? 'PASS' : 'FAIL'}`}`,
    );
  }
  out(
    `(${RUNS} runs each, ms unless said; ${cpus().length} cores${contention ? `; other processes used ${contention.otherCores.toFixed(2)} cores meanwhile` : ''})`,
  );
  const path = writeResults('dashboard.json', {
    benchmark: 'dashboard',
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    chromium,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    runs: RUNS,
    limits: LIMITS,
    ratios,
    ...results,
    cpuWhileRunning: contention ?? null,
    totalS: (performance.now() - started) / 1000,
  });
  out(`results written to ${path}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
