/**
 * Checkpoints of a file store, run by siperf rather than by DuckDB. A write that meets a full disk only
 * fails itself (DuckDB cannot append it to the write-ahead log and rolls it back), but a checkpoint that
 * meets one invalidates the whole database: every read and write fails until the file is reopened. So
 * DuckDB's automatic checkpoint is turned off, and after writes (at most every 100 ms) this policy
 * checkpoints once the WAL has reached the threshold, and only when the file system has room for it: the
 * WAL's size plus 16 MiB free (a checkpoint of spans grows the file by about a third of the WAL, and the WAL
 * is truncated after). Without room, the checkpoint waits (logged once) while writes go on into the WAL
 * until they meet the full disk themselves and are refused with `ERR_STORE_DISK_FULL`; it runs as soon as
 * space comes back.
 * @module
 */
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Connections } from './connections.ts';

/** Free space asked for beyond the WAL's size before a checkpoint, bytes. */
export const CHECKPOINT_MARGIN_BYTES = 16 * 1024 * 1024;
/** DuckDB's own default `checkpoint_threshold`, bytes (16 MiB). */
const DUCKDB_DEFAULT_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** Least time between two looks at the WAL's size, ms. */
const CHECK_INTERVAL_MS = 100;

/** Bytes a non-root writer may still use on the file system of `path` (undefined when unknown). */
async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const s = await statfs(dirname(path));
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** Size of a file, 0 when it does not exist (there is no WAL right after a checkpoint). */
async function sizeOf(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

/**
 * Turns DuckDB's automatic checkpoint off for the store at `path` and checkpoints after writes when the
 * WAL holds `thresholdMb` MiB (default 16, DuckDB's) and the disk has room.
 */
export async function manageCheckpoints(
  conn: Connections,
  path: string,
  thresholdMb: number | undefined,
  log: Logger | undefined,
): Promise<void> {
  // The largest value DuckDB takes; no WAL reaches it.
  await conn.writer.run("SET checkpoint_threshold = '1000000GB'");
  const threshold =
    thresholdMb === undefined ? DUCKDB_DEFAULT_THRESHOLD_BYTES : Math.round(thresholdMb * 1024 * 1024);
  const wal = `${path}.wal`;
  let lastLookMs = Number.NEGATIVE_INFINITY;
  let postponed = false;
  conn.afterWrite = async (closing) => {
    const nowMs = performance.now();
    if (!closing && nowMs - lastLookMs < CHECK_INTERVAL_MS) return;
    lastLookMs = nowMs;
    const walBytes = await sizeOf(wal);
    if (walBytes === 0 || (!closing && walBytes < threshold)) return;
    const free = await freeBytes(path);
    const need = walBytes + CHECKPOINT_MARGIN_BYTES;
    if (free !== undefined && free < need) {
      // Closing: the WAL stays and is replayed at the next start.
      if (!postponed && !closing) {
        log?.warn(
          { walBytes, freeBytes: free, needBytes: need },
          'checkpoint postponed: the disk has no room for it; writes go on into the write-ahead log',
        );
      }
      postponed = true;
      return;
    }
    try {
      await conn.writer.run('CHECKPOINT');
      if (postponed) log?.info({ walBytes, freeBytes: free }, 'postponed checkpoint done');
      postponed = false;
    } catch (err) {
      log?.error({ err, walBytes, freeBytes: free }, 'checkpoint failed');
    }
  };
}
