/**
 * Database logs in, digests out: a file (streamed line by line; gzip and bzip2 recognised by their magic
 * bytes — bzip2 through the `bzip2` command, as Node has none and npm has no well-kept streaming decoder:
 * a missing program, a corrupt or a truncated file is an error with bzip2's message), a stream (an upload,
 * digested as it arrives, yielding to the event loop) or a text body, in one of the formats `mysql-slow`,
 * `pg-stderr`, `pg-csv`, `pg-json`. Lines are split in time linear in their length. `since`/`until` without
 * an offset are UTC ({@link parseInstant}).
 * @module
 */

import { spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { SiperfError } from '../../errors.ts';
import { DigestBuilder, type LogImportDigest } from './digest.ts';
import { MysqlSlowLogParser } from './mysql-slow.ts';
import { type PgLogFormat, PgLogParser } from './pg-log.ts';

/**
 * Bytes read at a time, and the longest line accepted (a statement of 64 MiB is already absurd). 64 KiB
 * chunks decode to strings V8 keeps in the young generation, freed at the next scavenge; 1 MiB ones went
 * to the large-object space and waited for a full collection (peak RSS 288 MB instead of 220 MB on 200 MB).
 */
const CHUNK = 64 * 1024;
const MAX_LINE = 64 * 1024 * 1024;

/** Every log format. */
export type LogFormat = 'mysql-slow' | PgLogFormat;
export const LOG_FORMATS: readonly LogFormat[] = ['mysql-slow', 'pg-stderr', 'pg-csv', 'pg-json'];

/** Options of a log import. */
export interface LogImportOptions {
  format: LogFormat;
  /** `log_line_prefix` of a pg-stderr log (read from each line when absent). */
  prefix?: string | undefined;
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
  /** IANA zone of PostgreSQL times written with a zone abbreviation or none (UTC when absent). */
  logTimezone?: string | undefined;
}

/**
 * A `since`/`until` time: ISO-8601, UTC when it has no offset (`2024-03-01 10:00` is 10:00 UTC whatever
 * the machine's zone), or null when it is not a time.
 */
export function parseInstant(v: string): number | null {
  const local = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$/.exec(v.trim());
  const ms = local ? Date.parse(`${local[1]}T${local[2] ?? '00:00'}Z`) : Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/** Splits text chunks into lines; a line spread over many chunks is joined once (linear in its length). */
class LineSplitter {
  private parts: string[] = [];
  private length = 0;
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly name: string,
  ) {}

  write(text: string): void {
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl !== -1 && this.parts.length > 0) {
      this.parts.push(text.slice(0, nl));
      const line = this.parts.join('');
      this.parts = [];
      this.length = 0;
      this.onLine(line);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    for (; nl !== -1; nl = text.indexOf('\n', start)) {
      this.onLine(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) {
      this.parts.push(start === 0 ? text : text.slice(start));
      this.length += text.length - start;
      if (this.length > MAX_LINE)
        throw new RangeError(`${this.name}: a line longer than ${MAX_LINE} characters`);
    }
  }

  end(): void {
    if (this.parts.length > 0) this.onLine(this.parts.join(''));
    this.parts = [];
    this.length = 0;
  }
}

interface LineParser {
  lines: number;
  unknownLines: number;
  unknownExamples: string[];
  push(line: string): void;
  end(): void;
}

function parserFor(o: LogImportOptions, digest: DigestBuilder): LineParser {
  const emit = (e: Parameters<DigestBuilder['add']>[0]) => digest.add(e);
  return o.format === 'mysql-slow'
    ? new MysqlSlowLogParser(emit)
    : new PgLogParser(o.format, emit, { prefix: o.prefix, logTimezone: o.logTimezone });
}

/**
 * Digests a log held in memory (an upload). gzip bodies are inflated; bzip2 is refused (decompress first).
 * @throws RangeError naming `prefix` when it has an unknown escape, or `body` for bzip2.
 */
export function digestLogText(
  body: Buffer | string,
  o: LogImportOptions & { maxInflatedBytes?: number },
): LogImportDigest {
  let buf = typeof body === 'string' ? Buffer.from(body) : body;
  const max = o.maxInflatedBytes ?? 256 * 1024 * 1024;
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: max });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new SiperfError(
          'ERR_INGEST_BODY_TOO_LARGE',
          `body: inflates to more than ${max} bytes (maxDecompressedBytes)`,
          { limit: max },
        );
      }
      throw new RangeError(`body: not valid gzip (${(err as Error).message})`);
    }
  } else if (buf.subarray(0, 3).toString('latin1') === 'BZh') {
    throw new RangeError('body: bzip2 uploads are not read; send it gzip-compressed or plain');
  }
  const digest = new DigestBuilder(o.format === 'mysql-slow' ? 'mysql' : 'postgresql', {
    sinceMs: o.sinceMs,
    untilMs: o.untilMs,
  });
  const parser = parserFor(o, digest);
  const text = buf.toString('utf8');
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
    parser.push(text.slice(start, i));
    start = i + 1;
  }
  if (start < text.length) parser.push(text.slice(start));
  parser.end();
  return digest.result(o.format, parser);
}

/** A file's decompressed stream, by its first bytes. */
async function openLog(path: string): Promise<Readable> {
  const fh = await open(path, 'r');
  const head = Buffer.alloc(3);
  await fh.read(head, 0, 3, 0);
  await fh.close();
  if (head[0] === 0x1f && head[1] === 0x8b)
    return createReadStream(path, { highWaterMark: CHUNK }).pipe(createGunzip());
  if (head.toString('latin1') === 'BZh') return bunzip2(path);
  return createReadStream(path, { highWaterMark: CHUNK });
}

/**
 * A bzip2 file decompressed by the `bzip2` program. The stream ends only when bzip2 exits 0; a missing
 * program, a corrupt or a truncated file fails the stream with bzip2's own message.
 */
function bunzip2(path: string): Readable {
  const out = new PassThrough({ highWaterMark: CHUNK });
  const child = spawn('bzip2', ['-dc', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => {
    if (stderr.length < 2000) stderr += t;
  });
  child.stdout.pipe(out, { end: false });
  child.on('error', (err: NodeJS.ErrnoException) => {
    out.destroy(
      new Error(
        err.code === 'ENOENT'
          ? `${path}: bzip2-compressed, and the bzip2 program is not installed (install it, or decompress the file first)`
          : `${path}: bzip2 could not be run (${err.message})`,
      ),
    );
  });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!out.destroyed) {
      const why = stderr.trim().split('\n').slice(0, 3).join(' ') || `exit ${code ?? signal}`;
      out.destroy(new Error(`${path}: not a readable bzip2 file (bzip2: ${why})`));
    }
  });
  out.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}

/** The format of a log from its first lines (slow-log headers, JSON objects, csvlog rows, else stderr). */
export function detectLogFormat(lines: readonly string[]): LogFormat {
  const text = lines.filter((l) => l.trim() !== '');
  if (
    text.some((l) => /^# (Time|User@Host|Query_time):/.test(l) || /^\S+, Version: .* started with:$/.test(l))
  )
    return 'mysql-slow';
  if (text[0]?.trimStart().startsWith('{')) return 'pg-json';
  // csvlog: the log time first, quoted or not, then a comma.
  if (text[0] && /^"?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?( [A-Za-z0-9+:-]+)?"?,/.test(text[0]))
    return 'pg-csv';
  return 'pg-stderr';
}

/** The first `n` lines of a log file (decompressed). */
export async function firstLines(path: string, n = 50): Promise<string[]> {
  const stream = await openLog(path);
  const lines: string[] = [];
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    lines.push(line);
    if (lines.length >= n) break;
  }
  rl.close();
  stream.destroy();
  return lines;
}

/**
 * Reads an uncompressed file into `lines` with synchronous reads into one reused buffer (a quarter of the
 * time of a read stream's chunks), giving the event loop a turn every 100 ms (a progress bar draws then).
 * @returns false, having read nothing, when the file is gzip or bzip2 (read by {@link openLog}'s streams).
 */
async function readPlain(
  path: string,
  lines: LineSplitter,
  onRead: (read: number) => void,
): Promise<boolean> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n = readSync(fd, buf, 0, CHUNK, null);
    if ((n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) || (n >= 3 && buf.toString('latin1', 0, 3) === 'BZh'))
      return false;
    const decoder = new StringDecoder('utf8');
    let read = 0;
    let turn = performance.now();
    while (n > 0) {
      read += n;
      lines.write(decoder.write(n === CHUNK ? buf : buf.subarray(0, n)));
      onRead(read);
      if (performance.now() - turn > 100) {
        await yieldToLoop();
        turn = performance.now();
      }
      n = readSync(fd, buf, 0, CHUNK, null);
    }
    lines.write(decoder.end());
    lines.end();
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * Digests log files (streamed; one digest over all of them).
 * @param onProgress - called with compressed bytes read so far and the total, for a progress bar.
 */
export async function digestLogFiles(
  paths: readonly string[],
  o: LogImportOptions,
  onProgress?: (read: number, total: number) => void,
): Promise<LogImportDigest> {
  const digest = new DigestBuilder(o.format === 'mysql-slow' ? 'mysql' : 'postgresql', {
    sinceMs: o.sinceMs,
    untilMs: o.untilMs,
  });
  const parser = parserFor(o, digest);
  const sizes = await Promise.all(paths.map(async (p) => (await stat(p)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  for (let i = 0; i < paths.length; i++) {
    const lines = new LineSplitter((line) => parser.push(line), paths[i]!);
    if (await readPlain(paths[i]!, lines, (read) => onProgress?.(done + Math.min(sizes[i]!, read), total))) {
      done += sizes[i]!;
      onProgress?.(done, total);
      continue;
    }
    const stream = await openLog(paths[i]!);
    // Progress in decompressed bytes, clamped to the file's size (exact for plain files).
    let read = 0;
    // Lines split by hand from large chunks: readline's per-line async iteration costs more than parsing.
    const decoder = new StringDecoder('utf8');
    for await (const chunk of stream) {
      read += (chunk as Buffer).length;
      onProgress?.(done + Math.min(sizes[i]!, read), total);
      lines.write(decoder.write(chunk as Buffer));
    }
    lines.write(decoder.end());
    lines.end();
    done += sizes[i]!;
    onProgress?.(done, total);
  }
  parser.end();
  return digest.result(o.format, parser);
}

/** Options of {@link digestLogStream}. */
export interface LogStreamOptions extends LogImportOptions {
  /** The most bytes read from the stream (compressed). */
  maxBytes?: number;
  /** The most bytes a gzip body may inflate to. */
  maxInflatedBytes?: number;
}

/**
 * Digests a log as it arrives (an upload): gzip inflated on the fly, lines parsed chunk by chunk, yielding
 * to the event loop every few milliseconds so that other requests are served meanwhile; memory is a chunk
 * and the digest, not the body.
 * @throws SiperfError ERR_INGEST_BODY_TOO_LARGE past a limit; RangeError naming `body` for bzip2 or bad
 *   gzip, `prefix` or `logTimezone` for a bad option.
 */
export async function digestLogStream(input: Readable, o: LogStreamOptions): Promise<LogImportDigest> {
  const digest = new DigestBuilder(o.format === 'mysql-slow' ? 'mysql' : 'postgresql', {
    sinceMs: o.sinceMs,
    untilMs: o.untilMs,
  });
  const parser = parserFor(o, digest);
  const maxBytes = o.maxBytes ?? 256 * 1024 * 1024;
  const maxInflated = o.maxInflatedBytes ?? 256 * 1024 * 1024;
  const tooLarge = (what: string, limit: number, setting: string) =>
    new SiperfError('ERR_INGEST_BODY_TOO_LARGE', `body: ${what} more than ${limit} bytes (${setting})`, {
      limit,
    });
  const decoder = new StringDecoder('utf8');
  const lines = new LineSplitter((line) => parser.push(line), 'body');
  let received = 0;
  let inflated = 0;
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  let first = true;
  let lastYield = performance.now();
  // 4 KiB at a time: a piece's lines take at most a few ms even when none is fingerprinted yet.
  const take = async (buf: Buffer) => {
    for (let i = 0; i < buf.length; i += 4096) {
      lines.write(decoder.write(buf.subarray(i, i + 4096)));
      if (performance.now() - lastYield > 8) {
        await yieldToLoop();
        lastYield = performance.now();
      }
    }
  };
  // Inflated chunks are taken as gunzip writes them; a backlog is drained before more is written.
  const inflatedChunks: Buffer[] = [];
  let gunzipError: Error | undefined;
  try {
    for await (const chunk of input) {
      const buf = chunk as Buffer;
      received += buf.length;
      if (received > maxBytes) throw tooLarge('is', maxBytes, 'upload limit');
      if (first) {
        first = false;
        if (buf[0] === 0x1f && buf[1] === 0x8b) {
          gunzip = createGunzip();
          gunzip.on('data', (c: Buffer) => inflatedChunks.push(c));
          gunzip.on('error', (err) => {
            gunzipError = err;
          });
        } else if (buf.subarray(0, 3).toString('latin1') === 'BZh') {
          throw new RangeError('body: bzip2 uploads are not read; send it gzip-compressed or plain');
        }
      }
      if (gunzip) {
        await new Promise<void>((resolve) => gunzip!.write(buf, () => resolve()));
        if (gunzipError) throw new RangeError(`body: not valid gzip (${gunzipError.message})`);
        while (inflatedChunks.length > 0) {
          const c = inflatedChunks.shift()!;
          inflated += c.length;
          if (inflated > maxInflated) throw tooLarge('inflates to', maxInflated, 'maxDecompressedBytes');
          await take(c);
        }
      } else await take(buf);
    }
    if (gunzip) {
      await new Promise<void>((resolve) => gunzip!.end(() => resolve()));
      await new Promise<void>((resolve) =>
        gunzip!.readableEnded ? resolve() : gunzip!.once('end', resolve).once('error', () => resolve()),
      );
      if (gunzipError) throw new RangeError(`body: not valid gzip (${(gunzipError as Error).message})`);
      for (const c of inflatedChunks.splice(0)) {
        inflated += c.length;
        if (inflated > maxInflated) throw tooLarge('inflates to', maxInflated, 'maxDecompressedBytes');
        await take(c);
      }
    }
  } finally {
    gunzip?.destroy();
  }
  lines.write(decoder.end());
  lines.end();
  parser.end();
  return digest.result(o.format, parser);
}
