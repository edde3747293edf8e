/**
 * MySQL, MariaDB and Percona Server slow query logs, every header variant of pt-query-digest's test
 * corpus: stock 5.0 (`# Time: 071015 21:43:52`, integer times), Percona microslow (`# Time:` and
 * `# User@Host:` on one line, Thread_id, QC_Hit/Full_scan flags, InnoDB blocks), `Schema:` and `Id:`
 * fields, 5.7 ISO-8601 times, server banners (also after a restart), `use db;` and `SET timestamp=`
 * lines, multi-line statements, and `# administrator command:` entries; MariaDB's empty `Schema:` before
 * `QC_hit:` (no database: the `use` one holds). Old-style times may carry a fraction of any length; an entry
 * without `# Time:` takes its `SET timestamp=` or else the previous entry's time. An entry holding only
 * `use`/`SET timestamp=` and no statement counts as pt-query-digest counts it: one call of the comment-only statement it names "No query"
 * (said in the notes). Header numbers are checked: `Query_time: abc` or `-5` makes the entry an unknown
 * line with the reason, not a NaN or negative figure. Lines it cannot place are counted.
 * @module
 */
import type { QueryLogEvent } from '../../model/index.ts';

const BANNER = [
  /^\S+, Version: .* started with:$/,
  /^Tcp port: \d+\s+Unix socket: /,
  /^Time\s+Id\s+Command\s+Argument$/,
];

/** `# Time:` values: `071015 21:43:52`, `081127  8:51:20.123456789` (UTC assumed) or ISO-8601. */
function parseTime(v: string): number | null {
  const iso = Date.parse(v);
  if (/^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(iso)) return iso;
  const m = /^(\d{2})(\d{2})(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return null;
  const t = Date.UTC(
    2000 + Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  );
  return t + (m[7] ? Number(`0.${m[7]}`.slice(0, 5)) * 1000 : 0);
}

/** Header fields that hold a count or a time in seconds (checked: a non-negative decimal). */
const NUMERIC = new Set(['Query_time', 'Lock_time', 'Rows_sent', 'Rows_examined', 'Rows_affected']);
const DECIMAL = /^\d+(?:\.\d+)?$/;
/** Seconds (as written, up to µs) in ms, without binary noise (0.000123 s is 0.123 ms). */
const secondsToMs = (v: string) => Math.round(Number(v) * 1e9) / 1e6;

/** A line-at-a-time slow-log parser: `push` each line, then `end`. */
export class MysqlSlowLogParser {
  lines = 0;
  unknownLines = 0;
  /** Examples of unknown lines (at most 20). */
  readonly unknownExamples: string[] = [];
  private fields = new Map<string, string>();
  private statement: string[] = [];
  private database = '';
  private timeMs: number | null = null;
  /** Whether this entry had its own `# Time:` line (else `SET timestamp=` gives its time). */
  private timeFromHeader = false;
  private inHeader = false;
  /** Why this entry is not an event (a header number that is not one), or undefined. */
  private invalid: string | undefined;
  /** Whether this entry had `use` or `SET` lines (an entry with only those is a "No query" call). */
  private bookkeeping = false;
  private noQuery = 0;

  constructor(private readonly emit: (e: QueryLogEvent) => void) {}

  /** What a reader of the figures should know. */
  notes(): string[] {
    return this.noQuery > 0
      ? [
          `${this.noQuery} entries held only use/SET lines and no statement: counted as pt-query-digest counts them, as calls of one "/* No query */" statement`,
        ]
      : [];
  }

  private flush(): void {
    let text = this.statement.join('\n').trim();
    if (this.invalid === undefined && this.fields.has('Query_time') && text === '' && this.bookkeeping) {
      text = '/* No query */';
      this.noQuery += 1;
    }
    if (this.invalid !== undefined) {
      // Counted as an unknown line already, with its reason.
    } else if (this.fields.has('Query_time') && text !== '') {
      const f = this.fields;
      const num = (k: string) => (f.has(k) ? Number(f.get(k)) : null);
      const stmt = text.replace(/;\s*$/, '');
      this.emit({
        timeMs: this.timeMs,
        durationMs: secondsToMs(f.get('Query_time')!),
        statement: stmt,
        database: f.get('Schema') || this.database,
        user: f.get('user') ?? '',
        application: f.get('host') ?? '',
        session: f.get('Thread_id') ?? f.get('Id') ?? '',
        rowsExamined: num('Rows_examined'),
        rowsSent: num('Rows_sent'),
        plan: null,
      });
    } else if (text !== '') {
      this.unknown(text.split('\n')[0]!);
    }
    this.statement = [];
    this.fields = new Map();
    this.timeFromHeader = false;
    this.invalid = undefined;
    this.bookkeeping = false;
  }

  private unknown(line: string): void {
    this.unknownLines += 1;
    if (this.unknownExamples.length < 20) this.unknownExamples.push(line.slice(0, 200));
  }

  private header(line: string): void {
    // `# Time: … # User@Host: …` (microslow puts both on one line).
    const at = line.indexOf('# User@Host:', 1);
    const parts = at > 0 ? [line.slice(0, at), line.slice(at)] : [line];
    for (const part of parts) {
      const time = /^# Time:\s+(.*?)\s*$/.exec(part);
      if (time) {
        this.timeMs = parseTime(time[1]!);
        this.timeFromHeader = true;
        continue;
      }
      const uh = /^# User@Host:\s+(?:(\S*)\[(\S*)\]|\S*)\s+@\s+(\S*)\s+\[([^\]]*)\](?:\s+Id:\s+(\d+))?/.exec(
        part,
      );
      if (uh) {
        this.fields.set('user', uh[2] || uh[1] || '');
        this.fields.set('host', uh[3] || uh[4] || '');
        if (uh[5]) this.fields.set('Id', uh[5]);
        continue;
      }
      // `Schema:   QC_hit: No` (MariaDB): a name followed by another name has no value.
      for (const m of part.matchAll(/(\w+):[ \t]*(?:(?!\w+:(?:\s|$))(\S+))?/g)) {
        const [key, value = ''] = [m[1]!, m[2]];
        if (NUMERIC.has(key) && !DECIMAL.test(value) && this.invalid === undefined) {
          this.invalid = `${key}: ${JSON.stringify(value)} is not a non-negative number`;
          this.unknown(`${line} (${this.invalid})`);
        }
        this.fields.set(key, value);
      }
    }
  }

  /** Consumes one line (without its newline). */
  push(raw: string): void {
    this.lines += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) {
      // An entry starts at its first header line (`# Query_time:` when the server wrote no other).
      const starts = /^# (Time|User@Host|Query_time):/.test(line);
      if (starts && !this.inHeader) this.flush();
      this.inHeader = true;
      if (line.startsWith('# administrator command:')) {
        // The whole statement of its event: the next header starts another.
        this.statement.push(line.slice(2));
        this.inHeader = false;
        return;
      }
      this.header(line);
      return;
    }
    this.inHeader = false;
    const c = line.charCodeAt(0);
    // Banners start with '/' (the binary's path), 'T' (Tcp port, Time): test the patterns only then.
    if ((c === 47 || c === 84) && BANNER.some((re) => re.test(line))) {
      this.flush();
      return;
    }
    if (line.trim() === '') {
      if (this.statement.length > 0) this.statement.push('');
      return;
    }
    const use =
      this.statement.length === 0 && (c === 117 || c === 85)
        ? /^use\s+`?([^`;\s]+)`?;\s*$/i.exec(line)
        : null;
    if (use) {
      this.database = use[1]!;
      this.bookkeeping = true;
      return;
    }
    // Replication and session bookkeeping the server writes before a statement.
    if (
      /^SET\s+(?:(?:last_)?insert_id|timestamp)\s*=\s*\d+(?:\s*,\s*(?:(?:last_)?insert_id|timestamp)\s*=\s*\d+)*;\s*$/i.test(
        line,
      ) &&
      this.statement.length === 0
    ) {
      const ts = /timestamp\s*=\s*(\d+)/i.exec(line);
      if (!this.timeFromHeader && ts) this.timeMs = Number(ts[1]) * 1000;
      this.bookkeeping = true;
      return;
    }
    if (!this.fields.has('Query_time') && this.statement.length === 0) {
      this.unknown(line);
      return;
    }
    this.statement.push(line);
  }

  /** Emits the last event. */
  end(): void {
    this.flush();
  }
}
