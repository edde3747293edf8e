/**
 * Tests' ClickHouse: uses the server answering on `SIPERF_TEST_CLICKHOUSE_URL` (default
 * `clickhouse://default@127.0.0.1:8123`, the one `scripts/start-services.sh` starts), or starts a private
 * one with `scripts/clickhouse.sh` on a free port and a scratch folder when nothing answers and
 * `clickhouse-server` is installed; `stop()` stops only a server it started and drops the databases it
 * handed out. Used by tests only (nothing here runs in the server).
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';

const run = promisify(execFile);
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../../../../scripts/clickhouse.sh');

/** A ClickHouse server for tests. */
export interface TestClickHouse {
  /** `clickhouse://user@host:port` without a database. */
  baseUrl: string;
  /** HTTP port. */
  port: number;
  /** A URL of a new database name (created by the store), dropped by `stop()`. */
  newDatabaseUrl(): string;
  /** Kills the server (SIGKILL: a crash) when this helper started it (`scripts/clickhouse.sh kill`). */
  stopServer(): Promise<void>;
  /** Starts it again after `stopServer` (same port and data folder). */
  startServer(): Promise<void>;
  /** Drops the databases handed out, and stops the server when this helper started it. */
  stop(): Promise<void>;
}

async function answers(httpUrl: string, username: string, password: string): Promise<boolean> {
  const c = createClient({
    url: httpUrl,
    username,
    password,
    request_timeout: 2000,
    log: { level: ClickHouseLogLevel.OFF },
  });
  try {
    await c.query({ query: 'SELECT 1', format: 'JSONEachRow' });
    return true;
  } catch {
    return false;
  } finally {
    await c.close();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * The test server (see the module). With `privateServer`, always starts a private one (for tests that
 * stop and restart it).
 * @throws when nothing answers and no server could be started.
 */
export async function startTestClickHouse(opts: { privateServer?: boolean } = {}): Promise<TestClickHouse> {
  const env = process.env.SIPERF_TEST_CLICKHOUSE_URL ?? 'clickhouse://default@127.0.0.1:8123';
  const u = new URL(env);
  let port = Number(u.port || 8123);
  let host = u.hostname;
  const username = decodeURIComponent(u.username) || 'default';
  const password = decodeURIComponent(u.password);
  let dir: string | undefined;
  if (opts.privateServer || !(await answers(`http://${host}:${port}`, username, password))) {
    port = await freePort();
    host = '127.0.0.1';
    dir = mkdtempSync(join(tmpdir(), 'siperf-ch-'));
    await run('bash', [SCRIPT, 'start', String(port), dir]);
  }
  const httpUrl = `http://${host}:${port}`;
  const auth = password ? `${encodeURIComponent(username)}:${encodeURIComponent(password)}` : username;
  const baseUrl = `clickhouse://${auth}@${host}:${port}`;
  const databases: string[] = [];
  let n = 0;
  const tag = `${process.pid}_${Date.now().toString(36)}`;
  const started = dir;
  return {
    baseUrl,
    port,
    newDatabaseUrl() {
      const db = `siperf_test_${tag}_${++n}`;
      databases.push(db);
      return `${baseUrl}/${db}`;
    },
    async stopServer() {
      if (started) await run('bash', [SCRIPT, 'kill', String(port), started]);
    },
    async startServer() {
      if (started) await run('bash', [SCRIPT, 'start', String(port), started]);
    },
    async stop() {
      if (started) {
        // A scratch server whose folder goes next: no need for a graceful shutdown.
        await run('bash', [SCRIPT, 'kill', String(port), started]);
        rmSync(started, { recursive: true, force: true });
        return;
      }
      const c = createClient({ url: httpUrl, username, password, request_timeout: 30_000 });
      try {
        await Promise.all(databases.map((db) => c.command({ query: `DROP DATABASE IF EXISTS ${db}` })));
      } finally {
        await c.close();
      }
    },
  };
}
