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

export type { LogDigest, QueryDigest };

interface Acc {
  fingerprint: string;
  statement: string;
  durations: number[];
  total: number;
  max: number;
  example: string;
  plan: string | null;
  rows: number | null;
  databases: Map<string, number>;
  users: Map<string, number>;
  applications: Map<string, number>;
  first: number | null;
  last: number | null;
}

const bump = (m: Map<string, number>, k: string) => {
  if (k) m.set(k, (m.get(k) ?? 0) + 1);
};

/** Accumulates events into digests. */
export class DigestBuilder {
  events = 0;
  filteredOut = 0;
  private readonly by = new Map<string, Acc>();

  constructor(
    private readonly system: 'postgresql' | 'mysql',
    private readonly window: { sinceMs?: number | undefined; untilMs?: number | undefined } = {},
  ) {}

  /** Adds one event (dropped, and counted, when outside the window). */
  add(e: QueryLogEvent): void {
    const { sinceMs, untilMs } = this.window;
    if (
      e.timeMs !== null &&
      ((sinceMs !== undefined && e.timeMs < sinceMs) || (untilMs !== undefined && e.timeMs >= untilMs))
    ) {
      this.filteredOut += 1;
      return;
    }
    this.events += 1;
    const n = normaliseStatement(this.system, e.statement);
    let a = this.by.get(n.fingerprint);
    if (!a) {
      a = {
        fingerprint: n.fingerprint,
        statement: n.statement,
        durations: [],
        total: 0,
        max: -1,
        example: e.example ?? e.statement,
        plan: null,
        rows: null,
        databases: new Map(),
        users: new Map(),
        applications: new Map(),
        first: null,
        last: null,
      };
      this.by.set(n.fingerprint, a);
    }
    a.durations.push(e.durationMs);
    a.total += e.durationMs;
    if (e.durationMs > a.max) {
      a.max = e.durationMs;
      a.example = e.example ?? e.statement;
      if (e.plan) a.plan = e.plan;
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

  /** The digests, by total time, largest first. */
  result(
    format: string,
    parser: { lines: number; unknownLines: number; unknownExamples: string[] },
  ): LogDigest {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    // Very long statements are cut in the answer (the fingerprint covers the whole text).
    const cut = (t: string) => (t.length > 10_000 ? `${t.slice(0, 10_000)}… (${t.length} characters)` : t);
    const queries = [...this.by.values()].map((a): QueryDigest => {
      const sorted = Float64Array.from(a.durations).sort();
      const p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
      const mean = a.total / sorted.length;
      let sq = 0;
      for (const v of sorted) sq += (v - mean) ** 2;
      return {
        fingerprint: a.fingerprint,
        statement: cut(a.statement),
        example: cut(a.example),
        count: sorted.length,
        totalMs: a.total,
        minMs: sorted[0]!,
        maxMs: sorted[sorted.length - 1]!,
        meanMs: a.total / sorted.length,
        p95Ms: p95,
        stddevMs: Math.sqrt(sq / sorted.length),
        rowsExamined: a.rows,
        databases: Object.fromEntries(a.databases),
        users: Object.fromEntries(a.users),
        applications: Object.fromEntries(a.applications),
        firstSeen: iso(a.first),
        lastSeen: iso(a.last),
        plan: a.plan,
      };
    });
    queries.sort((x, y) => y.totalMs - x.totalMs);
    return {
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
