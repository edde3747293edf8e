/**
 * Durability: spans acknowledged with 200 survive `kill -9` of the server process, and their rollups are
 * rebuilt on restart; SIGTERM drains and closes the store (exit 0, file reopens).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Every server this file started, so `finally` can stop the ones a failed assertion left running. */
const children = new Set<ChildProcess>();

/** Resolves with the exit code once `child` has exited (at once when it already has). */
function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => child.once('exit', (code) => res(code)));
}

/** Sends `signal`, then SIGKILL if the process is still there after `graceMs`; resolves with the exit code. */
async function stop(child: ChildProcess, signal: NodeJS.Signals, graceMs = 30_000): Promise<number | null> {
  const done = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    children.delete(child);
  }
}

/**
 * `siperf serve` in a child process, answering /healthz. The overload guard is off
 * (SIPERF_MAX_EVENT_LOOP_DELAY_MS=0): this test is about durability, and a busy machine must not turn
 * its ingest away. Startup (tsx compiling the server, DuckDB replaying the spans) gets up to 120 s.
 */
async function startServer(port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'serve', '--port', String(port), '--data-dir', dataDir],
    {
      env: {
        ...process.env,
        SIPERF_LOG_LEVEL: 'warn',
        SIPERF_ROLLUP_FLUSH_INTERVAL_MS: '3600000',
        SIPERF_MAX_EVENT_LOOP_DELAY_MS: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return child;
    } catch {}
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop(child, 'SIGKILL');
  throw new Error(`server did not start within 120 s: ${stderr}`);
}

function body(traceId: string, n: number): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId,
    spanId: randomBytes(8).toString('hex'),
    name: 'GET /orders',
    kind: 2,
    startTimeUnixNano: String(now - 20_000_000n - BigInt(i)),
    endTimeUnixNano: String(now),
  }));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] },
        scopeSpans: [{ spans }],
      },
    ],
  });
}

test('acknowledged spans survive kill -9 and their rollups are rebuilt; SIGTERM closes cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siperf-durability-'));
  try {
    const port = await freePort();
    let server = await startServer(port, dir);
    const traceId = randomBytes(16).toString('hex');
    const r = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(traceId, 50),
    });
    assert.equal(r.status, 200);
    // Rollups are only in memory now (flush interval 1 h): kill without any chance to flush.
    await stop(server, 'SIGKILL');

    server = await startServer(port, dir);
    const trace = (await (
      await fetch(`http://127.0.0.1:${port}/api/v1/apm/traces/${traceId}`)
    ).json()) as any;
    assert.equal(trace.spanCount, 50);
    const m = (await (
      await fetch(`http://127.0.0.1:${port}/api/v1/apm/metrics/api?window=15m`)
    ).json()) as any;
    assert.equal(m.endpoints.length, 1);
    assert.equal(m.endpoints[0].requests, 50, 'rollups replayed from the raw spans, each counted once');

    assert.equal(await stop(server, 'SIGTERM'), 0);
    server = await startServer(port, dir);
    const m2 = (await (
      await fetch(`http://127.0.0.1:${port}/api/v1/apm/metrics/api?window=15m`)
    ).json()) as any;
    assert.equal(m2.endpoints[0].requests, 50, 'nothing counted twice after a clean restart');
    await stop(server, 'SIGTERM');
  } finally {
    // A failed assertion leaves its server running: stop it before the data folder goes.
    await Promise.all([...children].map((c) => stop(c, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  }
});
