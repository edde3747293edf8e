/**
 * Recommendations: the cache, database and query advice ranked by the time it saves per hour (GET
 * /api/v1/cache-db/optimization/recommendations over the time range and service), each with its
 * expected gain, action, exact change, evidence and links that open the evidence; `?area=` keeps one
 * area. Below, the hosts' right-sizing (scaling and cost advice of each host that reported in the last
 * 24 h): its gain is money and headroom, not time, so it is listed apart rather than ranked in.
 * @module
 */
import type { CostAnswer, Recommendation, ScalingAnswer } from '@siperf/server/schemas';
import { get } from '../api.ts';
import { Async, Panel, Stat } from '../components/common.tsx';
import { count, ms, pct } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, setParams, useLocation, windowQuery } from '../router.ts';
import { bytes3, cores, money } from '../units.ts';
import { AdviceItem } from './advice-view.tsx';
import './ops-pages.css';

const AREAS = [
  { key: '', label: 'All' },
  { key: 'query', label: 'Queries' },
  { key: 'database', label: 'Database' },
  { key: 'cache', label: 'Caches' },
  { key: 'hosts', label: 'Hosts' },
] as const;

/** Most hosts whose scaling and cost advice is read. */
const MAX_HOSTS = 10;

export default function Recommendations() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const area = params.get('area') ?? '';
  const key = [w.window, w.from, w.to, service];
  const advice = useApi(() => get('/api/v1/cache-db/optimization/recommendations', { ...w, service }), key);
  const statements = useApi(() => get('/api/v1/apm/metrics/database', { ...w, service }), key);
  const fingerprints = new Map(
    (statements.data?.queries ?? []).map((q) => [q.statement.trim(), q.fingerprint]),
  );
  const shown = (advice.data?.recommendations ?? []).filter((r) => area === '' || r.area === area);
  return (
    <>
      <div class="page-head">
        <h1>Recommendations</h1>
        <fieldset class="segmented">
          <legend>Area</legend>
          {AREAS.map((a) => (
            <label key={a.key}>
              <input
                type="radio"
                name="area"
                value={a.key}
                checked={a.key === area}
                onChange={() => setParams({ area: a.key || undefined }, true)}
              />
              {a.label}
            </label>
          ))}
        </fieldset>
      </div>
      {area !== 'hosts' ? (
        <Panel title="Ranked by time saved per hour" id="ranked">
          <Async state={advice}>
            {(a) => (
              <>
                {shown.length > 0 ? <Summary list={shown} /> : null}
                {shown.length === 0 ? (
                  a.recommendations.length === 0 ? (
                    <AdviceEmpty />
                  ) : (
                    <p class="muted">
                      No {AREAS.find((x) => x.key === area)?.label.toLowerCase()} advice in this window;{' '}
                      <a href={href('/recommendations', { area: undefined })}>all areas</a> have{' '}
                      {a.recommendations.length}.
                    </p>
                  )
                ) : (
                  <ol class="cards">
                    {shown.map((r) => (
                      <AdviceItem
                        key={r.id}
                        r={r}
                        rank={a.recommendations.indexOf(r) + 1}
                        fingerprints={fingerprints}
                      />
                    ))}
                  </ol>
                )}
                {a.notes.length > 0 ? (
                  <>
                    <h3>Not checked</h3>
                    <ul>
                      {a.notes.map((n) => (
                        <li key={n} class="small">
                          {n}
                        </li>
                      ))}
                    </ul>
                  </>
                ) : null}
              </>
            )}
          </Async>
        </Panel>
      ) : null}
      {area === '' || area === 'hosts' ? <HostsAdvice /> : null}
    </>
  );
}

function Summary(props: { list: Recommendation[] }) {
  const known = props.list.filter((r) => r.expectedGain.timeSavedMsPerHour !== null);
  const total = known.reduce((s, r) => s + (r.expectedGain.timeSavedMsPerHour ?? 0), 0);
  const sev = (s: Recommendation['severity']) => props.list.filter((r) => r.severity === s).length;
  return (
    <div class="stats">
      <Stat label="recommendations" value={count(props.list.length)} />
      <Stat
        label={`saved per hour by the ${known.length} with an estimate`}
        value={ms(total)}
        tone={total > 0 ? 'good' : undefined}
      />
      <Stat label="critical" value={count(sev('critical'))} tone={sev('critical') ? 'bad' : undefined} />
      <Stat label="warning" value={count(sev('warning'))} tone={sev('warning') ? 'warn' : undefined} />
      <Stat label="info" value={count(sev('info'))} />
    </div>
  );
}

/** What makes advice appear: traces with database spans, configured pools, caches with traffic. */
function AdviceEmpty() {
  const origin = window.location.origin;
  return (
    <div class="empty">
      <p>
        <strong>Nothing to recommend in this time range.</strong> Advice comes from what siperf sees:
      </p>
      <ul>
        <li>
          traces with database spans (N+1 calls, slow and sequential statements): send them with any
          OpenTelemetry SDK to <code>{origin}</code>, or <code>init()</code> of <code>@siperf/node</code>,
        </li>
        <li>
          plans and indexes: set <code>pools</code> (<code>SIPERF_POOLS='main=postgresql://app@db/shop'</code>
          ) so the advisor can EXPLAIN the costly statements,
        </li>
        <li>
          caches with traffic: a server cache (<code>POST /api/v1/cache-db/caches</code>) or an application's
          (<code>@siperf/node/cache</code>), see <a href={href('/caches')}>Caches</a>.
        </li>
      </ul>
    </div>
  );
}

interface HostAdvice {
  host: string;
  scaling: ScalingAnswer | undefined;
  cost: CostAnswer | undefined;
  error: string | undefined;
}

function HostsAdvice() {
  const hosts = useApi(async (): Promise<HostAdvice[]> => {
    const a = await get('/api/v1/resources/hosts', { window: '24h' });
    const out: HostAdvice[] = [];
    for (const h of a.hosts.slice(0, MAX_HOSTS)) {
      try {
        const [scaling, cost] = await Promise.all([
          get('/api/v1/resources/scaling-recommendations', { host: h.host }),
          get('/api/v1/resources/cost-optimization', { host: h.host }),
        ]);
        out.push({ host: h.host, scaling, cost, error: undefined });
      } catch (e) {
        out.push({ host: h.host, scaling: undefined, cost: undefined, error: (e as Error).message });
      }
    }
    return out.sort(
      (x, y) => (y.cost?.potentialMonthlySavings ?? 0) - (x.cost?.potentialMonthlySavings ?? 0),
    );
  }, []);
  return (
    <Panel title="Hosts: right-sizing and cost (last 7 days)" id="hosts">
      <Async state={hosts}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">
              No host reported in the last 24 h: the host sampler (<code>resourceSampleIntervalMs</code>) or{' '}
              <code>nodeExporterTargets</code> bring them; see <a href={href('/resources')}>Resources</a>.
            </p>
          ) : (
            <ul class="cards">
              {list.map((h) => (
                <HostCard key={h.host} h={h} />
              ))}
            </ul>
          )
        }
      </Async>
    </Panel>
  );
}

function HostCard(props: { h: HostAdvice }) {
  const { h } = props;
  const changes = (h.scaling?.recommendations ?? []).filter(
    (r) => r.action === 'scale-up' || r.action === 'scale-down',
  );
  const waiting = (h.scaling?.recommendations ?? []).filter((r) => r.action === 'wait');
  const items = h.cost?.items ?? [];
  const currency = h.cost?.currency ?? '';
  return (
    <li>
      <p>
        <strong>{h.host}</strong>{' '}
        {h.cost ? (
          <span class="muted small">
            costs {money(h.cost.monthlyCost.total, currency)} a month
            {h.cost.potentialMonthlySavings > 0 ? (
              <>
                ; <span class="good">{money(h.cost.potentialMonthlySavings, currency)} could be saved</span>
              </>
            ) : null}
          </span>
        ) : null}{' '}
        <a href={href('/resources', { host: h.host })}>Open {h.host} →</a>
      </p>
      {h.error ? <p class="bad small">{h.error}</p> : null}
      {changes.length === 0 && items.length === 0 && !h.error ? (
        <p class="small muted">
          {waiting.length > 0
            ? `Sizing waits for a day of history (${waiting.map((r) => `${r.resource}: ${r.historyDays.toFixed(1)} days`).join(', ')}).`
            : 'CPU and memory fit the load: nothing to change.'}
        </p>
      ) : null}
      {changes.map((r) => {
        const f = r.resource === 'cpu' ? cores : bytes3;
        return (
          <p key={`${r.resource}${r.scope}`} class="small">
            <span class={`badge ${r.action === 'scale-up' ? 'bad' : 'warn'}`}>{r.action}</span>{' '}
            {r.resource === 'cpu' ? 'CPU' : 'Memory'} of the {r.scope}: {f(r.current)} → {f(r.recommended)},
            utilisation {pct(r.performance.utilizationNow)} → {pct(r.performance.utilizationAfter)}. {r.why}
          </p>
        );
      })}
      {items.map((x, i) => (
        <p key={i} class="small">
          <span class="badge muted">{x.kind}</span> {x.resource}: {x.current} → {x.proposed},{' '}
          <span class={x.monthlySavings >= 0 ? 'good' : 'bad'}>
            {x.monthlySavings >= 0
              ? `saves ${money(x.monthlySavings, currency)}`
              : `costs ${money(-x.monthlySavings, currency)} more`}{' '}
            a month
          </span>{' '}
          <span class="muted">({x.evidence})</span>
        </p>
      ))}
    </li>
  );
}
