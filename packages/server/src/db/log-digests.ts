/**
 * The log digests uploaded to the server (the last 20), so the advisor explains the statements that
 * cost the most time in the logs as well as in the traces.
 * @module
 */
import type { LogDigest, QueryDigest } from '../model/index.ts';

/** A kept upload. */
export interface StoredDigest {
  id: number;
  receivedAt: string;
  digest: LogDigest;
}

/** The last uploads, newest last. */
export class LogDigests {
  private readonly items: StoredDigest[] = [];
  private next = 1;

  constructor(private readonly keep = 20) {}

  add(digest: LogDigest): StoredDigest {
    const item = { id: this.next++, receivedAt: new Date().toISOString(), digest };
    this.items.push(item);
    if (this.items.length > this.keep) this.items.shift();
    return item;
  }

  list(): StoredDigest[] {
    return [...this.items];
  }

  /**
   * The logged statements of one database family, merged by fingerprint across uploads, with calls per
   * hour over the span of the log (at least an hour).
   */
  statements(system: 'postgresql' | 'mysql'): (QueryDigest & { callsPerHour: number })[] {
    const byFp = new Map<string, QueryDigest & { callsPerHour: number }>();
    for (const { digest } of this.items) {
      if ((digest.format === 'mysql-slow') !== (system === 'mysql')) continue;
      for (const q of digest.queries) {
        const first = q.firstSeen ? Date.parse(q.firstSeen) : Number.NaN;
        const last = q.lastSeen ? Date.parse(q.lastSeen) : Number.NaN;
        const hours = Number.isNaN(first) || Number.isNaN(last) ? 1 : Math.max(1, (last - first) / 3_600_000);
        const prev = byFp.get(q.fingerprint);
        byFp.set(
          q.fingerprint,
          prev
            ? {
                ...prev,
                count: prev.count + q.count,
                totalMs: prev.totalMs + q.totalMs,
                callsPerHour: prev.callsPerHour + q.count / hours,
              }
            : { ...q, callsPerHour: q.count / hours },
        );
      }
    }
    return [...byFp.values()].sort((a, b) => b.totalMs - a.totalMs);
  }
}
