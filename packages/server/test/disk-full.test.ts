/**
 * A full disk: ingest is refused with 503, `Retry-After` and `ERR_STORE_DISK_FULL` (which OTLP exporters
 * retry; a 500 they drop), reads keep answering, ingest works again once space is freed, and every
 * acknowledged span is in the file. The store lives on a 64 MiB tmpfs mounted for the test (root only:
 * skipped, with the reason, where mounting is not permitted).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  statfsSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createDuckDbStore } from '../src/storage/index.ts';
import { TEST_SERVER_FLAGS } from './helpers.ts';

/** Mounts a tmpfs of `sizeMb` at a new directory, or says why it cannot. */
function mountTmpfs(sizeMb: number): { dir: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'siperf-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
    return { skip: `cannot mount a tmpfs here (${why || 'mount failed'}): full-disk test skipped` };
  }
}

function unmount(dir: string): void {
  // Lazy: a file the kernel still holds must not keep the mount (and the test) hanging.
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
}

/** Bytes still free on the file system of `path`. */
function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** Writes `file` until about `leaveBytes` remain free on its file system (0: until it is full). */
function fill(file: string, leaveBytes = 0): void {
  const fd = openSync(file, 'a');
  try {
    for (let free = freeBytes(file); free > leaveBytes; free = freeBytes(file)) {
      writeSync(fd, Buffer.alloc(Math.min(1024 * 1024, Math.max(4096, free - leaveBytes)), 7));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

let batches = 0;
/** An OTLP/JSON export of `n` spans of one new trace, and its trace id. */
function exportOf(n: number): { traceId: string; body: string } {
  const traceId = (++batches).toString(16).padStart(32, '0');
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId,
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: 'GET /orders',
    kind: 2,
    startTimeUnixNano: String(now - 20_000_000n),
    endTimeUnixNano: String(now),
    attributes: [
      { key: 'http.url', value: { stringValue: `https://shop.example/orders/${'x'.repeat(200)}/${i}` } },
    ],
  }));
  return {
    traceId,
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] },
          scopeSpans: [{ spans }],
        },
      ],
    }),
  };
}

test('a full disk answers ingest 503 + Retry-After + ERR_STORE_DISK_FULL, reads go on, ingest recovers with space, nothing acknowledged is lost', async (t) => {
  const mounted = mountTmpfs(64);
  if ('skip' in mounted) {
    t.diagnostic(mounted.skip);
    t.skip(mounted.skip);
    return;
  }
  const { dir } = mounted;
  const path = join(dir, 'siperf.duckdb');
  const filler = join(dir, 'filler');
  const config = loadConfig({ flags: { ...TEST_SERVER_FLAGS } });
  const MIB = 1024 * 1024;
  const walBytes = () => (existsSync(`${path}.wal`) ? statSync(`${path}.wal`).size : 0);
  let store = await createDuckDbStore({ path, checkpointThresholdMb: 8 });
  const app = await buildApp({ config, store, logger: false });
  const acked = new Map<string, number>();
  const ingest = async (n: number) => {
    const { traceId, body } = exportOf(n);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    if (res.statusCode === 200) acked.set(traceId, n);
    return res;
  };
  try {
    // A batch adds ~200 KiB to the write-ahead log: stop just below the 8 MiB checkpoint threshold.
    while (walBytes() < 8 * MIB - 150 * 1024) assert.equal((await ingest(500)).statusCode, 200);

    // Almost full: the next batch takes the log past the threshold with ~1.3 MiB left, too little for a
    // checkpoint (~1/3 of the log); one that fails invalidates the database until it is reopened.
    fill(filler, 1.5 * MIB);
    let refused: Awaited<ReturnType<typeof ingest>> | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const res = await ingest(500);
      if (res.statusCode !== 200) refused = res;
    }
    fill(filler);
    const again = await ingest(500);
    for (const res of [refused, again]) {
      assert.ok(res, 'the disk never filled');
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().code, 'ERR_STORE_DISK_FULL');
      assert.equal(res.headers['retry-after'], '10');
      assert.match(res.json().detail, /disk of the store is full/);
    }

    // Reads still answer.
    const services = await app.inject({ method: 'GET', url: '/api/v1/apm/services' });
    assert.equal(services.statusCode, 200, services.body);
    assert.equal(services.json().services[0].service, 'orders');
    const trace = await app.inject({ method: 'GET', url: `/api/v1/apm/traces/${[...acked.keys()][0]}` });
    assert.equal(trace.statusCode, 200, trace.body);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

    // Space comes back: ingest works again, with nothing restarted.
    rmSync(filler);
    for (let i = 0; i < 5; i++) assert.equal((await ingest(500)).statusCode, 200);
    await app.close();
    await store.close();

    // Every acknowledged span is in the file, once; nothing refused is.
    const db = await DuckDBInstance.create(path);
    const conn = await db.connect();
    try {
      const rows = (
        await conn.runAndReadAll('SELECT trace_id, count(*) AS n FROM spans GROUP BY trace_id')
      ).getRowObjects();
      const stored = new Map(rows.map((r) => [String(r.trace_id), Number(r.n)]));
      assert.deepEqual(stored, acked);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    store = await createDuckDbStore({ path });
  } finally {
    // A failure to close must not hide the assertion that failed.
    await app.close().catch((err) => t.diagnostic(`app.close: ${err}`));
    await store.close().catch((err) => t.diagnostic(`store.close: ${err}`));
    unmount(dir);
  }
});
