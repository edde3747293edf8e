/**
 * CSV import and predictions through the API: a filling series whose crossing time is known.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MetricPoint, scalarPoint } from '../src/model/index.ts';
import { get, post, startTestApp } from './helpers.ts';

const STEP = 300_000;

test('import a CSV series, forecast it, and find when it crosses a threshold', async () => {
  const t = await startTestApp();
  try {
    // Three days at 5-minute steps ending now, rising 0.12 per day from 0.5 with a small daily wave:
    // the trend reaches 0.9 at 3⅓ days, 8 h after the last point.
    const end = Math.floor(Date.now() / STEP) * STEP;
    const n = 3 * 288;
    const rows = ['timestamp,value'];
    for (let i = 0; i < n; i++) {
      const at = end - (n - 1 - i) * STEP;
      const days = i / 288;
      rows.push(`${at},${(0.5 + 0.12 * days + 0.005 * Math.sin(2 * Math.PI * days)).toFixed(6)}`);
    }
    // A repeated row and one out of order, as real exports have.
    rows.splice(10, 0, rows[9]!);
    const imp = await post(
      t.app,
      '/api/v1/resources/import?metric=test.fill&host=box-1',
      rows.join('\n'),
      'text/csv',
    );
    assert.equal(imp.status, 201, JSON.stringify(imp.json));
    assert.equal(imp.json.points, n + 1);
    assert.equal(imp.json.duplicateTimes, 1);
    // The same file again replaces what the first import wrote.
    const again = await post(
      t.app,
      '/api/v1/resources/import?metric=test.fill&host=box-1',
      rows.join('\n'),
      'text/csv',
    );
    assert.equal(again.json.replaced, n + 1);
    const count = await get(
      t.app,
      `/api/v1/resources/statistics?host=box-1&resource=test.fill&from=${end - n * STEP}&to=${end + STEP}`,
    );
    assert.equal(count.json.resources[0].series[0].samples, n + 1);
    const r = await get(
      t.app,
      '/api/v1/resources/predictions/test.fill?host=box-1&horizon=24h&threshold=0.9',
    );
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const p = r.json;
    assert.equal(p.stepMs, STEP);
    assert.equal(p.points.length, 288);
    assert.ok(p.accuracy && p.accuracy.mase >= 0);
    for (const x of p.points)
      assert.ok(
        x.lower95 <= x.lower80 && x.lower80 <= x.value && x.value <= x.upper80 && x.upper80 <= x.upper95,
      );
    const hoursAfter = (iso: string) => (Date.parse(iso) - end) / 3_600_000;
    // The likely crossing within two hours of the truth (8 h); the early one no later, the late one no earlier.
    assert.ok(p.exhaustion.withinHorizon);
    assert.ok(Math.abs(hoursAfter(p.exhaustion.p50) - 8) < 2, p.exhaustion.p50);
    assert.ok(hoursAfter(p.exhaustion.p10) <= hoursAfter(p.exhaustion.p50));
    assert.ok(p.exhaustion.p90 === null || hoursAfter(p.exhaustion.p90) >= hoursAfter(p.exhaustion.p50));
    assert.ok(Math.abs(hoursAfter(p.exhaustion.linear) - 8) < 1, p.exhaustion.linear);
    const bad = await get(t.app, '/api/v1/resources/predictions/test.fill?host=box-1&horizon=2h');
    assert.equal(bad.status, 400);
    assert.match(bad.json.detail, /horizon: expected one of 1h, 6h, 24h, 7d, 30d/);
    const badCsv = await post(
      t.app,
      '/api/v1/resources/import?metric=x&host=h',
      'timestamp,value\nnot-a-time,1\n',
      'text/csv',
    );
    assert.equal(badCsv.status, 400);
    assert.match(badCsv.json.detail, /line 2: timestamp "not-a-time" is not a time/);
    // A time the store cannot hold: a 400 naming the line, and nothing of the file stored.
    const far = await post(
      t.app,
      '/api/v1/resources/import?metric=far&host=h',
      'timestamp,value\n2024-01-01 00:00:00,1\n2300-01-01 00:00:00,2\n',
      'text/csv',
    );
    assert.equal(far.status, 400);
    assert.match(far.json.detail, /line 3: timestamp "2300-01-01 00:00:00" is outside 1678..2261/);
    const farStats = await get(
      t.app,
      '/api/v1/resources/statistics?host=h&resource=far&from=2023-12-31T00:00:00Z&to=2024-01-02T00:00:00Z',
    );
    assert.equal(farStats.json.resources[0].series.length, 0);
    // Built-in names are refused (they would shadow or corrupt a host's own series).
    for (const name of ['cpu', 'system.memory.utilization']) {
      const r2 = await post(
        t.app,
        `/api/v1/resources/import?metric=${name}&host=h`,
        '1700000000,1\n',
        'text/csv',
      );
      assert.equal(r2.status, 400, name);
      assert.match(r2.json.detail, /built-in resource name/);
    }
    // A series below zero is forecast below zero (no clamping outside utilisations and rates).
    const neg = ['timestamp,value'];
    for (let i = 0; i < 600; i++)
      neg.push(`${end - (599 - i) * STEP},${(-20 + Math.sin(i / 10)).toFixed(3)}`);
    await post(t.app, '/api/v1/resources/import?metric=temp.neg&host=box-1', neg.join('\n'), 'text/csv');
    const negP = await get(t.app, '/api/v1/resources/predictions/temp.neg?host=box-1&horizon=1h');
    assert.ok(
      negP.json.points.every((x: any) => x.value < -15 && x.lower95 <= x.value && x.value <= x.upper95),
    );
    const noMetric = await post(t.app, '/api/v1/resources/import?host=h', '1,1\n', 'text/csv');
    assert.equal(noMetric.status, 400);
    assert.match(noMetric.json.detail, /metric: required/);
  } finally {
    await t.close();
  }
});

test('a disk the straight line fills in 19 days: the forecast that does not cross says why', async () => {
  const DAY = 86_400_000;
  const T = Date.parse('2026-03-29T00:00:00Z');
  const t = await startTestApp();
  try {
    /** 28 days of `system.filesystem.utilization` every 10 min for host `h` (the host sampler's shape). */
    const write = async (host: string, value: (days: number) => number) => {
      const points: MetricPoint[] = [];
      for (let at = T - 28 * DAY; at <= T; at += 600_000) {
        points.push(
          scalarPoint({
            name: 'system.filesystem.utilization',
            service: 'siperf-host-sampler',
            unit: '1',
            type: 'gauge',
            value: value((at - (T - 28 * DAY)) / DAY),
            timeUnixNano: BigInt(at) * 1_000_000n,
            attributes: { 'system.device': '/dev/sda1', 'system.filesystem.mountpoint': '/' },
            resourceAttributes: { 'host.name': host },
          }),
        );
      }
      await t.store.writeMetricPoints(points);
    };
    const predict = async (host: string, horizon: string) => {
      const r = await get(
        t.app,
        `/api/v1/resources/predictions/disk?host=${host}&horizon=${horizon}&from=${T - 28 * DAY}&to=${T + 60_000}`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json;
    };
    // 53% growing 1%/day: 81% at the last sample, full (100%) in (100 − 81) / 1 = 19 days.
    await write('steady', (days) => 0.53 + 0.01 * days);
    const week = await predict('steady', '7d');
    assert.equal(week.exhaustion.p50, null);
    assert.equal(week.exhaustion.withinHorizon, false);
    // Hourly means are stamped at the hour's start: the line is 25 min early at most.
    const lineDays = (Date.parse(week.exhaustion.linear) - T) / DAY;
    assert.ok(Math.abs(lineDays - 19) < 1 / 24, String(lineDays));
    const top = Math.max(...week.points.map((p: any) => p.value));
    assert.match(
      week.exhaustion.explanation,
      new RegExp(
        `^the straight line through 28\\.0 days of history \\(1\\.00%/day\\) crosses 100\\.0% on \\S+ \\(in 19\\.0 days\\), after the 7d horizon the forecast covers \\(to ${new Date(T + 7 * DAY).toISOString()}, where it reaches ${(100 * top).toFixed(1)}%\\)`,
      ),
    );
    // 30% growing 2%/day for 21 days, then 0.2%/day: the line through all 28 days still crosses within
    // 30 days, the forecast follows the slow last week and stays below: it says so with both rates.
    await write('slowing', (days) => (days < 21 ? 0.3 + 0.02 * days : 0.72 + 0.002 * (days - 21)));
    const month = await predict('slowing', '30d');
    const e = month.exhaustion;
    assert.equal(e.p50, null);
    assert.ok(e.linear !== null && Date.parse(e.linear) < T + 30 * DAY, e.linear);
    const highest = Math.max(...month.points.map((p: any) => p.value));
    assert.ok(highest < 1);
    assert.match(
      e.explanation,
      new RegExp(
        `crosses 100\\.0% on ${e.linear} \\(in \\d+\\.\\d days\\), within the 30d horizon, but the forecast \\(${month.method}\\) levels off at ${(100 * highest).toFixed(1)}% at most: it grows \\d\\.\\d\\d%/day on average over the horizon against the line's \\d\\.\\d\\d%/day`,
      ),
    );
  } finally {
    await t.close();
  }
});
