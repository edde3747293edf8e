/**
 * Log imports on the database page: a PostgreSQL log (stderr, csvlog, jsonlog) or a MySQL slow log,
 * chosen as a file (plain or gzip) or pasted, is posted as the raw body to `POST /api/v1/cache-db/logs`
 * (`format`, `prefix`, `since`, `until` in the query), and the digest it answers — one row per statement
 * fingerprint, as pt-query-digest and pgBadger report them — is shown as a sortable table.
 *
 * The server keeps the last 20 uploads but has no route that lists them, so the digests of this tab's
 * uploads are kept in `sessionStorage` (as the read key is) and the one shown is named in the URL (`log`).
 * @module
 */
import type { LogDigestAnswer, QueryDigest } from '@siperf/server/schemas';
import { useState } from 'preact/hooks';
import { ApiError, post } from '../api.ts';
import { ErrorView, Stat } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { bytes, count, ms, time } from '../format.ts';
import { href, setParams, useLocation } from '../router.ts';

/** Formats the server reads (`LOG_FORMAT_NAMES`), with what each is. */
const FORMATS = [
  ['pg-stderr', 'PostgreSQL, stderr (log_destination = stderr)'],
  ['pg-csv', 'PostgreSQL, csvlog'],
  ['pg-json', 'PostgreSQL, jsonlog'],
  ['mysql-slow', 'MySQL / MariaDB / Percona slow log'],
] as const;
type LogFormat = (typeof FORMATS)[number][0];

/** The server's upload limit (the body, compressed or not). */
const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
const STORAGE = 'siperf.logDigests';

/** The format of a log from its first lines, as the server's CLI reads it (`detectLogFormat`). */
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

/** The first lines of a file (gzip read through the browser's DecompressionStream); `bzip2` when it is one. */
async function firstLines(file: File): Promise<string[] | 'bzip2'> {
  const head = new Uint8Array(await file.slice(0, 3).arrayBuffer());
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  let stream = file.slice(0, 1 << 20).stream() as ReadableStream<BufferSource>;
  if (head[0] === 0x1f && head[1] === 0x8b)
    stream = stream.pipeThrough(new DecompressionStream('gzip')) as ReadableStream<BufferSource>;
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    while (text.length < 64 * 1024) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } catch {
    // a gzip member cut at 1 MiB ends in an error: the text read so far is enough
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.split(/\r?\n/).slice(0, 50);
}

/** A digest with when it was uploaded and what. */
export interface StoredDigest {
  uploadedAt: string;
  source: string;
  digest: LogDigestAnswer;
}

/** The digests of this tab's uploads, newest first. */
export function storedDigests(): StoredDigest[] {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE) ?? '[]') as StoredDigest[];
  } catch {
    return [];
  }
}

function keep(d: StoredDigest): StoredDigest[] {
  let list = [d, ...storedDigests().filter((x) => x.digest.id !== d.digest.id)].slice(0, 20);
  // sessionStorage holds a few MiB: drop the oldest until the list fits.
  while (list.length > 0) {
    try {
      sessionStorage.setItem(STORAGE, JSON.stringify(list));
      return list;
    } catch {
      list = list.slice(0, -1);
    }
  }
  return [d];
}

/** An ISO time from a `datetime-local` value (local time), or undefined. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** `{ shop: 12, app: 3 }` → `shop (12), app (3)`. */
function tally(r: Record<string, number>): string {
  const e = Object.entries(r).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? '–' : e.map(([k, v]) => `${k} (${count(v)})`).join(', ');
}

/** The upload form and the digest of the upload named in the URL (else the latest of this tab). */
export function LogImport(props: { onUploaded?: () => void }) {
  const { params } = useLocation();
  const [file, setFile] = useState<File | null>(null);
  const [pasted, setPasted] = useState('');
  const [format, setFormat] = useState<LogFormat>('pg-stderr');
  const [detected, setDetected] = useState<string>('');
  const [prefix, setPrefix] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [digests, setDigests] = useState<StoredDigest[]>(storedDigests);

  const shownId = params.get('log');
  const shown = digests.find((d) => String(d.digest.id) === shownId) ?? digests[0];

  const choose = async (f: File | null) => {
    setFile(f);
    setError(undefined);
    setDetected('');
    if (!f) return;
    if (f.size > MAX_UPLOAD_BYTES) {
      setError(
        new ApiError(413, {
          title: 'File too large',
          detail: `${f.name} is ${bytes(f.size)}; the server takes up to ${bytes(MAX_UPLOAD_BYTES)}. Gzip it, or import it with npx siperf import.`,
        }),
      );
      return;
    }
    const lines = await firstLines(f).catch(() => [] as string[]);
    if (lines === 'bzip2') {
      setError(
        new ApiError(415, {
          title: 'bzip2 is not taken by the server',
          detail: `Decompress ${f.name} (bunzip2) or gzip it, or import it with npx siperf import, which reads .bz2.`,
        }),
      );
      return;
    }
    if (lines.length > 0) {
      const fmt = detectLogFormat(lines);
      setFormat(fmt);
      setDetected(fmt);
    }
  };

  const onPaste = (text: string) => {
    setPasted(text);
    if (!file && text.trim()) {
      const fmt = detectLogFormat(text.split(/\r?\n/).slice(0, 50));
      setFormat(fmt);
      setDetected(fmt);
    }
  };

  const body: Blob | string | undefined = file ?? (pasted.trim() ? pasted : undefined);
  const upload = async () => {
    if (!body) return;
    setBusy(true);
    setError(undefined);
    try {
      const digest = await post<LogDigestAnswer>(
        '/api/v1/cache-db/logs',
        body,
        {},
        {
          format,
          prefix: format === 'pg-stderr' && prefix ? prefix : undefined,
          since: isoOf(since),
          until: isoOf(until),
        },
        file ? 'application/octet-stream' : 'text/plain',
      );
      const list = keep({
        uploadedAt: new Date().toISOString(),
        source: file
          ? `${file.name} (${bytes(file.size)})`
          : `${count(pasted.split('\n').length)} pasted lines`,
        digest,
      });
      setDigests(list);
      setParams({ log: digest.id }, true);
      props.onUploaded?.();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, { detail: String(err) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <form
        class="db-upload"
        onSubmit={(e) => {
          e.preventDefault();
          upload();
        }}
      >
        <p class="muted small">
          Digest a database log without installing anything: the server reads it, groups the statements by
          fingerprint and, with <code>pools</code> set, explains the costliest ones with the traces'.
        </p>
        <div class="db-upload-row">
          <label>
            Log file (plain or .gz, up to 256 MiB)
            <input type="file" onChange={(e) => choose((e.target as HTMLInputElement).files?.[0] ?? null)} />
          </label>
          <label>
            Format
            <select
              value={format}
              onChange={(e) => setFormat((e.target as HTMLSelectElement).value as LogFormat)}
            >
              {FORMATS.map(([v, text]) => (
                <option key={v} value={v}>
                  {text}
                </option>
              ))}
            </select>
            {detected ? <span class="muted small">read from its first lines: {detected}</span> : null}
          </label>
          {format === 'pg-stderr' ? (
            <label>
              log_line_prefix (optional)
              <input
                type="text"
                placeholder="%m [%p] user=%u,db=%d "
                value={prefix}
                onInput={(e) => setPrefix((e.target as HTMLInputElement).value)}
              />
            </label>
          ) : null}
          <fieldset class="db-upload-window">
            <legend>Only the events between (optional)</legend>
            <label>
              Since
              <input
                type="datetime-local"
                value={since}
                onInput={(e) => setSince((e.target as HTMLInputElement).value)}
              />
            </label>
            <label>
              Until
              <input
                type="datetime-local"
                value={until}
                onInput={(e) => setUntil((e.target as HTMLInputElement).value)}
              />
            </label>
          </fieldset>
        </div>
        {file ? null : (
          <details>
            <summary>Or paste log lines</summary>
            <textarea
              rows={6}
              aria-label="Log lines"
              placeholder="2024-03-01 10:00:00.100 UTC [101] user=app,db=shop LOG:  duration: 50.000 ms  statement: SELECT …"
              value={pasted}
              onInput={(e) => onPaste((e.target as HTMLTextAreaElement).value)}
            />
          </details>
        )}
        <button type="submit" disabled={!body || busy}>
          {busy ? 'Reading the log…' : 'Upload and digest'}
        </button>
      </form>
      {error ? <ErrorView error={error} /> : null}
      {digests.length > 1 ? (
        <label class="db-upload-pick">
          Upload shown{' '}
          <select
            value={String(shown?.digest.id)}
            onChange={(e) => setParams({ log: (e.target as HTMLSelectElement).value }, true)}
          >
            {digests.map((d) => (
              <option key={d.digest.id} value={String(d.digest.id)}>
                #{d.digest.id} · {d.source} · {time(d.uploadedAt)}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {shown ? <Digest d={shown} /> : null}
    </>
  );
}

/** One upload's digest: what was read, then the statements by total time. */
function Digest(props: { d: StoredDigest }) {
  const a = props.d.digest;
  return (
    <div class="db-digest">
      <h3>
        Upload #{a.id}: {props.d.source}, {a.format}
      </h3>
      <div class="stats">
        <Stat label="lines read" value={count(a.lines)} />
        <Stat label="statements logged" value={count(a.events)} />
        <Stat label="distinct statements" value={count(a.queries.length)} />
        <Stat
          label="lines not understood"
          value={count(a.unknownLines)}
          tone={a.lines > 0 && a.unknownLines / a.lines > 0.5 ? 'warn' : undefined}
        />
        {a.filteredOut > 0 ? <Stat label="outside since/until" value={count(a.filteredOut)} /> : null}
        <Stat label="total time" value={ms(a.queries.reduce((s, q) => s + q.totalMs, 0))} />
      </div>
      {a.unknownExamples.length > 0 ? (
        <details>
          <summary>Lines not understood ({count(a.unknownLines)})</summary>
          <p class="muted small">
            When most lines are here, check the format and, for stderr logs, give the log_line_prefix.
          </p>
          <pre>
            <code>{a.unknownExamples.join('\n')}</code>
          </pre>
        </details>
      ) : null}
      {a.queries.length === 0 ? (
        <p class="muted">
          No statement with a duration in this log. PostgreSQL logs durations with{' '}
          <code>log_min_duration_statement = 0</code> (or a threshold in ms); MySQL with{' '}
          <code>slow_query_log = 1</code> and <code>long_query_time</code>.
        </p>
      ) : (
        <Table<QueryDigest>
          id="log"
          caption={`Statements of upload #${a.id} by fingerprint; durations as logged`}
          rows={a.queries}
          rowKey={(q) => q.fingerprint}
          sort="total"
          columns={[
            {
              key: 'statement',
              label: 'Statement',
              value: (q) => q.statement,
              render: (q) => (
                <details class="db-stmt-cell">
                  <summary>
                    <code>{q.statement.length > 140 ? `${q.statement.slice(0, 140)}…` : q.statement}</code>
                  </summary>
                  <p class="small">
                    <a href={href('/database/statements', { fingerprint: q.fingerprint })}>Statement page</a>{' '}
                    · {q.firstSeen ? `first ${time(q.firstSeen)}` : ''}
                    {q.lastSeen ? `, last ${time(q.lastSeen)}` : ''}
                  </p>
                  <p class="small">Slowest call as logged:</p>
                  <pre class="wrap">
                    <code>{q.example}</code>
                  </pre>
                  {q.plan ? (
                    <>
                      <p class="small">Plan of the slowest call (auto_explain):</p>
                      <pre class="db-plan">
                        <code>{q.plan}</code>
                      </pre>
                    </>
                  ) : null}
                </details>
              ),
            },
            {
              key: 'count',
              label: 'Calls',
              numeric: true,
              value: (q) => q.count,
              render: (q) => count(q.count),
            },
            {
              key: 'total',
              label: 'Total',
              numeric: true,
              value: (q) => q.totalMs,
              render: (q) => ms(q.totalMs),
            },
            {
              key: 'mean',
              label: 'Mean',
              numeric: true,
              value: (q) => q.meanMs,
              render: (q) => ms(q.meanMs),
            },
            { key: 'p95', label: 'p95', numeric: true, value: (q) => q.p95Ms, render: (q) => ms(q.p95Ms) },
            { key: 'max', label: 'Max', numeric: true, value: (q) => q.maxMs, render: (q) => ms(q.maxMs) },
            {
              key: 'stddev',
              label: 'Std dev',
              numeric: true,
              value: (q) => q.stddevMs,
              render: (q) => ms(q.stddevMs),
            },
            {
              key: 'rows',
              label: 'Rows examined',
              numeric: true,
              value: (q) => q.rowsExamined ?? -1,
              render: (q) => count(q.rowsExamined),
            },
            { key: 'db', label: 'Databases', value: (q) => tally(q.databases) },
            { key: 'users', label: 'Users', value: (q) => tally(q.users) },
          ]}
        />
      )}
    </div>
  );
}
