/**
 * Overhead of `@siperf/node`, each figure a ratio against its bare counterpart in the same run:
 * 1. per-span cost of `traceRequest` against a bare OpenTelemetry `startActiveSpan` + `end` on the same
 *    provider (batch processor, discarding exporter), target ≤ 1.1×;
 * 2. requests/s of a small HTTP service with `init()` against the same service without it, under
 *    autocannon on loopback, target ≥ 0.95×: once with spans exported to a real siperf server (its own
 *    process), once to a sink process that answers 200 without decoding (the SDK's own cost).
 * On this 2-core machine the load generator, the service and the receiver share the cores.
 *
 * Usage: npm run bench:sdk -- [--duration=10] [--connections=10] [--spans=200000]
 * Writes bench/results/sdk-overhead.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import autocannon from 'autocannon';
import { traceRequest } from '../../packages/node/src/index.ts';
import { cpuSnapshot, gitCommit, numberOption, otherCores, writeResults } from '../lib/run-info.ts';

const DURATION_S = numberOption('duration', 'BENCH_DURATION_S', 10, true);
const CONNECTIONS = numberOption('connections', 'BENCH_CONNECTIONS', 10, true);
const SPANS = numberOption('spans', 'BENCH_SPANS', 200_000, true);
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** An exporter that drops everything (the cost measured is the SDK's, not the network's). */
class DiscardExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (r: { code: number }) => void): void {
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function spanCost(): Promise<{ bareNs: number; traceRequestNs: number; ratio: number }> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(new DiscardExporter(), { maxQueueSize: 1 << 20, scheduledDelayMillis: 20 }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  const tracer = trace.getTracer('bench');
  const fn = () => 1;
  const bare = () =>
    tracer.startActiveSpan('work', (span) => {
      const r = fn();
      span.end();
      return r;
    });
  const ours = () => traceRequest('work', fn);
  const time = (f: () => number, n: number): number => {
    const t = performance.now();
    for (let i = 0; i < n; i++) f();
    return ((performance.now() - t) * 1e6) / n;
  };
  time(bare, 20_000);
  time(ours, 20_000);
  const b: number[] = [];
  const o: number[] = [];
  for (let round = 0; round < 7; round++) {
    b.push(time(bare, SPANS / 7));
    o.push(time(ours, SPANS / 7));
    await provider.forceFlush();
  }
  await provider.shutdown();
  trace.disable();
  context.disable();
  const bareNs = median(b);
  const traceRequestNs = median(o);
  return { bareNs, traceRequestNs, ratio: traceRequestNs / bareNs };
}

async function load(
  instrumented: boolean,
  endpoint: string,
  env: Record<string, string> = {},
): Promise<number> {
  const app = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./app.ts', import.meta.url))],
    {
      env: { ...process.env, SIPERF_BENCH_INIT: instrumented ? '1' : '0', SIPERF_ENDPOINT: endpoint, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    app.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    app.once('exit', (code) => reject(new Error(`app exited ${code}`)));
  });
  const url = `http://127.0.0.1:${port}/`;
  await autocannon({ url, connections: CONNECTIONS, duration: 2 }); // warm-up
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  app.kill('SIGTERM');
  await new Promise((r) => app.once('exit', r));
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`load errors: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

/** A free loopback port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts a child process and waits until `url` answers. */
async function startProcess(args: string[], url: string) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${args.join(' ')} did not answer at ${url}`);
}

const SINK = `const http = require('node:http');
http.createServer((req, res) => { req.resume(); req.on('end', () => {
  res.writeHead(200, { 'content-type': req.headers['content-type'] || 'application/x-protobuf' }); res.end(); }); })
  .listen(Number(process.env.PORT), '127.0.0.1');`;

async function stopProcess(child: ReturnType<typeof spawn>): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

async function main(): Promise<void> {
  out('# @siperf/node overhead');
  out(`commit ${gitCommit()}, node ${process.version}`);
  const spans = await spanCost();
  out(
    `span cost: bare startActiveSpan ${spans.bareNs.toFixed(0)} ns, traceRequest ${spans.traceRequestNs.toFixed(0)} ns → ratio ${spans.ratio.toFixed(3)} (target ≤ 1.1)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'siperf-bench-sdk-'));
  const serverPort = await freePort();
  const sinkPort = await freePort();
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const sinkUrl = `http://127.0.0.1:${sinkPort}`;
  const server = await startProcess(
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('../../packages/server/src/cli/main.ts', import.meta.url)),
      'serve',
      '--port',
      String(serverPort),
      '--data-dir',
      dir,
    ],
    `${serverUrl}/healthz`,
  );
  const sinkEnv = { ...process.env, PORT: String(sinkPort) };
  const sink = spawn(process.execPath, ['-e', SINK], { env: sinkEnv, stdio: 'ignore' });
  try {
    const a = cpuSnapshot();
    const bareRps = await load(false, serverUrl);
    const initRps = await load(true, serverUrl);
    const sinkRps = await load(true, sinkUrl);
    const traceOnlyRps = await load(true, sinkUrl, { SIPERF_BENCH_NO_AUTO: '1' });
    const bareRps2 = await load(false, serverUrl);
    const cpu = otherCores(a, cpuSnapshot());
    const bare = (bareRps + bareRps2) / 2;
    const ratio = initRps / bare;
    const sinkRatio = sinkRps / bare;
    out(
      `HTTP service, ${CONNECTIONS} connections, ${DURATION_S} s each: without init() ${bare.toFixed(0)} req/s (runs ${bareRps.toFixed(0)}, ${bareRps2.toFixed(0)})`,
    );
    out(
      `  with init(), exporting to a siperf server: ${initRps.toFixed(0)} req/s → ratio ${ratio.toFixed(3)} (target ≥ 0.95)`,
    );
    out(
      `  with init(), exporting to a sink that decodes nothing: ${sinkRps.toFixed(0)} req/s → ratio ${sinkRatio.toFixed(3)}`,
    );
    const usPerRequest = (rps: number) => (1e6 / rps - 1e6 / bare).toFixed(1);
    out(
      `  with init() but no default instrumentations (traceRequest spans only), to the sink: ${traceOnlyRps.toFixed(0)} req/s → ratio ${(traceOnlyRps / bare).toFixed(3)}`,
    );
    out(
      `  added per request (1/rps difference): ${usPerRequest(traceOnlyRps)} µs traceRequest + export, ${usPerRequest(sinkRps)} µs with the default instrumentations, ${usPerRequest(initRps)} µs exporting to siperf`,
    );
    if (cpu)
      out(
        `CPU: bench process ${cpu.thisProcessCores.toFixed(2)} cores, other processes ${cpu.otherCores.toFixed(2)} cores`,
      );
    const services: any = await (await fetch(`${serverUrl}/api/v1/apm/services?window=1h`)).json();
    const stored = services.services?.find((x: any) => x.service === 'bench-app');
    out(`spans from the instrumented run reached the server: ${stored?.requests ?? 0} requests rolled up`);
    writeResults('sdk-overhead.json', {
      commit: gitCommit(),
      spans,
      http: {
        bareRps: bare,
        initRps,
        ratio,
        sinkRps,
        sinkRatio,
        connections: CONNECTIONS,
        durationS: DURATION_S,
      },
    });
  } finally {
    await stopProcess(server);
    await stopProcess(sink);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
