/**
 * Rollup queries of the DuckDB store: the reads of `RollupReader`, merging the stored rollup tiers of a
 * window (`readRollups`) with the open rollups not flushed yet, so a read sees every acknowledged write
 * (once: see `RollupUpkeep.read`).
 * A minute belongs to the window when any part of it does: its start is ≥ `fromNs` floored to the minute
 * and < `toNs`.
 * @module
 */

import { SpanKind } from '../../model/index.ts';
import { NS_PER_MINUTE } from '../../util/time.ts';
import { dbAggregateOf, endpointAggregateOf, endpointSteps } from '../rollup-answers.ts';
import type {
  DbAggregate,
  EndpointAggregate,
  EndpointSeriesQuery,
  EndpointStepAggregate,
  RollupQuery,
  ServiceSummary,
  TimeWindow,
} from '../store.ts';
import type { Connections } from './connections.ts';
import {
  DB_ROLLUP,
  ENDPOINT_ROLLUP,
  mergeCells,
  type RollupAggregate,
  type RollupSpec,
  readRollups,
} from './rollup-tables.ts';
import type { RollupUpkeep } from './rollup-upkeep.ts';

/** A family's stored rows of the window merged per key, with the open rows of the window added. */
function aggregates(
  conn: Connections,
  rollups: RollupUpkeep,
  spec: RollupSpec,
  q: RollupQuery,
): Promise<RollupAggregate[]> {
  return rollups.read(
    () => conn.read((reader) => readRollups(reader, spec, q.window, q.service)),
    (out, open) => {
      mergeCells(out, spec === DB_ROLLUP ? open.dbs : open.endpoints, q.window, q.service);
      return [...out.values()];
    },
  );
}

/** See `RollupReader.endpointAggregates`. */
export async function endpointAggregates(
  conn: Connections,
  rollups: RollupUpkeep,
  q: RollupQuery,
): Promise<EndpointAggregate[]> {
  return (await aggregates(conn, rollups, ENDPOINT_ROLLUP, q)).map(endpointAggregateOf);
}

/** See `RollupReader.endpointAggregateSeries`. */
export async function endpointAggregateSeries(
  conn: Connections,
  rollups: RollupUpkeep,
  q: EndpointSeriesQuery,
): Promise<EndpointStepAggregate[]> {
  const rows = await rollups.read(
    () => conn.read((reader) => readRollups(reader, ENDPOINT_ROLLUP, q.window, q.service, q.stepNs)),
    (out, open) => {
      mergeCells(out, open.endpoints, q.window, q.service, q.stepNs);
      return [...out.values()];
    },
  );
  return endpointSteps(rows, q);
}

/** See `RollupReader.dbAggregates`. */
export async function dbAggregates(
  conn: Connections,
  rollups: RollupUpkeep,
  q: RollupQuery,
): Promise<DbAggregate[]> {
  return (await aggregates(conn, rollups, DB_ROLLUP, q)).map(dbAggregateOf);
}

/**
 * See `RollupReader.services`: per service, the sums over its endpoint rollups; first seen is the start of
 * its first minute with data, last seen the end of its last one.
 */
export async function services(
  conn: Connections,
  rollups: RollupUpkeep,
  window: TimeWindow,
  service?: string,
): Promise<ServiceSummary[]> {
  const rows = await aggregates(conn, rollups, ENDPOINT_ROLLUP, { window, service });
  const out = new Map<string, ServiceSummary>();
  for (const r of rows) {
    const name = String(r.key[0]);
    // Requests are the spans a service answers (server, consumer, and roots such as a job's): its outgoing
    // calls (client, producer) are another service's requests, not its own.
    const outgoing = r.key[2] === SpanKind.CLIENT || r.key[2] === SpanKind.PRODUCER;
    const requests = outgoing ? 0 : r.sums[0]!;
    const errors = outgoing ? 0 : r.sums[1]!;
    const endpoints = outgoing ? 0 : 1;
    const s = out.get(name);
    if (!s) {
      out.set(name, {
        service: name,
        requests,
        errors,
        endpoints,
        firstSeenNs: r.firstBucketNs,
        lastSeenNs: r.lastBucketNs + NS_PER_MINUTE,
      });
    } else {
      s.requests += requests;
      s.errors += errors;
      s.endpoints += endpoints;
      if (r.firstBucketNs < s.firstSeenNs) s.firstSeenNs = r.firstBucketNs;
      if (r.lastBucketNs + NS_PER_MINUTE > s.lastSeenNs) s.lastSeenNs = r.lastBucketNs + NS_PER_MINUTE;
    }
  }
  return [...out.values()];
}
