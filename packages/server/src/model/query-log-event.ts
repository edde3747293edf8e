/**
 * One statement read from a database server's log (PostgreSQL stderr/csv/json logs, MySQL/MariaDB/Percona
 * slow logs). Durations in ms; `timeMs` in ms since the epoch, or null when the line carries no time.
 * @module
 */
export interface QueryLogEvent {
  timeMs: number | null;
  /** null: logged without a duration (log_statement alone), a call with no time rather than a 0 ms one. */
  durationMs: number | null;
  /** The statement as logged (parameters of an extended-protocol execute substituted in `example` only). */
  statement: string;
  database: string;
  user: string;
  /** `application_name` (PostgreSQL) or the client host (MySQL). */
  application: string;
  /** Backend pid (PostgreSQL) or thread id (MySQL), `''` when unknown. */
  session: string;
  rowsExamined: number | null;
  rowsSent: number | null;
  /** An auto_explain plan logged with the statement. */
  plan: string | null;
  /** The duration auto_explain logged with `plan` (a plan time: never added to `durationMs`). */
  planMs?: number | undefined;
  /** The statement with its bind parameters in place (extended protocol), for display. */
  example?: string | undefined;
}
