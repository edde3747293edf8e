/**
 * The waterfall's row model (`src/components/trace-rows.ts`) without a browser: a chain of 100,000 nested
 * spans flattens without recursion, runs of ≥ 5 repeated sibling calls fold into one row, collapsed
 * subtrees and closed runs are skipped, and revealing a span opens what hides it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SpanNodeShape, TraceTree } from '@siperf/server/schemas';
import { flattenTrace, MIN_RUN, reveal, visibleRows } from '../src/components/trace-rows.ts';

let nextId = 0;
function node(
  name: string,
  offsetMs: number,
  durationMs: number,
  o: Partial<SpanNodeShape> = {},
): SpanNodeShape {
  const spanId = (++nextId).toString(16).padStart(16, '0');
  return {
    spanId,
    parentSpanId: '',
    service: 'shop',
    name,
    endpoint: name,
    kind: 'internal',
    startTime: new Date(1_700_000_000_000 + offsetMs).toISOString(),
    offsetMs,
    durationMs,
    selfTimeMs: durationMs,
    status: 'unset',
    statusMessage: '',
    httpStatusCode: 0,
    isError: false,
    onCriticalPath: false,
    orphan: false,
    clockFlagged: false,
    percentile: null,
    db: null,
    attributes: {},
    events: [],
    links: [],
    resource: {},
    scope: '',
    children: [],
    ...o,
  };
}

function tree(roots: SpanNodeShape[], durationMs: number): TraceTree {
  return {
    traceId: 'ab'.repeat(16),
    startTime: new Date(1_700_000_000_000).toISOString(),
    durationMs,
    spanCount: 0,
    errorCount: 0,
    services: ['shop'],
    roots,
    criticalPath: [],
    clockSkew: [],
  };
}

const db = (statement: string) => ({
  system: 'postgresql',
  database: 'shop',
  statement,
  fingerprint: statement,
});

test('a chain of 100,000 nested spans flattens in pre-order without overflowing the stack', () => {
  const root = node('root', 0, 100_000);
  let at = root;
  for (let i = 1; i < 100_000; i++) {
    const child = node(`span ${i}`, i * 0.5, 100_000 - i);
    at.children.push(child);
    at = child;
  }
  const flat = flattenTrace(tree([root], 100_000));
  assert.equal(flat.nodes.length, 100_000);
  assert.equal(flat.maxDepth, 99_999);
  assert.equal(flat.nodes[99_999]!.name, 'span 99999');
  assert.equal(flat.parent[99_999], 99_998);
  assert.equal(visibleRows(flat, new Set(), new Set()).count, 100_000);
  assert.equal(
    visibleRows(flat, new Set([root.spanId]), new Set()).count,
    1,
    'the root collapsed hides the rest',
  );
  assert.equal(visibleRows(flat, new Set([flat.nodes[50_000]!.spanId]), new Set()).count, 50_001);
});

test(`${MIN_RUN} or more consecutive siblings with one statement fold into one row that opens`, () => {
  const root = node('GET /cart', 0, 100);
  const before = [node('auth', 1, 2), node('load cart', 3, 2)];
  const loop = Array.from({ length: 12 }, (_, i) =>
    node('pg.query', 10 + i * 2, 1.5, { db: db('SELECT * FROM authors WHERE id = $1'), isError: i === 3 }),
  );
  // Four calls of one name: below the run length, not folded.
  const short = Array.from({ length: 4 }, (_, i) => node('GET pricing', 40 + i * 5, 4));
  root.children.push(...before, ...loop, ...short);
  const flat = flattenTrace(tree([root], 100));
  assert.equal(flat.groups.length, 1);
  const g = flat.groups[0]!;
  assert.equal(g.label, 'SELECT * FROM authors WHERE id = $1');
  assert.equal(g.members.length, 12);
  assert.equal(g.errors, 1);
  assert.equal(g.startMs, 10);
  assert.equal(g.endMs, 10 + 11 * 2 + 1.5);
  assert.ok(Math.abs(g.sumMs - 18) < 1e-9);
  // Folded: root, 2 before, the run's row, 4 after.
  const closed = visibleRows(flat, new Set(), new Set());
  assert.equal(closed.count, 1 + 2 + 1 + 4);
  assert.equal(closed.rows[3], -1, 'the fourth row is the group');
  const open = visibleRows(flat, new Set(), new Set([g.key]));
  assert.equal(open.count, 1 + 2 + 1 + 12 + 4);
  assert.equal(open.depth[3], 1, 'the group row is at its members’ sibling level');
  assert.equal(open.depth[4], 2, 'its members one level deeper');
  assert.equal(flat.nodes[open.rows[4]!]!.spanId, loop[0]!.spanId);
});

test('revealing a span opens its collapsed ancestors and the run that holds it', () => {
  const root = node('job', 0, 100);
  const parent = node('batch', 1, 90);
  const loop = Array.from({ length: 6 }, (_, i) => node('fetch', 2 + i, 1));
  parent.children.push(...loop);
  root.children.push(parent);
  const flat = flattenTrace(tree([root], 100));
  const target = flat.indexOf.get(loop[4]!.spanId)!;
  const r = reveal(flat, target, new Set([root.spanId, parent.spanId]), new Set());
  assert.deepEqual([...r.collapsed], []);
  assert.deepEqual([...r.open], [flat.groups[0]!.key]);
  const v = visibleRows(flat, r.collapsed, r.open);
  assert.ok(v.rows.subarray(0, v.count).includes(target));
});
