import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { loadConfig } from '../config.ts';
import { createDuckDbStore } from '../storage/index.ts';
import { REPLY_PART_ITEMS } from './decode-worker.ts';
import { otlpTypes } from './otlp-protobuf.ts';
import { IngestPipeline } from './pipeline.ts';

/** `n` spans of one service, all within the last minute (inside the clock limits). */
function traceBody(n: number): Buffer {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    name: `span ${i}`,
    kind: 2,
    startTimeUnixNano: nowNs - 60_000_000_000n + BigInt(i),
    endTimeUnixNano: nowNs - 60_000_000_000n + BigInt(i) + 2_000_000n,
  }));
  const types = otlpTypes();
  return Buffer.from(
    types.traceRequest
      .encode(
        types.traceRequest.fromObject({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pipeline-test' } }] },
              scopeSpans: [{ scope: { name: 't' }, spans }],
            },
          ],
        }),
      )
      .finish(),
  );
}

const store = await createDuckDbStore({ path: ':memory:' });
const pipeline = new IngestPipeline({ config: loadConfig({ flags: { ingestWorkers: 1 } }), store });
after(async () => {
  await pipeline.close();
  await store.close();
});

test('a body decoded on a worker is written part by part: every span once, its retry all duplicates', async () => {
  const n = Math.floor(REPLY_PART_ITEMS * 3.5);
  const body = traceBody(n);
  const observed: number[] = [];
  pipeline.onStored((spans) => observed.push(spans.length));
  const first = await pipeline.ingest(
    'otlp-traces',
    'otlp-http',
    undefined,
    Buffer.from(body),
    'identity',
    true,
  );
  assert.deepEqual(first, { items: n, written: n, duplicates: 0, rejected: [] });
  // The parts the worker handed over were written one by one (three parts, then the rest).
  assert.deepEqual(observed, [
    REPLY_PART_ITEMS,
    REPLY_PART_ITEMS,
    REPLY_PART_ITEMS,
    n - 3 * REPLY_PART_ITEMS,
  ]);
  const retry = await pipeline.ingest('otlp-traces', 'otlp-http', undefined, body, 'identity', true);
  assert.deepEqual(retry, { items: n, written: 0, duplicates: n, rejected: [] });
  assert.equal(pipeline.counters.spansAccepted['otlp-http'], n);
  await store.flushRollups();
  const rows = await store.services({ fromNs: 0n, toNs: BigInt(Date.now() + 60_000) * 1_000_000n });
  assert.deepEqual(
    rows.map((r) => [r.service, r.requests]),
    [['pipeline-test', n]],
  );
});
