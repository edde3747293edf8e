/**
 * A digest of a database log: per statement fingerprint, the figures pt-query-digest and pgBadger report.
 * Made by the log reader (`ingest/logs/`), kept and explained by the database advisor (`db/`): the type
 * lives here so that neither imports the other.
 * @module
 */

/** One fingerprint's figures. Durations in ms. */
export interface QueryDigest {
  fingerprint: string;
  /** The normalised statement. */
  statement: string;
  /** The slowest statement as logged. */
  example: string;
  count: number;
  totalMs: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  p95Ms: number;
  /** Standard deviation of the durations (population), ms. */
  stddevMs: number;
  /** Sum of rows examined, or null when the log does not say. */
  rowsExamined: number | null;
  databases: Record<string, number>;
  users: Record<string, number>;
  applications: Record<string, number>;
  firstSeen: string | null;
  lastSeen: string | null;
  /** An auto_explain plan of the slowest logged call, when the log has one. */
  plan: string | null;
}

/** What a log import answers. */
export interface LogDigest {
  format: string;
  lines: number;
  unknownLines: number;
  /** A few of the lines that could not be read, so nothing is dropped silently. */
  unknownExamples: string[];
  events: number;
  /** Events outside `since`/`until`. */
  filteredOut: number;
  queries: QueryDigest[];
}
