/**
 * The `vitals` table of the DuckDB store: appends web-vitals events and answers per (page, metric)
 * aggregates over the latest value of each metric id — count, p75 (`quantile_cont`, type 7), good / needs-improvement / poor counts, and means of
 * attribution fields — for the top pages and for all pages together (GROUPING SETS).
 * @module
 */
import type { DuckDBAppender, DuckDBValue } from '@duckdb/node-api';
import { VITALS_METRICS, type VitalsEvent, type VitalsMetric } from '../../model/index.ts';
import type { VitalsAggregate, VitalsQuery } from '../store.ts';

/** Appends one event's columns to an appender of `vitals` (the caller ends the row and commits). */
export function appendVitalsRow(appender: DuckDBAppender, e: VitalsEvent): void {
  appender.appendBigInt(e.timeUnixNano);
  appender.appendVarchar(e.service);
  appender.appendVarchar(e.page);
  appender.appendVarchar(e.name);
  appender.appendDouble(e.value);
  appender.appendDouble(e.delta);
  appender.appendVarchar(e.id);
  appender.appendVarchar(e.navigationType);
  appender.appendVarchar(JSON.stringify(e.attribution));
}

const FIELD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Largest attribution time averaged, ms (one hour, the beacon's own limit for timings). */
const VITALS_LIMITS_MAX_MS = 3_600_000;

/** The SQL and parameters of {@link VitalsQuery}; attribution field names are checked, then inlined. */
export function vitalsAggregatesSql(q: VitalsQuery): { sql: string; params: DuckDBValue[] } {
  const params: DuckDBValue[] = [q.window.fromNs, q.window.toNs];
  let filter = 'time_ns >= $1 AND time_ns < $2';
  if (q.service !== undefined) {
    params.push(q.service);
    filter += ` AND service = $${params.length}`;
  }
  if (q.page !== undefined) {
    params.push(q.page);
    filter += ` AND page = $${params.length}`;
  }
  params.push(q.maxPages);
  const limit = `$${params.length}`;
  const thresholds = VITALS_METRICS.map((m) => {
    const [good, poor] = q.thresholds[m];
    params.push(m, good, poor);
    const n = params.length;
    return `($${n - 2}, $${n - 1}::DOUBLE, $${n}::DOUBLE)`;
  }).join(', ');
  const fields = [...new Set(Object.values(q.attributionFields).flat())];
  for (const f of fields)
    if (!FIELD.test(f)) throw new RangeError(`attribution field ${JSON.stringify(f)} is not a plain name`);
  const means = fields
    // Only JSON numbers from 0 to one hour count: strings, negatives and huge values are left out.
    .map(
      (f) => `avg(CASE WHEN json_type(attribution_json, '$.${f}') IN ('DOUBLE', 'UBIGINT', 'BIGINT')
         AND CAST(json_extract(attribution_json, '$.${f}') AS DOUBLE) BETWEEN 0 AND ${VITALS_LIMITS_MAX_MS}
         THEN CAST(json_extract(attribution_json, '$.${f}') AS DOUBLE) END) AS "attr_${f}"`,
    )
    .join(',\n       ');
  const cols = (page: string): string => `${page} AS page, name, count(*) AS n,
       quantile_cont(value, 0.75) AS p75,
       count(*) FILTER (WHERE value <= t.good) AS good,
       count(*) FILTER (WHERE value > t.good AND value <= t.poor) AS ni,
       count(*) FILTER (WHERE value > t.poor) AS poor${means ? `,\n       ${means}` : ''}`;
  // A page that reports every change (web-vitals `reportAllChanges`) sends one metric id several times:
  // only its latest value counts.
  const sql = `WITH w AS (SELECT * FROM vitals WHERE ${filter}
       QUALIFY row_number() OVER (PARTITION BY service, page, name, id ORDER BY time_ns DESC, value DESC) = 1),
     top AS (SELECT page FROM w GROUP BY page ORDER BY count(*) DESC, page LIMIT ${limit}),
     t(name, good, poor) AS (VALUES ${thresholds})
     SELECT * FROM (
       SELECT ${cols('NULL')} FROM w JOIN t USING (name) GROUP BY name
       UNION ALL
       SELECT ${cols('page')} FROM w JOIN t USING (name) WHERE page IN (SELECT page FROM top) GROUP BY page, name)
     ORDER BY page NULLS FIRST, name`;
  return { sql, params };
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : ((v ?? 0) as number));

/** Turns the rows of {@link vitalsAggregatesSql} into aggregates. */
export function vitalsAggregatesFrom(rows: readonly Row[], q: VitalsQuery): VitalsAggregate[] {
  const out: VitalsAggregate[] = [];
  for (const r of rows) {
    const page = r.page === null || r.page === undefined ? null : String(r.page);
    const metric = String(r.name) as VitalsMetric;
    const attributionMeans: Record<string, number> = {};
    for (const f of q.attributionFields[metric] ?? []) {
      const v = r[`attr_${f}`];
      if (v !== null && v !== undefined) attributionMeans[f] = num(v);
    }
    out.push({
      page,
      metric,
      count: num(r.n),
      p75: num(r.p75),
      good: num(r.good),
      needsImprovement: num(r.ni),
      poor: num(r.poor),
      attributionMeans,
    });
  }
  return out;
}
