/**
 * PostgreSQL server logs into statements with durations, as pgBadger reads them:
 * - stderr with any `log_line_prefix`: given (`%m [%p] user=%u,db=%d `, compiled to a pattern; every escape
 *   PostgreSQL 17 documents), or, when not given, read from each line (the text before the severity; time,
 *   `[pid]`, `user=`, `db=`, `app=`, RDS's `:%u@%d:[%p]:` found in it). The severity may be followed by one
 *   space or more. Continuation lines start with a tab. Heroku logplex (2019 and 2021) frames `[n-m]` are
 *   reassembled into their message. Google Cloud Logging exports (one LogEntry JSON a line with the
 *   PostgreSQL line in `textPayload`) are read the same way. Times with a zone abbreviation or none are
 *   read in `logTimezone` when given (else UTC).
 * - csvlog (the 23–26 columns of PostgreSQL 12–17) and jsonlog (PostgreSQL 15+).
 * Messages are paired per backend (pid, else session id): `duration: … statement:` and
 * `duration: … execute <name>:` are events (parse and bind steps are timed apart and not counted, their time
 * is not in the execute's); a `statement:` followed by a bare `duration:` (log_statement with log_duration)
 * is one event, and one no duration follows is a call without a duration (never 0 ms);
 * `DETAIL:  parameters: $1 = '…'` fills the example of the execute before it; `duration: … plan:`
 * (auto_explain) is held until the same backend's `duration:` line of the same statement, which counts the
 * execution once with its own duration and takes the plan and its plan time (never added); a plan no such
 * line claims counts with its plan time, from its `Query Text:`.
 * Lines that belong to no message are counted as unknown, with examples.
 * @module
 */
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
/** The severity and the message; any run of spaces after the colon (PostgreSQL writes two, some platforms one). */
const SEVERITY_AND_TEXT = `(${SEVERITY}):[ \\t]+(.*)$`;
const LINE = new RegExp(`^(.*?)\\b${SEVERITY_AND_TEXT}`);
const TIME = /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: ?(UTC|GMT|Z|[+-]\d{2}(?::?\d{2})?))?/;
/**
 * Heroku logplex frames, 2019 (`2019-…+00:00 app[postgres.1234]: [DATABASE] [9-1] …`) and 2021
 * (`2021-…+00:00 d.<uuid> app[postgres.1234] [DATABASE] [9-1] …`): one frame a line, `[n-m]` the m-th line
 * of the n-th message.
 */
const LOGPLEX =
  /^(\d{4}-\d{2}-\d{2}T\S+)\s+(?:\S+\s+)?app\[postgres(?:\.(\d+))?\]:?\s+\[[A-Za-z0-9_]+\]\s+\[(\d+)-(\d+)\]\s?(.*)$/;

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
const zoneOffsets = new Map<string, number>();

/**
 * Checks an IANA time zone name (`Europe/Paris`).
 * @throws RangeError naming `logTimezone` when the zone is unknown.
 */
export function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new RangeError(
      `logTimezone: expected an IANA time zone such as Europe/Paris, got ${JSON.stringify(zone)}`,
    );
  }
}

/** The offset of `zone` from UTC at the instant `utcMs`, in ms (cached per zone and hour). */
function offsetAt(zone: string, utcMs: number): number {
  const key = `${zone}\u0000${Math.floor(utcMs / 3_600_000)}`;
  const cached = zoneOffsets.get(key);
  if (cached !== undefined) return cached;
  let f = zoneFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormats.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(utcMs)) p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  const offset = wall - Math.floor(utcMs / 1000) * 1000;
  if (zoneOffsets.size > 10_000) zoneOffsets.clear();
  zoneOffsets.set(key, offset);
  return offset;
}

/** A wall-clock time in `zone` (given as if it were UTC) as ms since the epoch. */
function wallToUtc(wallMs: number, zone: string): number {
  const first = wallMs - offsetAt(zone, wallMs);
  const second = offsetAt(zone, first);
  return wallMs - second;
}

/**
 * A time of a log line as ms since the epoch. An explicit offset, UTC or GMT is read as written; a time
 * with a zone abbreviation (CET, MSK) or none is read in `logTimezone` when given, else as UTC.
 */
function parseTime(text: string, logTimezone?: string): number | null {
  const m = TIME.exec(text);
  if (!m) return null;
  const named = m[3] === undefined;
  const zone =
    m[3] && /^[+-]/.test(m[3])
      ? m[3].length === 3
        ? `${m[3]}:00`
        : m[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')
      : 'Z';
  const v = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(v)) return null;
  return named && logTimezone ? wallToUtc(v, logTimezone) : v;
}

/** `YYYY-MM-DD HH:MM:SS` (or with `T`) at the start of a text: the digits and separators where they go. */
function startsWithDateTime(t: string): boolean {
  for (let i = 0; i < 19; i++) {
    const c = t.charCodeAt(i);
    if (i === 4 || i === 7) {
      if (c !== 45) return false;
    } else if (i === 10) {
      if (c !== 32 && c !== 84) return false;
    } else if (i === 13 || i === 16) {
      if (c !== 58) return false;
    } else if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The last minute read by {@link timeOf} (the last second with `logTimezone`, whose offsets may change
 * within a minute): its first characters, what follows the fraction (the zone), the zone setting, and
 * its ms. Log lines come in time order, many a minute.
 */
let lastTime = { head: '', tail: '', zone: undefined as string | undefined, ms: null as number | null };

/**
 * {@link parseTime} with the minute kept from the line before: a time that starts with
 * `YYYY-MM-DD HH:MM:SS` (hour ≤ 23, second ≤ 59) and has a short zone after its fraction is that
 * minute's ms plus its seconds and its fraction's first three digits (Date.parse truncates them); anything
 * else is parsed.
 */
function timeOf(text: string, logTimezone?: string): number | null {
  if (text.length < 19) return parseTime(text, logTimezone);
  let end = 19;
  if (text.charCodeAt(19) === 46) {
    end = 20;
    for (let c = text.charCodeAt(end); c >= 48 && c <= 57; c = text.charCodeAt(end)) end++;
    if (end === 20) return parseTime(text, logTimezone);
  }
  const tailLength = text.length - end;
  // A long tail (a whole prefix) changes from line to line; a `.` after the fraction is not a zone.
  if (tailLength > 8 || (end > 19 && text.charCodeAt(end) === 46)) return parseTime(text, logTimezone);
  const s1 = text.charCodeAt(17) - 48;
  const s2 = text.charCodeAt(18) - 48;
  if (text.charCodeAt(16) !== 58 || !(s1 >= 0 && s1 <= 5) || !(s2 >= 0 && s2 <= 9))
    return parseTime(text, logTimezone);
  const headLength = logTimezone ? 19 : 16;
  let ms: number | null;
  const last = lastTime;
  if (
    last.zone === logTimezone &&
    last.tail.length === tailLength &&
    last.head.length === headLength &&
    text.startsWith(last.head) &&
    text.endsWith(last.tail)
  )
    ms = last.ms;
  else {
    if (!startsWithDateTime(text) || text.slice(11, 13) > '23') return parseTime(text, logTimezone);
    const head = text.slice(0, headLength);
    const tail = text.slice(end);
    ms = parseTime(logTimezone ? head + tail : `${head}:00${tail}`, logTimezone);
    lastTime = { head, tail, zone: logTimezone, ms };
  }
  if (ms === null) return null;
  if (!logTimezone) ms += (s1 * 10 + s2) * 1000;
  if (end === 19) return ms;
  const digit = (i: number) => (i < end ? text.charCodeAt(i) - 48 : 0);
  return ms + digit(20) * 100 + digit(21) * 10 + digit(22);
}

/** Escapes whose values are free text: matched up to the literal text that follows them. */
const FREE_TEXT: Record<string, string> = {
  a: 'app',
  u: 'user',
  d: 'db',
  r: 'remote',
  h: 'host',
  L: 'local',
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
  c: '(?<session>[0-9a-f]+\\.[0-9a-f]+)',
  l: '(?<line>\\d+)',
  s: '(?<start>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?: [A-Za-z0-9+:-]+)?)',
  v: '(?<vxid>[\\d/]*)',
  x: '(?<xid>\\d+)',
  Q: '(?<queryid>-?\\d+)',
};

type PrefixToken =
  | { kind: 'literal'; text: string }
  | { kind: 'free'; escape: string }
  | { kind: 'fixed'; escape: string }
  | { kind: 'q' };

const escapeRe = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escapeClass = (c: string) => c.replace(/[\]\\^-]/g, '\\$&');

function tokens(prefix: string): PrefixToken[] {
  const out: PrefixToken[] = [];
  const literal = (t: string) => {
    const last = out[out.length - 1];
    if (last?.kind === 'literal') last.text += t;
    else out.push({ kind: 'literal', text: t });
  };
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix[i]!;
    if (c !== '%') {
      literal(c);
      continue;
    }
    const e = prefix[++i];
    if (e === '%') literal('%');
    else if (e === 'q') out.push({ kind: 'q' });
    else if (e !== undefined && e in FREE_TEXT) out.push({ kind: 'free', escape: e });
    else if (e !== undefined && e in PREFIX_ESCAPES) out.push({ kind: 'fixed', escape: e });
    else
      throw new RangeError(
        `prefix: unknown escape %${e ?? ''} (log_line_prefix escapes: %a %u %d %r %h %L %b %p %P %t %m %n %i %e %c %l %s %v %x %q %Q %%)`,
      );
  }
  return out;
}

/**
 * The pattern of a `log_line_prefix` (followed by the severity and the message). A free-text value (an
 * application, user or database name) runs to the literal text that follows it in the prefix, and may
 * contain that text's first character when what comes after is not the rest of the prefix: `app=%a `
 * reads an application named `a: b c` whole, `%u@%d:[%p]` a user named `svc@corp`. Values are matched
 * atomically and each separator's lookahead stops at the next separator, so matching stays linear.
 * After `%q`, the rest is optional (non-session processes stop there).
 * @throws RangeError naming the escape when the prefix has one PostgreSQL does not know.
 */
export function compilePrefix(prefix: string, o: { strict?: boolean } = {}): RegExp {
  const toks = tokens(prefix);
  const seen = new Set<string>();
  const group = (name: string, pattern: string) => {
    // A group name may appear once: later repeats of an escape match without capturing.
    const g = seen.has(name) ? `(?:${pattern})` : `(?<${name}>${pattern})`;
    seen.add(name);
    return g;
  };
  /** The next token that is not %q, from index i. */
  const after = (i: number) => {
    let j = i;
    while (toks[j]?.kind === 'q') j++;
    return j;
  };
  let re = '';
  let optional = 0;
  let atoms = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'literal') re += escapeRe(t.text);
    else if (t.kind === 'q') {
      re += '(?:';
      optional += 1;
    } else if (t.kind === 'fixed') {
      const part = PREFIX_ESCAPES[t.escape]!;
      const name = /\?<(\w+)>/.exec(part)![1]!;
      re += group(name, part.replace(`(?<${name}>`, '').replace(/\)$/, ''));
    } else {
      const name = FREE_TEXT[t.escape]!;
      const j = after(i + 1);
      const next = toks[j];
      if (next === undefined) {
        re += group(name, '\\S*');
        continue;
      }
      if (next.kind !== 'literal') {
        throw new RangeError(
          `prefix: %${t.escape} must be followed by a literal character to be read back (not by an escape)`,
        );
      }
      const sep = next.text[0]!;
      const rest = next.text.slice(1);
      const k = after(j + 1);
      const following = toks[k];
      let look: string;
      // Strict: the value stops at the first separator, which is the one the lookahead would choose
      // whenever the strict pattern matches at all (a faster first try; see the parser's header()).
      if (o.strict && (following === undefined || rest !== '' || following.kind === 'fixed')) look = '';
      else if (following === undefined) look = `${escapeRe(rest)}(?:${SEVERITY}):`;
      else if (rest !== '') look = escapeRe(rest);
      else if (following.kind === 'free' && toks[after(k + 1)]?.kind === 'literal') {
        // `%u@%d:[`: the separator is the one after which the next value runs to its own literal.
        const l2 = toks[after(k + 1)] as { text: string };
        const end = toks[after(after(k + 1) + 1)] === undefined ? `(?:${SEVERITY}):` : '';
        look = `[^${escapeClass(sep)}\\n]*${escapeRe(l2.text)}${end}`;
      } else if (following.kind === 'fixed') {
        const part = PREFIX_ESCAPES[following.escape]!;
        look = part.replace(/\(\?<\w+>/, '(?:');
      } else look = '';
      const cls = `[^${escapeClass(sep)}\\n]`;
      if (!look) {
        re += group(name, `${cls}*`);
        continue;
      }
      const body = `(?:${cls}|${escapeRe(sep)}(?!${look}))*`;
      // Atomic (a lookahead's capture, then a backreference): once read, a value is never given back
      // character by character, which would make a line that does not match quadratic.
      atoms += 1;
      re += group(name, `(?=(?<a${atoms}>${body}))\\k<a${atoms}>`);
    }
  }
  re += ')?'.repeat(optional);
  return new RegExp(`^${re}${SEVERITY_AND_TEXT}`);
}

/** A pattern with its named groups made plain, and the number of each name's group. */
interface NumberedPattern {
  re: RegExp;
  /** The group of each value the parser reads, -1 when the prefix has none. */
  groups: Record<'time' | 'epoch' | 'pid' | 'session' | 'user' | 'db' | 'app', number>;
}

/** Group `i` of a match, or undefined for -1. */
const at = (m: RegExpExecArray, i: number): string | undefined => (i < 0 ? undefined : m[i]);

/**
 * A prefix pattern without named groups (a match then builds no `groups` object, a tenth of a line's
 * reading): each `(?<name>` becomes `(` and each `\k<name>` a numbered backreference.
 */
function numbered(re: RegExp): NumberedPattern {
  const src = re.source;
  const names: Record<string, number> = {};
  let out = '';
  let count = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      if (!inClass && src.startsWith('\\k<', i)) {
        const close = src.indexOf('>', i);
        out += `(?:\\${names[src.slice(i + 3, close)]})`;
        i = close;
      } else {
        out += src.slice(i, i + 2);
        i++;
      }
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '(' && src[i + 1] !== '?') {
      count++;
      out += c;
    } else if (c === '(' && src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') {
      const close = src.indexOf('>', i);
      names[src.slice(i + 3, close)] = ++count;
      out += '(';
      i = close;
    } else out += c;
  }
  const n = (name: string) => names[name] ?? -1;
  const groups = {
    time: n('time'),
    epoch: n('epoch'),
    pid: n('pid'),
    session: n('session'),
    user: n('user'),
    db: n('db'),
    app: n('app'),
  };
  return { re: new RegExp(out, re.flags), groups };
}

/** What a backend holds between lines. */
interface Pending {
  /** A `statement:` (log_statement) waiting for its bare `duration:` (log_duration). */
  statement?: string | undefined;
  statementMeta?: Meta | undefined;
  /** An event waiting for its `DETAIL:  parameters:` line. */
  event?: QueryLogEvent | undefined;
  /** An auto_explain plan waiting for the `duration:` line of the same execution. */
  plan?: QueryLogEvent | undefined;
}

/** The statement of a `statement:`/`execute <name>:` (a name may hold `:` not followed by a space). */
const PHASE = '(?:execute|parse|bind)\\s+(?:[^:\\n]|:(?!\\s))*';
const DURATION = new RegExp(`^duration: ([\\d.]+) ms(?:\\s+(statement|${PHASE}|plan):\\s*([\\s\\S]*))?$`);
const STATEMENT = /^(?:statement|execute\s+(?:[^:\n]|:(?!\s))*):\s([\s\S]*)$/;
const sameText = (a: string, b: string) =>
  a.replace(/\s+/g, ' ').trim().replace(/;$/, '') === b.replace(/\s+/g, ' ').trim().replace(/;$/, '');

/**
 * The fields of one CSV record (RFC 4180: `"` quotes a field, `""` is a quote inside it, a quoted field may
 * hold commas and newlines), or null when the record is malformed. A loop over `indexOf`: csv-parse's
 * per-call set-up cost 25 µs a row, more than the rest of the reading.
 */
export function splitCsvRecord(text: string): string[] | null {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      let value = '';
      let start = i + 1;
      for (;;) {
        const q = text.indexOf('"', start);
        if (q === -1) return null;
        if (text.charCodeAt(q + 1) === 34) {
          value += text.slice(start, q + 1);
          start = q + 2;
          continue;
        }
        value += text.slice(start, q);
        i = q + 1;
        break;
      }
      out.push(value);
      if (i === n) return out;
      if (text.charCodeAt(i) !== 44) return null;
      i += 1;
    } else {
      const c = text.indexOf(',', i);
      if (c === -1) {
        out.push(text.slice(i));
        return out;
      }
      out.push(text.slice(i, c));
      i = c + 1;
    }
  }
}

/**
 * The fields of a csvlog record written on one line into `out` (its length set to their number), or -1
 * when the line is not a whole, well-formed record on its own: a quoted field left open (the record goes
 * on), a quote inside an unquoted field or after a closing one. Those go the slower way, which counts
 * quotes over lines. Where it answers, it answers what {@link splitCsvRecord} does.
 */
function readCsvLine(text: string, out: string[]): number {
  const n = text.length;
  let count = 0;
  let i = 0;
  // The next quote, or past the end (never a field's start).
  let quote = text.indexOf('"');
  if (quote === -1) quote = n + 1;
  for (;;) {
    if (i === quote) {
      let value = '';
      let start = i + 1;
      for (;;) {
        const q = text.indexOf('"', start);
        if (q === -1) return -1;
        if (text.charCodeAt(q + 1) === 34) {
          value += text.slice(start, q + 1);
          start = q + 2;
          continue;
        }
        value += text.slice(start, q);
        i = q + 1;
        break;
      }
      out[count++] = value;
      quote = text.indexOf('"', i);
      if (quote === -1) quote = n + 1;
      if (i === n) break;
      if (text.charCodeAt(i) !== 44) return -1;
      i += 1;
    } else {
      let c = text.indexOf(',', i);
      if (c === -1) c = n;
      if (quote < c) return -1;
      out[count++] = text.slice(i, c);
      if (c === n) break;
      i = c + 1;
    }
  }
  out.length = count;
  return count;
}

/** The jsonlog keys read: a string, a number, null for any other value, undefined when absent. */
const JSON_FIELDS = [
  'timestamp',
  'user',
  'dbname',
  'pid',
  'session_id',
  'error_severity',
  'message',
  'detail',
  'application_name',
  'textPayload',
] as const;
type JsonValue = string | number | null | undefined;
type JsonRow = Record<(typeof JSON_FIELDS)[number], JsonValue>;
const emptyJsonRow = (): JsonRow => ({
  timestamp: undefined,
  user: undefined,
  dbname: undefined,
  pid: undefined,
  session_id: undefined,
  error_severity: undefined,
  message: undefined,
  detail: undefined,
  application_name: undefined,
  textPayload: undefined,
});
/** A control character: JSON.parse refuses them in strings; such a line is left to it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f]/;

/** The end of the JSON number that starts at `i` (its grammar exactly), or -1. */
function jsonNumberEnd(t: string, i: number): number {
  let j = i;
  if (t.charCodeAt(j) === 45) j++;
  const digits = () => {
    const from = j;
    for (let c = t.charCodeAt(j); c >= 48 && c <= 57; c = t.charCodeAt(j)) j++;
    return j - from;
  };
  if (t.charCodeAt(j) === 48) j++;
  else if (digits() === 0) return -1;
  if (t.charCodeAt(j) === 46) {
    j++;
    if (digits() === 0) return -1;
  }
  const e = t.charCodeAt(j);
  if (e === 101 || e === 69) {
    j++;
    const sign = t.charCodeAt(j);
    if (sign === 43 || sign === 45) j++;
    if (digits() === 0) return -1;
  }
  return j;
}

/**
 * The fields of a jsonlog row (one flat JSON object) read into `row` without building the object, or
 * false when the line is anything else — a nested value, an escaped key, a control character, not JSON —
 * which JSON.parse then reads or refuses. Where it answers true, JSON.parse gives the same values.
 */
function readJsonLine(t: string, row: JsonRow): boolean {
  if (CONTROL.test(t)) return false;
  for (const k of JSON_FIELDS) row[k] = undefined;
  const n = t.length;
  let backslash = t.indexOf('\\');
  if (backslash === -1) backslash = n;
  let i = 0;
  while (t.charCodeAt(i) === 32) i++;
  if (t.charCodeAt(i) !== 123) return false;
  i++;
  while (t.charCodeAt(i) === 32) i++;
  if (t.charCodeAt(i) === 125) {
    i++;
    while (t.charCodeAt(i) === 32) i++;
    return i === n;
  }
  for (;;) {
    if (t.charCodeAt(i) !== 34) return false;
    const keyEnd = t.indexOf('"', i + 1);
    if (keyEnd === -1 || backslash < keyEnd) return false;
    const key = jsonKey(t, i + 1, keyEnd);
    i = keyEnd + 1;
    while (t.charCodeAt(i) === 32) i++;
    if (t.charCodeAt(i) !== 58) return false;
    i++;
    while (t.charCodeAt(i) === 32) i++;
    const c = t.charCodeAt(i);
    let value: JsonValue;
    if (c === 34) {
      let end = t.indexOf('"', i + 1);
      if (end === -1) return false;
      if (backslash < end) {
        // Escapes: find the closing quote past them, and let JSON.parse decode the string alone.
        end = i + 1;
        for (;;) {
          const d = t.charCodeAt(end);
          if (Number.isNaN(d)) return false;
          if (d === 92) end += 2;
          else if (d === 34) break;
          else end++;
        }
        if (key !== undefined) {
          try {
            value = JSON.parse(t.slice(i, end + 1)) as string;
          } catch {
            return false;
          }
        } else if (!validEscapes(t, i + 1, end)) return false;
        backslash = t.indexOf('\\', end + 1);
        if (backslash === -1) backslash = n;
      } else if (key !== undefined) value = t.slice(i + 1, end);
      i = end + 1;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const end = jsonNumberEnd(t, i);
      if (end === -1) return false;
      if (key !== undefined) value = Number(t.slice(i, end));
      i = end;
    } else if (t.startsWith('true', i) || t.startsWith('null', i)) {
      value = null;
      i += 4;
    } else if (t.startsWith('false', i)) {
      value = null;
      i += 5;
    } else return false;
    if (key !== undefined) row[key] = value;
    while (t.charCodeAt(i) === 32) i++;
    const sep = t.charCodeAt(i);
    i++;
    if (sep === 125) break;
    if (sep !== 44) return false;
    while (t.charCodeAt(i) === 32) i++;
  }
  while (t.charCodeAt(i) === 32) i++;
  return i === n;
}

/** Whether the escapes of a JSON string's text `t[from, to)` are all valid (`\n`, `\"`, `\u00e9`, …). */
function validEscapes(t: string, from: number, to: number): boolean {
  for (let i = t.indexOf('\\', from); i !== -1 && i < to; i = t.indexOf('\\', i)) {
    const e = t.charCodeAt(i + 1);
    if (e === 117) {
      if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) return false;
      i += 6;
    } else if (
      e === 34 ||
      e === 92 ||
      e === 47 ||
      e === 98 ||
      e === 102 ||
      e === 110 ||
      e === 114 ||
      e === 116
    )
      i += 2;
    else return false;
  }
  return true;
}

/** The jsonlog key read that `t[from, to)` is, or undefined (compared in place: no string is cut). */
function jsonKey(t: string, from: number, to: number): keyof JsonRow | undefined {
  let k: keyof JsonRow;
  switch (to - from) {
    case 3:
      k = 'pid';
      break;
    case 4:
      k = 'user';
      break;
    case 6:
      k = t.charCodeAt(from) === 100 && t.charCodeAt(from + 1) === 98 ? 'dbname' : 'detail';
      break;
    case 7:
      k = 'message';
      break;
    case 9:
      k = 'timestamp';
      break;
    case 10:
      k = 'session_id';
      break;
    case 11:
      k = 'textPayload';
      break;
    case 14:
      k = 'error_severity';
      break;
    case 16:
      k = 'application_name';
      break;
    default:
      return undefined;
  }
  return t.startsWith(k, from) ? k : undefined;
}

/** `key=value` or `key="value"` fields found in a prefix that was not given. */
const FIELDS: Record<string, RegExp> = Object.fromEntries(
  ['user', 'db', 'database', 'app', 'application_name', 'pid'].map((k) => [
    k,
    new RegExp(`\\b${k}=(?:"([^"]*)"|([^,\\s]*))`),
  ]),
);

/** A statement trimmed, without the `;` that ends it (what `.trim().replace(/;\s*$/, '')` gives). */
function withoutSemicolon(statement: string): string {
  const t = statement.trim();
  return t.charCodeAt(t.length - 1) === 59 ? t.slice(0, -1) : t;
}

/** A line-at-a-time PostgreSQL log parser: `push` each line, then `end`. */
export class PgLogParser {
  lines = 0;
  unknownLines = 0;
  readonly unknownExamples: string[] = [];
  private current: Message | undefined;
  private csvBuffer = '';
  private csvQuotes = 0;
  /** The fields of a jsonlog row, reused from row to row. */
  private readonly jsonRow = emptyJsonRow();
  /** The fields {@link readCsvLine} fills, reused from row to row. */
  private readonly csvFields: string[] = [];
  /** Heroku logplex messages being reassembled from their frames, per backend. */
  private readonly frames = new Map<string, { n: string; m: number; message: Message }>();
  /** Per backend: what waits for a later line. */
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: NumberedPattern | undefined;
  /** The prefix with values stopping at their first separator: tried first, as it is twice as fast. */
  private readonly strictPrefix: NumberedPattern | undefined;
  private readonly logTimezone: string | undefined;

  /** @throws RangeError when `prefix` has an unknown escape or `logTimezone` is not a time zone. */
  constructor(
    private readonly format: PgLogFormat,
    private readonly emit: (e: QueryLogEvent) => void,
    o: { prefix?: string | undefined; logTimezone?: string | undefined } = {},
  ) {
    this.prefix = o.prefix ? numbered(compilePrefix(o.prefix)) : undefined;
    this.strictPrefix = o.prefix ? numbered(compilePrefix(o.prefix, { strict: true })) : undefined;
    if (o.logTimezone) checkTimeZone(o.logTimezone);
    this.logTimezone = o.logTimezone || undefined;
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
    else if (line.includes('app[postgres')) this.pushLogplex(line);
    else this.pushStderr(line, null);
  }

  /** A Heroku frame: `[n-1]` starts message n of its backend, `[n-m]` adds its m-th line. */
  private pushLogplex(line: string): void {
    const f = LOGPLEX.exec(line);
    if (!f) {
      this.pushStderr(line, null);
      return;
    }
    const pid = f[2] ?? '';
    const n = f[3]!;
    const m = Number(f[4]);
    const text = f[5]!;
    const open = this.frames.get(pid);
    if (m > 1) {
      if (open && open.n === n && m === open.m + 1) {
        open.message.text += `\n${text.replace(/^\t/, '')}`;
        open.m = m;
      } else this.unknown(line);
      return;
    }
    if (open) this.message(open.message);
    this.frames.delete(pid);
    const parsed = this.header(text);
    if (!parsed) {
      if (text.trim() !== '') this.unknown(line);
      return;
    }
    if (parsed.timeMs === null) parsed.timeMs = timeOf(f[1]!);
    if (parsed.pid === '') parsed.pid = pid;
    this.frames.set(pid, { n, m, message: parsed });
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
      let p = this.strictPrefix!;
      let m = p.re.exec(line);
      if (!m) {
        p = this.prefix;
        m = p.re.exec(line);
        if (!m) return undefined;
      }
      const x = p.groups;
      const time = at(m, x.time);
      const epoch = at(m, x.epoch);
      const n = m.length;
      return {
        timeMs: time ? timeOf(time, this.logTimezone) : epoch ? Number(epoch) * 1000 : null,
        // Statements pair with their durations per backend: the pid, else the session id.
        pid: at(m, x.pid) || at(m, x.session) || '',
        user: at(m, x.user) ?? '',
        database: at(m, x.db) ?? '',
        application: at(m, x.app) ?? '',
        severity: m[n - 2]!,
        text: m[n - 1]!,
      };
    }
    const m = LINE.exec(line);
    if (!m) return undefined;
    const pre = m[1]!;
    const field = (k: string) => {
      if (!pre.includes(`${k}=`)) return '';
      const f = FIELDS[k]!.exec(pre);
      return f ? (f[1] ?? f[2] ?? '') : '';
    };
    // RDS: `%t:%h:%u@%d:[%p]:` (a user may hold `@`: the last one before the database separates them).
    const rds = pre.includes('@') ? /:([^:\s]*)@([^:\s@]*):\[(\d+)\]:?\s*$/.exec(pre) : null;
    return {
      timeMs: timeOf(pre, this.logTimezone),
      pid: rds?.[3] ?? /\[(\d+)(?:-\d+)?\]/.exec(pre)?.[1] ?? field('pid'),
      user: rds?.[1] ?? field('user'),
      database: rds?.[2] ?? (field('db') || field('database')),
      application: field('app') || field('application_name'),
      severity: m[2]!,
      text: m[3]!,
    };
  }

  private pushCsv(line: string): void {
    if (this.csvBuffer === '') {
      if (line === '') return;
      // A whole, well-formed record on one line (nearly all): its fields read in one pass.
      const r = readCsvLine(line, this.csvFields);
      if (r !== -1) {
        if (r < 14) this.unknown(line);
        else this.csvRecord(this.csvFields);
        return;
      }
    }
    this.csvBuffer = this.csvBuffer ? `${this.csvBuffer}\n${line}` : line;
    // A record is complete when its quotes balance (counted per line, not over the whole record again).
    for (let i = line.indexOf('"'); i !== -1; i = line.indexOf('"', i + 1)) this.csvQuotes += 1;
    if (this.csvQuotes % 2 === 1) return;
    const text = this.csvBuffer;
    this.csvBuffer = '';
    this.csvQuotes = 0;
    if (text === '') return;
    const r = splitCsvRecord(text);
    if (r === null || r.length < 14) {
      this.unknown(text);
      return;
    }
    this.csvRecord(r);
  }

  /** A csvlog record's message, and its detail as a message of its own. */
  private csvRecord(r: readonly string[]): void {
    // log_time, user, db, pid, connection_from, session_id, line, tag, start, vxid, xid, severity, sqlstate, message, detail, …, application_name (23rd)
    const timeMs = timeOf(r[0]!, this.logTimezone);
    const user = r[1] ?? '';
    const database = r[2] ?? '';
    const pid = r[3] || r[5] || '';
    const application = r[22] ?? '';
    this.message({ timeMs, user, database, pid, application, severity: r[11] ?? '', text: r[13] ?? '' });
    if (r[14]) this.message({ timeMs, user, database, pid, application, severity: 'DETAIL', text: r[14] });
  }

  private pushJson(line: string): void {
    if (line.trim() === '') return;
    const o = this.jsonRow;
    if (!readJsonLine(line, o)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        this.unknown(line);
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        this.unknown(line);
        return;
      }
      const v = parsed as Record<string, unknown>;
      const field = (x: unknown) =>
        typeof x === 'string' || typeof x === 'number' ? x : x === undefined ? x : null;
      for (const k of JSON_FIELDS) o[k] = field(v[k]);
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
    const text = (v: JsonValue) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
    const timeMs = typeof o.timestamp === 'string' ? timeOf(o.timestamp, this.logTimezone) : null;
    const user = text(o.user);
    const database = text(o.dbname);
    const pid = text(o.pid) || text(o.session_id);
    const application = text(o.application_name);
    this.message({ timeMs, user, database, pid, application, severity: o.error_severity, text: o.message });
    if (typeof o.detail === 'string')
      this.message({ timeMs, user, database, pid, application, severity: 'DETAIL', text: o.detail });
  }

  private finish(): void {
    if (this.current) this.message(this.current);
    this.current = undefined;
  }

  private event(
    m: Meta,
    durationMs: number | null,
    statement: string,
    plan: string | null = null,
  ): QueryLogEvent {
    return {
      timeMs: m.timeMs,
      durationMs,
      statement: withoutSemicolon(statement),
      database: m.database,
      user: m.user,
      application: m.application,
      session: m.pid,
      rowsExamined: null,
      rowsSent: null,
      plan,
    };
  }

  /** Emits the event a backend holds (waiting for parameters), and a plan no duration line claimed. */
  private release(pid: string, keepPlan = false): void {
    const p = this.pending.get(pid);
    if (!p) return;
    if (p.event) {
      this.emit(p.event);
      p.event = undefined;
    }
    if (p.plan && !keepPlan) {
      this.emit(p.plan);
      p.plan = undefined;
    }
  }

  /** Gives an event the plan auto_explain logged for the same execution (its time kept apart). */
  private claimPlan(p: Pending, e: QueryLogEvent): void {
    if (p.plan && sameText(p.plan.statement, e.statement)) {
      e.plan = p.plan.plan;
      e.planMs = p.plan.durationMs ?? undefined;
      p.plan = undefined;
    }
  }

  private message(m: Message): void {
    let p = this.pending.get(m.pid);
    if (!p) {
      p = {};
      this.pending.set(m.pid, p);
    }
    if (m.severity === 'DETAIL') {
      const params = /^parameters: ([\s\S]*)$/.exec(m.text);
      if (params && p.event) {
        // `$1 = '1234', $2 = 'two\n\tlines'`: values are quoted with '' for a quote, and may span lines.
        const values = new Map<string, string>();
        for (const v of params[1]!.matchAll(/\$(\d+) = (NULL|'((?:[^']|'')*)')/g)) values.set(v[1]!, v[2]!);
        p.event.example = p.event.statement.replace(/\$(\d+)\b/g, (all, n: string) => values.get(n) ?? all);
      }
      if (p.event) {
        this.emit(p.event);
        p.event = undefined;
      }
      return;
    }
    if (m.severity !== 'LOG') {
      this.release(m.pid);
      return;
    }
    const d = DURATION.exec(m.text);
    if (d) {
      const ms = Number(d[1]);
      // Not a duration PostgreSQL writes (a century or more): the line is not understood.
      if (!Number.isFinite(ms) || ms > 3.2e12) {
        this.release(m.pid);
        this.unknown(`${m.severity}:  ${m.text.slice(0, 180)}`);
        return;
      }
      const kind = d[2];
      if (kind === 'plan') {
        const text = d[3] ?? '';
        const q =
          /Query Text: ([\s\S]*?)(?=\n\s*(?:[A-Z][\w ]*?\s+\(cost=|[A-Z][\w ]*? on |->|Result|Limit|Aggregate|Sort|Hash|Nested Loop|Seq Scan|Index)|$)/.exec(
            text,
          );
        this.release(m.pid);
        if (!q) {
          this.unknown(`plan without Query Text: ${text.slice(0, 100)}`);
          return;
        }
        // auto_explain logs at the executor's end, before log_min_duration_statement's line of the same
        // execution: held until that line, which keeps its own duration and takes the plan.
        const plan = this.event(m, ms, q[1]!, text);
        plan.planMs = ms;
        p.plan = plan;
        return;
      }
      this.release(m.pid, true);
      if (kind === undefined) {
        // log_duration after log_statement: pair with the statement this backend logged.
        if (p.statement !== undefined) {
          const e = this.event(p.statementMeta ?? m, ms, p.statement);
          this.claimPlan(p, e);
          this.emit(e);
          p.statement = undefined;
        }
        this.release(m.pid);
        return;
      }
      if (kind === 'statement' || kind.startsWith('execute')) {
        // The same statement logged by log_statement just before is this one, not another.
        if (p.statement !== undefined && sameText(p.statement, d[3] ?? '')) p.statement = undefined;
        const e = this.event(m, ms, d[3] ?? '');
        this.claimPlan(p, e);
        this.release(m.pid);
        p.event = e;
        return;
      }
      this.release(m.pid);
      return; // parse and bind steps: timed apart, not executions (their time is not in the execute's)
    }
    this.release(m.pid);
    const s = STATEMENT.exec(m.text);
    if (s) {
      this.unpaired(m, p);
      p.statement = s[1]!;
      p.statementMeta = m;
    }
  }

  /** A statement that no duration followed (log_statement alone): a call with no duration, not 0 ms. */
  private unpaired(m: Meta, p: Pending): void {
    if (p.statement === undefined) return;
    this.emit(this.event(p.statementMeta ?? m, null, p.statement));
    p.statement = undefined;
  }

  /** Emits what is still held. */
  end(): void {
    if (this.csvBuffer) {
      const rest = this.csvBuffer;
      this.csvBuffer = '';
      this.csvQuotes = 0;
      this.unknown(rest);
    }
    this.finish();
    for (const f of this.frames.values()) this.message(f.message);
    this.frames.clear();
    for (const [pid, p] of this.pending) {
      this.release(pid);
      if (p.statement !== undefined && p.statementMeta) this.unpaired(p.statementMeta, p);
    }
  }
}
