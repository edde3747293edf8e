/**
 * Services and their endpoints: `/services` lists the services; `/services/<service>` charts its
 * throughput, error rate and p50/p95/p99 over the time range with a sortable table of its endpoints;
 * `/services/<service>/endpoints?endpoint=<endpoint>` shows one endpoint: its latency, its slowest and
 * failed traces, the database statements it runs with calls per request, and its N+1 and sequential-query
 * findings. All from the server-span rollups (`metrics/series`, `metrics/api`) and the trace reads.
 * @module
 */
import type { EndpointSeriesAnswer, SeriesGroup } from '@siperf/server/schemas';
import { useMemo } from 'preact/hooks';
import { get } from '../api.ts';
import { type Series, TimeChart } from '../components/chart.tsx';
import { Async, EmptyState, Panel, Stat } from '../components/common.tsx';
import { ServiceTable, serviceHref } from '../components/service-table.tsx';
import { endpointHref, statementHref } from '../components/span-panel.tsx';
import { Sparkline } from '../components/sparkline.tsx';
import { Table } from '../components/table.tsx';
import { count, ms, num, pct, rps, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, useLocation, windowQuery } from '../router.ts';
import './traces.css';

export default function Services(props: { path: string }) {
  const parts = props.path
    .replace(/^\/services\/?/, '')
    .split('/')
    .filter((p) => p !== '');
  if (parts.length === 0) return <ServiceList />;
  const service = decodeURIComponent(parts[0]!);
  if (parts[1] === 'endpoints') return <EndpointView service={service} />;
  return <ServiceView service={service} />;
}

const percent = (v: number) => pct(v);

/** `/services`: every service seen in the range. */
function ServiceList() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const key = [w.window, w.from, w.to, service];
  const series = useApi(() => get('/api/v1/apm/metrics/series', { ...w, service, groupBy: 'service' }), key);
  const seen = useApi(() => get('/api/v1/apm/services', { ...w, service }), key);
  return (
    <>
      <h1>Services</h1>
      <Panel title="Services" id="services">
        <Async state={series}>
          {(a) => {
            const byService = new Map(a.groups.map((g) => [g.service, g]));
            const info = new Map((seen.data?.services ?? []).map((s) => [s.service, s]));
            const names = [...new Set([...byService.keys(), ...info.keys()])];
            if (names.length === 0) return <EmptyState what="services" />;
            return (
              <ServiceTable
                caption={`Server spans from ${time(a.from)} to ${time(a.to)}, per service; operations: distinct span names and endpoints of any kind`}
                rows={names.map((s) => ({
                  service: s,
                  group: byService.get(s),
                  endpoints: info.get(s)?.endpoints,
                  lastSeen: info.get(s)?.lastSeen,
                }))}
              />
            );
          }}
        </Async>
      </Panel>
    </>
  );
}

/** x (s) and the chosen values of a series group's points, memoised on the group. */
function useChart(group: SeriesGroup | undefined) {
  return useMemo(() => {
    if (!group) return undefined;
    const x = group.points.map((p) => Date.parse(p.time) / 1000);
    const throughput: Series[] = [
      { label: 'Throughput', values: group.points.map((p) => p.throughputRps), fill: true },
    ];
    const errors: Series[] = [
      { label: 'Error rate', values: group.points.map((p) => p.errorRate), color: '--bad' },
    ];
    const latency: Series[] = [
      { label: 'p50', values: group.points.map((p) => p.p50Ms), color: '--c4' },
      { label: 'p95', values: group.points.map((p) => p.p95Ms), color: '--c1' },
      { label: 'p99', values: group.points.map((p) => p.p99Ms), color: '--c2' },
    ];
    return { x, throughput, errors, latency };
  }, [group]);
}

function GroupStats(props: { g: SeriesGroup; apdexT: number }) {
  const g = props.g;
  return (
    <div class="stats">
      <Stat label="Requests" value={count(g.requests)} />
      <Stat label="Throughput" value={rps(g.throughputRps)} />
      <Stat label="Error rate" value={pct(g.errorRate)} tone={g.errorRate > 0.01 ? 'bad' : undefined} />
      <Stat label="p50" value={ms(g.p50Ms)} />
      <Stat label="p95" value={ms(g.p95Ms)} />
      <Stat label="p99" value={ms(g.p99Ms)} />
      <Stat
        label={`Apdex (T = ${ms(props.apdexT)})`}
        value={g.apdex.toFixed(2)}
        tone={g.apdex < 0.7 ? 'bad' : g.apdex < 0.85 ? 'warn' : 'good'}
      />
    </div>
  );
}

function GroupCharts(props: { g: SeriesGroup; a: EndpointSeriesAnswer; what: string }) {
  const c = useChart(props.g);
  if (!c) return null;
  const step = ms(props.a.stepMs);
  return (
    <div class="charts">
      <TimeChart
        title={`Throughput of ${props.what} (per ${step} step)`}
        x={c.x}
        series={c.throughput}
        format={rps}
      />
      <TimeChart title={`Error rate of ${props.what}`} x={c.x} series={c.errors} format={percent} />
      <TimeChart title={`Latency of ${props.what}: p50, p95, p99`} x={c.x} series={c.latency} format={ms} />
    </div>
  );
}

/** `/services/<service>`: charts and the endpoint table. */
function ServiceView(props: { service: string }) {
  const { params } = useLocation();
  const w = windowQuery(params);
  const key = [w.window, w.from, w.to, props.service];
  const series = useApi(
    () => get('/api/v1/apm/metrics/series', { ...w, service: props.service, groupBy: 'service' }),
    key,
  );
  const byEndpoint = useApi(
    () => get('/api/v1/apm/metrics/series', { ...w, service: props.service, groupBy: 'endpoint' }),
    key,
  );
  const endpoints = useApi(
    () => get('/api/v1/apm/metrics/api', { ...w, service: props.service, kind: 'server' }),
    key,
  );
  return (
    <>
      <p class="crumbs">
        <a href={href('/services')}>Services</a> / {props.service}
      </p>
      <h1>{props.service}</h1>
      <p>
        <a href={href('/traces', { service: props.service })}>Traces of {props.service}</a>
      </p>
      <Async state={series}>
        {(a) => {
          const g = a.groups.find((x) => x.service === props.service);
          if (!g) return <EmptyState what={`requests (server spans) of ${props.service}`} />;
          return (
            <>
              <GroupStats g={g} apdexT={a.apdexThresholdMs} />
              <Panel title="Over the time range" id="charts">
                <GroupCharts g={g} a={a} what={props.service} />
              </Panel>
            </>
          );
        }}
      </Async>
      <Panel title="Endpoints" id="endpoints">
        <Async state={endpoints}>
          {(a) => {
            const points = new Map(
              (byEndpoint.data?.groups ?? []).map((g) => [g.endpoint ?? '', g.points] as const),
            );
            return a.endpoints.length === 0 ? (
              <p class="muted">No server span of {props.service} in this time range.</p>
            ) : (
              <Table
                id="ep"
                caption={`Server spans of ${props.service} from ${time(a.from)} to ${time(a.to)}, per endpoint (Apdex T = ${ms(a.apdexThresholdMs)})`}
                rows={a.endpoints}
                rowKey={(e) => e.endpoint}
                sort="requests"
                columns={[
                  {
                    key: 'endpoint',
                    label: 'Endpoint',
                    value: (e) => e.endpoint,
                    render: (e) => <a href={endpointHref(e.service, e.endpoint)}>{e.endpoint}</a>,
                  },
                  {
                    key: 'requests',
                    label: 'Requests',
                    numeric: true,
                    value: (e) => e.requests,
                    render: (e) => count(e.requests),
                  },
                  {
                    key: 'throughput',
                    label: 'Throughput',
                    numeric: true,
                    value: (e) => e.throughputRps,
                    render: (e) => (
                      <>
                        <Sparkline
                          values={(points.get(e.endpoint) ?? []).map((p) => p.throughputRps)}
                          label={`throughput of ${e.endpoint}`}
                        />{' '}
                        {rps(e.throughputRps)}
                      </>
                    ),
                  },
                  {
                    key: 'errorRate',
                    label: 'Error rate',
                    numeric: true,
                    value: (e) => e.errorRate,
                    render: (e) => (
                      <span class={e.errorRate > 0.01 ? 'bad' : undefined}>{pct(e.errorRate)}</span>
                    ),
                  },
                  {
                    key: 'p50',
                    label: 'p50',
                    numeric: true,
                    value: (e) => e.p50Ms,
                    render: (e) => ms(e.p50Ms),
                  },
                  {
                    key: 'p95',
                    label: 'p95',
                    numeric: true,
                    value: (e) => e.p95Ms,
                    render: (e) => (
                      <>
                        <Sparkline
                          values={(points.get(e.endpoint) ?? []).map((p) => p.p95Ms ?? 0)}
                          label={`p95 of ${e.endpoint}`}
                        />{' '}
                        {ms(e.p95Ms)}
                      </>
                    ),
                  },
                  {
                    key: 'p99',
                    label: 'p99',
                    numeric: true,
                    value: (e) => e.p99Ms,
                    render: (e) => ms(e.p99Ms),
                  },
                  {
                    key: 'apdex',
                    label: 'Apdex',
                    numeric: true,
                    value: (e) => e.apdex,
                    render: (e) => (
                      <span class={e.apdex < 0.7 ? 'bad' : e.apdex < 0.85 ? 'warn' : undefined}>
                        {e.apdex.toFixed(2)}
                      </span>
                    ),
                  },
                ]}
              />
            );
          }}
        </Async>
      </Panel>
    </>
  );
}

/** `/services/<service>/endpoints?endpoint=…`: one endpoint. */
function EndpointView(props: { service: string }) {
  const { params } = useLocation();
  const endpoint = params.get('endpoint') ?? '';
  const w = windowQuery(params);
  const key = [w.window, w.from, w.to, props.service, endpoint];
  const series = useApi(
    () => get('/api/v1/apm/metrics/series', { ...w, service: props.service, endpoint, groupBy: 'endpoint' }),
    key,
  );
  const failed = useApi(
    () =>
      get('/api/v1/apm/traces/recent', { ...w, service: props.service, endpoint, error: true, limit: 20 }),
    key,
  );
  const db = useApi(() => get('/api/v1/apm/metrics/database', { ...w, service: props.service }), key);
  const findings = useApi(() => get('/api/v1/apm/bottlenecks', { ...w, service: props.service }), key);
  if (!endpoint)
    return (
      <p>
        No endpoint given. <a href={serviceHref(props.service)}>Endpoints of {props.service}</a>
      </p>
    );
  return (
    <>
      <p class="crumbs">
        <a href={href('/services')}>Services</a> / <a href={serviceHref(props.service)}>{props.service}</a> /
        endpoints
      </p>
      <h1>
        {endpoint} <span class="muted small">{props.service}</span>
      </h1>
      <p>
        <a href={href('/traces', { service: props.service, endpoint })}>Search the traces of this endpoint</a>
      </p>
      <Async state={series}>
        {(a) => {
          const g = a.groups[0];
          if (!g) return <EmptyState what={`requests to ${endpoint}`} />;
          return (
            <>
              <GroupStats g={g} apdexT={a.apdexThresholdMs} />
              <Panel title="Over the time range" id="charts">
                <GroupCharts g={g} a={a} what={endpoint} />
              </Panel>
              <div class="grid">
                <SlowTraces service={props.service} endpoint={endpoint} p95Ms={g.p95Ms} />
                <Panel title="Failed traces" id="failed">
                  <Async state={failed}>
                    {(f) =>
                      f.traces.length === 0 ? (
                        <p class="good">No failed request in this time range.</p>
                      ) : (
                        <TraceList
                          traces={f.traces}
                          id="failed"
                          caption="Newest failed requests first"
                          sort="start"
                        />
                      )
                    }
                  </Async>
                </Panel>
              </div>
              <Panel title="Database statements" id="db">
                <Async state={db}>
                  {(d) => {
                    const rows = d.queries.filter((q) => q.endpoints.includes(endpoint));
                    return (
                      <>
                        <p class="how">
                          Statements whose calls were made under a request to {endpoint} in this range. Calls
                          per request = the statement's calls in the range ÷ this endpoint's{' '}
                          {count(g.requests)} requests. A statement also run by other endpoints (listed) has
                          its calls shared among them, so its figure here is an upper bound.
                        </p>
                        {rows.length === 0 ? (
                          <p class="muted">No database call under this endpoint in this range.</p>
                        ) : (
                          <Table
                            id="db"
                            caption={`Database statements of ${endpoint}`}
                            rows={rows}
                            rowKey={(q) => `${q.system}|${q.database}|${q.fingerprint}`}
                            sort="perRequest"
                            columns={[
                              {
                                key: 'statement',
                                label: 'Statement',
                                value: (q) => q.statement,
                                render: (q) => (
                                  <a href={statementHref(q.fingerprint)} title={q.statement}>
                                    <code>
                                      {q.statement.length > 120
                                        ? `${q.statement.slice(0, 120)}…`
                                        : q.statement}
                                    </code>
                                  </a>
                                ),
                              },
                              {
                                key: 'system',
                                label: 'Database',
                                value: (q) => `${q.system}${q.database ? ` · ${q.database}` : ''}`,
                              },
                              {
                                key: 'perRequest',
                                label: 'Calls / request',
                                numeric: true,
                                value: (q) => (g.requests > 0 ? q.calls / g.requests : 0),
                                render: (q) => (
                                  <span title={`${count(q.calls)} calls ÷ ${count(g.requests)} requests`}>
                                    {g.requests > 0 ? (q.calls / g.requests).toFixed(2) : '–'}
                                    {q.endpoints.length > 1 ? ' ≤' : ''}
                                  </span>
                                ),
                              },
                              {
                                key: 'calls',
                                label: 'Calls',
                                numeric: true,
                                value: (q) => q.calls,
                                render: (q) => count(q.calls),
                              },
                              {
                                key: 'p95',
                                label: 'p95',
                                numeric: true,
                                value: (q) => q.p95Ms,
                                render: (q) => ms(q.p95Ms),
                              },
                              {
                                key: 'total',
                                label: 'Total time',
                                numeric: true,
                                value: (q) => q.totalMs,
                                render: (q) => ms(q.totalMs),
                              },
                              {
                                key: 'others',
                                label: 'Also run by',
                                value: (q) => q.endpoints.length - 1,
                                render: (q) =>
                                  q.endpoints.length > 1 ? (
                                    <span class="small">
                                      {q.endpoints
                                        .filter((e) => e !== endpoint)
                                        .slice(0, 3)
                                        .join(', ')}
                                      {q.endpoints.length > 4 ? ` and ${q.endpoints.length - 4} more` : ''}
                                    </span>
                                  ) : (
                                    <span class="muted">–</span>
                                  ),
                              },
                            ]}
                          />
                        )}
                      </>
                    );
                  }}
                </Async>
              </Panel>
            </>
          );
        }}
      </Async>
      <Panel title="N+1 and sequential queries" id="findings">
        <Async state={findings}>
          {(b) => {
            const rows = b.findings.filter(
              (f) => f.endpoint === endpoint && f.endpointService === props.service,
            );
            return rows.length === 0 ? (
              <p class="good">
                No N+1, sequential or slow query found under this endpoint ({count(b.tracesExamined)} traces
                examined
                {b.limitReached ? ', the examination limit was reached' : ''}).
              </p>
            ) : (
              <ul class="findings">
                {rows.map((f) => (
                  <li key={`${f.type}|${f.fingerprint}`}>
                    <span class={`badge ${f.type === 'slow_query' ? 'warn' : 'bad'}`}>
                      {f.type === 'n_plus_one'
                        ? 'N+1'
                        : f.type === 'sequential_queries'
                          ? 'sequential queries'
                          : 'slow query'}
                    </span>{' '}
                    <a href={statementHref(f.fingerprint)}>
                      <code>{f.statement}</code>
                    </a>
                    <div class="small">
                      {num(f.callsPerRequest, 1)} calls per request, {ms(f.timePerRequestMs)} per request, in{' '}
                      {count(f.traces)} traces; a fix would save about {ms(f.savingPerRequestMs)} per request.
                      {f.exampleTraceId ? (
                        <>
                          {' '}
                          <a href={href(`/traces/${f.exampleTraceId}`)}>Example trace</a>
                        </>
                      ) : null}
                    </div>
                    <div class="small muted">Fix: {f.fix}</div>
                  </li>
                ))}
              </ul>
            );
          }}
        </Async>
      </Panel>
    </>
  );
}

type TraceSummary = import('@siperf/server/schemas').RecentTracesAnswer['traces'][number];

function TraceList(props: { traces: TraceSummary[]; id: string; caption: string; sort: string }) {
  return (
    <Table
      id={props.id}
      caption={props.caption}
      rows={props.traces}
      rowKey={(t) => t.traceId}
      sort={props.sort}
      columns={[
        {
          key: 'start',
          label: 'Start',
          value: (t) => t.startTime,
          render: (t) => <a href={href(`/traces/${t.traceId}`)}>{time(t.startTime)}</a>,
        },
        {
          key: 'duration',
          label: 'Duration',
          numeric: true,
          value: (t) => t.durationMs,
          render: (t) => ms(t.durationMs),
        },
        {
          key: 'spans',
          label: 'Spans',
          numeric: true,
          value: (t) => t.spanCount,
          render: (t) => count(t.spanCount),
        },
        {
          key: 'errors',
          label: 'Errors',
          numeric: true,
          value: (t) => t.errorCount,
          render: (t) => <span class={t.errorCount > 0 ? 'bad' : 'muted'}>{count(t.errorCount)}</span>,
        },
      ]}
    />
  );
}

/** The slowest traces: those at or above the endpoint's p95 (or `slowMs` from the URL), slowest first. */
function SlowTraces(props: { service: string; endpoint: string; p95Ms: number }) {
  const { params } = useLocation();
  const w = windowQuery(params);
  const given = Number(params.get('slowMs'));
  const threshold = Number.isFinite(given) && given > 0 ? given : props.p95Ms;
  const slow = useApi(
    () =>
      get('/api/v1/apm/traces/recent', {
        ...w,
        service: props.service,
        endpoint: props.endpoint,
        minDurationMs: Math.floor(threshold * 1000) / 1000,
        limit: 200,
      }),
    [w.window, w.from, w.to, props.service, props.endpoint, threshold],
  );
  return (
    <Panel title="Slowest traces" id="slow">
      <Async state={slow}>
        {(s) =>
          s.traces.length === 0 ? (
            <p class="muted">No trace at or above {ms(threshold)} in this time range.</p>
          ) : (
            <TraceList
              traces={[...s.traces].sort((a, b) => b.durationMs - a.durationMs).slice(0, 20)}
              id="slow"
              caption={`At or above ${given > 0 ? '' : 'the p95, '}${ms(threshold)}, slowest first (of the newest ${s.traces.length})`}
              sort="duration"
            />
          )
        }
      </Async>
    </Panel>
  );
}
