/**
 * Host metrics as the OpenTelemetry Collector's hostmetrics receiver sends them by default (CPU time per
 * CPU and state, memory and filesystem usage by state, older attribute names), through `POST /v1/metrics`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentResources, resourceSeries } from '../src/resources/index.ts';
import { post, startTestApp } from './helpers.ts';

const T0 = Date.parse('2026-02-02T10:00:00Z');
const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);
const kv = (o: Record<string, string>) =>
  Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));
const sum = (name: string, unit: string, points: [Record<string, string>, number, number][]) => ({
  name,
  unit,
  sum: {
    aggregationTemporality: 2,
    isMonotonic: true,
    dataPoints: points.map(([a, t, v]) => ({
      attributes: kv(a),
      startTimeUnixNano: ns(T0 - 60_000),
      timeUnixNano: ns(t),
      asDouble: v,
    })),
  },
});
const gauge = (name: string, unit: string, points: [Record<string, string>, number, number][]) => ({
  name,
  unit,
  sum: {
    aggregationTemporality: 2,
    isMonotonic: false,
    dataPoints: points.map(([a, t, v]) => ({ attributes: kv(a), timeUnixNano: ns(t), asInt: String(v) })),
  },
});

test('Collector hostmetrics: busy share from CPU time, memory and filesystem from usage by state', async () => {
  const t = await startTestApp();
  try {
    const t1 = T0 + 20_000;
    const GiB = 2 ** 30;
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: kv({ 'host.name': 'collector-host' }) },
          scopeMetrics: [
            {
              scope: { name: 'otelcol/hostmetricsreceiver/cpu' },
              metrics: [
                sum('system.cpu.time', 's', [
                  [{ cpu: 'cpu0', state: 'user' }, T0, 10],
                  [{ cpu: 'cpu0', state: 'system' }, T0, 5],
                  [{ cpu: 'cpu0', state: 'idle' }, T0, 85],
                  [{ cpu: 'cpu1', state: 'user' }, T0, 0],
                  [{ cpu: 'cpu1', state: 'idle' }, T0, 100],
                  [{ cpu: 'cpu0', state: 'user' }, t1, 16],
                  [{ cpu: 'cpu0', state: 'system' }, t1, 7],
                  [{ cpu: 'cpu0', state: 'idle' }, t1, 97],
                  [{ cpu: 'cpu1', state: 'user' }, t1, 2],
                  [{ cpu: 'cpu1', state: 'idle' }, t1, 118],
                ]),
                gauge('system.memory.usage', 'By', [
                  [{ state: 'used' }, t1, 4 * GiB],
                  [{ state: 'free' }, t1, 10 * GiB],
                  [{ state: 'cached' }, t1, 2 * GiB],
                ]),
                gauge('system.filesystem.usage', 'By', [
                  [{ device: '/dev/sda1', mountpoint: '/', type: 'ext4', state: 'used' }, t1, 30 * GiB],
                  [{ device: '/dev/sda1', mountpoint: '/', type: 'ext4', state: 'free' }, t1, 60 * GiB],
                  [{ device: '/dev/sda1', mountpoint: '/', type: 'ext4', state: 'reserved' }, t1, 10 * GiB],
                ]),
              ],
            },
          ],
        },
      ],
    };
    const r = await post(t.app, '/v1/metrics', JSON.stringify(body), 'application/json');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const window = { fromNs: BigInt(T0 - 60_000) * 1_000_000n, toNs: BigInt(T0 + 60_000) * 1_000_000n };
    const q = (resourceType: string) =>
      resourceSeries(t.store, { resourceType, host: 'collector-host', window });
    // cpu0: 8 busy of 20 s; cpu1: 2 of 20 → mean 0.25.
    const cpu = await q('cpu');
    assert.deepEqual(cpu[0]!.values, [0.25]);
    // used / (used + free + cached) = 4 / 16.
    assert.deepEqual((await q('memory'))[0]!.values, [0.25]);
    // used / (used + free), the root reserve left out: 30 / 90.
    const disk = await q('disk');
    assert.equal(disk[0]!.labels.mountpoint, '/');
    assert.ok(Math.abs(disk[0]!.values[0]! - 1 / 3) < 1e-12);
    const c = await currentResources(t.store, 'collector-host', t1 + 1000);
    assert.equal(c.cpu.utilization, 0.25);
    assert.equal(c.memory.usedBytes, 4 * GiB);
    // The Collector's states add up to the filesystem's size: 30 used + 60 free + 10 reserved = 100 GiB.
    assert.deepEqual(
      c.filesystems.map((f) => [f.mount, f.usedBytes, f.availableBytes, f.reservedBytes, f.sizeBytes]),
      [['/', 30 * GiB, 60 * GiB, 10 * GiB, 100 * GiB]],
    );
  } finally {
    await t.close();
  }
});
