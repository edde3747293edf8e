/**
 * The connections of one open DuckDB store and the rules for using them: writes run one at a time, in call
 * order, on the writer connection; reads run on the reader connection; once `close()` has begun, new calls
 * are refused with `ERR_STORE_CLOSED`, and the calls already made finish before the connections close.
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

/** The instance, its writer and reader connections, the write queue and the open → closing → closed state. */
export class Connections {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly reads = new Set<Promise<unknown>>();
  private closing = false;
  private closedNow = false;

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

  /** Runs `task` after every earlier one (one writer at a time), even when an earlier one failed. */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Refuses new calls, waits for the queued writes (including any queued while waiting) and the running
   * reads, checkpoints and closes. `beforeClose` runs once new calls are refused (the final rollup flush).
   */
  async close(beforeClose: () => Promise<void>): Promise<void> {
    this.closing = true;
    await beforeClose();
    for (let q = this.queue; ; q = this.queue) {
      await q;
      if (q === this.queue) break;
    }
    await Promise.allSettled([...this.reads]);
    this.closedNow = true;
    await this.writer.run('CHECKPOINT').catch(() => undefined);
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}
