/**
 * `siperf import metrics-csv FILE --metric NAME --host HOST [--url URL] [--key KEY]`: posts a
 * `timestamp,value` CSV to a running server's `POST /api/v1/resources/import` (the store allows one
 * process, so the CLI goes through the server). Prints what was stored and what was odd about the file.
 * @module
 */
import { readFile } from 'node:fs/promises';

/** Options of {@link importMetricsCsv}. */
export interface ImportOptions {
  metric: string;
  host: string;
  /** Server base URL. Default `http://127.0.0.1:4318` (env SIPERF_URL). */
  url?: string;
  /** API key, when the server has one (env SIPERF_API_KEY). */
  key?: string;
}

/** `&to=…&window=…` covering the imported range (at most the API's 400 days), for the forecast hint. */
function historyParams(from: string, to: string): string {
  const start = Date.parse(from);
  const end = Date.parse(to);
  if (Number.isNaN(start) || Number.isNaN(end)) return '';
  const days = Math.min(400, Math.max(1, Math.ceil((end - start) / 86_400_000) + 1));
  return `&to=${new Date(end + 1000).toISOString()}&window=${days}d`;
}

/** Runs the import; exits with 1 and the server's message on failure. */
export async function importMetricsCsv(file: string, o: ImportOptions): Promise<void> {
  const base = (o.url ?? process.env.SIPERF_URL ?? 'http://127.0.0.1:4318').replace(/\/+$/, '');
  const key = o.key ?? process.env.SIPERF_API_KEY;
  let body: string;
  try {
    body = await readFile(file, 'utf8');
  } catch (err) {
    process.stderr.write(`cannot read ${file}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const target = `${base}/api/v1/resources/import?metric=${encodeURIComponent(o.metric)}&host=${encodeURIComponent(o.host)}`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/csv', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    });
  } catch (err) {
    process.stderr.write(
      `cannot reach the server at ${base} (is \`siperf serve\` running?): ${(err as Error).message}\n`,
    );
    process.exit(1);
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    process.stderr.write(
      `import failed (${res.status}): ${String(answer.detail ?? JSON.stringify(answer))}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(
    `stored ${answer.points} points of ${answer.metric} for host ${answer.host}, ${answer.from} → ${answer.to}` +
      ` (${answer.duplicateTimes} repeated timestamps, ${answer.outOfOrder} rows out of order)\n` +
      `forecast: ${base}/api/v1/resources/predictions/${encodeURIComponent(o.metric)}?host=${encodeURIComponent(o.host)}&horizon=24h${historyParams(String(answer.from), String(answer.to))}\n`,
  );
}
