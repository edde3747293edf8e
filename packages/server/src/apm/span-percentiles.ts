/**
 * Each span's percentile against its own operation: where the span's duration ranks among the durations
 * of the same operation over a window ("this span is at p99 of GET /cart"), read from the per-minute
 * DDSketch rollups the RED and database metrics use.
 *
 * Operation: a database call (a span with `db`) is ranked among the calls of its statement, the rollup of
 * (service, db system, database, fingerprint) that `metrics/database` reads; any other span among the
 * spans of its (service, endpoint, kind), the rollup `metrics/api` reads.
 *
 * Algorithm: the operation's sketch is merged over the window (`RollupReader.endpointAggregates` /
 * `dbAggregates`); the percentile of duration d is 100 · countAtMost(d) / count, the share of the
 * operation's spans that took at most d (the empirical CDF at d, [1]). Exact extremes come first: d ≥ the
 * window's exact maximum gives 100, d below its exact minimum gives 0. No rollup for the operation in the
 * window (or an empty one) gives `null`: so does every INTERNAL (or unspecified-kind) span below a root,
 * since the rollups hold only server, client, producer and consumer spans and roots (`isEndpointSpan`).
 *
 * Error bound: a DDSketch bucket (α = 1%) holds values within a factor γ = 1.0202 of each other, and
 * `countAtMost` counts the bucket holding d in, so the values within about 2% above d may be counted as
 * "at most d": the percentile is exact up to the share of the operation's spans whose durations lie within
 * 2% of d (none in the usual case of spread-out durations, see `util/latency-sketch.ts`).
 *
 * The window is the caller's; the trace's own spans are in it when it covers them, so a span is ranked in
 * a set that includes itself (the only request of an endpoint is at 100).
 *
 * Cost: two rollup reads (one when the trace has no database call), then one map lookup and one bucket
 * scan per distinct (operation, duration) pair; the tree is walked with an explicit stack, so a chain of
 * 100,000 nested spans does not overflow the call stack.
 *
 * [1] C. Masson, J. E. Rim, H. K. Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with
 *     Relative-Error Guarantees", PVLDB 12(12), 2019. https://arxiv.org/abs/1908.10693
 * @module
 */
import { SPAN_KIND_NAMES } from '../model/index.ts';
import type { RollupReader, TimeWindow } from '../storage/index.ts';
import { countAtMost, type LatencySketch } from '../util/latency-sketch.ts';
import type { SpanNode, TraceTree } from './trace-tree.ts';

/** A span node with its percentile: 0..100, or `null` when its operation has no rollup in the window. */
export type RankedSpanNode = Omit<SpanNode, 'children'> & {
  percentile: number | null;
  children: RankedSpanNode[];
};

/** A trace tree whose every node has its percentile. */
export type RankedTraceTree = Omit<TraceTree, 'roots'> & { roots: RankedSpanNode[] };

/** The exact extremes and the sketch of one operation over the window. */
interface OperationStats {
  minMs: number;
  maxMs: number;
  sketch: LatencySketch;
}

/**
 * Percentile (0..100) of `durationMs` among the values of `stats`, or `null` for an empty sketch.
 * See the module comment for the rule and its error bound.
 */
export function percentileOf(stats: OperationStats | undefined, durationMs: number): number | null {
  if (!stats || stats.sketch.count === 0) return null;
  if (durationMs >= stats.maxMs) return 100;
  // minMs 0 means "unknown" for rows written before siperf kept the minimum: use the sketch alone then.
  if (stats.minMs > 0 && durationMs < stats.minMs) return 0;
  const p = (100 * countAtMost(stats.sketch, durationMs)) / stats.sketch.count;
  return p > 100 ? 100 : p;
}

const SEP = '\u0000';

/**
 * Sets `percentile` on every node of `tree` (in place) against the rollups of `window`, and returns the
 * tree with its new type.
 * @param reader - the rollup reads (a `Store`).
 * @param tree - a tree from `buildTraceTree`; its nodes are mutated.
 * @param window - the window whose rollups the spans are ranked in (the route's default: the hour ending
 *   at the trace's end).
 */
export async function rankTraceSpans(
  reader: RollupReader,
  tree: TraceTree,
  window: TimeWindow,
): Promise<RankedTraceTree> {
  // One service: filter the reads on it; several: read all (one query each, fewer round trips).
  const service = tree.services.length === 1 ? tree.services[0] : undefined;
  let hasDb = false;
  const stack: SpanNode[] = [...tree.roots];
  const all: SpanNode[] = [];
  while (stack.length > 0) {
    const node = stack.pop()!;
    all.push(node);
    if (node.db) hasDb = true;
    for (const c of node.children) stack.push(c);
  }
  const [endpoints, dbs] = await Promise.all([
    reader.endpointAggregates({ window, service }),
    hasDb ? reader.dbAggregates({ window, service }) : Promise.resolve([]),
  ]);
  const byEndpoint = new Map<string, OperationStats>();
  for (const a of endpoints)
    byEndpoint.set([a.service, a.endpoint, SPAN_KIND_NAMES[a.kind] ?? 'unspecified'].join(SEP), a);
  const byStatement = new Map<string, OperationStats>();
  for (const a of dbs) byStatement.set([a.service, a.system, a.database, a.fingerprint].join(SEP), a);
  // Many spans of a trace share an operation and a duration (an N+1 loop): rank each pair once.
  const memo = new Map<string, number | null>();
  for (const node of all) {
    const key = node.db
      ? `d${SEP}${[node.service, node.db.system, node.db.database, node.db.fingerprint].join(SEP)}`
      : `e${SEP}${[node.service, node.endpoint, node.kind].join(SEP)}`;
    const memoKey = `${key}${SEP}${node.durationMs}`;
    let p = memo.get(memoKey);
    if (p === undefined) {
      const stats = node.db ? byStatement.get(key.slice(2)) : byEndpoint.get(key.slice(2));
      p = percentileOf(stats, node.durationMs);
      memo.set(memoKey, p);
    }
    (node as SpanNode & { percentile: number | null }).percentile = p;
  }
  return tree as unknown as RankedTraceTree;
}
