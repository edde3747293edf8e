/**
 * Per-fingerprint digests of logged statements, as pt-query-digest and pgBadger report them: count, total,
 * min, max, mean and p95 of the durations (p95 exact, nearest rank over the sorted durations), rows
 * examined, and the databases, users and applications that ran it, with the slowest statement as the
 * example. Statements are grouped by the fingerprints of `sql-fingerprint.ts` (PostgreSQL's parser for
 * PostgreSQL logs, pt-query-digest's rules for MySQL).
 * @module
 */
import type { LogDigest, QueryDigest, QueryLogEvent } from '../../model/index.ts';
import { normaliseStatement } from '../sql-fingerprint.ts';
import { tablesOf } from './tables.ts';

/** One fingerprint's figures, with what the log reader adds to the stored digest's. */
export interface LogQueryDigest extends QueryDigest {
  /** Calls logged without a duration (log_statement alone): in `count`, not in the time figures. */
  untimed: number;
  /** The duration auto_explain logged with `plan` (a plan time, never added to `totalMs`), or null. */
  planMs: number | null;
  /** The tables the statement names (pt-query-digest's distill). */
  tables: string[];
}

/** What a log import answers. */
export interface LogImportDigest extends LogDigest {
  /** Events that carry no time (kept even with since/until, which cannot place them). */
  noTime: number;
  /** What the reader decided that a reader of the figures should know (said once each). */
  notes: string[];
  queries: LogQueryDigest[];
}

export type { LogDigest, QueryDigest };

interface Acc {
  fingerprint: string;
  statement: string;
  /** The durations so far: the first `n` of a buffer that doubles when full. */
  durations: Float64Array;
  n: number;
  total: number;
  max: number;
  example: string;
  plan: string | null;
  planMs: number | null;
  untimed: number;
  tables: string[];
  rows: number | null;
  databases: Map<string, number>;
  users: Map<string, number>;
  applications: Map<string, number>;
  first: number | null;
  last: number | null;
}

/** A value in a list: a quoted string, a number, NULL or a hex literal. */
const VALUE = "(?:'(?:[^'\\\\]|\\\\.|'')*'|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|NULL|0x[0-9a-fA-F]+)";
const VALUE_LIST = new RegExp(`\\(\\s*(${VALUE})\\s*,\\s*(${VALUE})(?:\\s*,\\s*${VALUE})*\\s*\\)`, 'g');
const TUPLES = /(\([^()]*\))(?:\s*,\s*\([^()]*\))+/g;
/** Statements past this many characters are normalised on a part only (sql-fingerprint.ts). */
const LONG = 16_384;

/**
 * A long MySQL statement with its value lists cut to two values and its row lists to one row, so that
 * `IN (…5,000 ids…)` gets the fingerprint of `IN (1, 2)`, as pt-query-digest folds lists of any length.
 */
function foldLists(statement: string): string {
  return statement.replace(VALUE_LIST, '($1, $2)').replace(TUPLES, '$1');
}

/** Distinct statement texts remembered with their digest, and the characters they may hold in all. */
const MAX_TEXTS = 20_000;
const MAX_TEXT_CHARS = 8_000_000;
/** Texts longer than this are normalised each time (as `sql-fingerprint.ts` memoises none longer). */
const MAX_TEXT = 2048;

/**
 * A copy of a text that holds none of the string it was cut from: a line is a slice of a 64 KiB chunk,
 * which a map key would keep alive (slicing a joined string slices its flat copy).
 */
const ownCopy = (s: string): string => (s.length < 13 ? s : ` ${s}`.slice(1));

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Durations sorted in place, ascending: an LSD radix sort on their bits (4 passes of 16 bits; the bits of
 * doubles ≥ +0 are in their order), twice as fast as the built-in sort on a million; the built-in sort
 * for few, or when one is negative, -0 or NaN.
 */
function sortDurations(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < 1024 || !LITTLE_ENDIAN) return a.sort();
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (!(v > 0) && !(v === 0 && 1 / v > 0)) return a.sort();
  }
  const other = new Float64Array(n);
  const count = new Uint32Array(65536);
  let from: Float64Array = a;
  let to: Float64Array = other;
  for (let pass = 0; pass < 4; pass++) {
    // Little-endian words: the low 32 bits first.
    const bits = new Uint32Array(from.buffer, from.byteOffset, n * 2);
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(bits[2 * i + word]! >>> shift) & 0xffff]! += 1;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) to[count[(bits[2 * i + word]! >>> shift) & 0xffff]!++] = from[i]!;
    const x = from;
    from = to;
    to = x;
  }
  return a; // after an even number of passes
}

const bump = (m: Map<string, number>, k: string) => {
  if (k) m.set(k, (m.get(k) ?? 0) + 1);
};

/** Accumulates events into digests. */
export class DigestBuilder {
  events = 0;
  filteredOut = 0;
  noTime = 0;
  untimed = 0;
  private readonly by = new Map<string, Acc>();
  /** The digest of each statement text seen (short ones, up to a limit): one lookup instead of normalising. */
  private readonly byText = new Map<string, Acc>();
  private textChars = 0;

  constructor(
    private readonly system: 'postgresql' | 'mysql',
    private readonly window: { sinceMs?: number | undefined; untilMs?: number | undefined } = {},
  ) {}

  /** Adds one event (dropped, and counted, when outside the window). */
  add(e: QueryLogEvent): void {
    const { sinceMs, untilMs } = this.window;
    if (e.timeMs === null) this.noTime += 1;
    if (
      e.timeMs !== null &&
      ((sinceMs !== undefined && e.timeMs < sinceMs) || (untilMs !== undefined && e.timeMs >= untilMs))
    ) {
      this.filteredOut += 1;
      return;
    }
    this.events += 1;
    const text = e.statement;
    const known = text.length <= MAX_TEXT;
    let a = known ? this.byText.get(text) : undefined;
    if (!a) {
      a = this.digestOf(e);
      if (known && this.byText.size < MAX_TEXTS && this.textChars + text.length <= MAX_TEXT_CHARS) {
        this.byText.set(ownCopy(text), a);
        this.textChars += text.length;
      }
    }
    if (e.durationMs === null) {
      a.untimed += 1;
      this.untimed += 1;
    } else {
      if (a.n === a.durations.length) {
        const grown = new Float64Array(a.durations.length * 2);
        grown.set(a.durations);
        a.durations = grown;
      }
      a.durations[a.n++] = e.durationMs;
      a.total += e.durationMs;
      if (e.durationMs > a.max) {
        a.max = e.durationMs;
        a.example = e.example ?? e.statement;
        if (e.plan) {
          a.plan = e.plan;
          a.planMs = e.planMs ?? null;
        }
      }
    }
    if (e.rowsExamined !== null) a.rows = (a.rows ?? 0) + e.rowsExamined;
    bump(a.databases, e.database);
    bump(a.users, e.user);
    bump(a.applications, e.application);
    if (e.timeMs !== null) {
      a.first = a.first === null ? e.timeMs : Math.min(a.first, e.timeMs);
      a.last = a.last === null ? e.timeMs : Math.max(a.last, e.timeMs);
    }
  }

  /** The digest of an event's fingerprint, made when it is the first. */
  private digestOf(e: QueryLogEvent): Acc {
    const n = normaliseStatement(
      this.system,
      this.system === 'mysql' && e.statement.length > LONG ? foldLists(e.statement) : e.statement,
    );
    let a = this.by.get(n.fingerprint);
    if (!a) {
      a = {
        fingerprint: n.fingerprint,
        statement: n.statement,
        durations: new Float64Array(16),
        n: 0,
        total: 0,
        max: -1,
        example: e.example ?? e.statement,
        plan: null,
        planMs: null,
        untimed: 0,
        tables: tablesOf(e.statement),
        rows: null,
        databases: new Map(),
        users: new Map(),
        applications: new Map(),
        first: null,
        last: null,
      };
      this.by.set(n.fingerprint, a);
    }
    return a;
  }

  /** The digests, by total time, largest first. */
  result(
    format: string,
    parser: { lines: number; unknownLines: number; unknownExamples: string[]; notes?: () => string[] },
  ): LogImportDigest {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    // Very long statements are cut in the answer (the fingerprint covers the whole text).
    const cut = (t: string) => (t.length > 10_000 ? `${t.slice(0, 10_000)}… (${t.length} characters)` : t);
    const queries = [...this.by.values()].map((a): LogQueryDigest => {
      // Time figures over the calls with a duration (0 when none has one: `untimed` says so).
      const sorted = sortDurations(a.durations.subarray(0, a.n));
      const n = a.n;
      const p95 = n ? sorted[Math.max(0, Math.ceil(0.95 * n) - 1)]! : 0;
      const mean = n ? a.total / n : 0;
      let sq = 0;
      for (const v of sorted) sq += (v - mean) ** 2;
      return {
        fingerprint: a.fingerprint,
        statement: cut(a.statement),
        example: cut(a.example),
        count: n + a.untimed,
        untimed: a.untimed,
        totalMs: a.total,
        minMs: n ? sorted[0]! : 0,
        maxMs: n ? sorted[n - 1]! : 0,
        meanMs: mean,
        p95Ms: p95,
        stddevMs: n ? Math.sqrt(sq / n) : 0,
        rowsExamined: a.rows,
        databases: Object.fromEntries(a.databases),
        users: Object.fromEntries(a.users),
        applications: Object.fromEntries(a.applications),
        firstSeen: iso(a.first),
        lastSeen: iso(a.last),
        plan: a.plan,
        planMs: a.planMs,
        tables: a.tables,
      };
    });
    queries.sort((x, y) => y.totalMs - x.totalMs || y.count - x.count);
    const notes = [...(parser.notes?.() ?? [])];
    if (this.untimed > 0)
      notes.push(
        `${this.untimed} statements were logged without a duration (log_statement without log_duration): counted as calls, left out of the time figures`,
      );
    const { sinceMs, untilMs } = this.window;
    if (this.noTime > 0 && (sinceMs !== undefined || untilMs !== undefined))
      notes.push(`${this.noTime} events carry no time: kept, since/until cannot place them`);
    return {
      noTime: this.noTime,
      notes,
      format,
      lines: parser.lines,
      unknownLines: parser.unknownLines,
      unknownExamples: parser.unknownExamples,
      events: this.events,
      filteredOut: this.filteredOut,
      queries,
    };
  }
}
