/**
 * A trace as a tree of spans, with each span's self time and the trace's critical path.
 *
 * Self time: the span's duration minus the union of its children's intervals clipped to the span
 * (children running in parallel are not subtracted twice). Critical path: from each root, walking back
 * from the span's end, the child that finished last before the cursor is on the path, then the cursor
 * moves to that child's start, and the walk repeats into the child (the algorithm of Jaeger's trace
 * view, "critical path", jaegertracing/jaeger-ui `packages/jaeger-ui/src/components/TracePage/CriticalPath`).
 * A span whose parent is absent becomes a root (orphan). Zipkin shared spans hang as Zipkin builds them:
 * the server half under the client half, and the server's own spans under the server half (see
 * `span-parents.ts`); a server half whose client half never arrived is a root, not an orphan. Clock skew
 * (a child that starts before its parent, or a synchronous child that ends after it, across services) is
 * reported, and no duration is changed.
 * @module
 */
import { SPAN_KIND_NAMES, type Span, SpanKind } from '../model/index.ts';
import { nsToIso } from '../util/time.ts';
import { spanParents } from './span-parents.ts';

/** A node of the span tree. Times: ms relative to the trace start, and absolute ISO strings. */
export interface SpanNode {
  spanId: string;
  /**
   * The id of the span this node hangs under (`''` for a root). For the children of a Zipkin shared span
   * this is the server half's id, not the shared id they were sent with.
   */
  parentSpanId: string;
  service: string;
  name: string;
  endpoint: string;
  kind: string;
  startTime: string;
  offsetMs: number;
  durationMs: number;
  selfTimeMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage: string;
  httpStatusCode: number;
  isError: boolean;
  onCriticalPath: boolean;
  /**
   * True when the parent id names a span that is not in the trace (the node is then a root). A Zipkin
   * shared server half whose client half is absent is a root but not an orphan.
   */
  orphan: boolean;
  /** True when the span's start was far from the server clock at ingest (kept, but suspect). */
  clockFlagged: boolean;
  db: Span['db'];
  attributes: Span['attributes'];
  events: Span['events'];
  links: Span['links'];
  /** Resource attributes (service.name, host, SDK…) and the instrumentation scope name. */
  resource: Span['resourceAttributes'];
  scope: string;
  children: SpanNode[];
}

/** A clock-skew finding: the child's interval is not inside its parent's. */
export interface ClockSkew {
  spanId: string;
  parentSpanId: string;
  service: string;
  parentService: string;
  /** How far the child starts before the parent (> 0), or ends after it (> 0 in `endsAfterMs`). */
  startsBeforeMs: number;
  endsAfterMs: number;
}

/** `GET /api/v1/apm/traces/{traceId}`. */
export interface TraceTree {
  traceId: string;
  startTime: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
  roots: SpanNode[];
  /** Span ids on the critical path, in start-time order. */
  criticalPath: string[];
  clockSkew: ClockSkew[];
}

const STATUS = ['unset', 'ok', 'error'] as const;

/** Builds the tree of a trace's spans (any order). `spans` must not be empty. */
export function buildTraceTree(traceId: string, spans: readonly Span[]): TraceTree {
  const byId = new Map<string, Span>();
  for (const s of spans) byId.set(s.spanId, s);
  const parents = spanParents([...byId.values()]);
  let start = spans[0]!.startTimeUnixNano;
  let end = spans[0]!.endTimeUnixNano;
  for (const s of spans) {
    if (s.startTimeUnixNano < start) start = s.startTimeUnixNano;
    if (s.endTimeUnixNano > end) end = s.endTimeUnixNano;
  }
  const nodes = new Map<string, SpanNode>();
  const sorted = [...byId.values()].sort((a, b) =>
    a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0,
  );
  for (const s of sorted) {
    const link = parents.get(s.spanId)!;
    nodes.set(s.spanId, {
      spanId: s.spanId,
      parentSpanId: link.parentSpanId,
      service: s.service,
      name: s.name,
      endpoint: s.endpoint,
      kind: SPAN_KIND_NAMES[s.kind] ?? 'unspecified',
      startTime: nsToIso(s.startTimeUnixNano),
      offsetMs: Number(s.startTimeUnixNano - start) / 1e6,
      durationMs: Number(s.durationNano) / 1e6,
      selfTimeMs: 0,
      status: STATUS[s.statusCode] ?? 'unset',
      statusMessage: s.statusMessage,
      httpStatusCode: s.httpStatusCode,
      isError: s.isError,
      onCriticalPath: false,
      orphan: link.orphan,
      clockFlagged: s.clockFlagged,
      db: s.db,
      attributes: s.attributes,
      events: s.events,
      links: s.links,
      resource: s.resourceAttributes,
      scope: s.scope,
      children: [],
    });
  }
  const roots: SpanNode[] = [];
  const clockSkew: ClockSkew[] = [];
  for (const s of sorted) {
    const node = nodes.get(s.spanId)!;
    const parentId = node.parentSpanId;
    const parent = parentId === '' ? undefined : byId.get(parentId);
    if (!parent || parent.spanId === s.spanId) {
      roots.push(node);
      continue;
    }
    nodes.get(parent.spanId)!.children.push(node);
    const async =
      s.kind === SpanKind.CONSUMER || s.kind === SpanKind.PRODUCER || parent.kind === SpanKind.PRODUCER;
    const before = parent.startTimeUnixNano - s.startTimeUnixNano;
    const after = s.endTimeUnixNano - parent.endTimeUnixNano;
    // Within one service both spans come from one clock: only a parent in another service can disagree.
    if (s.service !== parent.service && (before > 0n || (!async && after > 0n))) {
      clockSkew.push({
        spanId: s.spanId,
        parentSpanId: parent.spanId,
        service: s.service,
        parentService: parent.service,
        startsBeforeMs: before > 0n ? Number(before) / 1e6 : 0,
        endsAfterMs: !async && after > 0n ? Number(after) / 1e6 : 0,
      });
    }
  }
  for (const s of sorted) {
    const node = nodes.get(s.spanId)!;
    node.selfTimeMs =
      selfTimeNs(
        s,
        node.children.map((c) => byId.get(c.spanId)!),
      ) / 1e6;
  }
  const onPath: string[] = [];
  for (const root of roots) walkCritical(byId.get(root.spanId)!, byId, nodes, onPath);
  // In time order (the walk goes backwards from each root's end).
  const criticalPath = onPath
    .map((id) => byId.get(id)!)
    .sort((a, b) =>
      a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0,
    )
    .map((x) => x.spanId);
  return {
    traceId,
    startTime: nsToIso(start),
    durationMs: Number(end - start) / 1e6,
    spanCount: byId.size,
    errorCount: sorted.filter((s) => s.isError).length,
    services: [...new Set(sorted.map((s) => s.service))].sort(),
    roots,
    criticalPath,
    clockSkew,
  };
}

/** Duration minus the union of the children's intervals clipped to the span, ns. */
export function selfTimeNs(span: Span, children: readonly Span[]): number {
  const lo = span.startTimeUnixNano;
  const hi = span.endTimeUnixNano;
  const intervals = children
    .map(
      (c) =>
        [
          c.startTimeUnixNano < lo ? lo : c.startTimeUnixNano,
          c.endTimeUnixNano > hi ? hi : c.endTimeUnixNano,
        ] as const,
    )
    .filter(([a, b]) => b > a)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  let covered = 0n;
  let curStart = -1n;
  let curEnd = -1n;
  for (const [a, b] of intervals) {
    if (a > curEnd) {
      if (curEnd > curStart) covered += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) curEnd = b;
  }
  if (curEnd > curStart) covered += curEnd - curStart;
  return Number(span.durationNano - covered);
}

function walkCritical(
  span: Span,
  byId: Map<string, Span>,
  nodes: Map<string, SpanNode>,
  out: string[],
): void {
  const node = nodes.get(span.spanId)!;
  node.onCriticalPath = true;
  out.push(span.spanId);
  const children = node.children
    .map((c) => byId.get(c.spanId)!)
    .sort((a, b) =>
      a.endTimeUnixNano > b.endTimeUnixNano ? -1 : a.endTimeUnixNano < b.endTimeUnixNano ? 1 : 0,
    );
  let cursor = span.endTimeUnixNano;
  for (const child of children) {
    const childEnd =
      child.endTimeUnixNano > span.endTimeUnixNano ? span.endTimeUnixNano : child.endTimeUnixNano;
    if (childEnd <= cursor && childEnd > span.startTimeUnixNano) {
      walkCritical(child, byId, nodes, out);
      cursor = child.startTimeUnixNano;
    }
  }
}
