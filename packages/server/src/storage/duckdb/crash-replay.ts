/**
 * Crash replay, run once when a store opens: reads where the rollups stand (`store_meta`), adds the spans
 * written after the last rollup flush (`batch_id` above `rollup_watermark`) to the rollups again and flushes
 * them, so a crash between a span write and a rollup flush loses nothing and counts nothing twice. It also
 * reloads what the writer remembers: the next batch id, the stored resource ids and the recent span keys.
 * @module
 */
import type { Logger } from 'pino';
import type { Connections } from './connections.ts';
import { DB_ROLLUP, ENDPOINT_ROLLUP, TIERS } from './rollup-tables.ts';
import type { RollupUpkeep } from './rollup-upkeep.ts';
import { big, num, rowToRollupSpan, text } from './row-mapping.ts';
import type { DuckDbWriter } from './writer.ts';

/** Recent span keys reloaded at most (a larger reload would slow every start for a rare case). */
const MAX_RELOADED_SPAN_KEYS = 200_000;
/** Ingest time covered by the reload, ns: exporters retry within seconds to minutes. */
const RELOADED_SPAN_KEYS_NS = 600_000_000_000n;

/** Replays the spans written after the last rollup flush and resumes the writer and the rollups. */
export async function replayAfterCrash(
  conn: Connections,
  rollups: RollupUpkeep,
  writer: DuckDbWriter,
  options: { dedupGenerationSize?: number | undefined; log?: Logger | undefined },
): Promise<void> {
  const meta = new Map(
    (await conn.rows('SELECT key, value FROM store_meta')).map((r) => [text(r.key), big(r.value)]),
  );
  const watermark = meta.get('rollup_watermark') ?? 0n;
  const written = await conn.rows(
    `SELECT greatest((SELECT coalesce(max(written_ns), 0) FROM ${ENDPOINT_ROLLUP.minuteTable}),
                     (SELECT coalesce(max(written_ns), 0) FROM ${DB_ROLLUP.minuteTable})) AS w`,
  );
  const max = await conn.rows('SELECT coalesce(max(batch_id), 0) AS b FROM spans');
  const lastBatchId = big(max[0]!.b);
  rollups.resume({
    tier: {
      watermarksNs: TIERS.map((t) => meta.get(t.watermarkKey) ?? 0n),
      compactedAtNs: meta.get('compacted_at') ?? -1n,
    },
    maxWrittenNs: big(written[0]?.w),
    lastBatchId,
  });
  const replay = await conn.rows(
    `SELECT service, endpoint, kind, parent_span_id, start_ns, duration_ns, is_error, clock_flagged, ingest_ns,
            db_system, db_name, db_statement, db_fingerprint
     FROM spans WHERE batch_id > $1`,
    [watermark],
  );
  for (const r of replay) rollups.record([rowToRollupSpan(r)], big(r.ingest_ns));
  if (replay.length > 0) {
    options.log?.info({ spans: replay.length, watermark: String(watermark) }, 'replayed spans into rollups');
    await rollups.flush();
  }
  const resourceIds = (await conn.rows('SELECT DISTINCT resource_id FROM resources')).map((r) =>
    num(r.resource_id),
  );
  const recent = await conn.read((reader) =>
    reader.runAndReadAll(
      `SELECT trace_id, span_id FROM spans
       WHERE ingest_ns >= (SELECT max(ingest_ns) FROM spans) - ${RELOADED_SPAN_KEYS_NS}
       ORDER BY ingest_ns DESC, batch_id DESC LIMIT $1`,
      [Math.min(options.dedupGenerationSize ?? 1_000_000, MAX_RELOADED_SPAN_KEYS)],
    ),
  );
  const [traceIds, spanIds] = recent.getColumns();
  const recentSpans: [string, string][] = [];
  for (let i = 0; i < recent.currentRowCount; i++)
    recentSpans.push([String(traceIds![i]), String(spanIds![i])]);
  writer.resume({ lastBatchId, resourceIds, recentSpans });
}
