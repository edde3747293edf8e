/**
 * The connections of one open DuckDB store and the rules for using them: writes run one at a time, in call
 * order, on the writer connection; reads run on the reader connection; once `close()` has begun, new calls
 * are refused with `ERR_STORE_CLOSED`, and the calls already made finish before the connections close. A
 * write that fails because the disk is full is refused with `ERR_STORE_DISK_FULL` (503 + `Retry-After`):
 * DuckDB rolls it back and the store goes on (reads keep working, writes succeed again once there is room).
 * @module
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { SiperfError } from '../../errors.ts';

/** A result row by column name. */
export type Row = Record<string, DuckDBValue>;

/** The error of every call made after `close()`. */
export function storeClosedError(): SiperfError {
  return new SiperfError('ERR_STORE_CLOSED', 'the store is closed');
}

/** Seconds a client is asked to wait before retrying a write refused for a full disk. */
export const DISK_FULL_RETRY_AFTER_S = 10;

/** Whether an error (DuckDB's or the file system's) says the disk, or the user's quota, is full. */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return true;
  return /No space left on device|Disk quota exceeded/i.test(String(e?.message ?? err));
}

/** The error of a write refused because the disk is full (`err` when it is another failure). */
export function storeWriteError(err: unknown): unknown {
  if (!isDiskFull(err) || (err instanceof SiperfError && err.code === 'ERR_STORE_DISK_FULL')) return err;
  return new SiperfError(
    'ERR_STORE_DISK_FULL',
    `the disk of the store is full: nothing of this request was stored; retry after ${DISK_FULL_RETRY_AFTER_S} s (reads still work)`,
    { retryAfterSeconds: DISK_FULL_RETRY_AFTER_S, cause: err },
  );
}

/** The instance, its writer and reader connections, the write queue and the open → closing → closed state. */
export class Connections {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly reads = new Set<Promise<unknown>>();
  private closing = false;
  private closedNow = false;
  /**
   * Runs in the write queue after every write, and with `closing` once before the connections close: the
   * file store's checkpoints (`checkpoints.ts`). Without it, `close()` checkpoints unconditionally.
   */
  afterWrite: ((closing: boolean) => Promise<void>) | undefined;

  constructor(
    private readonly instance: DuckDBInstance,
    /** The one connection that writes (appenders, transactions). */
    readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
  ) {}

  /** Whether new calls are taken (false from the moment `close()` begins). */
  get accepting(): boolean {
    return !this.closing;
  }

  /** Whether the connections are closed (upkeep then does nothing). */
  get closed(): boolean {
    return this.closedNow;
  }

  /** @throws SiperfError `ERR_STORE_CLOSED` once `close()` has begun. */
  assertOpen(): void {
    if (this.closing) throw storeClosedError();
  }

  /** Runs a read on the reader connection; `close()` waits for it. */
  async read<T>(task: (reader: DuckDBConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    const run = task(this.reader);
    this.reads.add(run);
    const forget = () => {
      this.reads.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  /** The rows of a query on the reader connection. */
  rows(sql: string, params?: DuckDBValue[]): Promise<Row[]> {
    return this.read(async (reader) => (await reader.runAndReadAll(sql, params)).getRowObjects());
  }

  /**
   * Runs `task` after every earlier one (one writer at a time), even when an earlier one failed, then
   * {@link afterWrite} (which the caller does not wait for). A full disk rejects with `ERR_STORE_DISK_FULL`.
   */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    const after = () => this.afterWrite?.(false);
    this.queue = run.then(after, after).catch(() => undefined);
    return run.catch((err) => Promise.reject(storeWriteError(err)));
  }

  /**
   * Refuses new calls, waits for the queued writes (including any queued while waiting) and the running
   * reads, checkpoints and closes. `beforeClose` runs once new calls are refused (the final rollup flush);
   * `afterCheckpoint` once every write is done and checkpointed, before the connections close (its errors
   * are dropped).
   */
  async close(beforeClose: () => Promise<void>, afterCheckpoint?: () => Promise<void>): Promise<void> {
    this.closing = true;
    await beforeClose();
    for (let q = this.queue; ; q = this.queue) {
      await q;
      if (q === this.queue) break;
    }
    await Promise.allSettled([...this.reads]);
    this.closedNow = true;
    await (this.afterWrite ? this.afterWrite(true) : this.writer.run('CHECKPOINT')).catch(() => undefined);
    await afterCheckpoint?.().catch(() => undefined);
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}
