/**
 * One statement (`/database/statements?fingerprint=<fp>`): its figures in the window (from
 * `GET /api/v1/apm/metrics/database`, per service and database that ran it), the endpoints that run it
 * with their own figures (`GET /api/v1/apm/metrics/api`), the advisor's findings about it (plan excerpt,
 * the `CREATE INDEX` to run, its gain verified with HypoPG or estimated), and its figures in this tab's
 * log uploads.
 * @module
 */
import type { EndpointMetrics, QueryMetrics } from '@siperf/server/schemas';
import { get } from '../api.ts';
import { Async, Panel, Stat } from '../components/common.tsx';
import { CopyCode } from '../components/copy-code.tsx';
import { Table } from '../components/table.tsx';
import { count, ms, pct, rps, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, useLocation, windowQuery } from '../router.ts';
import { AdviceItem, aboutStatement, databaseAdvice } from './database-advice.tsx';
import { storedDigests } from './database-logs.tsx';

/** Figures over several rows of one fingerprint (services or databases apart). */
function totals(rows: readonly QueryMetrics[]) {
  const calls = rows.reduce((s, q) => s + q.calls, 0);
  const totalMs = rows.reduce((s, q) => s + q.totalMs, 0);
  return {
    calls,
    totalMs,
    meanMs: calls > 0 ? totalMs / calls : 0,
    slowCalls: rows.reduce((s, q) => s + q.slowCalls, 0),
    minMs: Math.min(...rows.map((q) => q.minMs)),
    maxMs: Math.max(...rows.map((q) => q.maxMs)),
  };
}

export default function StatementPage() {
  const { params } = useLocation();
  const fp = params.get('fingerprint') ?? '';
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const key = [w.window, w.from, w.to, service];
  const db = useApi(() => get('/api/v1/apm/metrics/database', { ...w, service }), key);
  const endpoints = useApi(() => get('/api/v1/apm/metrics/api', { ...w, service, kind: 'server' }), key);
  const advice = useApi(() => get('/api/v1/cache-db/optimization/recommendations', { ...w, service }), key);
  const pools = useApi(() => get('/api/v1/cache-db/pools'), []);
  const logs = storedDigests()
    .map((d) => ({ d, q: d.digest.queries.find((q) => q.fingerprint === fp) }))
    .filter((x) => x.q !== undefined);

  return (
    <>
      <p class="small">
        <a href={href('/database', { fingerprint: undefined, log: undefined })}>← Database</a>
      </p>
      <h1>Statement</h1>
      {fp === '' ? (
        <p>
          No statement named: this page needs <code>?fingerprint=…</code>. Pick one on the{' '}
          <a href={href('/database')}>Database</a> page.
        </p>
      ) : (
        <Async state={db}>
          {(a) => {
            const rows = a.queries.filter((q) => q.fingerprint === fp);
            const text = rows[0]?.statement ?? logs[0]?.q?.statement;
            const t = rows.length > 0 ? totals(rows) : undefined;
            const one = rows.length === 1 ? rows[0] : undefined;
            const callers = [...new Set(rows.flatMap((q) => q.endpoints))];
            return (
              <>
                {text ? <CopyCode code={text} label="the statement" wrap /> : null}
                <p class="muted small">
                  Fingerprint <code>{fp}</code>
                  {rows.length > 0
                    ? ` · ${[...new Set(rows.map((q) => `${q.system}${q.database ? ` ${q.database}` : ''}`))].join(', ')} · run by ${[...new Set(rows.map((q) => q.service))].join(', ')}`
                    : ''}
                </p>
                {t ? (
                  <Panel title="Figures" id="figures">
                    <div class="stats">
                      <Stat label="calls" value={count(t.calls)} />
                      <Stat label="total time" value={ms(t.totalMs)} />
                      <Stat label="mean" value={ms(t.meanMs)} />
                      {one ? <Stat label="p50" value={ms(one.p50Ms)} /> : null}
                      {one ? (
                        <Stat
                          label="p95"
                          value={ms(one.p95Ms)}
                          tone={one.p95Ms >= a.slowQueryThresholdMs ? 'bad' : undefined}
                        />
                      ) : null}
                      {one ? <Stat label="p99" value={ms(one.p99Ms)} /> : null}
                      <Stat label="fastest / slowest" value={`${ms(t.minMs)} / ${ms(t.maxMs)}`} />
                      <Stat
                        label={`slow calls (over ${ms(a.slowQueryThresholdMs)})`}
                        value={`${count(t.slowCalls)} (${pct(t.calls > 0 ? t.slowCalls / t.calls : 0)})`}
                        tone={t.slowCalls > 0 ? 'warn' : 'good'}
                      />
                    </div>
                    {rows.length > 1 ? (
                      <Table<QueryMetrics>
                        id="by"
                        caption="Per service and database that ran it"
                        rows={rows}
                        rowKey={(q) => `${q.service}\u0000${q.database}`}
                        sort="total"
                        columns={[
                          { key: 'service', label: 'Service', value: (q) => q.service },
                          { key: 'db', label: 'Database', value: (q) => `${q.system} ${q.database}` },
                          {
                            key: 'calls',
                            label: 'Calls',
                            numeric: true,
                            value: (q) => q.calls,
                            render: (q) => count(q.calls),
                          },
                          {
                            key: 'total',
                            label: 'Total',
                            numeric: true,
                            value: (q) => q.totalMs,
                            render: (q) => ms(q.totalMs),
                          },
                          {
                            key: 'mean',
                            label: 'Mean',
                            numeric: true,
                            value: (q) => q.meanMs,
                            render: (q) => ms(q.meanMs),
                          },
                          {
                            key: 'p95',
                            label: 'p95',
                            numeric: true,
                            value: (q) => q.p95Ms,
                            render: (q) => ms(q.p95Ms),
                          },
                          {
                            key: 'p99',
                            label: 'p99',
                            numeric: true,
                            value: (q) => q.p99Ms,
                            render: (q) => ms(q.p99Ms),
                          },
                          {
                            key: 'slow',
                            label: 'Slow calls',
                            numeric: true,
                            value: (q) => q.slowCalls,
                            render: (q) => count(q.slowCalls),
                          },
                        ]}
                      />
                    ) : null}
                  </Panel>
                ) : (
                  <p class="empty">
                    No call of this statement in the traces from {time(a.from)} to {time(a.to)}. Widen the
                    time range
                    {service ? `, or show all services instead of ${service}` : ''}.
                  </p>
                )}

                {t ? (
                  <Panel title="Endpoints that run it" id="endpoints">
                    {callers.length === 0 ? (
                      <p class="muted">
                        No server span encloses its calls (a job, a script, or a service whose incoming
                        requests are not traced).
                      </p>
                    ) : (
                      <Async state={endpoints}>
                        {(e) => <Callers callers={callers} metrics={e.endpoints} />}
                      </Async>
                    )}
                  </Panel>
                ) : null}

                <Panel title="The advisor's findings" id="findings">
                  <Async state={advice}>
                    {(r) => {
                      const refs = text ? [{ fingerprint: fp, statement: text }] : [];
                      for (const q of rows) refs.push({ fingerprint: fp, statement: q.statement });
                      const mine = databaseAdvice(r.recommendations).filter((x) =>
                        refs.some((s) => aboutStatement(x, s)),
                      );
                      const head = text?.slice(0, 80);
                      const notes = head ? r.notes.filter((n) => n.includes(head)) : [];
                      const noPools = pools.data?.pools.length === 0;
                      return (
                        <>
                          {mine.length === 0 ? (
                            <p class="muted">
                              {text
                                ? 'No finding about this statement in this window.'
                                : 'No finding about this fingerprint in this window.'}{' '}
                              {!text ? null : noPools ? (
                                <>
                                  Its plan is read only on the configured pools (<code>pools</code>: see{' '}
                                  <a href={`${href('/database')}#pools-h`}>Pools</a>).
                                </>
                              ) : (
                                'The advisor explains the statements with the most time on each pool; nothing in its plan called for a change.'
                              )}
                            </p>
                          ) : (
                            <ol class="db-advice-list">
                              {mine.map((x) => (
                                <AdviceItem key={x.id} r={x} open />
                              ))}
                            </ol>
                          )}
                          {notes.length > 0 ? (
                            <ul class="small warn">
                              {notes.map((n) => (
                                <li key={n}>{n}</li>
                              ))}
                            </ul>
                          ) : null}
                        </>
                      );
                    }}
                  </Async>
                </Panel>

                {logs.length > 0 ? (
                  <Panel title="In uploaded logs" id="logs">
                    {logs.map(({ d, q }) =>
                      q ? (
                        <div key={d.digest.id}>
                          <h3 class="small">
                            Upload #{d.digest.id}: {d.source}
                          </h3>
                          <div class="stats">
                            <Stat label="calls" value={count(q.count)} />
                            <Stat label="total time" value={ms(q.totalMs)} />
                            <Stat label="mean" value={ms(q.meanMs)} />
                            <Stat label="p95" value={ms(q.p95Ms)} />
                            <Stat label="slowest" value={ms(q.maxMs)} />
                            {q.rowsExamined !== null ? (
                              <Stat label="rows examined" value={count(q.rowsExamined)} />
                            ) : null}
                          </div>
                          <p class="small">Slowest call as logged:</p>
                          <pre class="wrap">
                            <code>{q.example}</code>
                          </pre>
                          {q.plan ? (
                            <>
                              <p class="small">Its plan (auto_explain):</p>
                              <pre class="db-plan">
                                <code>{q.plan}</code>
                              </pre>
                            </>
                          ) : null}
                        </div>
                      ) : null,
                    )}
                  </Panel>
                ) : null}
              </>
            );
          }}
        </Async>
      )}
    </>
  );
}

/** The endpoints that run the statement, with their own figures when the window has them. */
function Callers(props: { callers: string[]; metrics: readonly EndpointMetrics[] }) {
  type Row = { endpoint: string; m: EndpointMetrics | undefined };
  const rows = props.callers.flatMap((c): Row[] => {
    const m = props.metrics.filter((e) => e.endpoint === c);
    return m.length > 0 ? m.map((e) => ({ endpoint: c, m: e })) : [{ endpoint: c, m: undefined }];
  });
  return (
    <Table<Row>
      id="ep"
      caption="Endpoints whose requests ran the statement, with their requests in the window"
      rows={rows}
      rowKey={(r) => `${r.m?.service ?? ''}\u0000${r.endpoint}`}
      sort="requests"
      columns={[
        {
          key: 'endpoint',
          label: 'Endpoint',
          value: (r) => r.endpoint,
          render: (r) =>
            r.m ? (
              <a
                href={href(`/services/${encodeURIComponent(r.m.service)}/endpoints`, {
                  endpoint: r.endpoint,
                })}
              >
                {r.endpoint}
              </a>
            ) : (
              r.endpoint
            ),
        },
        {
          key: 'service',
          label: 'Service',
          value: (r) => r.m?.service ?? '',
          render: (r) => r.m?.service ?? '–',
        },
        {
          key: 'requests',
          label: 'Requests',
          numeric: true,
          value: (r) => r.m?.requests ?? -1,
          render: (r) => count(r.m?.requests),
        },
        {
          key: 'rps',
          label: 'Throughput',
          numeric: true,
          value: (r) => r.m?.throughputRps ?? -1,
          render: (r) => rps(r.m?.throughputRps),
        },
        {
          key: 'p95',
          label: 'p95',
          numeric: true,
          value: (r) => r.m?.p95Ms ?? -1,
          render: (r) => ms(r.m?.p95Ms),
        },
        {
          key: 'errors',
          label: 'Error rate',
          numeric: true,
          value: (r) => r.m?.errorRate ?? -1,
          render: (r) => pct(r.m?.errorRate),
        },
      ]}
    />
  );
}
