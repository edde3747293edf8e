/**
 * Forecast accuracy on real server metrics: the NAB series in ../shared/data/nab (AWS CloudWatch and
 * "known cause" series), loaded with the same CSV parser and regular-grid resampler as
 * `siperf import metrics-csv`. For each series and horizon (1 h, 6 h, 24 h; 7 d on the four long series)
 * a rolling-origin backtest (method chosen on the first 70%, forecasts from every later origin, see
 * `forecaster.ts`) gives, in the same run and on the same origins:
 * - MASE of siperf's forecaster, of the seasonal naive forecast (a day ago), and of a linear trend fitted
 *   over the last `horizon` of data (Prometheus `predict_linear`);
 * - siperf's MAE relative to seasonal naive (target overall ≤ 0.8 at 24 h, geometric mean over series);
 * - the empirical coverage of siperf's 80% and 95% intervals (target within ±5 points).
 *
 * Usage: npm run bench:forecast -- [--data=../shared/data/nab] [--only=substring]
 * Writes bench/results/forecast-nab.json.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetricsCsv } from '../../packages/server/src/ingest/index.ts';
import { forecastSeries } from '../../packages/server/src/resources/forecast/forecaster.ts';
import { medianStep, toRegularGrid } from '../../packages/server/src/resources/forecast/regular-grid.ts';
import { linearFit } from '../../packages/server/src/util/stats.ts';
import { gitCommit, option, writeResults } from '../lib/run-info.ts';

const DATA = resolve(
  option('data', 'BENCH_NAB_DIR', fileURLToPath(new URL('../../../shared/data/nab/data', import.meta.url))),
);
const ONLY = option('only', 'BENCH_ONLY', '');
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LONG = new Set([
  'ambient_temperature_system_failure.csv',
  'cpu_utilization_asg_misconfiguration.csv',
  'machine_temperature_system_failure.csv',
  'nyc_taxi.csv',
]);

interface Row {
  series: string;
  horizon: string;
  steps: number;
  method: string;
  mase: number;
  maseSeasonalNaive: number;
  maseLinear: number;
  relativeMae: number;
  coverage80: number;
  coverage95: number;
}

/** MASE of seasonal naive and of a linear trend on the same origins as the forecaster's backtest. */
function baselines(y: number[], period: number, horizon: number): { sn: number; linear: number } {
  const split = Math.floor(y.length * 0.7);
  const m = period > 1 && y.length >= 2 * period + horizon ? period : 1;
  let scale = 0;
  for (let t = m; t < split; t++) scale += Math.abs(y[t]! - y[t - m]!);
  scale = scale / Math.max(1, split - m) || 1;
  const stride = Math.max(1, Math.floor(((y.length - split) * horizon) / 2_000_000));
  let sn = 0;
  let lin = 0;
  let n = 0;
  const window = Math.max(2, horizon);
  for (let t = split; t < y.length; t += stride) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = Math.max(0, t - window); i < t; i++) {
      xs.push(i);
      ys.push(y[i]!);
    }
    const { slope, intercept } = linearFit(xs, ys);
    for (let h = 1; h <= horizon && t + h - 1 < y.length; h++) {
      const actual = y[t + h - 1]!;
      sn += Math.abs(actual - y[t + h - 1 - m * Math.ceil(h / m)]!);
      lin += Math.abs(actual - (intercept + slope * (t + h - 1)));
      n += 1;
    }
  }
  return { sn: sn / n / scale, linear: lin / n / scale };
}

function files(): string[] {
  return ['realAWSCloudwatch', 'realKnownCause'].flatMap((dir) =>
    readdirSync(join(DATA, dir))
      .filter((f) => f.endsWith('.csv') && f.includes(ONLY))
      .sort()
      .map((f) => join(dir, f)),
  );
}

function main(): void {
  if (!existsSync(DATA)) {
    out(`NAB data not found at ${DATA}: pass --data=<folder holding realAWSCloudwatch/>`);
    process.exit(1);
  }
  out('# Forecast accuracy on NAB (rolling origin, method chosen on the first 70% of each series)');
  out(`commit ${gitCommit()}, data ${DATA}`);
  const rows: Row[] = [];
  const t0 = performance.now();
  for (const file of files()) {
    const csv = parseMetricsCsv(readFileSync(join(DATA, file), 'utf8'));
    const times = csv.samples.map((s) => s.timeMs);
    const step = medianStep(times);
    const grid = toRegularGrid(
      times,
      csv.samples.map((s) => s.value),
      step,
    );
    const period = Math.round(DAY / step);
    const name = file.split('/')[1]!.replace(/\.csv$/, '');
    out(
      `${name}: ${csv.samples.length} rows, step ${step / 60_000} min, ${csv.duplicateTimes} repeated times, ${csv.outOfOrder} out of order, ${grid.filled} steps filled`,
    );
    const horizons: [string, number][] = [
      ['1h', HOUR],
      ['6h', 6 * HOUR],
      ['24h', DAY],
    ];
    if (LONG.has(file.split('/')[1]!)) horizons.push(['7d', 7 * DAY]);
    for (const [label, ms] of horizons) {
      const steps = Math.max(1, Math.round(ms / step));
      const r = forecastSeries(grid.values, { startMs: grid.startMs, stepMs: step, horizon: steps, period });
      if (!r.accuracy) continue;
      const b = baselines(grid.values, period, steps);
      rows.push({
        series: name,
        horizon: label,
        steps,
        method: r.method,
        mase: r.accuracy.mase,
        maseSeasonalNaive: b.sn,
        maseLinear: b.linear,
        relativeMae: r.accuracy.relativeMae,
        coverage80: r.accuracy.coverage80,
        coverage95: r.accuracy.coverage95,
      });
    }
  }
  out();
  out(
    '| series | horizon | method | MASE siperf | MASE seasonal naive | MASE linear trend | siperf / seasonal naive | cover 80% | cover 95% |',
  );
  out('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const f = (v: number, d = 2) => v.toFixed(d);
  for (const r of rows) {
    out(
      `| ${r.series} | ${r.horizon} | ${r.method} | ${f(r.mase)} | ${f(r.maseSeasonalNaive)} | ${f(r.maseLinear)} | ${f(r.relativeMae)} | ${f(100 * r.coverage80, 0)}% | ${f(100 * r.coverage95, 0)}% |`,
    );
  }
  out();
  const summary: Record<string, unknown> = {};
  for (const h of ['1h', '6h', '24h', '7d']) {
    const rs = rows.filter((r) => r.horizon === h);
    if (rs.length === 0) continue;
    const mean = (k: keyof Row) => rs.reduce((s, r) => s + (r[k] as number), 0) / rs.length;
    const geo = Math.exp(rs.reduce((s, r) => s + Math.log(Math.max(r.relativeMae, 1e-9)), 0) / rs.length);
    summary[h] = {
      series: rs.length,
      maseSiperf: mean('mase'),
      maseSeasonalNaive: mean('maseSeasonalNaive'),
      maseLinear: mean('maseLinear'),
      relativeMaeGeoMean: geo,
      coverage80: mean('coverage80'),
      coverage95: mean('coverage95'),
    };
    out(
      `overall ${h} (${rs.length} series): mean MASE siperf ${f(mean('mase'))}, seasonal naive ${f(mean('maseSeasonalNaive'))}, linear ${f(mean('maseLinear'))}; siperf/seasonal-naive MAE ${f(geo, 3)} (geometric mean; target ≤ 0.8 at 24h); coverage ${f(100 * mean('coverage80'), 1)}% / ${f(100 * mean('coverage95'), 1)}% (targets 80 / 95 ± 5)`,
    );
  }
  out(`time: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  writeResults('forecast-nab.json', { commit: gitCommit(), rows, summary });
}

main();
