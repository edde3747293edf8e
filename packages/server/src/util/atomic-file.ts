/**
 * A file rewritten whole, atomically and off the event loop, one write at a time (state files such as
 * `<dataDir>/alert-rules.json`).
 *
 * Each write goes to a temporary file beside the target, is synced, then renamed over it: a rename within
 * one directory is atomic on POSIX file systems, so a reader, or the next start after a crash, sees the old
 * content or the new, never a mix or a truncated file. Writes never overlap: a `write` made while one runs
 * waits, and of several waiting only the latest content is written (the last state wins; the ones in between
 * are skipped, not interleaved).
 * @module
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `content` to `file` through a synced temporary file renamed over it. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** One file, rewritten whole by {@link AtomicFileWriter.write}. */
export class AtomicFileWriter {
  private next: string | undefined;
  private running: Promise<void> | undefined;
  /** Writes done (contents skipped because a later one came first are not counted). */
  writes = 0;

  /**
   * @param file - the file to write.
   * @param onError - told of a write that failed (the file then keeps its previous content).
   */
  constructor(
    readonly file: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /**
   * Replaces the file's content. Resolves once this content, or a later one, is on disk or its write has
   * failed (reported to `onError`); never rejects.
   */
  write(content: string): Promise<void> {
    this.next = content;
    this.running ??= this.drain();
    return this.running;
  }

  /** Resolves when no write is running or waiting. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next !== undefined) {
        const content = this.next;
        this.next = undefined;
        try {
          await writeFileAtomically(this.file, content);
          this.writes++;
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
