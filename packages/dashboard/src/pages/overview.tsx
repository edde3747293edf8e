/**
 * Overview: services with throughput, error rate, p95 and Apdex (each with a sparkline), firing alerts,
 * hosts with CPU and memory, and the top recommendations with their expected gain.
 * @module
 */
import { get } from '../api.ts';
import { Async, EmptyState, Panel } from '../components/common.tsx';
import { Sparkline } from '../components/sparkline.tsx';
import { Table } from '../components/table.tsx';
import { count, ms, num, pct, rps, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, useLocation, windowQuery } from '../router.ts';

export default function Overview() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const key = [w.window, w.from, w.to, service];
  const series = useApi(() => get('/api/v1/apm/metrics/series', { ...w, service, groupBy: 'service' }), key);
  const alerts = useApi(() => get('/api/v1/alerts'), []);
  const hosts = useApi(() => get('/api/v1/resources/hosts', { window: '1h' }), []);
  const advice = useApi(() => get('/api/v1/recommendations', { ...w, service, state: 'open' }), key);
  return (
    <>
      <h1>Overview</h1>
      <Panel title="Services" id="services">
        <Async state={series}>
          {(a) =>
            a.groups.length === 0 ? (
              <EmptyState what="requests" />
            ) : (
              <Table
                caption={`Server spans from ${time(a.from)} to ${time(a.to)}, per service`}
                rows={a.groups}
                rowKey={(g) => g.service}
                sort="requests"
                columns={[
                  {
                    key: 'service',
                    label: 'Service',
                    value: (g) => g.service,
                    render: (g) => (
                      <a href={href(`/services/${encodeURIComponent(g.service)}`)}>{g.service}</a>
                    ),
                  },
                  {
                    key: 'requests',
                    label: 'Throughput',
                    numeric: true,
                    value: (g) => g.throughputRps,
                    render: (g) => (
                      <>
                        <Sparkline
                          values={g.points.map((p) => p.throughputRps)}
                          label={`throughput of ${g.service}`}
                        />{' '}
                        {rps(g.throughputRps)}
                      </>
                    ),
                  },
                  {
                    key: 'total',
                    label: 'Requests',
                    numeric: true,
                    value: (g) => g.requests,
                    render: (g) => count(g.requests),
                  },
                  {
                    key: 'errorRate',
                    label: 'Error rate',
                    numeric: true,
                    value: (g) => g.errorRate,
                    render: (g) => (
                      <span class={g.errorRate > 0.01 ? 'bad' : undefined}>{pct(g.errorRate)}</span>
                    ),
                  },
                  {
                    key: 'p95',
                    label: 'p95',
                    numeric: true,
                    value: (g) => g.p95Ms,
                    render: (g) => (
                      <>
                        <Sparkline values={g.points.map((p) => p.p95Ms ?? 0)} label={`p95 of ${g.service}`} />{' '}
                        {ms(g.p95Ms)}
                      </>
                    ),
                  },
                  {
                    key: 'apdex',
                    label: 'Apdex',
                    numeric: true,
                    value: (g) => g.apdex,
                    render: (g) => g.apdex.toFixed(2),
                  },
                ]}
              />
            )
          }
        </Async>
      </Panel>
      <div class="grid">
        <Panel title="Firing alerts" id="alerts">
          <Async state={alerts}>
            {(a) => {
              const firing = a.alerts.filter((x) => x.state === 'firing' || x.state === 'pending');
              return firing.length === 0 ? (
                <p class="good">No alert is firing ({a.alerts.length} rules watched).</p>
              ) : (
                <ul>
                  {firing.map((x) => (
                    <li key={x.ruleId + JSON.stringify(x.labels)}>
                      <span class={`badge ${x.severity === 'critical' ? 'bad' : 'warn'}`}>{x.state}</span>{' '}
                      {x.name}
                      {x.value !== null ? ` — ${num(x.value, 2)} (threshold ${num(x.threshold, 2)})` : ''}
                    </li>
                  ))}
                </ul>
              );
            }}
          </Async>
        </Panel>
        <Panel title="Hosts" id="hosts">
          <Async state={hosts}>
            {(a) =>
              a.hosts.length === 0 ? (
                <p class="muted">No host reported in the last hour.</p>
              ) : (
                <ul>
                  {a.hosts.map((h) => (
                    <li key={h.host}>
                      <a href={href('/resources', { host: h.host })}>{h.host}</a>{' '}
                      <span class="muted small">({count(h.points)} points)</span>
                    </li>
                  ))}
                </ul>
              )
            }
          </Async>
        </Panel>
      </div>
      <Panel title="Top recommendations" id="advice" actions={<a href={href('/recommendations')}>All</a>}>
        <Async state={advice}>
          {(a) =>
            a.recommendations.length === 0 ? (
              <p class="muted">Nothing to recommend in this window.</p>
            ) : (
              <ol>
                {a.recommendations.slice(0, 5).map((r) => (
                  <li key={r.id}>
                    <strong>{r.title}</strong> — {r.gain.description}
                  </li>
                ))}
              </ol>
            )
          }
        </Async>
      </Panel>
    </>
  );
}
