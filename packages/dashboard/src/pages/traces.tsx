/**
 * Traces: `/traces` searches recent traces (service, endpoint, minimum duration, errors only, all in the
 * URL: `service`, `endpoint`, `minMs`, `errors=1`, `limit`); `/traces/<traceId>` shows one trace as a
 * virtualised waterfall with self times, the critical path, folded N+1 runs, each span's percentile
 * against its operation and the span's details (`span=<spanId>` in the URL).
 * @module
 */
import { useMemo, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { Async, EmptyState, Panel, Stat } from '../components/common.tsx';
import { SpanPanel } from '../components/span-panel.tsx';
import { Table } from '../components/table.tsx';
import { flattenTrace } from '../components/trace-rows.ts';
import { Waterfall } from '../components/waterfall.tsx';
import { count, ms, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, setParams, useLocation, windowQuery } from '../router.ts';
import './traces.css';

export default function Traces(props: { path: string }) {
  const rest = props.path.replace(/^\/traces\/?/, '');
  if (rest === '') return <TraceSearch />;
  return <TraceView traceId={decodeURIComponent(rest.split('/')[0]!)} />;
}

/** `/traces`: the search form and the matching traces. */
function TraceSearch() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const endpoint = params.get('endpoint') ?? undefined;
  const minMs = params.get('minMs') ?? undefined;
  const errorsOnly = params.get('errors') === '1';
  const limit = Number(params.get('limit') ?? 100) || 100;
  const minNum = minMs !== undefined && Number.isFinite(Number(minMs)) ? Number(minMs) : undefined;
  const traces = useApi(
    () =>
      get('/api/v1/apm/traces/recent', {
        ...w,
        service,
        endpoint,
        minDurationMs: minNum,
        error: errorsOnly ? true : undefined,
        limit,
      }),
    [w.window, w.from, w.to, service, endpoint, minNum, errorsOnly, limit],
  );
  const services = useApi(() => get('/api/v1/apm/services', w), [w.window, w.from, w.to]);
  const endpoints = useApi(
    () => get('/api/v1/apm/metrics/api', { ...w, service, kind: 'server' }),
    [w.window, w.from, w.to, service],
  );
  return (
    <>
      <h1>Traces</h1>
      <Panel title="Search" id="search">
        <SearchForm
          key={`${service}|${endpoint}|${minMs}|${errorsOnly}|${limit}`}
          service={service ?? ''}
          endpoint={endpoint ?? ''}
          minMs={minMs ?? ''}
          errorsOnly={errorsOnly}
          limit={limit}
          services={services.data?.services.map((s) => s.service) ?? []}
          endpoints={[
            ...new Set(
              (endpoints.data?.endpoints ?? [])
                .filter((e) => !service || e.service === service)
                .map((e) => e.endpoint),
            ),
          ]}
        />
      </Panel>
      <Panel title="Matching traces" id="results">
        <Async state={traces}>
          {(a) =>
            a.traces.length === 0 ? (
              service || endpoint || minNum !== undefined || errorsOnly ? (
                <p class="muted">
                  No trace matches in this time range. Loosen the search or widen the time range.
                </p>
              ) : (
                <EmptyState what="traces" />
              )
            ) : (
              <Table
                caption={`${a.traces.length === limit ? `The newest ${limit}` : `${a.traces.length}`} traces from ${time(a.from)} to ${time(a.to)}${a.traces.length === limit ? ' (raise the limit for more)' : ''}`}
                rows={a.traces}
                rowKey={(t) => t.traceId}
                sort="start"
                columns={[
                  {
                    key: 'start',
                    label: 'Start',
                    value: (t) => t.startTime,
                    render: (t) => time(t.startTime),
                  },
                  {
                    key: 'trace',
                    label: 'Trace',
                    value: (t) => `${t.service} ${t.endpoint}`,
                    render: (t) => (
                      <a href={href(`/traces/${t.traceId}`)}>
                        <span class="muted">{t.service}</span> {t.endpoint}{' '}
                        <code class="muted small">{t.traceId.slice(0, 8)}</code>
                      </a>
                    ),
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
                    render: (t) => (
                      <span class={t.errorCount > 0 ? 'bad' : 'muted'}>{count(t.errorCount)}</span>
                    ),
                  },
                  { key: 'services', label: 'Services', value: (t) => t.services.join(', ') },
                ]}
              />
            )
          }
        </Async>
      </Panel>
    </>
  );
}

function SearchForm(props: {
  service: string;
  endpoint: string;
  minMs: string;
  errorsOnly: boolean;
  limit: number;
  services: string[];
  endpoints: string[];
}) {
  const [service, setService] = useState(props.service);
  const [endpoint, setEndpoint] = useState(props.endpoint);
  const [minMs, setMinMs] = useState(props.minMs);
  const [errorsOnly, setErrorsOnly] = useState(props.errorsOnly);
  const [limit, setLimit] = useState(String(props.limit));
  return (
    <form
      class="search"
      onSubmit={(e) => {
        e.preventDefault();
        setParams({
          service: service || undefined,
          endpoint: endpoint.trim() || undefined,
          minMs: minMs.trim() || undefined,
          errors: errorsOnly ? '1' : undefined,
          limit: limit === '100' ? undefined : limit,
        });
      }}
    >
      <label>
        Service
        <select value={service} onChange={(e) => setService((e.target as HTMLSelectElement).value)}>
          <option value="">All services</option>
          {[...new Set([...props.services, ...(service ? [service] : [])])].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Endpoint (root span)
        <input
          list="trace-endpoints"
          value={endpoint}
          placeholder="e.g. GET /cart"
          onInput={(e) => setEndpoint((e.target as HTMLInputElement).value)}
        />
        <datalist id="trace-endpoints">
          {props.endpoints.map((x) => (
            <option key={x} value={x} />
          ))}
        </datalist>
      </label>
      <label>
        Min duration (ms)
        <input
          type="number"
          min="0"
          step="any"
          inputMode="decimal"
          value={minMs}
          onInput={(e) => setMinMs((e.target as HTMLInputElement).value)}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={errorsOnly}
          onChange={(e) => setErrorsOnly((e.target as HTMLInputElement).checked)}
        />{' '}
        Errors only
      </label>
      <label>
        Limit
        <select value={limit} onChange={(e) => setLimit((e.target as HTMLSelectElement).value)}>
          {['20', '100', '500', '1000'].map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Search</button>
    </form>
  );
}

/** The window of the span percentiles, in words and as query parameters of the trace route. */
function percentileWindowOf(params: URLSearchParams): {
  query: { window?: string; from?: string; to?: string };
  text: string;
} {
  const w = windowQuery(params);
  if (w.from && w.to) return { query: w, text: `${time(w.from)} – ${time(w.to)}` };
  return { query: { window: w.window }, text: `the ${w.window} before the trace's end` };
}

/** `/traces/<traceId>`: the waterfall and the span panel. */
function TraceView(props: { traceId: string }) {
  const { params } = useLocation();
  const pw = percentileWindowOf(params);
  const trace = useApi(
    () => get('/api/v1/apm/traces/{traceId}', pw.query, { traceId: props.traceId }),
    [props.traceId, pw.query.window, pw.query.from, pw.query.to],
  );
  return (
    <>
      <p class="crumbs">
        <a href={href('/traces')}>Traces</a> / <code>{props.traceId}</code>
      </p>
      <Async state={trace}>{(t) => <TraceBody tree={t} percentileWindow={pw.text} />}</Async>
    </>
  );
}

function TraceBody(props: { tree: import('@siperf/server/schemas').TraceTree; percentileWindow: string }) {
  const t = props.tree;
  const { params } = useLocation();
  const flat = useMemo(() => flattenTrace(t), [t]);
  const selected = params.get('span') ?? undefined;
  const selectedIndex = selected === undefined ? undefined : flat.indexOf.get(selected);
  const root = t.roots.find((r) => !r.orphan) ?? t.roots[0];
  const orphans = useMemo(() => t.roots.filter((r) => r.orphan).length, [t]);
  const flagged = useMemo(() => {
    let n = 0;
    for (const s of flat.nodes) if (s.clockFlagged) n++;
    return n;
  }, [flat]);
  const select = (spanId: string | undefined) => setParams({ span: spanId }, true);
  const nPlusOne = flat.groups.filter((g) => g.isDb).length;
  return (
    <>
      <h1>
        {root ? (
          <>
            <span class="muted">{root.service}</span> {root.endpoint}
          </>
        ) : (
          'Trace'
        )}
      </h1>
      <div class="stats">
        <Stat label="Duration" value={ms(t.durationMs)} />
        <Stat label="Spans" value={count(t.spanCount)} />
        <Stat label="Services" value={count(t.services.length)} />
        <Stat label="Errors" value={count(t.errorCount)} tone={t.errorCount > 0 ? 'bad' : undefined} />
        <Stat label="On the critical path" value={`${count(t.criticalPath.length)} spans`} />
        <Stat label="Started" value={time(t.startTime)} />
      </div>
      {orphans > 0 || t.clockSkew.length > 0 || flagged > 0 ? (
        <div class="warnings" role="note">
          {orphans > 0 ? (
            <p>
              ⚠ {count(orphans)} span{orphans === 1 ? '' : 's'} with a <strong>missing parent</strong> (the
              parent is not in this trace: not sent, dropped or still arriving) shown as root
              {orphans === 1 ? '' : 's'}, marked on the row.
            </p>
          ) : null}
          {t.clockSkew.length > 0 ? (
            <p>
              ⚠ {count(t.clockSkew.length)} span{t.clockSkew.length === 1 ? '' : 's'} with{' '}
              <strong>clock skew</strong> against a parent in another service (starts before it, or ends after
              it): times are shown as sent, marked on the row.
            </p>
          ) : null}
          {flagged > 0 ? (
            <p>
              ⚠ {count(flagged)} span{flagged === 1 ? '' : 's'} whose time was far from the server clock at
              ingest, marked on the row.
            </p>
          ) : null}
        </div>
      ) : null}
      <div class="wf-legend">
        {t.services.slice(0, 6).map((s, i) => (
          <span key={s}>
            <span class="swatch" style={{ background: `var(--c${(i % 6) + 1})` }} />
            {s}
          </span>
        ))}
        <span>
          <span class="swatch" style={{ background: 'var(--bad)' }} />
          error
        </span>
        <span>
          <span class="swatch crit" />
          critical path
        </span>
        {nPlusOne > 0 ? (
          <span>
            <span class="badge warn">N+1</span> {count(nPlusOne)} run{nPlusOne === 1 ? '' : 's'} of ≥ 5
            identical statements folded
          </span>
        ) : null}
        <span>
          Self: time not covered by children · Pctl: rank of the duration among its operation's over{' '}
          {props.percentileWindow} (– : no rollup, as for internal spans below a root)
        </span>
      </div>
      <div class={`trace-layout${selectedIndex !== undefined ? ' with-panel' : ''}`}>
        <div class="trace-main">
          <Waterfall
            flat={flat}
            services={t.services}
            selected={selected}
            onSelect={select}
            percentileWindow={props.percentileWindow}
            label={`Spans of trace ${t.traceId}`}
          />
        </div>
        {selectedIndex !== undefined ? (
          <SpanPanel
            flat={flat}
            index={selectedIndex}
            percentileWindow={props.percentileWindow}
            onClose={() => select(undefined)}
            onSelect={select}
          />
        ) : null}
      </div>
    </>
  );
}
