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

async function startServer(port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'serve', '--port', String(port), '--data-dir', dataDir],
    {
      env: { ...process.env, SIPERF_LOG_LEVEL: 'warn', SIPERF_ROLLUP_FLUSH_INTERVAL_MS: '3600000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return child;
    } catch {}
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${stderr}`);
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
    server.kill('SIGKILL');
    await new Promise((res) => server.once('exit', res));

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

    server.kill('SIGTERM');
    const code = await new Promise((res) => server.once('exit', res));
    assert.equal(code, 0);
    server = await startServer(port, dir);
    const m2 = (await (
      await fetch(`http://127.0.0.1:${port}/api/v1/apm/metrics/api?window=15m`)
    ).json()) as any;
    assert.equal(m2.endpoints[0].requests, 50, 'nothing counted twice after a clean restart');
    server.kill('SIGTERM');
    await new Promise((res) => server.once('exit', res));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
