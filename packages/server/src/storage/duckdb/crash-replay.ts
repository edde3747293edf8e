/**
 * Crash replay, run once when a store opens: reads where the rollups stand (`store_meta`), adds the spans
 * written after the last rollup flush (`batch_id` above `rollup_watermark`) to the rollups again and flushes
 * them, so a crash between a span write and a rollup flush loses nothing and counts nothing twice. It also
 * reloads what the writer remembers: the next batch id, the stored resource ids and the recent span keys
 * (every span ingested within the de-duplication window before the newest one, and at least the newest
 * `minKeys`, however many that is: `RecentSpanKeys` keeps them in ~11 bytes each).
 * @module
 */
import type { Logger } from 'pino';
import { DEDUP_MIN_KEYS, DEDUP_WINDOW_NS, type RecentSpanKeysOptions } from '../recent-span-keys.ts';
import type { Connections } from './connections.ts';
import { DB_ROLLUP, ENDPOINT_ROLLUP, TIERS } from './rollup-tables.ts';
import type { RollupUpkeep } from './rollup-upkeep.ts';
import { big, num, rowToRollupSpan, text } from './row-mapping.ts';
import { loadSpanKeys } from './span-keys-snapshot.ts';
import type { DuckDbWriter } from './writer.ts';

/** Replays the spans written after the last rollup flush and resumes the writer and the rollups. */
export async function replayAfterCrash(
  conn: Connections,
  rollups: RollupUpkeep,
  writer: DuckDbWriter,
  options: { dedup: RecentSpanKeysOptions; log?: Logger | undefined; path?: string | undefined },
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
  writer.resume({ lastBatchId, resourceIds });
  const started = performance.now();
  // The keys saved at the last close, when they describe the file as it is.
  const saved =
    options.path === undefined ? undefined : await conn.read((r) => loadSpanKeys(r, options.path!));
  if (saved && writer.restoreSpanKeys(saved)) {
    const { keys, bytes } = writer.rememberedSpanKeys();
    options.log?.info(
      { keys, bytes, ms: Math.round(performance.now() - started) },
      'took the keys of recent spans for de-duplication from the snapshot saved at close',
    );
    return;
  }
  const reloaded = await reloadSpanKeys(conn, writer, options.dedup);
  if (reloaded > 0) {
    const { bytes } = writer.rememberedSpanKeys();
    options.log?.info(
      { spans: reloaded, bytes, ms: Math.round(performance.now() - started) },
      'reloaded the keys of recent spans for de-duplication',
    );
  }
}

/**
 * Hands the writer the key of every span ingested within `windowNs` before the newest span of the file,
 * and of at least the newest `minKeys` spans, streamed in chunks (no limit on their number: a retry of
 * any batch acknowledged in that window counts once after a restart). @returns the spans reloaded.
 */
async function reloadSpanKeys(
  conn: Connections,
  writer: DuckDbWriter,
  dedup: RecentSpanKeysOptions,
): Promise<number> {
  const windowNs = dedup.windowNs ?? DEDUP_WINDOW_NS;
  const minKeys = dedup.minKeys ?? DEDUP_MIN_KEYS;
  const [newest] = await conn.rows('SELECT max(ingest_ns) AS n FROM spans');
  if (newest?.n === null || newest?.n === undefined) return 0;
  let fromNs = big(newest.n) - windowNs;
  const [inWindow] = await conn.rows('SELECT count(*) AS c FROM spans WHERE ingest_ns >= $1', [fromNs]);
  if (num(inWindow!.c) < minKeys) {
    // Fewer spans than minKeys in the window: go back to the minKeys-th newest.
    const [floor] = await conn.rows(
      'SELECT min(ingest_ns) AS f FROM (SELECT ingest_ns FROM spans ORDER BY ingest_ns DESC LIMIT $1)',
      [minKeys],
    );
    fromNs = big(floor!.f);
  }
  // Row order does not matter: every key reloaded stays until the window has passed since the newest.
  return conn.read(async (reader) => {
    const result = await reader.stream(
      'SELECT trace_id, span_id, ingest_ns FROM spans WHERE ingest_ns >= $1',
      [fromNs],
    );
    let n = 0;
    for (
      let chunk = await result.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    ) {
      const traceIds = chunk.getColumnValues(0);
      const spanIds = chunk.getColumnValues(1);
      const ingest = chunk.getColumnValues(2);
      for (let i = 0; i < chunk.rowCount; i++) {
        writer.rememberWritten(String(traceIds[i]), String(spanIds[i]), ingest[i] as bigint);
      }
      n += chunk.rowCount;
    }
    return n;
  });
}
