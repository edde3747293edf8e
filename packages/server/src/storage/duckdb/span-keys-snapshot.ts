/**
 * The de-duplication keys saved beside the database file when the store closes (`<file>.span-keys`), so
 * that the next open takes them as they were instead of reading the ids of every span of the last 10 minutes
 * of ingest back (10 s for 6 M spans). The file is used only when it describes the database as it is: its
 * stamp (the spans' count and newest ingest time at close) must equal the file's now. After a crash, or
 * any write the snapshot did not see, the stamps differ and the keys are read from the spans.
 *
 * Layout: `SPANKEYSNAP1`, the count (i64), the newest ingest time (i64, -1 for none), then
 * `RecentSpanKeys.toChunks()`.
 * @module
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { big } from './row-mapping.ts';

const TAG = 'SPANKEYSNAP1';

/** The path of the snapshot of the store at `dbPath`. */
export function snapshotPath(dbPath: string): string {
  return `${dbPath}.span-keys`;
}

/** The spans' count and newest ingest time, as the snapshot's stamp. */
async function stampOf(conn: DuckDBConnection): Promise<[bigint, bigint]> {
  const [row] = (
    await conn.runAndReadAll('SELECT count(*) AS c, coalesce(max(ingest_ns), -1) AS n FROM spans')
  ).getRowObjects();
  return [big(row!.c), big(row!.n)];
}

/**
 * Writes the snapshot (atomically: a temporary file renamed; the chunks written as they are, not joined).
 * Call once every write is done.
 */
export async function saveSpanKeys(conn: DuckDBConnection, dbPath: string, keys: Buffer[]): Promise<void> {
  const [count, newest] = await stampOf(conn);
  const head = Buffer.alloc(TAG.length + 16);
  head.write(TAG, 0, 'latin1');
  head.writeBigInt64LE(count, TAG.length);
  head.writeBigInt64LE(newest, TAG.length + 8);
  const path = snapshotPath(dbPath);
  const file = await open(`${path}.tmp`, 'w');
  try {
    for (const chunk of [head, ...keys]) {
      for (let at = 0; at < chunk.length; ) at += (await file.write(chunk, at)).bytesWritten;
    }
  } finally {
    await file.close();
  }
  await rename(`${path}.tmp`, path);
}

/**
 * The keys of the snapshot when it matches the database now, else undefined (no file, another stamp, not
 * a snapshot). A snapshot that does not match is deleted.
 */
export async function loadSpanKeys(conn: DuckDBConnection, dbPath: string): Promise<Buffer | undefined> {
  const path = snapshotPath(dbPath);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  const [count, newest] = await stampOf(conn);
  const ok =
    bytes.length > TAG.length + 16 &&
    bytes.toString('latin1', 0, TAG.length) === TAG &&
    bytes.readBigInt64LE(TAG.length) === count &&
    bytes.readBigInt64LE(TAG.length + 8) === newest;
  if (!ok) {
    await rm(path, { force: true });
    return undefined;
  }
  return bytes.subarray(TAG.length + 16);
}
