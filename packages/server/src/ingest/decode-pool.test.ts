import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { DecodePool } from './decode-pool.ts';
import { type DecodeTask, runDecodeTask } from './decode-task.ts';
import { REPLY_PART_ITEMS } from './decode-worker.ts';
import { otlpTypes } from './otlp-protobuf.ts';

const NOW_NS = 1_700_000_000_000_000_000n;
const clock = {
  nowNs: NOW_NS,
  maxFutureSkewNs: 60_000_000_000n,
  maxPastSkewNs: 86_400_000_000_000n,
  maxSpanDurationNs: 3_600_000_000_000n,
};

/** `n` spans in traces of 10, each with its own name so that order is checkable. */
function traceBody(n: number): Buffer {
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    name: `span ${i}`,
    kind: 2,
    startTimeUnixNano: NOW_NS - 1_000_000_000n + BigInt(i),
    endTimeUnixNano: NOW_NS - 1_000_000_000n + BigInt(i) + 2_000_000n,
    attributes: [{ key: 'http.route', value: { stringValue: `/r/${i % 7}` } }],
  }));
  const types = otlpTypes();
  const message = types.traceRequest.fromObject({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pool-test' } }] },
        scopeSpans: [{ scope: { name: 't' }, spans }],
      },
    ],
  });
  return Buffer.from(types.traceRequest.encode(message).finish());
}

function metricsBody(n: number): Buffer {
  const types = otlpTypes();
  const message = types.metricsRequest.fromObject({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pool-test' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'queue.depth',
                gauge: {
                  dataPoints: Array.from({ length: n }, (_, i) => ({
                    timeUnixNano: NOW_NS - BigInt(n - i) * 1_000_000_000n,
                    asInt: i,
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  });
  return Buffer.from(types.metricsRequest.encode(message).finish());
}

const task = (signal: DecodeTask['signal'], body: Buffer): DecodeTask => ({
  signal,
  body,
  encoding: 'identity',
  protobuf: true,
  maxDecompressedBytes: 64 * 1024 * 1024,
  clock,
});

const pool = new DecodePool({ size: 1, maxHeapMb: 256 });
after(() => pool.close());

test('a batch bigger than one reply part comes back whole and in order (spans, then points)', async () => {
  // 5.5 parts of spans: five acknowledged parts and the rest in the result.
  const spans = Math.floor(REPLY_PART_ITEMS * 5.5);
  const body = traceBody(spans);
  const inline = runDecodeTask(task('otlp-traces', Buffer.from(body)));
  const pooled = await pool.run(task('otlp-traces', body));
  assert.equal(inline.signal, 'otlp-traces');
  if (pooled.signal !== 'otlp-traces') throw new Error(`expected spans, got ${pooled.signal}`);
  assert.equal(pooled.batch.spans.length, spans);
  assert.deepEqual(
    pooled.batch.spans.map((s) => s.name),
    Array.from({ length: spans }, (_, i) => `span ${i}`),
  );
  assert.deepEqual(pooled, inline);

  const points = REPLY_PART_ITEMS * 2 + 1;
  const mBody = metricsBody(points);
  const mInline = runDecodeTask(task('otlp-metrics', Buffer.from(mBody)));
  const mPooled = await pool.run(task('otlp-metrics', mBody));
  assert.deepEqual(mPooled, mInline);
  if (mPooled.signal !== 'otlp-metrics') throw new Error('expected points');
  assert.deepEqual(
    mPooled.batch.points.map((p) => p.value),
    Array.from({ length: points }, (_, i) => i),
  );
});

test('with a sink, a big batch arrives part by part, each after the last was taken; a failing sink stops it', async () => {
  const spans = Math.floor(REPLY_PART_ITEMS * 3.5);
  const body = traceBody(spans);
  const inline = runDecodeTask(task('otlp-traces', Buffer.from(body)));
  if (inline.signal === 'otlp-metrics') throw new Error('expected spans');
  const taken: string[] = [];
  const totals: number[] = [];
  let busy = false;
  const result = await pool.run(task('otlp-traces', body), async (items, total) => {
    // The worker must wait for this part to be taken: no second call while one is running.
    assert.equal(busy, false, 'a part arrived before the previous one was taken');
    busy = true;
    await new Promise((resolve) => setImmediate(resolve));
    for (const span of items as { name: string }[]) taken.push(span.name);
    totals.push(total);
    busy = false;
  });
  if (result.signal === 'otlp-metrics') throw new Error('expected spans');
  // Three full parts went to the sink; the result holds the last half part.
  assert.deepEqual(totals, [spans, spans, spans]);
  assert.equal(taken.length, REPLY_PART_ITEMS * 3);
  assert.equal(result.batch.spans.length, spans - REPLY_PART_ITEMS * 3);
  assert.deepEqual(
    [...taken, ...result.batch.spans.map((s) => s.name)],
    inline.batch.spans.map((s) => s.name),
  );

  let calls = 0;
  const refused = new Error('the write queue is full');
  await assert.rejects(
    pool.run(task('otlp-traces', traceBody(REPLY_PART_ITEMS * 4)), async () => {
      calls++;
      throw refused;
    }),
    (err) => err === refused,
  );
  assert.equal(calls, 1, 'no part after the sink failed');
  // The worker is free for the next task.
  const next = await pool.run(task('otlp-traces', traceBody(5)));
  assert.equal(next.signal === 'otlp-metrics' ? -1 : next.batch.spans.length, 5);
});

test('tasks in a row on one worker, big and small, each get their own answer', async () => {
  const sizes = [REPLY_PART_ITEMS + 1, 3, REPLY_PART_ITEMS * 2, REPLY_PART_ITEMS, 0];
  const results = await Promise.all(sizes.map((n) => pool.run(task('otlp-traces', traceBody(n)))));
  assert.deepEqual(
    results.map((r) => (r.signal === 'otlp-metrics' ? -1 : r.batch.spans.length)),
    sizes,
  );
  for (const [k, r] of results.entries()) {
    if (r.signal === 'otlp-metrics') continue;
    assert.deepEqual(
      r.batch.spans.map((s) => s.name),
      Array.from({ length: sizes[k]! }, (_, i) => `span ${i}`),
    );
  }
});

test('big bodies decode one at a time; a small one does not wait behind them', async () => {
  const two = new DecodePool({ size: 2, maxHeapMb: 256 });
  try {
    // Both over 1 MiB; the first much bigger, so on two workers at once the second would finish first.
    const big1 = traceBody(60_000);
    const big2 = traceBody(16_000);
    assert.ok(big2.length > 1024 * 1024, `${big2.length} bytes`);
    const done: string[] = [];
    const run = (name: string, body: Buffer) =>
      two.run(task('otlp-traces', body)).then((r) => {
        done.push(name);
        return r.signal === 'otlp-metrics' ? -1 : r.batch.spans.length;
      });
    const counts = await Promise.all([run('big1', big1), run('big2', big2), run('small', traceBody(10))]);
    assert.deepEqual(counts, [60_000, 16_000, 10]);
    assert.ok(done.indexOf('big1') < done.indexOf('big2'), done.join(' → '));
  } finally {
    await two.close();
  }
});
