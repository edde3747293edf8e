/**
 * PostgreSQL server logs into statements with durations, as pgBadger reads them:
 * - stderr with any `log_line_prefix`: given (`%m [%p] user=%u,db=%d `, compiled to a pattern), or, when
 *   not given, read from each line (the text before the severity; time, `[pid]`, `user=`, `db=`, `app=`
 *   found in it). Continuation lines start with a tab. Google Cloud Logging exports (one LogEntry JSON a
 *   line with the PostgreSQL line in `textPayload`) are read the same way.
 * - csvlog (the 23–26 columns of PostgreSQL 12–17) and jsonlog (PostgreSQL 15+).
 * Messages are paired per backend (pid): `duration: … statement:` and `duration: … execute <name>:` are
 * events (parse and bind steps are not); a `statement:` followed by a bare `duration:` (log_statement with
 * log_duration) is one event; `DETAIL:  parameters: $1 = '…'` fills the example of the execute before it;
 * `duration: … plan:` (auto_explain) gives the statement from its `Query Text:` and keeps the plan.
 * Lines that belong to no message are counted as unknown, with examples.
 * @module
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { QueryLogEvent } from '../../model/index.ts';

/** The PostgreSQL log formats. */
export type PgLogFormat = 'pg-stderr' | 'pg-csv' | 'pg-json';

interface Meta {
  timeMs: number | null;
  pid: string;
  user: string;
  database: string;
  application: string;
}

interface Message extends Meta {
  severity: string;
  text: string;
}

const SEVERITY =
  'LOG|ERROR|WARNING|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|NOTICE|INFO|DEBUG[1-5]?|QUERY|LOCATION';
const LINE = new RegExp(`^(.*?)\\b(${SEVERITY}):  (.*)$`);
const TIME = /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: ?(UTC|GMT|Z|[+-]\d{2}(?::?\d{2})?))?/;

/** A time of a log line as ms since the epoch (named zones other than UTC/GMT are read as UTC). */
function timeOf(text: string): number | null {
  const m = TIME.exec(text);
  if (!m) return null;
  const zone =
    m[3] && /^[+-]/.test(m[3])
      ? m[3].length === 3
        ? `${m[3]}:00`
        : m[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')
      : 'Z';
  const v = Date.parse(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(v) ? null : v;
}

/** Escapes whose values are free text: matched up to the literal character that follows them. */
const FREE_TEXT: Record<string, string> = {
  a: 'app',
  u: 'user',
  d: 'db',
  r: 'remote',
  h: 'host',
  b: 'backend',
  i: 'tag',
};

const PREFIX_ESCAPES: Record<string, string> = {
  p: '(?<pid>\\d+)',
  P: '(?<leader>\\d*)',
  t: '(?<time>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?: [A-Za-z0-9+:-]+)?)',
  m: '(?<time>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d+(?: [A-Za-z0-9+:-]+)?)',
  n: '(?<epoch>\\d+(?:\\.\\d+)?)',
  e: '(?<sqlstate>[0-9A-Z]{5})',
  c: '(?<session>[0-9a-f.]+)',
  l: '(?<line>\\d+)',
  s: '(?<start>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?: [A-Za-z0-9+:-]+)?)',
  v: '(?<vxid>[\\d/]*)',
  x: '(?<xid>\\d+)',
  q: '',
  Q: '(?<queryid>-?\\d+)',
  '%': '%',
};

/**
 * The pattern of a `log_line_prefix` (followed by the severity and the message).
 * @throws RangeError naming the escape when the prefix has one PostgreSQL does not know.
 */
export function compilePrefix(prefix: string): RegExp {
  let re = '';
  const seen = new Set<string>();
  const group = (name: string, pattern: string) => {
    // A group name may appear once: later repeats of an escape match without capturing.
    const g = seen.has(name) ? `(?:${pattern})` : `(?<${name}>${pattern})`;
    seen.add(name);
    return g;
  };
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix[i]!;
    if (c !== '%') {
      re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const e = prefix[++i];
    if (e !== undefined && e in FREE_TEXT) {
      // Free text runs to the next literal character (linear matching: no backtracking between groups).
      const next = prefix[i + 1];
      if (next === undefined) {
        re += group(FREE_TEXT[e]!, '\\S*');
        continue;
      }
      if (next === '%' && prefix[i + 2] !== '%') {
        throw new RangeError(
          `prefix: %${e} must be followed by a literal character to be read back (not by %${prefix[i + 2] ?? ''})`,
        );
      }
      re += group(FREE_TEXT[e]!, `[^${next.replace(/[\]\\^-]/g, '\\$&')}\\n]*`);
      continue;
    }
    if (e === undefined || !(e in PREFIX_ESCAPES)) {
      throw new RangeError(
        `prefix: unknown escape %${e ?? ''} (log_line_prefix escapes: %a %u %d %r %h %b %p %P %t %m %n %i %e %c %l %s %v %x %q %Q %%)`,
      );
    }
    const part = PREFIX_ESCAPES[e]!;
    const name = /\?<(\w+)>/.exec(part)?.[1];
    re += name ? group(name, part.replace(`(?<${name}>`, '').replace(/\)$/, '')) : part;
  }
  return new RegExp(`^${re}(${SEVERITY}):  (.*)$`);
}

/** A line-at-a-time PostgreSQL log parser: `push` each line, then `end`. */
export class PgLogParser {
  lines = 0;
  unknownLines = 0;
  readonly unknownExamples: string[] = [];
  private current: Message | undefined;
  private csvBuffer = '';
  /** Per backend: the statement waiting for its duration, and the event waiting for its parameters. */
  private readonly pending = new Map<
    string,
    { statement?: string; statementMeta?: Meta; event?: QueryLogEvent }
  >();
  private readonly prefix: RegExp | undefined;

  /** @throws RangeError when `prefix` has an unknown escape. */
  constructor(
    private readonly format: PgLogFormat,
    private readonly emit: (e: QueryLogEvent) => void,
    o: { prefix?: string | undefined } = {},
  ) {
    this.prefix = o.prefix ? compilePrefix(o.prefix) : undefined;
  }

  private unknown(line: string): void {
    this.unknownLines += 1;
    if (this.unknownExamples.length < 20) this.unknownExamples.push(line.slice(0, 200));
  }

  /** Consumes one line (without its newline). */
  push(raw: string): void {
    this.lines += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.format === 'pg-csv') this.pushCsv(line);
    else if (this.format === 'pg-json') this.pushJson(line);
    else this.pushStderr(line, null);
  }

  private pushStderr(line: string, timeMs: number | null): void {
    if (line.startsWith('\t') && this.current) {
      this.current.text += `\n${line.slice(1)}`;
      return;
    }
    const parsed = this.header(line);
    if (!parsed) {
      if (line.trim() !== '') this.unknown(line);
      return;
    }
    if (timeMs !== null && parsed.timeMs === null) parsed.timeMs = timeMs;
    this.finish();
    this.current = parsed;
  }

  private header(line: string): Message | undefined {
    if (this.prefix) {
      const m = this.prefix.exec(line);
      if (!m) return undefined;
      const g = m.groups ?? {};
      const n = m.length;
      return {
        timeMs: g.time ? timeOf(g.time) : g.epoch ? Number(g.epoch) * 1000 : null,
        pid: g.pid ?? '',
        user: g.user ?? '',
        database: g.db ?? '',
        application: g.app ?? '',
        severity: m[n - 2]!,
        text: m[n - 1]!,
      };
    }
    const m = LINE.exec(line);
    if (!m) return undefined;
    const pre = m[1]!;
    const field = (k: string) => new RegExp(`\\b${k}=([^,\\s]*)`).exec(pre)?.[1] ?? '';
    return {
      timeMs: timeOf(pre),
      pid: /\[(\d+)\]/.exec(pre)?.[1] ?? '',
      user: field('user'),
      database: field('db'),
      application: field('app'),
      severity: m[2]!,
      text: m[3]!,
    };
  }

  private pushCsv(line: string): void {
    this.csvBuffer = this.csvBuffer ? `${this.csvBuffer}\n${line}` : line;
    // A record is complete when its quotes balance.
    if ((this.csvBuffer.match(/"/g)?.length ?? 0) % 2 === 1) return;
    const text = this.csvBuffer;
    this.csvBuffer = '';
    let rows: string[][];
    try {
      rows = parseCsv(text, { relax_column_count: true }) as string[][];
    } catch {
      this.unknown(text);
      return;
    }
    for (const r of rows) {
      if (r.length < 14) {
        this.unknown(text);
        continue;
      }
      // log_time, user, db, pid, connection_from, session_id, line, tag, start, vxid, xid, severity, sqlstate, message, detail, …, application_name (23rd)
      const meta = {
        timeMs: timeOf(r[0]!),
        user: r[1] ?? '',
        database: r[2] ?? '',
        pid: r[3] ?? '',
        application: r[22] ?? '',
      };
      this.message({ ...meta, severity: r[11] ?? '', text: r[13] ?? '' });
      if (r[14]) this.message({ ...meta, severity: 'DETAIL', text: r[14] });
    }
  }

  private pushJson(line: string): void {
    if (line.trim() === '') return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      this.unknown(line);
      return;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      this.unknown(line);
      return;
    }
    // Google Cloud Logging: the stderr line is the payload.
    if (typeof o.textPayload === 'string') {
      const t = typeof o.timestamp === 'string' ? Date.parse(o.timestamp) : Number.NaN;
      this.pushStderr(o.textPayload, Number.isNaN(t) ? null : t);
      return;
    }
    if (typeof o.message !== 'string' || typeof o.error_severity !== 'string') {
      this.unknown(line);
      return;
    }
    const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
    const meta = {
      timeMs: typeof o.timestamp === 'string' ? timeOf(o.timestamp) : null,
      user: text(o.user),
      database: text(o.dbname),
      pid: text(o.pid),
      application: text(o.application_name),
    };
    this.message({ ...meta, severity: o.error_severity, text: o.message });
    if (typeof o.detail === 'string') this.message({ ...meta, severity: 'DETAIL', text: o.detail });
  }

  private finish(): void {
    if (this.current) this.message(this.current);
    this.current = undefined;
  }

  private event(m: Meta, durationMs: number, statement: string, plan: string | null = null): QueryLogEvent {
    return {
      timeMs: m.timeMs,
      durationMs,
      statement: statement.trim().replace(/;\s*$/, ''),
      database: m.database,
      user: m.user,
      application: m.application,
      session: m.pid,
      rowsExamined: null,
      rowsSent: null,
      plan,
    };
  }

  /** Emits the event a backend holds (waiting for parameters). */
  private release(pid: string): void {
    const p = this.pending.get(pid);
    if (p?.event) {
      this.emit(p.event);
      p.event = undefined;
    }
  }

  private message(m: Message): void {
    const p = this.pending.get(m.pid) ?? {};
    this.pending.set(m.pid, p);
    if (m.severity === 'DETAIL') {
      const params = /^parameters: ([\s\S]*)$/.exec(m.text);
      if (params && p.event) {
        // `$1 = '1234', $2 = 'two\n\tlines'`: values are quoted with '' for a quote, and may span lines.
        const values = new Map<string, string>();
        for (const v of params[1]!.matchAll(/\$(\d+) = (NULL|'((?:[^']|'')*)')/g)) values.set(v[1]!, v[2]!);
        p.event.example = p.event.statement.replace(/\$(\d+)\b/g, (all, n: string) => values.get(n) ?? all);
      }
      this.release(m.pid);
      return;
    }
    this.release(m.pid);
    if (m.severity !== 'LOG') return;
    const d =
      /^duration: ([\d.]+) ms(?:\s+(statement|execute [^:]*|parse [^:]*|bind [^:]*|plan):\s*([\s\S]*))?$/.exec(
        m.text,
      );
    if (d) {
      const ms = Number(d[1]);
      // Not a duration PostgreSQL writes (a century or more): the line is not understood.
      if (!Number.isFinite(ms) || ms > 3.2e12) {
        this.unknown(`${m.severity}:  ${m.text.slice(0, 180)}`);
        return;
      }
      const kind = d[2];
      if (kind === undefined) {
        // log_duration after log_statement: pair with the statement this backend logged.
        if (p.statement !== undefined) {
          this.emit(this.event(m, ms, p.statement));
          p.statement = undefined;
        }
        return;
      }
      if (kind === 'plan') {
        const text = d[3] ?? '';
        const q =
          /Query Text: ([\s\S]*?)(?=\n\s*(?:[A-Z][\w ]*?\s+\(cost=|[A-Z][\w ]*? on |->|Result|Limit|Aggregate|Sort|Hash|Nested Loop|Seq Scan|Index)|$)/.exec(
            text,
          );
        if (q) this.emit(this.event(m, ms, q[1]!, text));
        else this.unknown(`plan without Query Text: ${text.slice(0, 100)}`);
        return;
      }
      if (kind === 'statement' || kind.startsWith('execute')) {
        // The same statement logged by log_statement just before is this one, not another.
        if (p.statement !== undefined && p.statement.trim() === (d[3] ?? '').trim()) p.statement = undefined;
        p.event = this.event(m, ms, d[3] ?? '');
        return;
      }
      return; // parse and bind steps: timed, but not executions
    }
    const s = /^(?:statement|execute [^:]*): ([\s\S]*)$/.exec(m.text);
    if (s) {
      this.unpaired(m, p);
      p.statement = s[1]!;
      p.statementMeta = m;
    }
  }

  /** A statement that no duration followed (log_statement alone) counts, with no time, as pgBadger does. */
  private unpaired(m: Meta, p: { statement?: string; statementMeta?: Meta }): void {
    if (p.statement === undefined) return;
    this.emit(this.event(p.statementMeta ?? m, 0, p.statement));
    p.statement = undefined;
  }

  /** Emits what is still held. */
  end(): void {
    if (this.csvBuffer) {
      const rest = this.csvBuffer;
      this.csvBuffer = '';
      this.unknown(rest);
    }
    this.finish();
    for (const [pid, p] of this.pending) {
      this.release(pid);
      if (p.statement !== undefined && p.statementMeta) this.unpaired(p.statementMeta, p);
    }
  }
}
