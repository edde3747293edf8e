import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Span, SpanKind, StatusCode } from '../model/index.ts';
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
