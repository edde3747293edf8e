/**
 * The compiled server: `siperf serve` through the bin runs the JavaScript that `npm run build` writes into
 * packages/server/dist, without tsx (a module hook fails the start-up if the main thread loads a `.ts` file
 * or tsx). It ingests OTLP/JSON (a small body decoded inline, a body over 64 KiB decoded by a worker
 * thread started from its compiled module) and OTLP protobuf, answers the three traces through the API, serves the `rum.js` built
 * at build time, and stops on SIGTERM. The forecast pool's compiled worker answers as the source does.
 * Needs `npm run build` (which `npm ci` and `npm test` run).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { otlpTypes } from '../src/ingest/otlp-protobuf.ts';
import { forecastSeries } from '../src/resources/forecast/forecaster.ts';
import { workerEntry } from '../src/util/worker-entry.ts';
import { waitFor } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/siperf.js', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const NOT_BUILT = `${DIST}bundle/cli-main.js is missing: run \`npm run build\` first`;

/** Resolve hook that refuses TypeScript sources and tsx itself, as a data: URL for `module.register`. */
const HOOKS = `data:text/javascript,${encodeURIComponent(
  'export async function resolve(specifier, context, next) {' +
    '  const r = await next(specifier, context);' +
    "  if (/\\.[cm]?tsx?$/.test(r.url) || r.url.includes('/node_modules/tsx/'))" +
    "    throw new Error('the compiled server loaded ' + r.url);" +
    '  return r;' +
    '}',
)}`;
/** `--import` of this registers {@link HOOKS} before the bin runs. */
const NO_TYPESCRIPT = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register(${JSON.stringify(HOOKS)});`,
)}`;

/** The environment of a child without anything that would load tsx. */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/** OTLP/JSON with `n` SERVER spans of one trace of service `orders`. */
function otlpJson(traceId: string, n: number): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId,
    spanId: randomBytes(8).toString('hex'),
    name: 'GET /orders/:id',
    kind: 2,
    startTimeUnixNano: String(now - 20_000_000n - BigInt(i)),
    endTimeUnixNano: String(now),
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/orders/:id' } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
    ],
  }));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] },
        scopeSpans: [{ scope: { name: 'compiled-test' }, spans }],
      },
    ],
  });
}

/** The same request as OTLP protobuf (ids as bytes), encoded with the sources' message types. */
function otlpProtobuf(traceId: string, n: number): Buffer {
  const request = JSON.parse(otlpJson(traceId, n));
  for (const span of request.resourceSpans[0].scopeSpans[0].spans) {
    span.traceId = Buffer.from(span.traceId, 'hex');
    span.spanId = Buffer.from(span.spanId, 'hex');
  }
  const type = otlpTypes().traceRequest;
  return Buffer.from(type.encode(type.fromObject(request)).finish());
}

/** Resolves with the exit code (or signal) once `child` has exited. */
function exited(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode);
  }
  return new Promise((res) => child.once('exit', (code, signal) => res(code ?? signal)));
}

test('the compiled siperf serve (bin, no tsx) ingests OTLP JSON and protobuf, answers them back and serves rum.js', async () => {
  assert.ok(existsSync(join(DIST, 'bundle/cli-main.js')), NOT_BUILT);
  const dir = mkdtempSync(join(tmpdir(), 'siperf-compiled-'));
  const child = spawn(
    process.execPath,
    [
      '--import',
      NO_TYPESCRIPT,
      BIN,
      'serve',
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--data-dir',
      join(dir, 'data'),
    ],
    {
      env: plainEnv({ SIPERF_LOG_LEVEL: 'info', SIPERF_MAX_EVENT_LOOP_DELAY_MS: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  try {
    // The URL from the "siperf listening" log line (the port is the system's pick).
    const base = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${stderr}`);
        const line = stdout.split('\n').find((l) => l.includes('"siperf listening"'));
        return line ? (JSON.parse(line) as { url: string }).url : undefined;
      },
      'the compiled server listening',
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    assert.equal((await fetch(`${base}/healthz`)).status, 200);

    const small = randomBytes(16).toString('hex');
    const big = randomBytes(16).toString('hex');
    const proto = randomBytes(16).toString('hex');
    const bigBody = otlpJson(big, 300);
    assert.ok(Buffer.byteLength(bigBody) > 64 * 1024, 'over the inline limit: a decode worker decodes it');
    for (const [type, body] of [
      ['application/json', otlpJson(small, 1)],
      ['application/json', bigBody],
      // Decoded with the .proto files read from packages/server/proto by a path relative to dist/ingest.
      ['application/x-protobuf', otlpProtobuf(proto, 3)],
    ] as const) {
      const r = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'content-type': type }, body });
      assert.equal(r.status, 200, await r.text());
    }
    for (const [traceId, spans] of [
      [small, 1],
      [big, 300],
      [proto, 3],
    ] as const) {
      const r = await fetch(`${base}/api/v1/apm/traces/${traceId}`);
      assert.equal(r.status, 200);
      const trace = (await r.json()) as { spanCount: number };
      assert.equal(trace.spanCount, spans);
    }

    const rum = await fetch(`${base}/rum.js`);
    assert.equal(rum.status, 200);
    assert.match(rum.headers.get('content-type') ?? '', /^application\/javascript/);
    const built = readFileSync(createRequire(import.meta.url).resolve('@siperf/browser/rum.js'), 'utf8');
    assert.ok(built.length > 1000);
    assert.equal(await rum.text(), built, 'the script npm run build wrote, as is');

    const code = exited(child);
    child.kill('SIGTERM');
    assert.equal(await code, 0, stderr);
    assert.doesNotMatch(stderr, /tsx|\.ts\b/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const code = exited(child);
      child.kill('SIGKILL');
      await code;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('workerEntry: the compiled module beside a .js starter, the tsx boot file beside a .ts one', () => {
  assert.equal(
    workerEntry('file:///srv/siperf/dist/ingest/decode-pool.js', './decode-worker.js', './decode-worker.mjs')
      .href,
    'file:///srv/siperf/dist/ingest/decode-worker.js',
  );
  assert.equal(
    workerEntry('file:///srv/siperf/src/ingest/decode-pool.ts', './decode-worker.js', './decode-worker.mjs')
      .href,
    'file:///srv/siperf/src/ingest/decode-worker.mjs',
  );
});

test('the compiled forecast worker (dist, no tsx) answers as forecastSeries from the sources', () => {
  assert.ok(existsSync(join(DIST, 'bundle/cli-main.js')), NOT_BUILT);
  const y = Array.from({ length: 96 }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 24) + (i % 5));
  const options = { startMs: 0, stepMs: 3_600_000, horizon: 12, period: 24, bounds: [0, 100] as const };
  const pool = new URL('../dist/resources/forecast/forecast-pool.js', import.meta.url).href;
  const script = `import { forecastInWorker, forecastPoolLoad, stopForecastWorkers } from ${JSON.stringify(pool)};
const p = forecastInWorker(${JSON.stringify(y)}, ${JSON.stringify(options)});
const workers = forecastPoolLoad().length;
const result = await p;
await stopForecastWorkers();
process.stdout.write(JSON.stringify({ workers, result }));`;
  const dir = mkdtempSync(join(tmpdir(), 'siperf-compiled-'));
  let out: string;
  try {
    writeFileSync(join(dir, 'forecast.mjs'), script);
    out = execFileSync(process.execPath, ['--import', NO_TYPESCRIPT, join(dir, 'forecast.mjs')], {
      env: plainEnv({}),
      encoding: 'utf8',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { workers, result } = JSON.parse(out) as { workers: number; result: unknown };
  assert.equal(workers, 1, 'the forecast ran in a worker thread, not inline');
  // dist/ has no tsx boot files (tsc emits .ts only): the worker that answered started from the .js.
  assert.ok(!existsSync(join(DIST, 'resources/forecast/forecast-worker-boot.mjs')));
  assert.ok(!existsSync(join(DIST, 'ingest/decode-worker.mjs')));
  assert.deepEqual(result, JSON.parse(JSON.stringify(forecastSeries(y, options))));
});
