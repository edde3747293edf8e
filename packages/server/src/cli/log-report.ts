/**
 * The text form of a log digest, laid out like pt-query-digest's profile: rank, query id, response time
 * and its share, calls, time per call, variance-to-mean ratio, and the statement (whole unless a width is
 * asked for), then the reader's notes.
 * @module
 */
import type { LogImportDigest } from '../ingest/logs/index.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The profile, `limit` rows (the rest summed in a last line); statements cut to `width` when given. */
export function formatProfile(d: LogImportDigest, limit = 20, width?: number): string {
  const total = d.queries.reduce((s, q) => s + q.totalMs, 0) / 1000;
  const lines = [
    `# ${plural(d.events, 'event')}, ${plural(d.queries.length, 'query', 'queries')} from ${plural(d.lines, 'line')} (${d.format})${d.unknownLines ? `; ${d.unknownLines} lines not understood, e.g. ${JSON.stringify(d.unknownExamples[0] ?? '')}` : ''}${d.filteredOut ? `; ${d.filteredOut} events outside the window` : ''}`,
    '# Profile',
    '# Rank Query ID           Response time    Calls  R/Call  V/M    Item',
    '# ==== ================== ================ ====== ======= ====== ====',
  ];
  const row = (
    rank: string,
    id: string,
    secs: number,
    calls: number,
    perCall: number,
    vm: number,
    item: string,
  ) =>
    `# ${rank.padStart(4)} ${id.padEnd(18)} ${secs.toFixed(4).padStart(9)} ${total > 0 ? ((100 * secs) / total).toFixed(1).padStart(5) : '  0.0'}% ${String(calls).padStart(6)} ${perCall.toFixed(4).padStart(7)} ${vm.toFixed(2).padStart(6)} ${item}`;
  d.queries.slice(0, limit).forEach((q, i) => {
    const secs = q.totalMs / 1000;
    const vm = q.meanMs > 0 ? (q.stddevMs / 1000) ** 2 / (q.meanMs / 1000) : 0;
    lines.push(
      row(
        String(i + 1),
        `0x${q.fingerprint.toUpperCase()}`,
        secs,
        q.count,
        q.meanMs / 1000,
        vm,
        (() => {
          const one = q.statement.replace(/\s+/g, ' ');
          const text = width !== undefined && one.length > width ? `${one.slice(0, width - 1)}…` : one;
          return q.untimed > 0 ? `${text} (${q.untimed} calls without a duration)` : text;
        })(),
      ),
    );
  });
  const rest = d.queries.slice(limit);
  if (rest.length > 0) {
    const secs = rest.reduce((s, q) => s + q.totalMs, 0) / 1000;
    const calls = rest.reduce((s, q) => s + q.count, 0);
    lines.push(row('MISC', '0xMISC', secs, calls, calls > 0 ? secs / calls : 0, 0, `<${rest.length} ITEMS>`));
  }
  for (const note of d.notes ?? []) lines.push(`# Note: ${note}`);
  return `${lines.join('\n')}\n`;
}
