/**
 * The rows of a trace waterfall, computed without recursion so a trace of 100,000 spans (or a chain
 * 100,000 spans deep) neither blows the call stack nor allocates per-row objects on every change.
 *
 * {@link flattenTrace} runs once per answer: spans in pre-order (siblings in start order) with their
 * parent and depth in typed arrays, each span's children as a slice of one `items` array, and runs of
 * repeated calls folded: at least {@link MIN_RUN} consecutive siblings with the same database statement
 * (fingerprint) or, for other spans, the same service and name become one item, a {@link FoldGroup}
 * (an N+1 loop reads "`SELECT … WHERE id = $1` × 12"). {@link visibleRows} then walks the items with an
 * explicit stack, skipping collapsed subtrees and closed groups, in O(visible rows).
 * @module
 */
import type { SpanNodeShape, TraceTree } from '@siperf/server/schemas';

/** Consecutive repeated siblings that fold into one row. */
export const MIN_RUN = 5;

/** A run of repeated sibling calls shown as one row until it is opened. */
export interface FoldGroup {
  /** Stable id: the first member's span id. */
  key: string;
  /** Indexes (into `FlatTrace.nodes`) of the members, in start order. */
  members: Int32Array;
  /** The statement (database calls) or the span name. */
  label: string;
  isDb: boolean;
  service: string;
  /** Earliest start and latest end of the members, ms from the trace start. */
  startMs: number;
  endMs: number;
  /** Sum of the members' durations, ms. */
  sumMs: number;
  errors: number;
  /** True when any member is on the critical path. */
  onCriticalPath: boolean;
}

/** One clock-skew finding of the trace (see `TraceTree.clockSkew`). */
export type ClockSkewNote = TraceTree['clockSkew'][number];

/** A trace flattened once for the waterfall. */
export interface FlatTrace {
  /** Spans in pre-order. */
  nodes: SpanNodeShape[];
  /** Index of each span's parent, or -1 for a root. */
  parent: Int32Array;
  /** Depth in the tree (roots 0). */
  depth: Int32Array;
  /** Span i's child items are `items[itemOffset[i] … itemOffset[i + 1])`; the roots' are at i = n. */
  itemOffset: Int32Array;
  /** A value ≥ 0 is a span index, a value < 0 is the group `-v - 1`. */
  items: Int32Array;
  groups: FoldGroup[];
  /** The group each span is a member of, or -1. */
  groupOf: Int32Array;
  indexOf: Map<string, number>;
  skew: Map<string, ClockSkewNote>;
  /** The trace's duration, ms (at least 1 µs, so bars can divide by it). */
  totalMs: number;
  maxDepth: number;
}

/** The fold key of a span: its statement for a database call, else service and name. */
function foldKey(n: SpanNodeShape): string {
  return n.db ? `d\u0000${n.db.fingerprint}` : `n\u0000${n.service}\u0000${n.name}`;
}

/** Flattens a trace tree (iteratively) and folds runs of repeated calls. */
export function flattenTrace(tree: TraceTree): FlatTrace {
  const nodes: SpanNodeShape[] = [];
  const parentList: number[] = [];
  const depthList: number[] = [];
  const stackNodes: SpanNodeShape[] = [];
  const stackParent: number[] = [];
  const stackDepth: number[] = [];
  for (let i = tree.roots.length - 1; i >= 0; i--) {
    stackNodes.push(tree.roots[i]!);
    stackParent.push(-1);
    stackDepth.push(0);
  }
  let maxDepth = 0;
  while (stackNodes.length > 0) {
    const node = stackNodes.pop()!;
    const p = stackParent.pop()!;
    const d = stackDepth.pop()!;
    const idx = nodes.length;
    nodes.push(node);
    parentList.push(p);
    depthList.push(d);
    if (d > maxDepth) maxDepth = d;
    const ch = node.children;
    for (let i = ch.length - 1; i >= 0; i--) {
      stackNodes.push(ch[i]!);
      stackParent.push(idx);
      stackDepth.push(d + 1);
    }
  }
  const n = nodes.length;
  const parent = Int32Array.from(parentList);
  const depth = Int32Array.from(depthList);
  // Children of each span (and of the virtual root n), in pre-order, which keeps the siblings' order.
  const childCount = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childCount[parent[i]! < 0 ? n : parent[i]!]!++;
  const childOffset = new Int32Array(n + 2);
  for (let i = 0; i <= n; i++) childOffset[i + 1] = childOffset[i]! + childCount[i]!;
  const children = new Int32Array(n);
  const fill = childOffset.slice(0, n + 1);
  for (let i = 0; i < n; i++) {
    const p = parent[i]! < 0 ? n : parent[i]!;
    children[fill[p]!++] = i;
  }
  // Items: children with runs of ≥ MIN_RUN equal fold keys replaced by a group.
  const items = new Int32Array(n);
  const itemOffset = new Int32Array(n + 2);
  const groups: FoldGroup[] = [];
  const groupOf = new Int32Array(n).fill(-1);
  let w = 0;
  for (let p = 0; p <= n; p++) {
    itemOffset[p] = w;
    const lo = childOffset[p]!;
    const hi = childOffset[p + 1]!;
    let i = lo;
    while (i < hi) {
      const first = nodes[children[i]!]!;
      const key = foldKey(first);
      let j = i + 1;
      while (j < hi && foldKey(nodes[children[j]!]!) === key) j++;
      if (j - i >= MIN_RUN) {
        const members = children.slice(i, j);
        const g = groups.length;
        let startMs = Number.POSITIVE_INFINITY;
        let endMs = 0;
        let sumMs = 0;
        let errors = 0;
        let crit = false;
        for (const m of members) {
          const s = nodes[m]!;
          if (s.offsetMs < startMs) startMs = s.offsetMs;
          if (s.offsetMs + s.durationMs > endMs) endMs = s.offsetMs + s.durationMs;
          sumMs += s.durationMs;
          if (s.isError) errors++;
          if (s.onCriticalPath) crit = true;
          groupOf[m] = g;
        }
        groups.push({
          key: first.spanId,
          members,
          label: first.db ? first.db.statement : first.name,
          isDb: Boolean(first.db),
          service: first.service,
          startMs,
          endMs,
          sumMs,
          errors,
          onCriticalPath: crit,
        });
        items[w++] = -g - 1;
      } else {
        for (let k = i; k < j; k++) items[w++] = children[k]!;
      }
      i = j;
    }
  }
  itemOffset[n + 1] = w;
  const indexOf = new Map<string, number>();
  for (let i = 0; i < n; i++) indexOf.set(nodes[i]!.spanId, i);
  const skew = new Map<string, ClockSkewNote>();
  for (const s of tree.clockSkew) skew.set(s.spanId, s);
  return {
    nodes,
    parent,
    depth,
    itemOffset,
    items: items.slice(0, w),
    groups,
    groupOf,
    indexOf,
    skew,
    totalMs: Math.max(tree.durationMs, 0.001),
    maxDepth,
  };
}

/** The rows shown: `rows[i]` is a span index (≥ 0) or a group (`-g - 1`), at indentation `depth[i]`. */
export interface VisibleRows {
  rows: Int32Array;
  depth: Int32Array;
  count: number;
}

/**
 * The rows shown, in order: a span's children follow it unless its id is in `collapsed`; a group's
 * members follow it (one level deeper) only when its key is in `open`.
 */
export function visibleRows(
  flat: FlatTrace,
  collapsed: ReadonlySet<string>,
  open: ReadonlySet<string>,
): VisibleRows {
  const n = flat.nodes.length;
  const cap = n + flat.groups.length;
  const rows = new Int32Array(cap);
  const depth = new Int32Array(cap);
  let count = 0;
  // Frames of the walk: an item list (the shared `items`, or a group's members), its cursor and end.
  const fArr: Int32Array[] = [flat.items];
  const fPos: number[] = [flat.itemOffset[n]!];
  const fEnd: number[] = [flat.itemOffset[n + 1]!];
  const fDepth: number[] = [0];
  while (fArr.length > 0) {
    const top = fArr.length - 1;
    if (fPos[top]! >= fEnd[top]!) {
      fArr.pop();
      fPos.pop();
      fEnd.pop();
      fDepth.pop();
      continue;
    }
    const v = fArr[top]![fPos[top]!++]!;
    const d = fDepth[top]!;
    rows[count] = v;
    depth[count] = d;
    count++;
    if (v >= 0) {
      const a = flat.itemOffset[v]!;
      const b = flat.itemOffset[v + 1]!;
      if (b > a && !collapsed.has(flat.nodes[v]!.spanId)) {
        fArr.push(flat.items);
        fPos.push(a);
        fEnd.push(b);
        fDepth.push(d + 1);
      }
    } else {
      const g = flat.groups[-v - 1]!;
      if (open.has(g.key)) {
        fArr.push(g.members);
        fPos.push(0);
        fEnd.push(g.members.length);
        fDepth.push(d + 1);
      }
    }
  }
  return { rows, depth, count };
}

/** True when span `i` has child items (it can be collapsed). */
export function hasChildren(flat: FlatTrace, i: number): boolean {
  return flat.itemOffset[i + 1]! > flat.itemOffset[i]!;
}

/**
 * What must change for span `i` to be shown: its ancestors expanded and the groups holding it (or an
 * ancestor) opened. Mutates and returns the two sets' copies.
 */
export function reveal(
  flat: FlatTrace,
  i: number,
  collapsed: ReadonlySet<string>,
  open: ReadonlySet<string>,
): { collapsed: Set<string>; open: Set<string> } {
  const c = new Set(collapsed);
  const o = new Set(open);
  let at = i;
  while (at >= 0) {
    const g = flat.groupOf[at]!;
    if (g >= 0) o.add(flat.groups[g]!.key);
    const p = flat.parent[at]!;
    if (p >= 0) c.delete(flat.nodes[p]!.spanId);
    at = p;
  }
  return { collapsed: c, open: o };
}

/** The nearest SERVER span at or above span `i` (its endpoint), or -1. */
export function enclosingServer(flat: FlatTrace, i: number): number {
  let at = i;
  while (at >= 0) {
    if (flat.nodes[at]!.kind === 'server') return at;
    at = flat.parent[at]!;
  }
  return -1;
}
