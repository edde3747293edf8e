/**
 * One subject of `npm run bench:dashboard`, in its own process: a real siperf server (in this process, as
 * `siperf serve` runs: no response validation) with the subject's data, headless Chromium, and `--runs`
 * navigations, each in a fresh browser context (a cold HTTP cache, as a first visit), after one warm-up
 * navigation that is not counted. Prints one JSON line: the timings of each run.
 *
 * Timings are read in the page, on its own clock (ms since the navigation started):
 * - the API calls from Resource Timing (`startTime` → `responseEnd` of each `/api/` request);
 * - "drawn": the first animation frame after the awaited element entered the DOM (a MutationObserver
 *   installed before the page's scripts);
 * - render = drawn − responseEnd of the call whose answer the element shows (the time the page takes
 *   after the server has answered).
 * Subjects: `overview` (the services table has rows; its data is `metrics/series`), `trace` (the first
 * waterfall rows of a 100,000-span trace; its data is `traces/{id}`), with the JS heap read over CDP
 * (`Performance.getMetrics` JSHeapUsedSize) at the end: once the first rows are drawn, after scrolling to the
 * last row, and after a forced garbage collection.
 *
 * Usage: node --import tsx bench/dashboard/subject.ts --subject=overview|trace [--runs=5]
 */
import { loadConfig, type RunningServer, startServer } from '@siperf/server';
import type { Browser, Page } from 'playwright-core';
import {
  loadBigTrace,
  loadKnownData,
  otlpSpan,
  otlpTraces,
  SERVER_FLAGS,
} from '../../packages/dashboard/test/fixtures.ts';
import { assertBuilt, launchChromium, newContext } from '../../packages/dashboard/test/harness.ts';
import { cpuSnapshot, numberOption, option, otherCores } from '../lib/run-info.ts';

const SUBJECT = option('subject', 'BENCH_SUBJECT', 'overview');
const RUNS = numberOption('runs', 'BENCH_RUNS', 5, true);
const WAIT_MS = 600_000;

/** What one run measured, ms on the page's clock (0 = navigation start) unless said otherwise. */
export interface Run {
  /** The awaited element drawn. */
  drawnMs: number;
  /** The data's API call: its start and its answer's end. */
  apiStartMs: number;
  apiEndMs: number;
  /** The data call's first byte of the answer (start → first byte: the server's work; then the download). */
  apiFirstByteMs: number;
  /** drawn − apiEnd. */
  renderMs: number;
  /** DOMContentLoaded. */
  domContentLoadedMs: number;
  /** Every API call of the page: path, start and duration. */
  apiCalls: { path: string; startMs: number; durationMs: number; bytes: number }[];
  /** Trace only: JS heap used (bytes) with the first rows drawn, after scrolling to the end, after a GC. */
  heapAtFirstRows?: number;
  heapAtEnd?: number;
  heapAfterGc?: number;
}

/** The in-page recorder: the first animation frame after `selector` matches something, ms since navigation start. */
function recorder(selector: string): string {
  return `(() => {
    const b = (globalThis.__bench = { drawn: undefined });
    const check = () => {
      if (b.seen === undefined && document.querySelector(${JSON.stringify(selector)})) {
        b.seen = performance.now();
        requestAnimationFrame(() => { b.drawn = performance.now(); });
      }
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true });
  })();`;
}

async function measure(
  browser: Browser,
  url: string,
  selector: string,
  apiPath: (path: string) => boolean,
  after?: (page: Page, run: Run) => Promise<void>,
): Promise<Run> {
  const context = await newContext(browser);
  try {
    await context.addInitScript(recorder(selector));
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => (globalThis as any).__bench?.drawn !== undefined, undefined, {
      timeout: WAIT_MS,
      polling: 50,
    });
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      const api = (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .filter((e) => new URL(e.name).pathname.startsWith('/api/'))
        .map((e) => ({
          path: new URL(e.name).pathname + new URL(e.name).search,
          startMs: e.startTime,
          endMs: e.responseEnd,
          firstByteMs: e.responseStart,
          durationMs: e.duration,
          bytes: e.encodedBodySize,
        }));
      return {
        drawn: (globalThis as any).__bench.drawn as number,
        dcl: nav?.domContentLoadedEventEnd ?? 0,
        api,
      };
    });
    const data = t.api.filter((c) => apiPath(c.path)).sort((a, b) => a.endMs - b.endMs)[0];
    if (!data) throw new Error(`no API call of the data among ${JSON.stringify(t.api.map((c) => c.path))}`);
    const run: Run = {
      drawnMs: t.drawn,
      apiStartMs: data.startMs,
      apiEndMs: data.endMs,
      apiFirstByteMs: data.firstByteMs,
      renderMs: t.drawn - data.endMs,
      domContentLoadedMs: t.dcl,
      apiCalls: t.api.map((c) => ({
        path: c.path,
        startMs: c.startMs,
        durationMs: c.durationMs,
        bytes: c.bytes,
      })),
    };
    if (after) await after(page, run);
    // Let the page's other calls finish before the next run, so runs do not overlap on the server.
    await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
    return run;
  } finally {
    await context.close();
  }
}

/** The overview with the tests' known data plus 30 more services (a table of 32 rows). */
async function overview(server: RunningServer, browser: Browser): Promise<Run[]> {
  await loadKnownData(server.url);
  const now = Date.now();
  for (let s = 0; s < 30; s++) {
    const spans = Array.from({ length: 120 }, (_, i) =>
      otlpSpan({
        traceId: `${(s + 1).toString(16).padStart(4, '0')}${i.toString(16).padStart(28, '0')}`,
        name: `GET /api/item/${i % 6}`,
        kind: 2,
        startMs: now - 9 * 60_000 + i * 4000,
        durationMs: 5 + ((i * 37) % 200),
        attributes: {
          'http.request.method': 'GET',
          'http.route': `/api/item/${i % 6}`,
          'http.response.status_code': 200,
        },
      }),
    );
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: otlpTraces(`service-${String(s).padStart(2, '0')}`, spans),
    });
    if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`);
  }
  // Every service counted before timing.
  for (;;) {
    const r = await (await fetch(`${server.url}/api/v1/apm/metrics/series?window=1h&groupBy=service`)).json();
    if (r.groups.length === 32 && r.groups.every((g: any) => g.requests >= 120)) break;
    await new Promise((r2) => setTimeout(r2, 200));
  }
  const sel = 'section[aria-labelledby="services-h"] table tbody tr';
  const isData = (p: string) => p.startsWith('/api/v1/apm/metrics/series');
  const runs: Run[] = [];
  await measure(browser, `${server.url}/`, sel, isData); // warm-up
  for (let i = 0; i < RUNS; i++) runs.push(await measure(browser, `${server.url}/`, sel, isData));
  return runs;
}

/** The 100,000-span trace in the trace view. */
async function trace(server: RunningServer, browser: Browser): Promise<Run[]> {
  const big = await loadBigTrace(server.url);
  const url = `${server.url}/traces/${big.traceId}`;
  const sel = '[role="tree"] [role="treeitem"]';
  const isData = (p: string) => p.startsWith(`/api/v1/apm/traces/${big.traceId}`);
  const heap = async (page: Page, run: Run) => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const used = async () =>
      (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize')!.value;
    run.heapAtFirstRows = await used();
    // Scroll to the last row, as the test does, then read again.
    const last = page.locator(`[role="treeitem"][data-span="${big.lastSpanId}"]`);
    await page.getByRole('tree').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await last.waitFor({ state: 'visible', timeout: WAIT_MS });
    run.heapAtEnd = await used();
    await cdp.send('HeapProfiler.collectGarbage');
    run.heapAfterGc = await used();
    await cdp.detach();
  };
  const runs: Run[] = [];
  await measure(browser, url, sel, isData); // warm-up
  for (let i = 0; i < RUNS; i++) runs.push(await measure(browser, url, sel, isData, heap));
  return runs;
}

async function main(): Promise<void> {
  assertBuilt();
  const subjects: Record<string, (s: RunningServer, b: Browser) => Promise<Run[]>> = { overview, trace };
  const run = subjects[SUBJECT];
  if (!run) throw new Error(`--subject: expected one of ${Object.keys(subjects).join(', ')}, got ${SUBJECT}`);
  const server = await startServer(
    loadConfig({
      flags: {
        ...SERVER_FLAGS,
        host: '127.0.0.1',
        port: 0,
        dataDir: ':memory:',
        logLevel: 'warn',
        resourceSampleIntervalMs: 0,
        // As in the tests: the known alert rule fires at once (the loader waits for it).
        alertEvaluationIntervalMs: 1000,
        // The production overload guard stays on (1,000 ms): a page load is not ingest.
      },
    }),
  );
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const cpu0 = cpuSnapshot();
    const t0 = performance.now();
    const runs = await run(server, browser);
    const contention = otherCores(cpu0, cpuSnapshot());
    process.stdout.write(
      `${JSON.stringify({ subject: SUBJECT, runs, wallS: (performance.now() - t0) / 1000, contention: contention ?? null, chromium: browser.version() })}\n`,
    );
  } finally {
    await browser?.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
