/**
 * Database: statements by fingerprint from the traces (`GET /api/v1/apm/metrics/database`: calls, total,
 * mean, p95, slow calls, the endpoints that run them), the advisor's database findings, the server's pools
 * with their sizing advice, and log imports digested from the page. `/database/statements?fingerprint=…`
 * is one statement's page (database-statement.tsx).
 * @module
 */
import type { QueryMetrics, Recommendation } from '@siperf/server/schemas';
import { get } from '../api.ts';
import { Async, EmptyState, Panel, Stat } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { count, ms, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, setParams, useLocation, windowQuery } from '../router.ts';
import { AdviceItem, aboutStatement, databaseAdvice, StatementText } from './database-advice.tsx';
import { LogImport } from './database-logs.tsx';
import { PoolCard, PoolsHowTo } from './database-pools.tsx';
import StatementPage from './database-statement.tsx';
import './database.css';

/** The page at `/database`, or a statement's page at `/database/statements`. */
export default function Database(props: { path: string }) {
  return (
    <div class="db-page">
      {props.path === '/database/statements' ? <StatementPage /> : <DatabaseOverview />}
    </div>
  );
}

/** How to get statements into siperf: the empty state of the statements table. */
export function StatementsHowTo() {
  const origin = window.location.origin;
  return (
    <EmptyState what="database calls">
      <p>
        Statements come from client spans with <code>db.system</code> and <code>db.statement</code> (or{' '}
        <code>db.query.text</code>), as the OpenTelemetry database instrumentations write them. A Node.js
        service with @siperf/node traces <code>pg</code> and <code>mysql2</code> out of the box:
      </p>
      <pre>
        <code>{`import { init } from '@siperf/node';\ninit({ serviceName: 'checkout', endpoint: '${origin}' });`}</code>
      </pre>
      <p>
        Any other OpenTelemetry SDK: <code>OTEL_EXPORTER_OTLP_ENDPOINT={origin}</code>. No traces? Upload a
        PostgreSQL log or MySQL slow log under <a href="#logs-h">Log imports</a> below.
      </p>
    </EmptyState>
  );
}

function DatabaseOverview() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const key = [w.window, w.from, w.to, service];
  const db = useApi(() => get('/api/v1/apm/metrics/database', { ...w, service }), key);
  const advice = useApi(() => get('/api/v1/cache-db/optimization/recommendations', { ...w, service }), key);
  const pools = useApi(() => get('/api/v1/cache-db/pools'), []);
  const filter = (params.get('q') ?? '').toLowerCase();

  return (
    <>
      <h1>Database</h1>
      <Panel
        title="Statements"
        id="statements"
        actions={
          <label class="small">
            Filter{' '}
            <input
              type="search"
              placeholder="table, service, endpoint…"
              value={params.get('q') ?? ''}
              onInput={(e) => setParams({ q: (e.target as HTMLInputElement).value || undefined }, true)}
            />
          </label>
        }
      >
        <Async state={db}>
          {(a) => {
            if (a.queries.length === 0) return <StatementsHowTo />;
            const rows = filter
              ? a.queries.filter((q) =>
                  [q.statement, q.service, q.database, q.system, ...q.endpoints].some((t) =>
                    t.toLowerCase().includes(filter),
                  ),
                )
              : a.queries;
            const calls = a.queries.reduce((s, q) => s + q.calls, 0);
            const slow = a.queries.reduce((s, q) => s + q.slowCalls, 0);
            return (
              <>
                <div class="stats">
                  <Stat label="distinct statements" value={count(a.queries.length)} />
                  <Stat label="calls" value={count(calls)} />
                  <Stat
                    label="time in the database"
                    value={ms(a.queries.reduce((s, q) => s + q.totalMs, 0))}
                  />
                  <Stat
                    label={`slow calls (over ${ms(a.slowQueryThresholdMs)})`}
                    value={count(slow)}
                    tone={slow > 0 ? 'warn' : 'good'}
                  />
                </div>
                <Table<QueryMetrics>
                  id="st"
                  caption={`Statements by fingerprint, ${time(a.from)} to ${time(a.to)}; a slow call takes over ${ms(a.slowQueryThresholdMs)}`}
                  rows={rows}
                  rowKey={(q) => `${q.service}\u0000${q.database}\u0000${q.fingerprint}`}
                  sort="total"
                  columns={[
                    {
                      key: 'statement',
                      label: 'Statement',
                      value: (q) => q.statement,
                      render: (q) => (
                        <a href={href('/database/statements', { fingerprint: q.fingerprint })}>
                          <StatementText text={q.statement} />
                        </a>
                      ),
                    },
                    {
                      key: 'service',
                      label: 'Service · database',
                      value: (q) => `${q.service} ${q.database}`,
                      render: (q) => (
                        <span class="small">
                          {q.service}
                          <br />
                          <span class="muted db-nowrap">
                            {q.system}
                            {q.database ? ` · ${q.database}` : ''}
                          </span>
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
                      render: (q) => (
                        <span class={q.p95Ms >= a.slowQueryThresholdMs ? 'bad' : undefined}>
                          {ms(q.p95Ms)}
                        </span>
                      ),
                    },
                    {
                      key: 'slow',
                      label: 'Slow calls',
                      numeric: true,
                      value: (q) => q.slowCalls,
                      render: (q) => (
                        <span class={q.slowCalls > 0 ? 'warn' : undefined}>{count(q.slowCalls)}</span>
                      ),
                    },
                    {
                      key: 'endpoints',
                      label: 'Endpoints',
                      value: (q) => q.endpoints.length,
                      render: (q) =>
                        q.endpoints.length === 0 ? (
                          <span class="muted">–</span>
                        ) : (
                          <span class="small" title={q.endpoints.join('\n')}>
                            {q.endpoints.slice(0, 2).join(', ')}
                            {q.endpoints.length > 2 ? ` and ${q.endpoints.length - 2} more` : ''}
                          </span>
                        ),
                    },
                  ]}
                />
                {filter && rows.length === 0 ? <p class="muted">No statement matches “{filter}”.</p> : null}
              </>
            );
          }}
        </Async>
      </Panel>

      <Panel title="Advice" id="advice" actions={<a href={href('/recommendations')}>All recommendations</a>}>
        <Async state={advice}>
          {(a) => {
            const recs = databaseAdvice(a.recommendations);
            const statements = db.data?.queries ?? [];
            const statementOf = (r: Recommendation) => statements.find((s) => aboutStatement(r, s));
            return (
              <>
                {recs.length === 0 ? (
                  <p class="muted">
                    No database advice in this window. N+1 calls are found in the traces; plans, index
                    suggestions and catalog checks need <code>pools</code> (below).
                  </p>
                ) : (
                  <ol class="db-advice-list">
                    {recs.map((r) => (
                      <AdviceItem key={r.id} r={r} statement={statementOf(r)} />
                    ))}
                  </ol>
                )}
                {a.notes.length > 0 ? (
                  <details class="db-notes">
                    <summary>What the advisor could not check ({a.notes.length})</summary>
                    <ul class="small">
                      {a.notes.map((n) => (
                        <li key={n}>{n}</li>
                      ))}
                    </ul>
                  </details>
                ) : null}
              </>
            );
          }}
        </Async>
      </Panel>

      <Panel title="Pools" id="pools">
        <Async state={pools}>
          {(a) =>
            a.pools.length === 0 ? (
              <PoolsHowTo />
            ) : (
              <div class="db-pools">
                {a.pools.map((p) => (
                  <PoolCard key={p.name} p={p} />
                ))}
              </div>
            )
          }
        </Async>
      </Panel>

      <Panel title="Log imports" id="logs">
        <LogImport onUploaded={advice.reload} />
      </Panel>
    </>
  );
}
