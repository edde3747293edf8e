/**
 * `/api/v1/resources/current` and `/statistics` over points written like the host sampler writes them,
 * with values computed by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MetricPoint, scalarPoint } from '../src/model/index.ts';
import { get, startTestApp } from './helpers.ts';

const T0 = Date.parse('2026-01-10T10:00:00Z');

function point(
  name: string,
  t: number,
  value: number,
  attributes: Record<string, string> = {},
  host = 'h1',
): MetricPoint {
  const sum = /\.(io|operations|io_time|packets|errors|dropped)$/.test(name);
  return scalarPoint({
    name,
    service: 'siperf-host-sampler',
    unit: '1',
    type: sum ? 'sum' : 'gauge',
    value,
    timeUnixNano: BigInt(t) * 1_000_000n,
    attributes,
    resourceAttributes: { 'host.name': host },
  });
}

test('current and statistics of a host: CPU busy share, memory, filesystems, network rates, trend', async () => {
  const t = await startTestApp();
  try {
    const points: MetricPoint[] = [];
    // Four samples a minute apart. CPU busy (user + system) = 0.2, 0.4, 0.6, 0.8.
    [0.2, 0.4, 0.6, 0.8].forEach((busy, i) => {
      const at = T0 + i * 60_000;
      points.push(point('system.cpu.utilization', at, busy / 2, { 'cpu.mode': 'user' }));
      points.push(point('system.cpu.utilization', at, busy / 2, { 'cpu.mode': 'system' }));
      points.push(point('system.cpu.utilization', at, 0.1, { 'cpu.mode': 'iowait' }));
      points.push(point('system.cpu.utilization', at, 0.9 - busy, { 'cpu.mode': 'idle' }));
      points.push(point('system.cpu.logical.count', at, 4));
      points.push(point('system.memory.utilization', at, 0.5, { 'system.memory.state': 'used' }));
      points.push(point('system.memory.usage', at, 8e9, { 'system.memory.state': 'used' }));
      points.push(point('system.memory.limit', at, 16e9));
      // 6 MB received per minute: 100,000 B/s.
      points.push(
        point('system.network.io', at, 1e6 + i * 6e6, {
          'network.interface.name': 'eth0',
          'network.io.direction': 'receive',
        }),
      );
      points.push(
        point('system.network.io', at, i * 60_000, {
          'network.interface.name': 'eth0',
          'network.io.direction': 'transmit',
        }),
      );
      const fs = {
        'system.device': '/dev/sda1',
        'system.filesystem.mountpoint': '/',
        'system.filesystem.type': 'ext4',
      };
      points.push(point('system.filesystem.utilization', at, 0.25, fs));
      points.push(point('system.filesystem.usage', at, 25e9, { ...fs, 'system.filesystem.state': 'used' }));
      points.push(point('system.filesystem.usage', at, 75e9, { ...fs, 'system.filesystem.state': 'free' }));
    });
    points.push(point('system.cpu.utilization', T0, 0.99, { 'cpu.mode': 'user' }, 'other-host'));
    await t.store.writeMetricPoints(points);
    const nowMs = T0 + 3 * 60_000 + 1000;
    // `current` reads the last minutes by the real clock; these points are older, so ask the function.
    const { currentResources } = await import('../src/resources/index.ts');
    const c = await currentResources(t.store, 'h1', nowMs);
    assert.equal(c.cpu.utilization, 0.8);
    assert.equal(c.cpu.cores, 4);
    assert.equal(c.memory.utilization, 0.5);
    assert.deepEqual([c.memory.usedBytes, c.memory.limitBytes], [8e9, 16e9]);
    assert.deepEqual(c.filesystems, [
      { mount: '/', device: '/dev/sda1', utilization: 0.25, usedBytes: 25e9, sizeBytes: 100e9 },
    ]);
    assert.equal(c.network.rxBytesPerSec, 100_000);
    assert.equal(c.network.txBytesPerSec, 1000);
    const stats = await get(
      t.app,
      `/api/v1/resources/statistics?host=h1&resource=cpu&from=${T0}&to=${T0 + 10 * 60_000}`,
    );
    assert.equal(stats.status, 200);
    const cpu = stats.json.resources[0].series[0];
    // Busy 0.2, 0.4, 0.6, 0.8: mean 0.5, p50 0.5, p95 = 0.6 + 0.85·0.2 (type 7), +0.2 per minute = 12 per hour.
    assert.equal(cpu.samples, 4);
    assert.ok(Math.abs(cpu.mean - 0.5) < 1e-12);
    assert.ok(Math.abs(cpu.p95 - 0.77) < 1e-12, String(cpu.p95));
    assert.ok(Math.abs(cpu.trendPerHour - 12) < 1e-9, String(cpu.trendPerHour));
    const hosts = await get(t.app, `/api/v1/resources/hosts?from=${T0}&to=${T0 + 3_600_000}`);
    assert.deepEqual(
      hosts.json.hosts.map((h: any) => h.host),
      ['h1', 'other-host'],
    );
    const none = await get(t.app, '/api/v1/resources/current');
    assert.equal(none.status, 404, 'no host in the last 24 h by the real clock');
    assert.match(none.json.detail, /no host has reported/);
  } finally {
    await t.close();
  }
});
