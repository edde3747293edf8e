/**
 * Resources: one host (`?host=`, default the host the server picks) — its CPU, memory, filesystems,
 * network and disk now; their history over the time range; a forecast of one resource (`?forecast=`,
 * `?horizon=`, `?select=`) with its 80% and 95% intervals, the backtest accuracy and the time to
 * exhaustion (P10/P50/P90); the USE bottlenecks; capacity; scaling and cost advice.
 * @module
 */
import type {
  CapacityAnswer,
  Exhaustion,
  PredictionAnswer,
  ScalingRecommendation,
} from '@siperf/server/schemas';
import { useMemo } from 'preact/hooks';
import { get } from '../api.ts';
import { TimeChart } from '../components/chart.tsx';
import { Async, ErrorView, Panel, Stat } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { bytes, count, num, pct, time } from '../format.ts';
import { type Loaded, useApi } from '../hooks.ts';
import { setParams, useLocation, windowQuery } from '../router.ts';
import { bytesPerSec, byUnit, cores, dur, money, points, relative } from '../units.ts';
import { BUILT_IN, type History, resourceHistory } from './resource-history.ts';
import './ops-pages.css';

const HORIZONS = ['1h', '6h', '24h', '7d', '30d'] as const;
const HORIZON_MS: Record<string, number> = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};
const RANGE_MS: Record<string, number> = {
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};
const RESOURCE_LABEL: Record<string, string> = {
  cpu: 'CPU',
  memory: 'Memory',
  disk: 'Filesystem',
  network: 'Network',
  disk_io: 'Disk I/O',
};
/** The `service.name` of points imported with POST /api/v1/resources/import. */
const IMPORT_SERVICE = 'siperf-import';

/** A utilisation axis shows 0 to 100% at least. */
const FULL_SCALE = [0, 1];

const tone = (ratio: number | null | undefined, warn = 0.8, bad = 0.9) =>
  ratio === null || ratio === undefined ? undefined : ratio >= bad ? 'bad' : ratio >= warn ? 'warn' : 'good';

/** The window [from, to] in ms of the global time range. */
function windowMs(params: URLSearchParams): [number, number] {
  const w = windowQuery(params);
  if (w.from && w.to) return [Date.parse(w.from), Date.parse(w.to)];
  const to = Date.now();
  return [to - (RANGE_MS[w.window ?? '1h'] ?? 3_600_000), to];
}

export default function Resources() {
  const { params } = useLocation();
  const hostParam = params.get('host') ?? undefined;
  const hosts = useApi(() => get('/api/v1/resources/hosts', { window: '7d' }), []);
  // Without a host named, the server's choice (the host that reported last); none asked when none reported.
  const noneReported = !hostParam && hosts.data?.hosts.length === 0;
  const current = useApi(
    () =>
      hostParam || hosts.data?.hosts.length
        ? get('/api/v1/resources/current', { host: hostParam })
        : new Promise<never>(() => undefined),
    [hostParam, hosts.data?.hosts.length ?? -1],
  );
  const host = hostParam ?? current.data?.host;
  const noHost = noneReported || (current.error?.status === 404 && !hostParam);
  const known = hosts.data?.hosts ?? [];
  const choices = [...new Set([...known.map((h) => h.host), ...(host ? [host] : [])])];
  // The metric route has no host filter: built-in histories are read only when this is the one host.
  const historyOk = host !== undefined && known.length <= 1 && (known[0]?.host ?? host) === host;
  // A host with imported series only (no sampler, exporter or Collector) has nothing but forecasts.
  const reporting = !hosts.data || host === undefined || known.some((h) => h.host === host);

  return (
    <>
      <div class="page-head">
        <h1>Resources</h1>
        {choices.length > 0 ? (
          <label>
            Host{' '}
            <select
              value={host ?? ''}
              onChange={(e) => setParams({ host: (e.target as HTMLSelectElement).value })}
            >
              {choices.map((h) => {
                const k = known.find((x) => x.host === h);
                return (
                  <option key={h} value={h}>
                    {h}
                    {k ? ` (last seen ${time(k.lastSeen)})` : ''}
                  </option>
                );
              })}
            </select>
          </label>
        ) : null}
      </div>
      {noHost ? (
        <Panel title="No host yet" id="none">
          <ResourcesEmpty />
        </Panel>
      ) : (
        <>
          {reporting ? (
            <Panel title={host ? `Now on ${host}` : 'Now'} id="now">
              <Async state={current}>{(c) => <Now c={c} />}</Async>
            </Panel>
          ) : (
            <Panel title={`${host}: imported series only`} id="now">
              <p class="muted">
                {host} has reported no CPU, memory, disk or network metrics in the last 7 days (no host
                sampler, node_exporter or Collector for it), only series imported under its name: choose one
                in the forecast below.
              </p>
            </Panel>
          )}
          {host && reporting ? (
            <>
              <HistoryPanel host={host} params={params} historyOk={historyOk} />
              <ForecastPanel host={host} params={params} historyOk={historyOk} current={current} />
              <Bottlenecks host={host} params={params} />
              <CapacityPanel host={host} params={params} />
              <div class="grid">
                <ScalingPanel host={host} />
                <CostPanel host={host} />
              </div>
            </>
          ) : host ? (
            <ForecastPanel host={host} params={params} historyOk={false} current={current} importedOnly />
          ) : null}
        </>
      )}
    </>
  );
}

/** How a host gets here: the server's own sampler, node_exporter targets, a Collector, or a CSV import. */
function ResourcesEmpty() {
  const origin = window.location.origin;
  return (
    <div class="empty">
      <p>
        <strong>No host has reported resource metrics in the last 24 h.</strong>
      </p>
      <p>
        <code>siperf serve</code> samples its own host every 10 s unless <code>resourceSampleIntervalMs</code>{' '}
        is 0; set it back (the default is 10000):
      </p>
      <pre>
        <code>SIPERF_RESOURCE_SAMPLE_INTERVAL_MS=10000 npx siperf serve</code>
      </pre>
      <p>
        Other machines: run Prometheus <code>node_exporter</code> there and list it (scraped every 15 s):
      </p>
      <pre>
        <code>SIPERF_NODE_EXPORTER_TARGETS=http://db-1:9100/metrics,http://web-1:9100/metrics</code>
      </pre>
      <p>
        or point an OpenTelemetry Collector's <code>hostmetrics</code> receiver at <code>{origin}</code>{' '}
        (OTLP), or import a series you already have:
      </p>
      <pre>
        <code>npx siperf import metrics-csv cpu.csv --metric app.cpu --host web-1</code>
      </pre>
    </div>
  );
}

function Now(props: { c: import('@siperf/server/schemas').CurrentResourcesAnswer }) {
  const c = props.c;
  if (c.timestamp === null)
    return (
      <p class="muted">
        No sample from {c.host} in the last 5 minutes. An imported series has no current figures: see its
        forecast below.
      </p>
    );
  return (
    <>
      <p class="muted small">Sampled at {time(c.timestamp)}</p>
      <div class="stats">
        <Stat
          label={`CPU busy${c.cpu.limitCores !== null ? ` (of the ${cores(c.cpu.limitCores)} limit)` : c.cpu.cores !== null ? ` of ${cores(c.cpu.cores)}` : ''}`}
          value={pct(c.cpu.utilization)}
          tone={tone(c.cpu.utilization)}
          testId="cpu-now"
        />
        <Stat
          label={`load, 1 min${c.cpu.cores ? ` (${num((c.cpu.load1 ?? 0) / c.cpu.cores, 2)} per core)` : ''}`}
          value={num(c.cpu.load1, 2)}
          tone={c.cpu.load1 !== null && c.cpu.cores ? tone(c.cpu.load1 / c.cpu.cores, 1, 2) : undefined}
        />
        <Stat
          label={`memory used: ${bytes(c.memory.usedBytes)} of ${bytes(c.memory.limitBytes)}`}
          value={pct(c.memory.utilization)}
          tone={tone(c.memory.utilization, 0.85, 0.95)}
        />
        <Stat label="network in" value={bytesPerSec(c.network.rxBytesPerSec)} />
        <Stat label="network out" value={bytesPerSec(c.network.txBytesPerSec)} />
        <Stat label="disk read" value={bytesPerSec(c.disk.readBytesPerSec)} />
        <Stat label="disk write" value={bytesPerSec(c.disk.writeBytesPerSec)} />
        <Stat
          label="busiest disk busy"
          value={pct(c.disk.busyRatio)}
          tone={tone(c.disk.busyRatio, 0.6, 0.9)}
        />
      </div>
      {c.filesystems.length > 0 ? (
        <Table
          id="fs"
          caption="Filesystems"
          rows={c.filesystems}
          rowKey={(f) => f.mount}
          sort="utilization"
          columns={[
            { key: 'mount', label: 'Mount', value: (f) => f.mount },
            { key: 'device', label: 'Device', value: (f) => f.device },
            {
              key: 'utilization',
              label: 'Used',
              numeric: true,
              value: (f) => f.utilization,
              render: (f) => (
                <span class="usage">
                  <span class="bar" aria-hidden="true">
                    <span
                      class={`bar-${tone(f.utilization, 0.8, 0.9)}`}
                      style={{ width: `${Math.min(100, f.utilization * 100)}%` }}
                    />
                  </span>
                  <span class={tone(f.utilization, 0.8, 0.9) === 'good' ? undefined : tone(f.utilization)}>
                    {pct(f.utilization)}
                  </span>
                </span>
              ),
            },
            {
              key: 'used',
              label: 'Used / size',
              numeric: true,
              value: (f) => f.usedBytes,
              render: (f) => (
                <>
                  {bytes(f.usedBytes)} / {bytes(f.sizeBytes)}
                  <span class="muted small">
                    {' '}
                    ({bytes(f.availableBytes)} free
                    {f.reservedBytes ? `, ${bytes(f.reservedBytes)} reserved for root` : ''})
                  </span>
                </>
              ),
            },
          ]}
        />
      ) : null}
    </>
  );
}

/** Charts of a history, one per line set; `title` and the cut-off note in the caption. */
function HistoryChart(props: { title: string; h: History; fromMs: number; toMs: number; height?: number }) {
  const { h } = props;
  const data = useMemo(() => {
    const xs = [...new Set(h.series.flatMap((s) => s.times))].sort((a, b) => a - b);
    const index = new Map(xs.map((t, i) => [t, i]));
    return {
      x: xs.map((t) => t / 1000),
      series: h.series.map((s) => {
        const values: (number | null)[] = xs.map(() => null);
        s.times.forEach((t, i) => {
          values[index.get(t)!] = s.values[i]!;
        });
        return { label: s.label, values };
      }),
    };
  }, [h]);
  const format = useMemo(() => byUnit(h.unit), [h.unit]);
  if (h.series.length === 0)
    return (
      <figure class="chart">
        <figcaption>{props.title}</figcaption>
        <p class="muted small">No points in this time range.</p>
      </figure>
    );
  return (
    <div>
      <TimeChart
        title={props.title}
        x={data.x}
        series={data.series}
        format={format}
        height={props.height ?? 180}
        yInclude={h.unit === '1' ? FULL_SCALE : undefined}
      />
      {h.cut ? (
        <p class="muted small">
          From {time(new Date(h.fromMs).toISOString())} only: the metric route answers at most 50,000 points a
          request.
        </p>
      ) : null}
    </div>
  );
}

function HistoryPanel(props: { host: string; params: URLSearchParams; historyOk: boolean }) {
  const w = windowQuery(props.params);
  const key = [props.host, w.window, w.from, w.to];
  const stats = useApi(() => get('/api/v1/resources/statistics', { host: props.host, ...w }), key);
  const charts = useApi(async () => {
    if (!props.historyOk) return undefined;
    const [from, to] = windowMs(props.params);
    const out: { resource: string; h: History; from: number; to: number }[] = [];
    for (const r of ['cpu', 'memory', 'disk', 'network'] as const)
      out.push({ resource: r, h: await resourceHistory(r, from, to), from, to });
    return out;
  }, [...key, props.historyOk]);
  return (
    <Panel title="History" id="history">
      {props.historyOk ? (
        <Async state={charts}>
          {(list) => (
            <div class="grid grid-wide">
              {(list ?? []).map((c) => (
                <HistoryChart
                  key={c.resource}
                  title={`${RESOURCE_LABEL[c.resource]} ${c.resource === 'network' ? 'bytes per second' : 'used'}`}
                  h={c.h}
                  fromMs={c.from}
                  toMs={c.to}
                />
              ))}
            </div>
          )}
        </Async>
      ) : (
        <p class="muted">
          Charts over time need the points of this host alone, and the API's metric route (GET
          /api/v1/apm/metrics/custom) cannot filter by host while several hosts report. The figures below are
          this host's.
        </p>
      )}
      <Async state={stats}>
        {(s) => {
          const rows = s.resources.flatMap((r) =>
            r.series.map((x) => ({
              resource: r.resource,
              ...x,
              key: `${r.resource}${JSON.stringify(x.labels)}`,
            })),
          );
          return rows.length === 0 ? (
            <p class="muted">No resource points for {s.host} in this time range.</p>
          ) : (
            <Table
              id="stats"
              caption={`Per resource from ${time(s.from)} to ${time(s.to)}`}
              rows={rows}
              rowKey={(r) => r.key}
              sort="resource"
              dir="asc"
              columns={[
                {
                  key: 'resource',
                  label: 'Resource',
                  value: (r) => r.resource,
                  render: (r) => (
                    <>
                      {RESOURCE_LABEL[r.resource] ?? r.resource}{' '}
                      <span class="muted small">{Object.values(r.labels).filter(Boolean).join(' ')}</span>
                    </>
                  ),
                },
                {
                  key: 'samples',
                  label: 'Samples',
                  numeric: true,
                  value: (r) => r.samples,
                  render: (r) => count(r.samples),
                },
                {
                  key: 'mean',
                  label: 'Mean',
                  numeric: true,
                  value: (r) => r.mean,
                  render: (r) => byUnit(r.unit)(r.mean),
                },
                {
                  key: 'p95',
                  label: 'p95',
                  numeric: true,
                  value: (r) => r.p95,
                  render: (r) => byUnit(r.unit)(r.p95),
                },
                {
                  key: 'max',
                  label: 'Max',
                  numeric: true,
                  value: (r) => r.max,
                  render: (r) => byUnit(r.unit)(r.max),
                },
                {
                  key: 'trend',
                  label: 'Trend',
                  numeric: true,
                  value: (r) => r.trendPerHour,
                  render: (r) => (
                    <>
                      {r.unit === '1'
                        ? `${points(r.trendPerHour)} per hour`
                        : `${r.trendPerHour >= 0 ? '+' : '−'}${byUnit(r.unit)(Math.abs(r.trendPerHour))} per hour`}
                      <br />
                      <span class="muted small">{r.trendOver}</span>
                    </>
                  ),
                },
              ]}
            />
          );
        }}
      </Async>
    </Panel>
  );
}

/** The selection a forecast of `resource` can take (mounts, directions), from the current figures. */
function selections(
  resource: string,
  c: import('@siperf/server/schemas').CurrentResourcesAnswer | undefined,
) {
  if (resource === 'disk') return (c?.filesystems ?? []).map((f) => f.mount);
  if (resource === 'network') return ['receive', 'transmit'];
  if (resource === 'disk_io') return ['read', 'write'];
  return [];
}

function ForecastPanel(props: {
  host: string;
  params: URLSearchParams;
  historyOk: boolean;
  /** The host has imported series only: the first of them is forecast unless one is chosen. */
  importedOnly?: boolean;
  current: Loaded<import('@siperf/server/schemas').CurrentResourcesAnswer>;
}) {
  const { params, host } = props;
  const names = useApi(() => get('/api/v1/apm/metrics/custom', { window: '30d' }), []);
  const others =
    names.data && 'metrics' in names.data
      ? names.data.metrics
          .map((m) => m.name)
          .filter((n) => !/^(system|container|siperf)\./.test(n) && !/^(http|db|rpc)\./.test(n))
      : [];
  const resource = params.get('forecast') ?? (props.importedOnly && others[0] ? others[0] : 'cpu');
  const horizon = (HORIZONS as readonly string[]).includes(params.get('horizon') ?? '')
    ? params.get('horizon')!
    : '24h';
  const select = params.get('select') ?? undefined;
  const thresholdText = params.get('threshold') ?? '';
  const threshold =
    thresholdText !== '' && Number.isFinite(Number(thresholdText)) ? Number(thresholdText) : undefined;
  const builtIn = (BUILT_IN as readonly string[]).includes(resource);
  const prediction = useApi(
    () =>
      get(
        '/api/v1/resources/predictions/{resourceType}',
        { host, horizon, select, threshold },
        { resourceType: resource },
      ),
    [host, resource, horizon, select, threshold],
  );
  const history = useApi(async () => {
    const p = prediction.data;
    if (!p || (builtIn && !props.historyOk)) return undefined;
    const to = p.points[0] ? Date.parse(p.points[0].timestamp) : Date.now();
    const from = to - Math.min(2 * HORIZON_MS[horizon]!, 14 * 86_400_000);
    const h = await resourceHistory(resource, from, to, builtIn ? undefined : IMPORT_SERVICE);
    // The line the forecast is of: its mount or direction when there are several.
    const want = p.labels.mountpoint ?? p.labels.direction;
    const series = want !== undefined ? h.series.filter((s) => s.key === want) : h.series.slice(0, 1);
    return { ...h, series };
  }, [prediction.data, props.historyOk]);
  const sel = selections(resource, props.current.data);
  return (
    <Panel title="Forecast" id="forecast">
      <div class="controls-row">
        <label>
          Resource{' '}
          <select
            value={resource}
            onChange={(e) =>
              setParams({ forecast: (e.target as HTMLSelectElement).value, select: undefined })
            }
          >
            <optgroup label="Built in">
              {BUILT_IN.map((r) => (
                <option key={r} value={r}>
                  {RESOURCE_LABEL[r]}
                </option>
              ))}
            </optgroup>
            {others.length > 0 || !builtIn ? (
              <optgroup label="Imported and other metrics">
                {[...new Set([...others, ...(builtIn ? [] : [resource])])].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </optgroup>
            ) : null}
          </select>
        </label>
        {sel.length > 0 ? (
          <label>
            {resource === 'disk' ? 'Mount' : 'Direction'}{' '}
            <select
              value={select ?? ''}
              onChange={(e) => setParams({ select: (e.target as HTMLSelectElement).value })}
            >
              <option value="">{resource === 'disk' ? 'the fullest' : 'the busiest'}</option>
              {sel.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          Exhausted at{' '}
          <input
            class="narrow"
            inputMode="decimal"
            placeholder={builtIn && resource !== 'network' && resource !== 'disk_io' ? '1 (100%)' : 'a value'}
            value={thresholdText}
            aria-describedby="threshold-hint"
            onChange={(e) =>
              setParams({ threshold: (e.target as HTMLInputElement).value.trim() || undefined }, true)
            }
          />
          <span id="threshold-hint" class="visually-hidden">
            in the series' unit; a utilisation as a ratio, 0.9 for 90%
          </span>
        </label>
        <fieldset class="segmented">
          <legend>Horizon</legend>
          {HORIZONS.map((h) => (
            <label key={h}>
              <input
                type="radio"
                name="horizon"
                value={h}
                checked={h === horizon}
                onChange={() => setParams({ horizon: h }, true)}
              />
              {h}
            </label>
          ))}
        </fieldset>
      </div>
      <Async state={prediction}>
        {(p) =>
          p.points.length === 0 ? (
            <div class="empty">
              <p>
                <strong>
                  No forecast of {RESOURCE_LABEL[p.resourceType] ?? p.resourceType} on {p.host} yet.
                </strong>{' '}
                {p.note ?? 'Not enough history.'}
              </p>
              <p class="muted small">
                A forecast needs history at a regular step: the host sampler records every 10 s, so a 1 h
                forecast is possible after about an hour; import an older series with{' '}
                <code>npx siperf import metrics-csv FILE --metric NAME --host {p.host}</code>.
              </p>
            </div>
          ) : (
            <div class="forecast">
              <div class="forecast-chart">
                <ForecastChart p={p} history={history.data} />
                {history.error ? <ErrorView error={history.error} /> : null}
                {builtIn && !props.historyOk ? (
                  <p class="muted small">
                    The history is not drawn: the metric route cannot filter by host while several hosts
                    report.
                  </p>
                ) : null}
              </div>
              <ForecastFacts p={p} />
            </div>
          )
        }
      </Async>
    </Panel>
  );
}

function ForecastChart(props: { p: PredictionAnswer; history: History | undefined }) {
  const { p, history } = props;
  const format = useMemo(() => byUnit(p.unit), [p.unit]);
  const data = useMemo(() => {
    const hist = history?.series[0];
    const hx = hist ? hist.times.map((t) => t / 1000) : [];
    const fx = p.points.map((x) => Date.parse(x.timestamp) / 1000);
    const x = [...hx, ...fx];
    const pad = (n: number) => Array.from({ length: n }, () => null);
    const f = (pick: (x: PredictionAnswer['points'][number]) => number) => [
      ...pad(hx.length),
      ...p.points.map(pick),
    ];
    // Where the history ends, the forecast starts from the last value, so the two lines meet.
    const last = hist?.values[hist.values.length - 1];
    const forecast = f((x) => x.value);
    if (last !== undefined && hx.length > 0) forecast[hx.length - 1] = last;
    return {
      x,
      series: [
        { label: 'history', values: [...(hist?.values ?? []), ...pad(fx.length)], color: '--c1' },
        { label: 'forecast', values: forecast, color: '--c2', dash: true, width: 2 },
        { label: 'upper 95%', values: f((x) => x.upper95), color: '--c2', fill: true, width: 0 },
        { label: 'lower 95%', values: f((x) => x.lower95), color: '--c2', width: 0 },
        { label: 'upper 80%', values: f((x) => x.upper80), color: '--c2', fill: true, width: 0 },
        { label: 'lower 80%', values: f((x) => x.lower80), color: '--c2', width: 0 },
      ],
      bands: [
        [2, 3],
        [4, 5],
      ] as [number, number][],
    };
  }, [p, history]);
  const what = `${RESOURCE_LABEL[p.resourceType] ?? p.resourceType}${Object.values(p.labels).length ? ` (${Object.values(p.labels).join(', ')})` : ''}`;
  return (
    <TimeChart
      title={`${what} on ${p.host}: history and the next ${p.horizon}, with 80% and 95% intervals`}
      x={data.x}
      series={data.series}
      bands={data.bands}
      format={format}
      height={260}
      yInclude={p.unit === '1' ? FULL_SCALE : undefined}
    />
  );
}

function ForecastFacts(props: { p: PredictionAnswer }) {
  const { p } = props;
  const a = p.accuracy;
  const format = byUnit(p.unit);
  const coverageTone = (got: number, nominal: number) =>
    Math.abs(got - nominal) <= 0.1 ? 'good' : got < nominal ? 'bad' : 'warn';
  return (
    <div class="forecast-facts">
      <h3>Method</h3>
      <p>
        <strong>{p.method}</strong>
        {p.period > 0 ? ` with a season of ${count(p.period)} steps (${dur(p.period * p.stepMs)})` : ''}
        {p.period2 > 0 ? ` and a second of ${count(p.period2)} steps (${dur(p.period2 * p.stepMs)})` : ''}, a
        step of {dur(p.stepMs)}, fitted on {count(p.historyPoints)} points.
      </p>
      {p.note ? <p class="muted small">{p.note}</p> : null}
      <h3>Backtest accuracy</h3>
      {a ? (
        <dl class="facts">
          <dt>MASE</dt>
          <dd class={a.mase < 1 ? 'good' : 'warn'}>
            {num(a.mase, 2)}{' '}
            <span class="muted small">(error over the one-step seasonal naive error; below 1 is better)</span>
          </dd>
          <dt>Error vs seasonal naive</dt>
          <dd class={a.relativeMae <= 1 ? 'good' : 'warn'}>
            {num(a.relativeMae, 2)}× <span class="muted small">(MAE ratio; below 1 beats it)</span>
          </dd>
          <dt>80% interval held</dt>
          <dd class={coverageTone(a.coverage80, 0.8)}>{pct(a.coverage80)} of actual values</dd>
          <dt>95% interval held</dt>
          <dd class={coverageTone(a.coverage95, 0.95)}>{pct(a.coverage95)} of actual values</dd>
          <dt>Forecast origins</dt>
          <dd>{count(a.origins)} over the last 30% of the history</dd>
        </dl>
      ) : (
        <p class="muted small">The history is too short for a backtest.</p>
      )}
      <h3>Exhaustion</h3>
      {p.exhaustion ? (
        <ExhaustionView e={p.exhaustion} format={format} />
      ) : (
        <p class="muted small">
          No level to reach: set “Exhausted at” (in the series' unit) to see when it gets there.
        </p>
      )}
    </div>
  );
}

/** When a threshold is crossed: early (P10), likely (P50), late (P90), and the straight-line estimate. */
function ExhaustionView(props: { e: Exhaustion; format: (v: number) => string; compact?: boolean }) {
  const { e } = props;
  const at = (iso: string | null) =>
    iso ? (
      <span title={time(iso)}>
        {relative(iso)} <span class="muted small">({time(iso)})</span>
      </span>
    ) : (
      <span class="muted">not within the horizon</span>
    );
  if (props.compact)
    return e.p50 || e.p10 ? (
      <span
        class={e.p10 && Date.parse(e.p10) - Date.now() < 86_400_000 ? 'bad' : 'warn'}
        title={e.explanation}
      >
        P10 {relative(e.p10)} · P50 {relative(e.p50)} · P90 {relative(e.p90)}
      </span>
    ) : (
      <span class="good">not within the horizon</span>
    );
  return (
    <>
      <p class="small">When it crosses {props.format(e.threshold)}:</p>
      <dl class="facts">
        <dt>P10 (early)</dt>
        <dd>{at(e.p10)}</dd>
        <dt>P50 (likely)</dt>
        <dd>{at(e.p50)}</dd>
        <dt>P90 (late)</dt>
        <dd>{at(e.p90)}</dd>
        <dt>Straight line</dt>
        <dd>{at(e.linear)}</dd>
      </dl>
      {e.explanation ? <p class="muted small">{e.explanation}</p> : null}
    </>
  );
}

function Bottlenecks(props: { host: string; params: URLSearchParams }) {
  const w = windowQuery(props.params);
  const b = useApi(
    () => get('/api/v1/resources/bottlenecks', { host: props.host, ...w }),
    [props.host, w.window, w.from, w.to],
  );
  return (
    <Panel title="Bottlenecks (USE: utilisation, saturation, errors)" id="use">
      <Async state={b}>
        {(a) =>
          a.bottlenecks.length === 0 ? (
            <p class="good">
              No resource is saturated, over-utilised or reporting errors from {time(a.from)} to {time(a.to)}.
            </p>
          ) : (
            <Table
              id="use"
              caption={`From ${time(a.from)} to ${time(a.to)}, most severe first`}
              rows={a.bottlenecks.map((x, i) => ({ ...x, i }))}
              rowKey={(x) => String(x.i)}
              sort="severity"
              columns={[
                {
                  key: 'severity',
                  label: 'Severity',
                  value: (x) => (x.severity === 'critical' ? 2 : 1) * 1000 - x.i,
                  render: (x) => (
                    <span class={`badge ${x.severity === 'critical' ? 'bad' : 'warn'}`}>{x.severity}</span>
                  ),
                },
                { key: 'resource', label: 'Resource', value: (x) => x.resource },
                { key: 'kind', label: 'USE', value: (x) => x.kind },
                { key: 'evidence', label: 'Evidence', value: (x) => x.evidence },
                { key: 'action', label: 'What to do', value: (x) => x.action },
              ]}
            />
          )
        }
      </Async>
    </Panel>
  );
}

function CapacityPanel(props: { host: string; params: URLSearchParams }) {
  const horizon = props.params.get('capacity') === '7d' ? '7d' : '30d';
  const cap = useApi(
    () => get('/api/v1/resources/capacity', { host: props.host, horizon }),
    [props.host, horizon],
  );
  return (
    <Panel
      title="Capacity"
      id="capacity"
      actions={
        <label>
          Horizon{' '}
          <select
            value={horizon}
            onChange={(e) => setParams({ capacity: (e.target as HTMLSelectElement).value }, true)}
          >
            <option value="7d">7 days</option>
            <option value="30d">30 days</option>
          </select>
        </label>
      }
    >
      <Async state={cap}>
        {(a: CapacityAnswer) =>
          a.plans.length === 0 ? (
            <p class="muted">Nothing to plan: no CPU, memory or filesystem series for {a.host}.</p>
          ) : (
            <Table
              id="cap"
              caption={`When each resource crosses its threshold at the current growth, within ${a.horizon}`}
              rows={a.plans.map((x, i) => ({ ...x, i }))}
              rowKey={(x) => String(x.i)}
              sort="resource"
              dir="asc"
              columns={[
                {
                  key: 'resource',
                  label: 'Resource',
                  value: (x) => x.resource,
                  render: (x) => (
                    <>
                      {RESOURCE_LABEL[x.resource] ?? x.resource}{' '}
                      <span class="muted small">{x.labels.mountpoint ?? ''}</span>
                    </>
                  ),
                },
                {
                  key: 'now',
                  label: 'Next value',
                  numeric: true,
                  value: (x) => x.last,
                  render: (x) => pct(x.last),
                },
                {
                  key: 'threshold',
                  label: 'Threshold',
                  numeric: true,
                  value: (x) => x.threshold,
                  render: (x) => pct(x.threshold),
                },
                {
                  key: 'crossing',
                  label: 'Crossing (P10 · P50 · P90)',
                  value: (x) => (x.crossing?.p50 ? Date.parse(x.crossing.p50) : Number.POSITIVE_INFINITY),
                  render: (x) =>
                    x.crossing ? (
                      <ExhaustionView e={x.crossing} format={pct} compact />
                    ) : (
                      <span class="muted">{x.note ?? '–'}</span>
                    ),
                },
                { key: 'method', label: 'Method', value: (x) => x.method },
              ]}
            />
          )
        }
      </Async>
    </Panel>
  );
}

const ACTION_TONE: Record<ScalingRecommendation['action'], string> = {
  'scale-up': 'bad',
  'scale-down': 'warn',
  keep: 'good',
  wait: 'muted',
};

function ScalingPanel(props: { host: string }) {
  const s = useApi(
    () => get('/api/v1/resources/scaling-recommendations', { host: props.host }),
    [props.host],
  );
  return (
    <Panel title="Scaling (last 7 days)" id="scaling">
      <Async state={s}>
        {(a) =>
          a.recommendations.length === 0 ? (
            <p class="muted">No CPU or memory history to size from.</p>
          ) : (
            <ul class="cards">
              {a.recommendations.map((r) => {
                const f = r.resource === 'cpu' ? cores : bytes;
                return (
                  <li key={`${r.resource}${r.scope}`}>
                    <p>
                      <span class={`badge ${ACTION_TONE[r.action]}`}>{r.action}</span>{' '}
                      <strong>
                        {r.resource === 'cpu' ? 'CPU' : 'Memory'} of the {r.scope}
                      </strong>
                      : {f(r.current)} → {f(r.recommended)}{' '}
                      <span class="muted small">
                        (between {f(r.lowerBound)} and {f(r.upperBound)}; ×{num(r.scalingFactor, 2)})
                      </span>
                    </p>
                    <p class="small">
                      Utilisation {pct(r.performance.utilizationNow)} → {pct(r.performance.utilizationAfter)}
                      {r.performance.queueDelayNow !== undefined
                        ? `; queueing delay ${qd(r.performance.queueDelayNow)} → ${qd(r.performance.queueDelayAfter)}`
                        : ''}
                      ; risk {pct(r.risk)}
                      {r.resource === 'cpu' ? ' of samples above it' : ' of daily peaks above it'}.
                    </p>
                    <p class="small muted">
                      {r.why} ({num(r.historyDays, 1)} days, {count(r.samples)} samples)
                    </p>
                  </li>
                );
              })}
            </ul>
          )
        }
      </Async>
    </Panel>
  );
}

/** An M/M/c queueing delay in mean service times (null: unbounded). */
function qd(v: number | null | undefined): string {
  if (v === undefined) return '–';
  if (v === null) return 'unbounded';
  return `${num(v, 2)}× the service time`;
}

function CostPanel(props: { host: string }) {
  const c = useApi(() => get('/api/v1/resources/cost-optimization', { host: props.host }), [props.host]);
  return (
    <Panel title="Cost (per month)" id="cost">
      <Async state={c}>
        {(a) => (
          <>
            <div class="stats">
              <Stat label="total" value={money(a.monthlyCost.total, a.currency)} />
              <Stat label="CPU" value={money(a.monthlyCost.cpu, a.currency)} />
              <Stat label="memory" value={money(a.monthlyCost.memory, a.currency)} />
              <Stat label="disk" value={money(a.monthlyCost.disk, a.currency)} />
              <Stat
                label="could be saved"
                value={money(a.potentialMonthlySavings, a.currency)}
                tone={a.potentialMonthlySavings > 0 ? 'good' : undefined}
              />
            </div>
            {a.items.length === 0 ? (
              <p class="muted">No change to propose.</p>
            ) : (
              <ul class="cards">
                {a.items.map((x, i) => (
                  <li key={i}>
                    <p>
                      <span class={`badge ${x.kind === 'under-provisioned' ? 'bad' : 'warn'}`}>{x.kind}</span>{' '}
                      <strong>{x.resource}</strong>: {x.current} → {x.proposed},{' '}
                      <span class={x.monthlySavings >= 0 ? 'good' : 'bad'}>
                        {x.monthlySavings >= 0
                          ? `saves ${money(x.monthlySavings, a.currency)}`
                          : `costs ${money(-x.monthlySavings, a.currency)} more`}{' '}
                        a month
                      </span>
                    </p>
                    <p class="small muted">{x.evidence}</p>
                  </li>
                ))}
              </ul>
            )}
            <p class="muted small">
              At {money(a.prices.vcpuHour, a.prices.currency)} per vCPU-hour,{' '}
              {money(a.prices.memoryGibHour, a.prices.currency)} per GiB-hour of memory and{' '}
              {money(a.prices.diskGibMonth, a.prices.currency)} per GiB-month of disk (settings{' '}
              <code>priceVcpuHour</code>, <code>priceMemoryGibHour</code>, <code>priceDiskGibMonth</code>).
            </p>
          </>
        )}
      </Async>
    </Panel>
  );
}
