import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Recommendation } from '../model/index.ts';
import { draft, evidence, gain, target } from './shape.ts';
import { RecommendationStates } from './states.ts';

function rec(key: string): Recommendation {
  const d = draft({
    key,
    kind: 'n-plus-one',
    area: 'query',
    severity: 'warning',
    title: key,
    target: target({ service: 'shop' }),
    evidence: evidence({ fromMs: 0, toMs: 3_600_000 }),
    gain: gain({ arithmetic: [], confidence: 'low', confidenceReason: '', description: '' }),
    apply: { kind: 'code', how: 'batch it', change: null },
  });
  return {
    ...d,
    state: 'open',
    stateChangedAt: null,
    stateReason: null,
    outcome: null,
    firstSeen: '1970-01-01T00:00:00.000Z',
    lastSeen: '1970-01-01T00:00:00.000Z',
  };
}

test('states are written atomically off the loop, coalesced, and read back by a new process', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siperf-states-'));
  try {
    const file = join(dir, 'sub', 'recommendations.json');
    const a = await RecommendationStates.open({ file });
    const recs = Array.from({ length: 50 }, (_, i) => rec(`k${i}`));
    for (const r of recs) a.set(r, 'dismissed', `reason ${r.key}`, 1000);
    a.set(recs[0]!, 'applied', null, 2000);
    await a.flush();
    assert.ok(!existsSync(`${file}.tmp`));
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(saved.version, 1);
    assert.equal(saved.records.length, 50);
    const b = await RecommendationStates.open({ file });
    const first = b.get(recs[0]!.id)!;
    assert.equal(first.state, 'applied');
    assert.equal(first.changedAt, '1970-01-01T00:00:02.000Z');
    assert.equal(first.snapshot.state, 'applied');
    assert.equal(b.get(recs[1]!.id)!.reason, 'reason k1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreadable file is moved aside and said so; the server starts with no states', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siperf-states-'));
  try {
    const file = join(dir, 'recommendations.json');
    writeFileSync(file, '{"records": [{"id": 1}]');
    const logged: string[] = [];
    const s = await RecommendationStates.open({ file, log: (m) => logged.push(m) });
    assert.deepEqual(s.list(), []);
    assert.ok(existsSync(`${file}.unreadable`));
    assert.ok(!existsSync(file));
    assert.match(logged[0]!, /unreadable: moved to .*recommendations\.json\.unreadable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in memory (no file): states are kept and flush resolves at once', async () => {
  const s = await RecommendationStates.open();
  const r = rec('x');
  s.set(r, 'dismissed', null, 0);
  await s.flush();
  assert.equal(s.get(r.id)!.state, 'dismissed');
});
