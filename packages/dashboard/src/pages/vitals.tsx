/**
 * Web vitals (`/vitals`): the 0–100 score, the p75 of LCP, INP, CLS, FCP and TTFB with their good /
 * needs-improvement / poor split, a table per page, where a page load's time goes (LCP subparts, TTFB
 * phases), and the `<script>` tag that sends the data (`GET /rum.js`, @siperf/browser), from
 * `GET /api/v1/apm/metrics/user-experience`. One page is shown with `page=<path>` in the URL.
 * @module
 */
import type { PageExperience, UserExperienceAnswer } from '@siperf/server/schemas';
import { useState } from 'preact/hooks';
import { get } from '../api.ts';
import { Async, EmptyState, Panel, Stat } from '../components/common.tsx';
import { CopyCode } from '../components/copy-code.tsx';
import { StackedBar } from '../components/stacked-bar.tsx';
import { Table } from '../components/table.tsx';
import { count, ms, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, useLocation, windowQuery } from '../router.ts';
import './vitals.css';

type Metric = keyof PageExperience['metrics'];
type Summary = NonNullable<PageExperience['metrics'][Metric]>;

/** The metrics shown, in the order web.dev lists them; FID only when a browser still reports it. */
const METRICS: { name: Metric; title: string; what: string }[] = [
  { name: 'LCP', title: 'Largest Contentful Paint', what: 'When the main content has loaded' },
  { name: 'INP', title: 'Interaction to Next Paint', what: 'How fast the page answers clicks and keys' },
  { name: 'CLS', title: 'Cumulative Layout Shift', what: 'How much the layout moves (unitless)' },
  { name: 'FCP', title: 'First Contentful Paint', what: 'When anything is first drawn' },
  { name: 'TTFB', title: 'Time to First Byte', what: 'When the first byte of the page arrives' },
  { name: 'FID', title: 'First Input Delay', what: 'Delay of the first interaction (older browsers)' },
];

/** A metric's value with its unit: ms (as format.ts writes them), CLS as a unitless score. */
function value(metric: Metric, v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return metric === 'CLS' ? v.toFixed(3) : ms(v);
}

/** A threshold: ms as format.ts writes them, CLS as given (0.1, 0.25). */
function limit(metric: Metric, v: number | undefined): string {
  if (v === undefined) return '–';
  return metric === 'CLS' ? String(v) : ms(v);
}

const TONE = { good: 'good', 'needs-improvement': 'warn', poor: 'bad' } as const;
const RATING_TEXT = { good: 'good', 'needs-improvement': 'needs improvement', poor: 'poor' } as const;

/** Tone of a 0–100 score, as Lighthouse colours it: 90+ good, 50–89 average, below 50 poor. */
function scoreTone(score: number | null): 'good' | 'warn' | 'bad' | undefined {
  if (score === null) return undefined;
  return score >= 90 ? 'good' : score >= 50 ? 'warn' : 'bad';
}

/** The `<script>` tag for this server, and a field for the service name it files the beacons under. */
export function RumSnippet() {
  const [service, setService] = useState('my-site');
  const tag = `<script src="${window.location.origin}/rum.js" data-service="${service.replace(/"/g, '&quot;')}" async></script>`;
  return (
    <div class="rum-snippet">
      <p>
        Add this tag to the pages you want measured (in <code>&lt;head&gt;</code>); real visitors' browsers
        then send their web vitals here.
      </p>
      <label class="small">
        Service name (data-service){' '}
        <input
          type="text"
          value={service}
          onInput={(e) => setService((e.target as HTMLInputElement).value)}
        />
      </label>
      <CopyCode code={tag} label="the script tag" wrap />
      <ul class="small muted">
        <li>
          Let your sites' origins post here: <code>SIPERF_CORS_ORIGINS=https://shop.example</code> (setting{' '}
          <code>corsOrigins</code>).
        </li>
        <li>
          When the server has keys, add <code>data-key="&lt;ingest key&gt;"</code> (it is public: a page
          cannot hide it).
        </li>
        <li>
          Optional: <code>data-endpoint</code> (default: where the script comes from),{' '}
          <code>data-flush-interval-ms</code> (default 10000; 0 sends only when the page is hidden).
        </li>
        <li>
          Or from a bundle: <code>import {'{ init }'} from '@siperf/browser'</code> then{' '}
          <code>init({`{ endpoint: '${window.location.origin}', service: '${service}' }`})</code>.
        </li>
      </ul>
    </div>
  );
}

/** One metric: its p75 and rating, and how the page loads split between good, needs improvement and poor. */
function MetricCard(props: { name: Metric; s: Summary | undefined; a: UserExperienceAnswer }) {
  const { name, s } = props;
  const def = METRICS.find((m) => m.name === name)!;
  const th = props.a.thresholds[name];
  const weight = props.a.weights[name];
  return (
    <article class="vital" aria-labelledby={`vital-${name}`}>
      <header>
        <h3 id={`vital-${name}`} title={def.title}>
          {name}
        </h3>
        <span class="muted small">{def.title}</span>
      </header>
      {s ? (
        <>
          <div class={`vital-value ${TONE[s.rating]}`}>
            {value(name, s.p75)} <span class="vital-rating">{RATING_TEXT[s.rating]}</span>
          </div>
          <div class="muted small">
            p75 of {count(s.count)} {s.count === 1 ? 'page load' : 'page loads'}
          </div>
          <StackedBar
            label={`${name}: page loads by rating`}
            parts={[
              { label: 'good', value: s.good, color: '--good' },
              { label: 'needs improvement', value: s.needsImprovement, color: '--warn' },
              { label: 'poor', value: s.poor, color: '--bad' },
            ]}
          />
        </>
      ) : (
        <p class="muted">No data.</p>
      )}
      <p class="muted small vital-foot">
        {def.what}. Good ≤ {limit(name, th?.good)}, poor &gt; {limit(name, th?.poor)}
        {weight ? ` · ${Math.round(weight * 100)}% of the score` : ' · not in the score'}.
      </p>
    </article>
  );
}

const LCP_PARTS: [string, string, string][] = [
  ['timeToFirstByte', 'time to first byte', '--c1'],
  ['resourceLoadDelay', 'resource load delay', '--c2'],
  ['resourceLoadDuration', 'resource load duration', '--c3'],
  ['elementRenderDelay', 'element render delay', '--c4'],
];
const TTFB_PARTS: [string, string, string][] = [
  ['waitingDuration', 'waiting (redirects, unload)', '--c1'],
  ['cacheDuration', 'cache', '--c6'],
  ['dnsDuration', 'DNS', '--c2'],
  ['connectionDuration', 'connection (TCP, TLS)', '--c3'],
  ['requestDuration', 'request', '--c5'],
];

/** Where a page load's time goes: the means of the LCP subparts and TTFB phases. */
function Breakdown(props: { p: PageExperience }) {
  const b = props.p.loadBreakdown;
  const bar = (title: string, parts: [string, string, string][], means: Record<string, number>) => {
    const known = parts.filter(([k]) => typeof means[k] === 'number');
    const total = known.reduce((s, [k]) => s + (means[k] ?? 0), 0);
    return (
      <div class="breakdown">
        <h3>
          {title} <span class="muted small">mean {ms(total)}</span>
        </h3>
        {known.length === 0 ? (
          <p class="muted small">No beacon carried this attribution.</p>
        ) : (
          <StackedBar
            label={title}
            height={18}
            parts={known.map(([k, label, color]) => ({
              label,
              value: Math.max(0, means[k] ?? 0),
              color,
              text: ms(means[k]),
            }))}
          />
        )}
      </div>
    );
  };
  return (
    <>
      <div class="stats">
        <Stat label="TTFB, p75" value={ms(b.ttfbP75Ms)} />
        <Stat label="FCP, p75" value={ms(b.fcpP75Ms)} />
        <Stat label="LCP, p75" value={ms(b.lcpP75Ms)} />
      </div>
      {bar('LCP subparts', LCP_PARTS, b.lcpSubpartsMeanMs)}
      {bar('TTFB phases', TTFB_PARTS, b.ttfbPhasesMeanMs)}
      <p class="muted small">
        Means over the page loads whose beacon carried web-vitals' attribution. A long resource load delay
        means the LCP image is found late (preload it); a long render delay, that scripts or styles hold the
        paint.
      </p>
    </>
  );
}

/** Page loads counted for a page: its most reported metric's count. */
const loads = (p: PageExperience) => Math.max(0, ...Object.values(p.metrics).map((m) => m?.count ?? 0));

export default function Vitals() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const page = params.get('page') ?? undefined;
  const state = useApi(
    () => get('/api/v1/apm/metrics/user-experience', { ...w, service, page, maxPages: 100 }),
    [w.window, w.from, w.to, service, page],
  );
  return (
    <div class="vitals-page">
      <h1>Web vitals{page ? <span class="muted"> · {page}</span> : null}</h1>
      {page ? (
        <p class="small">
          One page shown. <a href={href('/vitals', { page: undefined })}>All pages</a>
        </p>
      ) : null}
      <Async state={state}>
        {(a) => {
          const o = a.overall;
          if (Object.keys(o.metrics).length === 0)
            return (
              <Panel title="No data yet" id="none">
                <EmptyState what={page ? `web-vitals beacons for ${page}` : 'web-vitals beacons'}>
                  <RumSnippet />
                </EmptyState>
              </Panel>
            );
          const shown = METRICS.filter((m) => m.name !== 'FID' || o.metrics.FID);
          return (
            <>
              <div class="vitals-top">
                <div class={`vitals-score tone-${scoreTone(o.score) ?? 'none'}`} data-testid="vitals-score">
                  <div class="vitals-score-value">
                    {o.score === null ? '–' : o.score}
                    <span class="muted"> / 100</span>
                  </div>
                  <div class="small">
                    {page ? 'Score of this page' : 'Score of all pages'}: the p75 of{' '}
                    {o.scoreBasis.length > 0 ? o.scoreBasis.join(', ') : 'no weighted metric'} on Lighthouse's
                    curves, weighted (90+ good, 50–89 needs improvement).
                  </div>
                  <div class="muted small">
                    {count(loads(o))} page loads, {time(a.from)} to {time(a.to)}
                  </div>
                </div>
                <div class="vitals-grid">
                  {shown.map((m) => (
                    <MetricCard key={m.name} name={m.name} s={o.metrics[m.name]} a={a} />
                  ))}
                </div>
              </div>
              {page ? null : (
                <Panel title="Pages" id="pages">
                  <Table<PageExperience>
                    id="pg"
                    caption="p75 per page (coloured by rating); pick a page to see it alone"
                    rows={a.pages}
                    rowKey={(p) => p.page ?? ''}
                    sort="loads"
                    columns={[
                      {
                        key: 'page',
                        label: 'Page',
                        value: (p) => p.page,
                        render: (p) => <a href={href('/vitals', { page: p.page ?? undefined })}>{p.page}</a>,
                      },
                      {
                        key: 'score',
                        label: 'Score',
                        numeric: true,
                        value: (p) => p.score ?? -1,
                        render: (p) => <span class={scoreTone(p.score)}>{p.score ?? '–'}</span>,
                      },
                      {
                        key: 'loads',
                        label: 'Page loads',
                        numeric: true,
                        value: loads,
                        render: (p) => count(loads(p)),
                      },
                      ...(['LCP', 'INP', 'CLS', 'FCP', 'TTFB'] as const).map((m) => ({
                        key: m,
                        label: m,
                        numeric: true,
                        value: (p: PageExperience) => p.metrics[m]?.p75 ?? -1,
                        render: (p: PageExperience) => {
                          const s = p.metrics[m];
                          return s ? (
                            <span
                              class={TONE[s.rating]}
                              title={`${RATING_TEXT[s.rating]}, ${count(s.count)} loads`}
                            >
                              {value(m, s.p75)}
                            </span>
                          ) : (
                            <span class="muted">–</span>
                          );
                        },
                      })),
                    ]}
                  />
                </Panel>
              )}
              <Panel title="Where the load time goes" id="breakdown">
                <Breakdown p={o} />
              </Panel>
              <Panel title="Measure more pages" id="snippet">
                <RumSnippet />
              </Panel>
            </>
          );
        }}
      </Async>
    </div>
  );
}
