/**
 * Database logs in, digests out: a file (streamed line by line; gzip and bzip2 recognised by their magic
 * bytes — bzip2 through the `bzip2` command, as Node has no decoder) or a text body, in one of the formats
 * `mysql-slow`, `pg-stderr`, `pg-csv`, `pg-json`.
 * @module
 */

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, gunzipSync } from 'node:zlib';
import { SiperfError } from '../../errors.ts';
import { DigestBuilder, type LogDigest } from './digest.ts';
import { MysqlSlowLogParser } from './mysql-slow.ts';
import { type PgLogFormat, PgLogParser } from './pg-log.ts';

/** Bytes read at a time, and the longest line accepted (a statement of 64 MiB is already absurd). */
const CHUNK = 1024 * 1024;
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
    : new PgLogParser(o.format, emit, { prefix: o.prefix });
}

/**
 * Digests a log held in memory (an upload). gzip bodies are inflated; bzip2 is refused (decompress first).
 * @throws RangeError naming `prefix` when it has an unknown escape, or `body` for bzip2.
 */
export function digestLogText(
  body: Buffer | string,
  o: LogImportOptions & { maxInflatedBytes?: number },
): LogDigest {
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
  if (head.toString('latin1') === 'BZh') {
    const child = spawn('bzip2', ['-dc', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', () => {});
    return child.stdout;
  }
  return createReadStream(path, { highWaterMark: CHUNK });
}

/** The format of a log from its first lines (slow-log headers, JSON objects, csvlog rows, else stderr). */
export function detectLogFormat(lines: readonly string[]): LogFormat {
  const text = lines.filter((l) => l.trim() !== '');
  if (
    text.some((l) => /^# (Time|User@Host|Query_time):/.test(l) || /^\S+, Version: .* started with:$/.test(l))
  )
    return 'mysql-slow';
  if (text[0]?.trimStart().startsWith('{')) return 'pg-json';
  if (text[0] && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? [A-Za-z0-9+:-]+,/.test(text[0]))
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
 * Digests log files (streamed; one digest over all of them).
 * @param onProgress - called with compressed bytes read so far and the total, for a progress bar.
 */
export async function digestLogFiles(
  paths: readonly string[],
  o: LogImportOptions,
  onProgress?: (read: number, total: number) => void,
): Promise<LogDigest> {
  const digest = new DigestBuilder(o.format === 'mysql-slow' ? 'mysql' : 'postgresql', {
    sinceMs: o.sinceMs,
    untilMs: o.untilMs,
  });
  const parser = parserFor(o, digest);
  const sizes = await Promise.all(paths.map(async (p) => (await stat(p)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  for (let i = 0; i < paths.length; i++) {
    const stream = await openLog(paths[i]!);
    // Progress in decompressed bytes, clamped to the file's size (exact for plain files).
    let read = 0;
    stream.on('data', (chunk: Buffer) => {
      read += chunk.length;
      onProgress?.(done + Math.min(sizes[i]!, read), total);
    });
    // Lines split by hand from large chunks: readline's per-line async iteration costs more than parsing.
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of stream) {
      const text = rest + decoder.write(chunk as Buffer);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        parser.push(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      if (rest.length > MAX_LINE)
        throw new RangeError(`${paths[i]}: a line longer than ${MAX_LINE} characters`);
    }
    rest += decoder.end();
    if (rest !== '') parser.push(rest);
    done += sizes[i]!;
    onProgress?.(done, total);
  }
  parser.end();
  return digest.result(o.format, parser);
}
