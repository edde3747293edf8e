/**
 * Retention of the DuckDB store: deletes the rows older than the policy, each table by the time it was
 * written on this server (`ingest_ns` of spans and metric points, `written_ns` of rollup rows, `time_ns` of
 * web-vitals events, which is their receive time), then the resources no span refers to any more.
 * A row is deleted when its time is strictly before `nowNs − keep`.
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RetentionPolicy } from '../store.ts';
import { DB_ROLLUP, ENDPOINT_ROLLUP, TIERS, tierTable } from './rollup-tables.ts';
import { num } from './row-mapping.ts';

/**
 * Deletes what is older than the policy, on the writer connection (the caller serialises writes).
 * @returns rows deleted per table, and the ids of the resources left when orphaned resources were deleted.
 */
export async function applyRetention(
  writer: DuckDBConnection,
  policy: RetentionPolicy,
  nowNs: bigint,
): Promise<{ deleted: Record<string, number>; resourcesLeft: number[] | undefined }> {
  const deleted: Record<string, number> = {};
  const plan: [string, string, bigint][] = [
    ['spans', 'ingest_ns', policy.rawSpansNs],
    ...[ENDPOINT_ROLLUP, DB_ROLLUP].flatMap((spec): [string, string, bigint][] => [
      [spec.minuteTable, 'written_ns', policy.rollupsNs],
      ...TIERS.map((t): [string, string, bigint] => [tierTable(spec, t), 'written_ns', policy.rollupsNs]),
    ]),
    ['metric_points', 'ingest_ns', policy.metricPointsNs],
    ['vitals', 'time_ns', policy.metricPointsNs],
  ];
  for (const [table, column, keep] of plan) {
    const r = await writer.run(`DELETE FROM ${table} WHERE ${column} < $1`, [nowNs - keep]);
    deleted[table] = r.rowsChanged;
  }
  const orphans = await writer.run(
    'DELETE FROM resources WHERE resource_id NOT IN (SELECT DISTINCT resource_id FROM spans)',
  );
  deleted.resources = orphans.rowsChanged;
  if (orphans.rowsChanged === 0) return { deleted, resourcesLeft: undefined };
  const left = (await writer.runAndReadAll('SELECT DISTINCT resource_id FROM resources')).getRows();
  return { deleted, resourcesLeft: left.map(([id]) => num(id)) };
}
