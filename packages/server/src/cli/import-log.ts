/**
 * `siperf import pg-log FILE…`, `siperf import mysql-slow FILE…` and `siperf report FILE…`: read database
 * logs locally (streamed, gzip/bzip2 recognised, a progress bar on stderr when it is a terminal), print the
 * digest as a pt-query-digest-style profile or, with `--json`, as the JSON the upload API answers; with
 * `--url`, also upload each file to a running server (`POST /api/v1/cache-db/logs`) so its statements join
 * the advisor's.
 * @module
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import cliProgress from 'cli-progress';
import {
  checkTimeZone,
  detectLogFormat,
  digestLogFiles,
  firstLines,
  LOG_FORMATS,
  type LogFormat,
  parseInstant,
} from '../ingest/logs/index.ts';

import { loadSqlParser } from '../ingest/sql-fingerprint.ts';
import { formatProfile } from './log-report.ts';

/** Options of {@link importLogs}. */
export interface ImportLogOptions {
  /** Formats this command reads (all when absent). */
  allowed?: readonly LogFormat[];
  /** Read from the first file's first lines when absent. */
  format?: string;
  prefix?: string;
  since?: string;
  until?: string;
  logTimezone?: string;
  json?: boolean;
  limit?: string;
  width?: string;
  url?: string;
  key?: string;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function instant(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseInstant(v);
  if (ms === null)
    fail(`--${name}: expected an ISO-8601 time (UTC when it has no offset), got ${JSON.stringify(v)}`);
  return ms;
}

/** Runs an import or a report; exits with 1 and a message naming the option on bad input. */
export async function importLogs(files: string[], o: ImportLogOptions): Promise<void> {
  if (o.format === undefined && files[0]) {
    try {
      const detected = detectLogFormat(await firstLines(files[0]));
      o.format = o.allowed && !o.allowed.includes(detected) ? o.allowed[0] : detected;
      if (!o.json) process.stderr.write(`format: ${o.format} (from the first lines; --format to choose)\n`);
    } catch (err) {
      fail(`cannot read ${files[0]}: ${(err as Error).message}`);
    }
  }
  const formats = o.allowed ?? LOG_FORMATS;
  if (!formats.includes(o.format as LogFormat))
    fail(`--format: expected one of ${formats.join(', ')}, got ${JSON.stringify(o.format)}`);
  const limit = o.limit === undefined ? 20 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1)
    fail(`--limit: expected a positive integer, got ${JSON.stringify(o.limit)}`);
  const width = o.width === undefined ? undefined : Number(o.width);
  if (width !== undefined && (!Number.isInteger(width) || width < 10))
    fail(`--width: expected an integer of 10 or more, got ${JSON.stringify(o.width)}`);
  if (o.logTimezone !== undefined) {
    try {
      checkTimeZone(o.logTimezone);
    } catch (err) {
      fail(`--log-timezone: ${(err as Error).message.replace(/^logTimezone: /, '')}`);
    }
  }
  await loadSqlParser();
  const bar =
    process.stderr.isTTY && !o.json
      ? new cliProgress.SingleBar(
          { format: 'reading {bar} {percentage}% {value}/{total} bytes', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let started = false;
  let digest: Awaited<ReturnType<typeof digestLogFiles>>;
  try {
    digest = await digestLogFiles(
      files,
      {
        format: o.format as LogFormat,
        prefix: o.prefix,
        sinceMs: instant('since', o.since),
        untilMs: instant('until', o.until),
        logTimezone: o.logTimezone,
      },
      (read, total) => {
        if (!bar) return;
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(read);
      },
    );
  } catch (err) {
    bar?.stop();
    fail(
      `${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot read the log'}: ${(err as Error).message}`,
    );
  }
  bar?.stop();
  process.stdout.write(o.json ? `${JSON.stringify(digest, null, 2)}\n` : formatProfile(digest, limit, width));
  if (!o.url) return;
  for (const file of files) {
    const q = new URLSearchParams({
      format: o.format as string,
      ...(o.prefix ? { prefix: o.prefix } : {}),
      ...(o.since ? { since: o.since } : {}),
      ...(o.until ? { until: o.until } : {}),
      ...(o.logTimezone ? { logTimezone: o.logTimezone } : {}),
    });
    const res = await fetch(`${o.url.replace(/\/$/, '')}/api/v1/cache-db/logs?${q}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        ...(o.key ? { authorization: `Bearer ${o.key}` } : {}),
      },
      // Streamed: a 200 MB log is not held in memory to be sent.
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit).catch((err: Error) => fail(`upload to ${o.url} failed: ${err.message}`));
    if (!res.ok) fail(`upload of ${file} failed (${res.status}): ${await res.text()}`);
    process.stderr.write(`uploaded ${file} to ${o.url}\n`);
  }
}
