/**
 * Metric queries of the DuckDB store: the reads of `MetricReader` over `metric_points` (points, names,
 * per-bucket averages, sampler and Collector hosts). Windows are half-open `[fromNs, toNs)` on a point's time.
 * @module
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { MetricPoint } from '../../model/index.ts';
import type { MetricQuery, TimeWindow } from '../store.ts';
import type { Connections } from './connections.ts';
import { big, num, rowToMetricBucket, rowToMetricPoint, text } from './row-mapping.ts';

/** The `service` and `host` conditions of a metric read, appending their parameters to `params`. */
function metricFilter(q: MetricQuery, params: DuckDBValue[]): string {
  let sql = '';
  if (q.service !== undefined) {
    params.push(q.service);
    sql += ` AND service = $${params.length}`;
  }
  if (q.host !== undefined) {
    params.push(q.host);
    sql += ` AND json_extract_string(resource_json, '$."host.name"') = $${params.length}`;
  }
  return sql;
}

/** See `MetricReader.metricPoints`: in time order, at most `limit`. */
export async function metricPoints(conn: Connections, q: MetricQuery): Promise<MetricPoint[]> {
  const params: DuckDBValue[] = [q.name, q.window.fromNs, q.window.toNs];
  const svc = metricFilter(q, params);
  params.push(q.limit);
  const rows = await conn.rows(
    `SELECT * FROM metric_points WHERE name = $1 AND time_ns >= $2 AND time_ns < $3 ${svc}
     ORDER BY time_ns LIMIT $${params.length}`,
    params,
  );
  return rows.map(rowToMetricPoint);
}

/** See `MetricReader.metricNames`: by name. */
export async function metricNames(
  conn: Connections,
  window: TimeWindow,
): Promise<{ name: string; unit: string; type: string; points: number }[]> {
  const rows = await conn.rows(
    `SELECT name, any_value(unit) AS unit, any_value(type) AS type, count(*) AS points FROM metric_points
     WHERE time_ns >= $1 AND time_ns < $2 GROUP BY name ORDER BY name`,
    [window.fromNs, window.toNs],
  );
  return rows.map((r) => ({
    name: text(r.name),
    unit: text(r.unit),
    type: text(r.type),
    points: num(r.points),
  }));
}

/**
 * See `MetricReader.metricBuckets`: buckets start at multiples of `bucketNs` since the epoch.
 * @throws RangeError when `bucketNs` is not positive.
 */
export async function metricBuckets(
  conn: Connections,
  q: MetricQuery & { bucketNs: bigint },
): Promise<MetricPoint[]> {
  if (q.bucketNs <= 0n) throw new RangeError(`bucketNs: must be positive, got ${q.bucketNs}`);
  const params: DuckDBValue[] = [q.name, q.window.fromNs, q.window.toNs, q.bucketNs];
  const filter = metricFilter(q, params);
  params.push(q.limit);
  const rows = await conn.rows(
    `SELECT attributes_json, (time_ns // $4) * $4 AS bucket, avg(value) AS value, any_value(unit) AS unit,
       any_value(type) AS type, bool_or(monotonic) AS monotonic, any_value(service) AS service,
       any_value(resource_json) AS resource_json
     FROM metric_points WHERE name = $1 AND time_ns >= $2 AND time_ns < $3 ${filter}
     GROUP BY 1, 2 ORDER BY 2 LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => rowToMetricBucket(r, q.name));
}

/** See `MetricReader.metricHosts`: points not written by a CSV import (`siperf-import`), newest first. */
export async function metricHosts(
  conn: Connections,
  window: TimeWindow,
): Promise<{ host: string; lastNs: bigint; points: number }[]> {
  const rows = await conn.rows(
    `SELECT json_extract_string(resource_json, '$."host.name"') AS host, max(time_ns) AS last_ns,
       count(*) AS points
     FROM metric_points
     WHERE time_ns >= $1 AND time_ns < $2 AND (name LIKE 'system.%' OR name LIKE 'container.%')
       AND service <> 'siperf-import'
       AND json_extract_string(resource_json, '$."host.name"') IS NOT NULL
     GROUP BY 1 ORDER BY last_ns DESC`,
    [window.fromNs, window.toNs],
  );
  return rows.map((r) => ({ host: text(r.host), lastNs: big(r.last_ns), points: num(r.points) }));
}
