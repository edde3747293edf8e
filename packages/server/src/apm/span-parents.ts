/**
 * Where each span of a trace hangs in its tree: its parent id as sent, except around Zipkin shared spans.
 *
 * A Zipkin client that shares the span id between an RPC's client and server halves (`"shared": true`:
 * Brave, py_zipkin, Finagle) sends the server's own work with the shared id as parent. siperf stores the
 * server half under an id of its own (`sharedSpanId`), so those children would hang under the client
 * half, in the calling service. Zipkin's tree builder (`zipkin2.internal.SpanNode`, ported to
 * zipkin-lens `span-node.js`) puts a span whose parent is a shared id under the server half recorded at
 * the same local endpoint, and under the client half only when there is none. This module does the same:
 * a span goes under a server half of its parent id when both have the same service and their local
 * addresses and ports (`network.local.address`, `network.local.port`) do not differ where both are known.
 * Zipkin's builder compares whole endpoints; treating an absent address or port as unknown is the rule of
 * Zipkin's own span merging (`zipkin2.internal.Trace.merge`), and keeps py_zipkin's spans, which carry
 * the port on some spans of a service only, with their server. When several server halves fit (one id
 * answered twice), the span goes under the latest one started at or before it.
 *
 * A server half whose client half never arrived is a root, not an orphan: it is where that service's
 * part of the trace begins. It is then the only span of the shared id, so every span sent with that id as
 * parent goes under it, whatever its endpoint: the tree zipkin-lens draws for a root span that carries
 * `shared` (Envoy, a routing proxy), whose cleaner drops the flag of a lone shared root.
 * @module
 */
import { isSharedServerHalf, type Span } from '../model/index.ts';

/** A span's place in its trace's tree. */
export interface SpanParent {
  /**
   * The id of the span it hangs under, `''` for a root. May name a span that is not in the trace: then the
   * span is shown as a root. For a shared server half whose client half is absent, the shared id.
   */
  parentSpanId: string;
  /** True when the parent named is not in the trace and the span is not a shared server half. */
  orphan: boolean;
}

const LOCAL_ADDRESS = 'network.local.address';
const LOCAL_PORT = 'network.local.port';

/** Whether two spans were recorded at compatible local endpoints (an absent address or port fits any). */
function sameEndpoint(a: Span, b: Span): boolean {
  if (a.service !== b.service) return false;
  for (const key of [LOCAL_ADDRESS, LOCAL_PORT]) {
    const x = a.attributes[key];
    const y = b.attributes[key];
    if (x !== undefined && x !== null && y !== undefined && y !== null && String(x) !== String(y))
      return false;
  }
  return true;
}

/**
 * The parent of every span of one trace (keyed by span id; the last span of a repeated id wins, as in a
 * `Map` built from the list).
 */
export function spanParents(spans: readonly Span[]): Map<string, SpanParent> {
  const ids = new Set(spans.map((s) => s.spanId));
  const serverHalves = new Set<Span>();
  const halvesOf = new Map<string, Span[]>();
  for (const s of spans) {
    if (!isSharedServerHalf(s)) continue;
    serverHalves.add(s);
    const list = halvesOf.get(s.parentSpanId);
    if (list) list.push(s);
    else halvesOf.set(s.parentSpanId, [s]);
  }
  const out = new Map<string, SpanParent>();
  for (const s of spans) {
    const isHalf = serverHalves.has(s);
    // A server half stays under its client half; any other span goes under a server half of its parent
    // id recorded at its own endpoint, when there is one.
    const parent = isHalf
      ? s.parentSpanId
      : (pickHalf(s, halvesOf.get(s.parentSpanId), ids.has(s.parentSpanId))?.spanId ?? s.parentSpanId);
    out.set(s.spanId, { parentSpanId: parent, orphan: parent !== '' && !ids.has(parent) && !isHalf });
  }
  return out;
}

/**
 * The server half a span whose parent is a shared id belongs under, if any: one at the span's endpoint;
 * when the client half is absent, any (it is then the only span of that id).
 */
function pickHalf(
  span: Span,
  candidates: readonly Span[] | undefined,
  clientPresent: boolean,
): Span | undefined {
  if (!candidates) return undefined;
  const atEndpoint = candidates.filter((h) => sameEndpoint(h, span));
  const fit = atEndpoint.length > 0 || clientPresent ? atEndpoint : candidates;
  if (fit.length <= 1) return fit[0];
  // Several answers to one id: the one that had started last when the span started, else the earliest.
  const t = span.startTimeUnixNano;
  let best: Span | undefined;
  for (const h of fit) {
    if (h.startTimeUnixNano <= t && (!best || h.startTimeUnixNano > best.startTimeUnixNano)) best = h;
  }
  return best ?? fit.reduce((a, b) => (b.startTimeUnixNano < a.startTimeUnixNano ? b : a));
}
