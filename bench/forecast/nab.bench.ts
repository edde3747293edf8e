/**
 * Forecast accuracy on real server metrics: the NAB series in ../shared/data/nab (AWS CloudWatch and
 * "known cause" series), loaded with the same CSV parser and regular-grid resampler as
 * `siperf import metrics-csv`, siperf side by side with Grafana's augurs (`augurs.ts`). For each series and
 * horizon (1 h, 6 h, 24 h; 7 d on the four long series) siperf's own backtest (method chosen on the first
 * 70%, forecasts from every later origin, see `forecaster.ts` `backtest`) gives its figures over all
 * origins; then, on a common subsample of those origins (every S steps from the split, S a multiple of
 * the backtest's own stride, at most `--origins` per series), with the same MASE scale (the one-step
 * seasonal naive MAE on the first 70%) and the same errors (every step 1..horizon that has an actual):
 * - siperf (the same forecasts as its backtest, at those origins);
 * - seasonal naive (a day ago) and a straight line over the last `horizon` (Prometheus `predict_linear`);
 * - augurs MSTL with a daily season, MSTL with daily + weekly seasons where two weeks of history exist
 *   before the origin (else the daily one: the column is "the best MSTL the history allows"), and
 *   augurs AutoETS — each refitted on the whole history before every origin, as it would run live.
 * It prints per horizon the mean MASE (all series and the long ones), MAE relative to seasonal naive
 * (geometric mean over series), interval coverage, who wins how many series, the per-series table, CPU
 * seconds per fit (min / median / max) and a 60-day, 5-minute fit of siperf as the API would run it
 * (target: at most 2 CPU seconds, the median of three).
 *
 * Usage: npm run bench:forecast -- [--data=../shared/data/nab/data] [--only=substring] [--origins=48]
 *   [--no-augurs]
 * Writes bench/results/forecast-nab.json. Without the data it says so and exits 0 (nothing to measure).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetricsCsv } from '../../packages/server/src/ingest/index.ts';
import { backtest, forecastSeries } from '../../packages/server/src/resources/forecast/forecaster.ts';
import { medianStep, toRegularGrid } from '../../packages/server/src/resources/forecast/regular-grid.ts';
import { linearFit } from '../../packages/server/src/util/stats.ts';
import { gitCommit, numberOption, option, writeResults } from '../lib/run-info.ts';
import { type AugursForecast, autoEtsForecast, loadAugurs, mstlForecast } from './augurs.ts';

const DATA = resolve(
  option('data', 'BENCH_NAB_DIR', fileURLToPath(new URL('../../../shared/data/nab/data', import.meta.url))),
);
const ONLY = option('only', 'BENCH_ONLY', '');
const ORIGINS = numberOption('origins', 'BENCH_ORIGINS', 48, true);
const NO_AUGURS = option('no-augurs', 'BENCH_NO_AUGURS', 'false') === 'true';
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LONG = new Set([
  'ambient_temperature_system_failure',
  'cpu_utilization_asg_misconfiguration',
  'machine_temperature_system_failure',
  'nyc_taxi',
]);
const HORIZONS: [string, number][] = [
  ['1h', HOUR],
  ['6h', 6 * HOUR],
  ['24h', DAY],
  ['7d', 7 * DAY],
];

/** The forecasters compared; `siperf` and the two baselines always, the augurs ones when it loads. */
const METHODS = ['siperf', 'seasonal naive', 'linear', 'augurs MSTL d', 'augurs MSTL d+w', 'augurs AutoETS'];
type MethodName = (typeof METHODS)[number];
const AUGURS = METHODS.filter((m) => m.startsWith('augurs'));

/** Error sums of one method on one series and horizon. */
interface Acc {
  abs: number;
  n: number;
  in80: number;
  in95: number;
  /** Forecasts with intervals (the baselines have none). */
  withIntervals: number;
}
const acc = (): Acc => ({ abs: 0, n: 0, in80: 0, in95: 0, withIntervals: 0 });

interface Row {
  series: string;
  long: boolean;
  horizon: string;
  steps: number;
  /** siperf's chosen method (on the first 70%). */
  method: string;
  /** siperf over all of its backtest's origins (its own accuracy). */
  all: { mase: number; relativeMae: number; coverage80: number; coverage95: number; origins: number };
  /** Every method on the common subsample of origins. */
  origins: number;
  mase: Record<MethodName, number>;
  coverage80: Record<MethodName, number>;
  coverage95: Record<MethodName, number>;
  /** MAE over seasonal naive's MAE, same origins. */
  relativeMae: Record<MethodName, number>;
  winner: MethodName;
}

/** CPU seconds of this process (the bench runs on one thread: a fit's CPU is the delta around it). */
function cpuSeconds(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

function files(): string[] {
  return ['realAWSCloudwatch', 'realKnownCause'].flatMap((dir) =>
    readdirSync(join(DATA, dir))
      .filter((f) => f.endsWith('.csv') && f.includes(ONLY))
      .sort()
      .map((f) => join(dir, f)),
  );
}

function load(file: string): { values: number[]; startMs: number; step: number; line: string } {
  const csv = parseMetricsCsv(readFileSync(join(DATA, file), 'utf8'));
  const times = csv.samples.map((s) => s.timeMs);
  const step = medianStep(times);
  const grid = toRegularGrid(
    times,
    csv.samples.map((s) => s.value),
    step,
  );
  const name = file.split('/')[1]!.replace(/\.csv$/, '');
  const line = `${name}: ${csv.samples.length} rows, step ${step / 60_000} min, ${csv.duplicateTimes} repeated times, ${csv.outOfOrder} out of order, ${grid.filled} steps filled`;
  return { values: grid.values, startMs: grid.startMs, step, line };
}

const cpu: Record<string, number[]> = {};
/** The API's fit of 60 days of 5-minute data, 24 h ahead (target: at most 2 CPU seconds). */
const FIT_60_DAYS = 'siperf forecastSeries, 60 days of 5 min, 24 h ahead';
const timed = <T>(what: string, f: () => T): T => {
  const c = cpuSeconds();
  const r = f();
  const list = cpu[what] ?? [];
  list.push(cpuSeconds() - c);
  cpu[what] = list;
  return r;
};

function benchSeries(file: string, withAugurs: boolean, failures: Record<string, number>): Row[] {
  const name = file.split('/')[1]!.replace(/\.csv$/, '');
  const { values: y, startMs, step, line } = load(file);
  out(line);
  const n = y.length;
  const period = Math.round(DAY / step);
  const period2 = 7 * period;
  const long = LONG.has(name);
  const horizons = HORIZONS.filter(([l]) => l !== '7d' || long).map(
    ([label, ms]) => [label, Math.max(1, Math.round(ms / step))] as const,
  );
  const maxH = Math.max(...horizons.map(([, h]) => h));
  const split = Math.floor(n * 0.7);
  // MASE scale as the forecaster's backtest: one-step seasonal naive MAE on the first 70%.
  let scale = 0;
  for (let t = period; t < split; t++) scale += Math.abs(y[t]! - y[t - period]!);
  scale = scale / Math.max(1, split - period) || 1;
  // Common origins: a multiple of every horizon's backtest stride, at most ORIGINS of them.
  let lcm = 1;
  for (const [, h] of horizons) {
    const s = Math.max(1, Math.floor(((n - split) * h) / 2_000_000));
    lcm = (lcm * s) / gcd(lcm, s);
  }
  const every = Math.ceil(Math.ceil((n - split) / ORIGINS) / lcm) * lcm;
  const origins: number[] = [];
  for (let t = split; t < n; t += every) origins.push(t);
  const sums = new Map<string, Acc>();
  const sum = (m: MethodName, h: string) => {
    const k = `${m}|${h}`;
    const a = sums.get(k) ?? acc();
    sums.set(k, a);
    return a;
  };
  const add = (m: MethodName, label: string, actual: number, f: number, b?: readonly number[]) => {
    const a = sum(m, label);
    a.abs += Math.abs(actual - f);
    a.n += 1;
    if (b) {
      a.withIntervals += 1;
      if (actual >= b[0]! && actual <= b[1]!) a.in80 += 1;
      if (actual >= b[2]! && actual <= b[3]!) a.in95 += 1;
    }
  };

  // siperf: its own backtest, all origins (its accuracy) and the common ones (the comparison).
  const own = new Map<string, { method: string; all: Row['all'] }>();
  for (const [label, H] of horizons) {
    const res = timed('siperf backtest (choose + calibrate)', () =>
      backtest(y, { startMs, stepMs: step, horizon: H, period, period2 }, (t, h, f, o) => {
        if ((t - split) % every !== 0) return;
        const actual = y[t + h - 1]!;
        add('siperf', label, actual, f, [f + o[1], f + o[2], f + o[0], f + o[3]]);
      }),
    );
    if (!res) throw new Error(`${name} ${label}: too short for a backtest`);
    own.set(label, { method: res.method, all: res.accuracy });
  }
  // Baselines on the common origins.
  for (const t of origins) {
    for (const [label, H] of horizons) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = Math.max(0, t - Math.max(2, H)); i < t; i++) {
        xs.push(i);
        ys.push(y[i]!);
      }
      const { slope, intercept } = linearFit(xs, ys);
      for (let h = 1; h <= H && t + h - 1 < n; h++) {
        const actual = y[t + h - 1]!;
        add('seasonal naive', label, actual, y[t + h - 1 - period * Math.ceil(h / period)]!);
        add('linear', label, actual, intercept + slope * (t + h - 1));
      }
    }
  }
  // augurs: refitted on the history before each origin.
  if (withAugurs) {
    for (const t of origins) {
      const history = Float64Array.from(y.slice(0, t));
      const fits: [MethodName, () => AugursForecast][] = [
        ['augurs MSTL d', () => mstlForecast(history, [period], maxH)],
        ['augurs AutoETS', () => autoEtsForecast(history, period, maxH)],
      ];
      if (t >= 2 * period2)
        fits.push(['augurs MSTL d+w', () => mstlForecast(history, [period, period2], maxH)]);
      const got = new Map<MethodName, AugursForecast>();
      for (const [m, fit] of fits) {
        try {
          got.set(m, timed(m, fit));
        } catch {
          failures[m] = (failures[m] ?? 0) + 1;
        }
      }
      if (!got.has('augurs MSTL d+w') && got.has('augurs MSTL d'))
        got.set('augurs MSTL d+w', got.get('augurs MSTL d')!);
      for (const [m, f] of got) {
        for (const [label, H] of horizons) {
          for (let h = 1; h <= H && t + h - 1 < n; h++) {
            const i = h - 1;
            const b = [f.lower80[i]!, f.upper80[i]!, f.lower95[i]!, f.upper95[i]!];
            add(m, label, y[t + h - 1]!, f.point[i]!, b);
          }
        }
      }
    }
  }
  const rows: Row[] = [];
  for (const [label, H] of horizons) {
    const present = METHODS.filter((m) => sums.has(`${m}|${label}`));
    const mae = (m: MethodName) => sum(m, label).abs / sum(m, label).n;
    const rec = (f: (m: MethodName) => number) =>
      Object.fromEntries(present.map((m) => [m, f(m)])) as Record<MethodName, number>;
    const mase = rec((m) => mae(m) / scale);
    const withIntervals = present.filter((m) => sum(m, label).withIntervals > 0);
    rows.push({
      series: name,
      long,
      horizon: label,
      steps: H,
      method: own.get(label)!.method,
      all: own.get(label)!.all,
      origins: origins.length,
      mase,
      relativeMae: rec((m) => mae(m) / mae('seasonal naive')),
      coverage80: Object.fromEntries(
        withIntervals.map((m) => [m, sum(m, label).in80 / sum(m, label).withIntervals]),
      ) as Record<MethodName, number>,
      coverage95: Object.fromEntries(
        withIntervals.map((m) => [m, sum(m, label).in95 / sum(m, label).withIntervals]),
      ) as Record<MethodName, number>,
      winner: present.reduce((a, b) => (mase[b]! < mase[a]! ? b : a)),
    });
  }
  return rows;
}

const f = (v: number | undefined, d = 2) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const geo = (xs: number[]) => Math.exp(mean(xs.map((x) => Math.log(Math.max(x, 1e-9)))));
const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${f(s[0], 3)} / ${f(s[Math.floor((s.length - 1) / 2)], 3)} / ${f(s[s.length - 1], 3)}`;
};

function summarise(rows: Row[], methods: MethodName[], more: string[]): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  const checks: string[] = [];
  for (const [set, pick] of [
    ['all series', (_r: Row) => true],
    ['long series', (r: Row) => r.long],
  ] as const) {
    out(`## Mean MASE on the common origins, ${set} (lower is better; winner in bold)`);
    out();
    out(`| horizon | series | ${methods.join(' | ')} | siperf wins |`);
    out(`| --- | ---: | ${methods.map(() => '---:').join(' | ')} | ---: |`);
    for (const [h] of HORIZONS) {
      const rs = rows.filter((r) => r.horizon === h && pick(r));
      if (rs.length === 0) continue;
      const m = Object.fromEntries(methods.map((k) => [k, mean(rs.map((r) => r.mase[k]!))]));
      const best = methods.reduce((a, b) => (m[b]! < m[a]! ? b : a));
      const wins = rs.filter((r) => r.winner === 'siperf').length;
      out(
        `| ${h} | ${rs.length} | ${methods.map((k) => (k === best ? `**${f(m[k])}**` : f(m[k]))).join(' | ')} | ${wins} of ${rs.length} |`,
      );
      const augurs = methods.filter((k) => AUGURS.includes(k));
      if (augurs.length > 0) {
        const bestAugurs = Math.min(...augurs.map((k) => m[k]!));
        checks.push(
          `${m.siperf! <= bestAugurs ? 'met' : 'MISSED'}: ${set} ${h} mean MASE siperf ${f(m.siperf, 3)} ≤ best augurs ${f(bestAugurs, 3)}`,
        );
      }
      summary[`${set} ${h}`] = { series: rs.length, meanMase: m, siperfWins: wins };
    }
    out();
  }
  out('## siperf / seasonal naive MAE (geometric mean) and interval coverage (80% / 95%), all series');
  out();
  out(
    `| horizon | siperf, all origins: MAE / SN, cover 80 / 95 | common origins: ${methods.filter((k) => k !== 'seasonal naive').join(' | ')} |`,
  );
  out(
    `| --- | --- | ${methods
      .filter((k) => k !== 'seasonal naive')
      .map(() => '---')
      .join(' | ')} |`,
  );
  for (const [h] of HORIZONS) {
    const rs = rows.filter((r) => r.horizon === h);
    if (rs.length === 0) continue;
    const allRel = geo(rs.map((r) => r.all.relativeMae));
    const all80 = mean(rs.map((r) => r.all.coverage80));
    const all95 = mean(rs.map((r) => r.all.coverage95));
    const cell = (k: MethodName) => {
      const rel = f(geo(rs.map((r) => r.relativeMae[k]!)), 3);
      if (rs[0]!.coverage80[k] === undefined) return rel;
      return `${rel}, ${pct(mean(rs.map((r) => r.coverage80[k]!)))} / ${pct(mean(rs.map((r) => r.coverage95[k]!)))}`;
    };
    out(
      `| ${h} | ${f(allRel, 3)}, ${pct(all80)} / ${pct(all95)} | ${methods
        .filter((k) => k !== 'seasonal naive')
        .map(cell)
        .join(' | ')} |`,
    );
    const sub80 = mean(rs.map((r) => r.coverage80.siperf!));
    const sub95 = mean(rs.map((r) => r.coverage95.siperf!));
    const subRel = geo(rs.map((r) => r.relativeMae.siperf!));
    const target = h === '24h' ? 0.8 : h === '7d' ? 0.85 : undefined;
    if (target !== undefined)
      checks.push(
        `${allRel <= target && subRel <= target ? 'met' : 'MISSED'}: ${h} siperf / seasonal naive MAE ${f(allRel, 3)} (all origins), ${f(subRel, 3)} (common) ≤ ${target}`,
      );
    const ok = (c: number, nominal: number) => Math.abs(c - nominal) <= 0.05;
    checks.push(
      `${ok(all80, 0.8) && ok(all95, 0.95) && ok(sub80, 0.8) && ok(sub95, 0.95) ? 'met' : 'MISSED'}: ${h} coverage ${pct(all80)} / ${pct(all95)} (all origins), ${pct(sub80)} / ${pct(sub95)} (common) within 5 points of 80 / 95`,
    );
    if (h === '24h') {
      const worst = rs.reduce((a, b) => (b.all.relativeMae > a.all.relativeMae ? b : a));
      const worstSub = rs.reduce((a, b) => (b.relativeMae.siperf! > a.relativeMae.siperf! ? b : a));
      checks.push(
        `${worst.all.relativeMae <= 1.1 && worstSub.relativeMae.siperf! <= 1.1 ? 'met' : 'MISSED'}: 24h worst series against seasonal naive ${worst.series} ${f(worst.all.relativeMae, 3)} (all origins), ${worstSub.series} ${f(worstSub.relativeMae.siperf, 3)} (common) ≤ 1.1`,
      );
    }
    summary[`relative ${h}`] = {
      siperfAllOrigins: { relativeMae: allRel, coverage80: all80, coverage95: all95 },
    };
  }
  out();
  checks.push(...more);
  out('## Targets');
  out();
  for (const c of checks) out(`- ${c}`);
  out();
  summary.checks = checks;
  return summary;
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    out(
      `NAB data not found at ${DATA}: nothing to measure (pass --data=<folder holding realAWSCloudwatch/>)`,
    );
    return;
  }
  let withAugurs = false;
  if (NO_AUGURS) out('augurs: skipped (--no-augurs)');
  else {
    const a = await loadAugurs();
    withAugurs = a.ok;
    if (!a.ok) out(`augurs: not run (${a.reason}); install the devDependency @bsull/augurs`);
  }
  out('# Forecast accuracy on NAB: siperf, baselines and augurs on the same origins');
  out(`commit ${gitCommit()}, data ${DATA}, at most ${ORIGINS} common origins per series`);
  const rows: Row[] = [];
  const failures: Record<string, number> = {};
  const t0 = performance.now();
  for (const file of files()) rows.push(...benchSeries(file, withAugurs, failures));
  const methods = METHODS.filter((m) => rows.every((r) => r.mase[m] !== undefined));
  out();
  out('## Per series and horizon: MASE on the common origins (winner in bold), siperf over all its origins');
  out();
  out(
    `| series | horizon | siperf method | ${methods.join(' | ')} | siperf all origins: MASE, MAE / SN, cover 80 / 95 | origins |`,
  );
  out(`| --- | --- | --- | ${methods.map(() => '---:').join(' | ')} | --- | ---: |`);
  for (const r of rows) {
    const cells = methods.map((m) => (m === r.winner ? `**${f(r.mase[m])}**` : f(r.mase[m])));
    out(
      `| ${r.series} | ${r.horizon} | ${r.method} | ${cells.join(' | ')} | ${f(r.all.mase)}, ${f(r.all.relativeMae, 3)}, ${pct(r.all.coverage80)} / ${pct(r.all.coverage95)} | ${r.origins} |`,
    );
  }
  out();
  // A fit as the API runs it: 60 days of 5-minute data (the last 17,280 steps of the longest 5-minute
  // series), 24 h ahead, daily and weekly seasons: backtest + final fit, i.e. `forecastSeries`.
  const long = files().find((x) => x.includes('cpu_utilization_asg_misconfiguration'));
  if (long) {
    const { values, startMs, step } = load(long);
    const y = values.slice(-17_280);
    const period = Math.round(DAY / step);
    const o = { startMs, stepMs: step, horizon: period, period, period2: 7 * period };
    for (let i = 0; i < 3; i++) timed(FIT_60_DAYS, () => forecastSeries(y, o));
  }
  const fits = cpu[FIT_60_DAYS] ?? [];
  const fit60 = fits.length > 0 ? [...fits].sort((a, b) => a - b)[Math.floor((fits.length - 1) / 2)]! : NaN;
  const summary = summarise(
    rows,
    methods,
    fits.length > 0
      ? [
          `${fit60 <= 2 ? 'met' : 'MISSED'}: CPU seconds per fit of 60 days of 5 min (${FIT_60_DAYS}), median of ${fits.length}: ${f(fit60)} ≤ 2`,
        ]
      : [],
  );
  summary.fit60DaysCpuSeconds = fit60;
  out('## CPU seconds per fit (min / median / max, this process, one thread)');
  out();
  for (const [what, xs] of Object.entries(cpu)) out(`- ${what}: ${spread(xs)} (${xs.length} fits)`);
  if (Object.keys(failures).length > 0)
    out(
      `- augurs fits that failed (the origin then has no forecast of that method): ${JSON.stringify(failures)}`,
    );
  out(`time: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  writeResults('forecast-nab.json', {
    commit: gitCommit(),
    origins: ORIGINS,
    rows,
    summary,
    cpuSeconds: cpu,
    augursFailures: failures,
  });
}

await main();
