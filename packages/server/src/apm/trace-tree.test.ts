import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Span, SpanKind, StatusCode, sharedSpanId } from '../model/index.ts';
import { buildTraceTree } from './trace-tree.ts';

const MS = 1_000_000n;
function span(
  id: string,
  parent: string,
  startMs: number,
  endMs: number,
  service = 'a',
  kind: SpanKind = SpanKind.INTERNAL,
): Span {
  const start = 1_700_000_000_000n * MS + BigInt(startMs) * MS;
  const end = 1_700_000_000_000n * MS + BigInt(endMs) * MS;
  return {
    traceId: 'ab'.repeat(16),
    spanId: id.padStart(16, '0'),
    parentSpanId: parent === '' ? '' : parent.padStart(16, '0'),
    service,
    name: id,
    endpoint: id,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    durationNano: end - start,
    statusCode: StatusCode.UNSET,
    statusMessage: '',
    httpStatusCode: 0,
    isError: false,
    db: undefined,
    clockFlagged: false,
    resourceAttributes: {},
    attributes: {},
    events: [],
    links: [],
    scope: '',
  };
}

test('self time subtracts the union of overlapping children; the critical path follows the last finisher', () => {
  // root 0..100; b 10..40 and c 20..60 overlap (union 10..60 = 50); d 70..90 is serial after them.
  const spans = [
    span('1', '', 0, 100),
    span('2', '1', 10, 40),
    span('3', '1', 20, 60),
    span('4', '1', 70, 90),
    span('5', '3', 30, 50),
  ];
  const t = buildTraceTree('ab'.repeat(16), spans);
  const root = t.roots[0]!;
  assert.equal(root.selfTimeMs, 100 - 50 - 20);
  const byName = new Map<string, any>();
  const walk = (n: any) => {
    byName.set(n.name, n);
    n.children.forEach(walk);
  };
  walk(root);
  assert.equal(byName.get('3').selfTimeMs, 40 - 20);
  // Walking back from 100: d (ends 90) then c (ends 60, before d's start 70); b ends 40 > c's start 20: off.
  // Reported in start-time order: root, c, c's child, d.
  assert.deepEqual(
    t.criticalPath.map((id) => Number.parseInt(id, 10)),
    [1, 3, 5, 4],
  );
  assert.equal(byName.get('2').onCriticalPath, false);
  assert.equal(t.durationMs, 100);
});

test('a missing root leaves orphans as roots; clock skew across services is reported and durations stay', () => {
  const spans = [
    span('2', '9', 0, 50, 'api', SpanKind.SERVER),
    span('3', '2', -5, 20, 'db', SpanKind.CLIENT),
  ];
  const t = buildTraceTree('ab'.repeat(16), spans);
  assert.equal(t.roots.length, 1);
  assert.equal(t.roots[0]!.orphan, true);
  assert.equal(t.clockSkew.length, 1);
  assert.equal(t.clockSkew[0]!.startsBeforeMs, 5);
  assert.equal(t.roots[0]!.children[0]!.durationMs, 25, 'the skewed child keeps its own duration');
});

test('a child that outlives its parent in the same service is async work, not clock skew', () => {
  const spans = [
    span('1', '', 0, 50, 'api', SpanKind.SERVER),
    span('2', '1', 10, 300, 'api', SpanKind.INTERNAL),
  ];
  assert.deepEqual(buildTraceTree('ab'.repeat(16), spans).clockSkew, []);
});

/**
 * The server half of a Zipkin shared span as the Zipkin decoder stores it: an id derived from the shared id,
 * its service and start, the shared id (the client half) as parent.
 */
function serverHalf(
  sharedId: string,
  startMs: number,
  endMs: number,
  service: string,
  address?: string,
): Span {
  const s = span('0', sharedId, startMs, endMs, service, SpanKind.SERVER);
  s.scope = 'zipkin';
  s.spanId = sharedSpanId(s.parentSpanId, service, s.startTimeUnixNano);
  s.name = `${service} server${address ? ` ${address}` : ''}`;
  if (address) s.attributes = { 'network.local.address': address };
  return s;
}

const zipkin = (s: Span, address?: string): Span => ({
  ...s,
  scope: 'zipkin',
  attributes: address ? { 'network.local.address': address } : {},
});

function outline(t: ReturnType<typeof buildTraceTree>): string[] {
  const out: string[] = [];
  const walk = (n: (typeof t.roots)[number], depth: number) => {
    out.push(`${'  '.repeat(depth)}${n.name}${n.orphan ? ' (orphan)' : ''}`);
    for (const c of n.children) walk(c, depth + 1);
  };
  for (const r of t.roots) walk(r, 0);
  return out;
}

test('Zipkin shared ids: a child goes under the server half at its endpoint, else under the client half', () => {
  // A message "send" (producer service, id 7, 0–100 ms) answered by two hosts of `pusher` (three server
  // halves: 10.0.0.187 at 20 and 60 ms, 10.0.0.79 at 10 ms), as smartthings-oauth-authorization.json has it.
  // Each host's work goes under its own host's half that had started last; `audit` names 7 as parent
  // but has no half of its own, so it stays under the client half.
  const spans = [
    zipkin(span('7', '', 0, 100, 'bouncer', SpanKind.CLIENT)),
    serverHalf('7', 20, 40, 'pusher', '10.0.0.187'),
    serverHalf('7', 60, 80, 'pusher', '10.0.0.187'),
    serverHalf('7', 10, 30, 'pusher', '10.0.0.79'),
    zipkin(span('a', '7', 70, 80, 'pusher'), '10.0.0.187'),
    zipkin(span('b', '7', 25, 30, 'pusher'), '10.0.0.79'),
    zipkin(span('c', '7', 30, 40, 'pusher'), '10.0.0.187'),
    zipkin(span('d', '7', 50, 60, 'audit')),
  ];
  const t = buildTraceTree('ab'.repeat(16), spans);
  assert.deepEqual(outline(t), [
    '7',
    '  pusher server 10.0.0.79',
    '    b',
    '  pusher server 10.0.0.187',
    '    c',
    '  d',
    '  pusher server 10.0.0.187',
    '    a',
  ]);
  assert.deepEqual(t.clockSkew, [], 'every interval is inside its parent');
});

test('Zipkin shared ids without the client half: the server half is a root, and the only node of that id', () => {
  // Envoy/routing style: the lone root carries `shared` (its client never reports). A span of another
  // service naming that id goes under it too, as zipkin-lens draws it (it drops a lone root's flag).
  const spans = [
    serverHalf('5', 0, 100, 'routing'),
    zipkin(span('6', '5', 10, 20, 'routing')),
    zipkin(span('8', '5', 30, 90, 'mobile', SpanKind.CLIENT)),
  ];
  const t = buildTraceTree('ab'.repeat(16), spans);
  assert.deepEqual(outline(t), ['routing server', '  6', '  8']);
  assert.equal(t.roots[0]!.parentSpanId, '5'.padStart(16, '0'), 'the missing client half is named');
  assert.equal(t.roots[0]!.selfTimeMs, 100 - 10 - 60);
  // A plain OTLP span whose parent is absent is still an orphan.
  const plain = buildTraceTree('ab'.repeat(16), [span('6', '5', 10, 20, 'routing')]);
  assert.equal(plain.roots[0]!.orphan, true);
});
