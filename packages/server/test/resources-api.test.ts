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
    // Used and free only (no reserved state reported): size = used + free, reserved unknown.
    assert.deepEqual(c.filesystems, [
      {
        mount: '/',
        device: '/dev/sda1',
        utilization: 0.25,
        usedBytes: 25e9,
        availableBytes: 75e9,
        reservedBytes: null,
        sizeBytes: 100e9,
      },
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

test('every resource route answers by its schema; unknown and malformed parameters are refused by name', async () => {
  const t = await startTestApp();
  try {
    const points: MetricPoint[] = [];
    // A day of samples every 10 min: one core pegged (busy 1), memory 0.6, one filesystem filling up.
    for (let i = 0; i < 144; i++) {
      const at = T0 + i * 600_000;
      const busy = 1;
      points.push(point('system.cpu.utilization', at, busy, { 'cpu.mode': 'user' }));
      points.push(point('system.cpu.utilization', at, 1 - busy, { 'cpu.mode': 'idle' }));
      points.push(point('system.cpu.logical.count', at, 1));
      points.push(point('system.cpu.load_average.1m', at, 2));
      points.push(point('system.memory.utilization', at, 0.6, { 'system.memory.state': 'used' }));
      points.push(point('system.memory.usage', at, 6e9, { 'system.memory.state': 'used' }));
      points.push(point('system.memory.limit', at, 10e9));
      const fs = { 'system.device': '/dev/sda1', 'system.filesystem.mountpoint': '/' };
      points.push(point('system.filesystem.utilization', at, 0.5 + 0.4 * (i / 143), fs));
    }
    await t.store.writeMetricPoints(points);
    const range = `host=h1&from=${T0}&to=${T0 + 86_400_000}`;
    // validateResponses is on in tests: a 200 here means the answer matched its schema.
    for (const path of [
      `hosts?from=${T0}&to=${T0 + 86_400_000}`,
      'current?host=h1',
      `statistics?${range}`,
      `bottlenecks?${range}`,
      `scaling-recommendations?${range}`,
      `cost-optimization?${range}`,
      'capacity?host=h1&horizon=7d',
      `predictions/cpu?${range}&horizon=6h`,
      `predictions/disk?${range}&select=/&threshold=0.95`,
    ]) {
      const r = await get(t.app, `/api/v1/resources/${path}`);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.json).slice(0, 400)}`);
    }
    const scaling = await get(t.app, `/api/v1/resources/scaling-recommendations?${range}`);
    // One core always busy: the queue at the current size grows without bound, which JSON writes as null.
    const cpu = scaling.json.recommendations.find((r: any) => r.resource === 'cpu');
    assert.equal(cpu.performance.queueDelayNow, null, JSON.stringify(cpu));

    const unknown = await get(t.app, `/api/v1/resources/statistics?${range}&resourceType=cpu`);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.code, 'ERR_QUERY_PARAM');
    assert.equal(unknown.json.field, 'resourceType');
    assert.equal(
      unknown.json.detail,
      'resourceType: unknown parameter; expected one of host, resource, from, to, window',
    );
    const onCurrent = await get(t.app, '/api/v1/resources/current?host=h1&window=1h');
    assert.equal(onCurrent.status, 400);
    assert.equal(onCurrent.json.detail, 'window: unknown parameter; expected one of host');
    const threshold = await get(t.app, '/api/v1/resources/predictions/cpu?host=h1&threshold=0x10');
    assert.equal(threshold.status, 400);
    assert.equal(
      threshold.json.detail,
      'threshold: expected a number -1000000000000000..1000000000000000, got "0x10"',
    );
    const horizon = await get(t.app, '/api/v1/resources/capacity?host=h1&horizon=24h');
    assert.equal(horizon.json.detail, 'horizon: expected one of 7d, 30d, got "24h"');
    const name = await get(t.app, '/api/v1/resources/predictions/cpu%20load?host=h1');
    assert.equal(name.status, 400);
    assert.equal(name.json.field, 'resourceType');
    assert.match(
      name.json.detail,
      /^resourceType: expected the resource: cpu, memory, disk, network, disk_io or a metric name/,
    );
  } finally {
    await t.close();
  }
});

test('the forecast horizons of the API schema are those the forecaster takes', async () => {
  const { HORIZONS } = await import('../src/resources/index.ts');
  const { FORECAST_HORIZONS } = await import('../src/api/schemas/resources.ts');
  assert.deepEqual([...FORECAST_HORIZONS], Object.keys(HORIZONS));
});

test('evidence, trends and right-sizing say the span of data they used, not the window asked for', async () => {
  const t = await startTestApp();
  try {
    // Nine minutes of samples (10, a minute apart, the newest a second ago) asked about over 24 h:
    // CPU busy 0.93 of 4 cores; memory only in the last two samples, 0.50 then 0.51.
    const end = Date.now() - 1000;
    const points: MetricPoint[] = [];
    for (let i = 0; i < 10; i++) {
      const at = end - (9 - i) * 60_000;
      points.push(point('system.cpu.utilization', at, 0.93, { 'cpu.mode': 'user' }, 'short'));
      points.push(point('system.cpu.utilization', at, 0.07, { 'cpu.mode': 'idle' }, 'short'));
      points.push(point('system.cpu.logical.count', at, 4, {}, 'short'));
    }
    points.push(
      point('system.memory.utilization', end - 60_000, 0.5, { 'system.memory.state': 'used' }, 'short'),
    );
    points.push(point('system.memory.utilization', end, 0.51, { 'system.memory.state': 'used' }, 'short'));
    await t.store.writeMetricPoints(points);

    const use = await get(t.app, '/api/v1/resources/bottlenecks?host=short&window=24h');
    assert.equal(use.status, 200);
    const cpu = use.json.bottlenecks.find((b: any) => b.resource === 'cpu' && b.kind === 'utilization');
    // It said "CPU busy p95 93.0% over 1440 min".
    assert.equal(cpu.evidence, 'CPU busy p95 93.0% over 9 min of data (10 samples) of the 24 h asked');

    const stats = await get(t.app, '/api/v1/resources/statistics?host=short&window=24h');
    const series = (resource: string) =>
      stats.json.resources.find((r: any) => r.resource === resource).series[0];
    // Memory: +0.01 in one minute is 0.6 per hour, but only as an extrapolation of one minute.
    const mem = series('memory');
    assert.equal(mem.spanMs, 60_000);
    assert.ok(Math.abs(mem.trendPerHour - 0.6) < 1e-9, String(mem.trendPerHour));
    assert.equal(mem.trendOver, 'fitted over 1 min of data (2 samples), extrapolated to an hour');
    assert.equal(series('cpu').spanMs, 9 * 60_000);
    assert.equal(series('cpu').trendOver, 'fitted over 9 min of data (10 samples), extrapolated to an hour');

    const scaling = await get(t.app, '/api/v1/resources/scaling-recommendations?host=short&window=24h');
    const rec = scaling.json.recommendations.find((r: any) => r.resource === 'cpu');
    // 0.93 × 4 = 3.72 cores at every sample; it said "over 0.0 days".
    assert.equal(rec.why, 'p90 of 10 samples over 9 min (24 h half-life) is 3.72 cores; +15% margin');
    assert.equal(rec.action, 'wait');
  } finally {
    await t.close();
  }
});
