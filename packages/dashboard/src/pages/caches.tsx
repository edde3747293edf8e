/**
 * Caches: every cache the server knows (its own and those applications report), and one of them
 * (`?cache=<name>`, `<service>/<name>` for an application's): its figures, its hit ratio over time, the
 * miss-ratio curve with what a larger size would give ("2× the size gives +X points"), the TTL learned
 * per key group, and the advice about it.
 *
 * Hit ratio over time: an application's cache from its `siperf.cache.requests` counters (hits and misses
 * between two exports); a server cache keeps no history of its counters, so its line is sampled from its
 * statistics every 10 s while the page is open.
 * @module
 */
import type { CacheStatistics, CacheSummary, Recommendation } from '@siperf/server/schemas';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { TimeChart } from '../components/chart.tsx';
import { Async, ErrorView, Panel, Stat } from '../components/common.tsx';
import { CurveChart } from '../components/curve-chart.tsx';
import { Table } from '../components/table.tsx';
import { count, ms, num, pct, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, useLocation, windowQuery } from '../router.ts';
import { bytes3, dur, points } from '../units.ts';
import { cacheOf } from './advice-links.ts';
import { AdviceItem } from './advice-view.tsx';
import { readMetric } from './resource-history.ts';
import './ops-pages.css';

/** The name a cache is chosen by: `service/name` for an application's cache. */
const labelOf = (c: { name: string; service: string | null }) =>
  c.service ? `${c.service}/${c.name}` : c.name;

const RANGE_MS: Record<string, number> = {
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};

/** The hit ratio of the curve at `size` entries (linear in log size between its points). */
export function curveAt(
  curve: readonly { size: number; hitRatio: number }[],
  size: number,
): number | undefined {
  const c = [...curve].filter((p) => p.size > 0).sort((a, b) => a.size - b.size);
  if (c.length === 0 || size < c[0]!.size || size > c[c.length - 1]!.size) return undefined;
  for (let i = 0; i < c.length; i++) {
    const p = c[i]!;
    if (p.size === size) return p.hitRatio;
    const q = c[i + 1];
    if (q && p.size < size && size < q.size) {
      const f = (Math.log(size) - Math.log(p.size)) / (Math.log(q.size) - Math.log(p.size));
      return p.hitRatio + f * (q.hitRatio - p.hitRatio);
    }
  }
  return undefined;
}

export default function Caches() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const key = [w.window, w.from, w.to];
  const list = useApi(() => get('/api/v1/cache-db/caches', w), key);
  const all = useApi(() => get('/api/v1/cache-db/statistics/comprehensive', w), key);
  const first = list.data?.caches[0];
  const selected = params.get('cache') ?? (first ? labelOf(first) : undefined);
  return (
    <>
      <div class="page-head">
        <h1>Caches</h1>
      </div>
      <Panel title="All caches" id="caches">
        <Async state={list}>
          {(a) =>
            a.caches.length === 0 ? (
              <CachesEmpty />
            ) : (
              <Table
                id="caches"
                caption={`The server's caches, and those applications reported from ${time(a.from)} to ${time(a.to)}`}
                rows={a.caches}
                rowKey={labelOf}
                sort="name"
                dir="asc"
                columns={[
                  {
                    key: 'name',
                    label: 'Cache',
                    value: labelOf,
                    render: (c) => (
                      <a
                        href={href('/caches', { cache: labelOf(c) })}
                        aria-current={labelOf(c) === selected ? 'true' : undefined}
                      >
                        {labelOf(c)}
                      </a>
                    ),
                  },
                  {
                    key: 'source',
                    label: 'Kept by',
                    value: (c) => c.source,
                    render: (c) => (c.source === 'server' ? 'this server' : `service ${c.service}`),
                  },
                  { key: 'backend', label: 'Backend', value: (c) => c.backend },
                  { key: 'policy', label: 'Eviction', value: (c) => c.policy },
                  {
                    key: 'hitRatio',
                    label: 'Hit ratio',
                    numeric: true,
                    value: (c) => c.hitRatio,
                    render: (c) => <RatioBar v={c.hitRatio} />,
                  },
                  {
                    key: 'entries',
                    label: 'Entries',
                    numeric: true,
                    value: (c) => c.entries,
                    render: (c) =>
                      c.maxEntries !== null
                        ? `${count(c.entries)} of ${count(c.maxEntries)}`
                        : count(c.entries),
                  },
                ]}
              />
            )
          }
        </Async>
      </Panel>
      {selected ? (
        <Async state={all}>
          {(a) => {
            const c = a.caches.items.find((x) => labelOf(x) === selected);
            if (!c)
              return (
                <Panel title={`Cache ${selected}`} id="cache">
                  <p class="muted">
                    No cache {selected} in this time range (an application's cache is listed while it
                    reports).
                  </p>
                </Panel>
              );
            return (
              <CacheDetail
                key={selected}
                c={c}
                label={selected}
                advice={a.recommendations.filter((r) => cacheOf(r) === selected)}
                params={params}
              />
            );
          }}
        </Async>
      ) : null}
    </>
  );
}

function RatioBar(props: { v: number }) {
  const t = props.v >= 0.8 ? 'good' : props.v >= 0.5 ? 'warn' : 'bad';
  return (
    <span class="usage">
      <span class="bar" aria-hidden="true">
        <span class={`bar-${t}`} style={{ width: `${Math.min(100, props.v * 100)}%` }} />
      </span>
      {pct(props.v)}
    </span>
  );
}

/** How to get a cache here: one on the server, or an application's through @siperf/node. */
function CachesEmpty() {
  const origin = window.location.origin;
  return (
    <div class="empty">
      <p>
        <strong>No cache yet.</strong> Create one on this server (memory, redis or tiered; kept in{' '}
        <code>caches.json</code>):
      </p>
      <pre>
        <code>{`curl -X POST ${origin}/api/v1/cache-db/caches -H 'content-type: application/json' \\
  -d '{"name": "products", "maxEntries": 10000, "defaultTtlMs": 60000, "adaptiveTtl": true}'`}</code>
      </pre>
      <p>
        and use it from any language with <code>PUT</code>/
        <code>GET {origin}/api/v1/cache-db/caches/products/entries/&lt;key&gt;</code>. Or, in a Node.js
        application, call <code>init()</code> before creating its caches, so their figures reach this server:
      </p>
      <pre>
        <code>{`import { init } from '@siperf/node';
import { createCache } from '@siperf/node/cache';
init({ serviceName: 'shop', endpoint: '${origin}' });
const products = createCache('products', { maxEntries: 50_000, defaultTtlMs: 60_000, adaptiveTtl: true });
const p = await products.getOrLoad(\`product:\${id}\`, () => db.product(id));`}</code>
      </pre>
    </div>
  );
}

function CacheDetail(props: {
  c: CacheSummary;
  label: string;
  advice: Recommendation[];
  params: URLSearchParams;
}) {
  const { c } = props;
  const server = c.source === 'server';
  const stats = useApi(
    () =>
      server
        ? get('/api/v1/cache-db/caches/{name}/statistics', {}, { name: c.name })
        : Promise.resolve(undefined),
    [c.name, server],
  );
  const s = stats.data;
  return (
    <>
      <Panel title={`Cache ${props.label}`} id="cache">
        <p class="muted small">
          {server ? 'On this server' : `Reported by service ${c.service}`}: {c.backend} backend,{' '}
          {c.policy === 'none' ? 'evicted by Redis' : `${c.policy} eviction`}
          {c.defaultTtlMs !== null
            ? `, default TTL ${c.defaultTtlMs === 0 ? 'none' : dur(c.defaultTtlMs)}`
            : ''}
          {s ? `, created ${time(s.createdAt)}` : ''}.
        </p>
        <div class="stats">
          <Stat
            label={`hit ratio (${count(c.hits)} hits, ${count(c.misses)} misses)`}
            value={pct(c.hitRatio)}
            tone={c.hitRatio >= 0.8 ? 'good' : c.hitRatio >= 0.5 ? 'warn' : 'bad'}
          />
          <Stat
            label={`requests per hour (over ${c.periodHours < 1.05 ? 'the last hour' : `${num(c.periodHours, 1)} h`})`}
            value={count(c.requestsPerHour)}
          />
          {c.remoteHits !== null && c.backend !== 'memory' ? (
            <Stat
              label={`hits from Redis (${count(c.memoryHits ?? 0)} from memory)`}
              value={count(c.remoteHits)}
            />
          ) : null}
          <Stat
            label={c.maxEntries !== null ? `entries of ${count(c.maxEntries)}` : 'entries'}
            value={count(c.entries)}
          />
          <Stat label="memory (estimated)" value={bytes3(c.bytes)} />
          <Stat label="evictions" value={count(c.evictions)} />
          <Stat label="expirations" value={count(c.expirations)} />
          <Stat
            label={`loads (${count(c.loadFailures)} failed)`}
            value={count(c.loads)}
            tone={c.loadFailures > 0 ? 'bad' : undefined}
          />
          <Stat label="load p95" value={c.loads > 0 ? ms(c.loadP95Ms) : '–'} />
          {s ? <Stat label="stale values served" value={count(s.staleServed)} /> : null}
          {s?.remote ? (
            <Stat
              label={`Redis${s.remote.errors ? `, ${count(s.remote.errors)} errors` : ''}`}
              value={s.remote.up ? 'up' : 'down'}
              tone={s.remote.up ? 'good' : 'bad'}
            />
          ) : null}
        </div>
        {s?.remote?.lastError ? (
          <p class="bad small">
            Last Redis error at {time(s.remote.lastErrorAt)}: {s.remote.lastError}
          </p>
        ) : null}
        {stats.error ? <ErrorView error={stats.error} /> : null}
        <div class="grid">
          {server ? <ServerHitRatio name={c.name} first={s} /> : <AppHitRatio c={c} params={props.params} />}
          <MissRatioCurve c={c} />
        </div>
      </Panel>
      <Panel title="Key groups and learned TTL" id="groups">
        {c.groups.length === 0 ? (
          <p class="muted">
            {server
              ? 'No key read yet. A key’s group is its text before the first “:” (product:42 is in product).'
              : 'Applications report their caches without per-group figures; the learned TTLs are in the application’s cache.stats().'}
          </p>
        ) : (
          <Table
            id="groups"
            caption="Per key group (a key's text before its first “:”); the TTL learned from how often the source changes"
            rows={c.groups}
            rowKey={(g) => g.name}
            sort="requests"
            columns={[
              { key: 'name', label: 'Group', value: (g) => g.name },
              {
                key: 'requests',
                label: 'Requests',
                numeric: true,
                value: (g) => g.hits + g.misses,
                render: (g) => count(g.hits + g.misses),
              },
              {
                key: 'hitRatio',
                label: 'Hit ratio',
                numeric: true,
                value: (g) => g.hitRatio,
                render: (g) => pct(g.hitRatio),
              },
              {
                key: 'loads',
                label: 'Loads',
                numeric: true,
                value: (g) => g.loads,
                render: (g) =>
                  g.loadFailures ? `${count(g.loads)} (${count(g.loadFailures)} failed)` : count(g.loads),
              },
              {
                key: 'stale',
                label: 'Stale served',
                numeric: true,
                value: (g) => g.staleServed,
                render: (g) => count(g.staleServed),
              },
              {
                key: 'ttl',
                label: 'TTL now',
                numeric: true,
                value: (g) => g.ttlMs,
                render: (g) => (
                  <>
                    {g.ttlMs === 0 ? 'no expiry' : dur(g.ttlMs)}
                    {g.adaptive ? <span class="badge info">learned</span> : null}
                  </>
                ),
              },
              {
                key: 'changes',
                label: 'Source changes',
                numeric: true,
                value: (g) => g.adaptive?.changesPerHour ?? null,
                render: (g) =>
                  g.adaptive?.changesPerHour !== null && g.adaptive?.changesPerHour !== undefined
                    ? `${num(g.adaptive.changesPerHour, g.adaptive.changesPerHour < 10 ? 2 : 0)} per hour`
                    : g.adaptive
                      ? 'learning'
                      : 'adaptive TTL off',
              },
              {
                key: 'staleness',
                label: 'Stale reads expected',
                numeric: true,
                value: (g) => g.adaptive?.expectedStaleness ?? null,
                render: (g) => pct(g.adaptive?.expectedStaleness),
              },
              {
                key: 'observations',
                label: 'Changes seen',
                numeric: true,
                value: (g) => g.adaptive?.observations ?? null,
                render: (g) => (g.adaptive ? num(g.adaptive.observations, 1) : '–'),
              },
            ]}
          />
        )}
      </Panel>
      <Panel
        title="Advice for this cache"
        id="advice"
        actions={<a href={href('/recommendations', { area: 'cache' })}>All advice</a>}
      >
        {props.advice.length === 0 ? (
          <p class="good">
            Nothing to change: the size, TTLs and loader of {props.label} look right for its traffic.
          </p>
        ) : (
          <ol class="cards">
            {props.advice.map((r) => (
              <AdviceItem key={r.id} r={r} hideCache={props.label} />
            ))}
          </ol>
        )}
      </Panel>
    </>
  );
}

/** Hit ratio per interval from cumulative hits and misses (a drop is a restart: that step is skipped). */
function ratioLine(samples: { t: number; hits: number; misses: number }[], fromMs: number, toMs: number) {
  const steps: { t: number; dh: number; dm: number }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dh = samples[i]!.hits - samples[i - 1]!.hits;
    const dm = samples[i]!.misses - samples[i - 1]!.misses;
    if (dh >= 0 && dm >= 0) steps.push({ t: samples[i]!.t, dh, dm });
  }
  // At most 360 buckets: hits and misses summed per bucket, then divided.
  const width = Math.max(1, (toMs - fromMs) / 360);
  const buckets = new Map<number, { dh: number; dm: number; t: number }>();
  for (const s of steps) {
    const b = steps.length > 360 ? Math.floor((s.t - fromMs) / width) : s.t;
    const x = buckets.get(b) ?? { dh: 0, dm: 0, t: steps.length > 360 ? fromMs + (b + 0.5) * width : s.t };
    x.dh += s.dh;
    x.dm += s.dm;
    buckets.set(b, x);
  }
  const pts = [...buckets.values()].sort((a, b) => a.t - b.t);
  return {
    x: pts.map((p) => p.t / 1000),
    series: [{ label: 'hit ratio', values: pts.map((p) => (p.dh + p.dm > 0 ? p.dh / (p.dh + p.dm) : null)) }],
  };
}

const UNIT_RANGE = [0, 1];

function HitRatioChart(props: {
  samples: { t: number; hits: number; misses: number }[];
  fromMs: number;
  toMs: number;
  title: string;
  note: string;
}) {
  const data = useMemo(() => {
    return ratioLine(props.samples, props.fromMs, props.toMs);
  }, [props.samples, props.fromMs, props.toMs]);
  return (
    <div>
      {data.x.length < 2 ? (
        <figure class="chart">
          <figcaption>{props.title}</figcaption>
          <p class="muted small">Not enough samples yet.</p>
        </figure>
      ) : (
        <TimeChart
          title={props.title}
          x={data.x}
          series={data.series}
          format={pctFormat}
          yInclude={UNIT_RANGE}
        />
      )}
      <p class="muted small">{props.note}</p>
    </div>
  );
}
const pctFormat = (v: number) => pct(v);

/** Samples of server caches' counters taken while the page is open, kept across re-renders. */
const serverSamples = new Map<string, { t: number; hits: number; misses: number }[]>();

function ServerHitRatio(props: { name: string; first: CacheStatistics | undefined }) {
  const [samples, setSamples] = useState(() => serverSamples.get(props.name) ?? []);
  useEffect(() => {
    let stop = false;
    const add = (s: CacheStatistics) => {
      const list = [
        ...(serverSamples.get(props.name) ?? []),
        { t: Date.now(), hits: s.hits, misses: s.misses },
      ].slice(-2000);
      serverSamples.set(props.name, list);
      if (!stop) setSamples(list);
    };
    if (props.first) add(props.first);
    const timer = setInterval(() => {
      get('/api/v1/cache-db/caches/{name}/statistics', {}, { name: props.name }).then(add, () => undefined);
    }, 10_000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [props.name, props.first === undefined]);
  const from = samples[0]?.t ?? Date.now();
  return (
    <HitRatioChart
      samples={samples}
      fromMs={from}
      toMs={Date.now()}
      title="Hit ratio every 10 s, since this page opened"
      note="The server keeps no history of its own caches' counters: this line is sampled from the cache's statistics while the page is open."
    />
  );
}

function AppHitRatio(props: { c: CacheSummary; params: URLSearchParams }) {
  const w = windowQuery(props.params);
  const [fromMs, toMs] =
    w.from && w.to
      ? [Date.parse(w.from), Date.parse(w.to)]
      : [Date.now() - (RANGE_MS[w.window ?? '1h'] ?? 3_600_000), Date.now()];
  const series = useApi(async () => {
    const raw = await readMetric('siperf.cache.requests', fromMs, toMs, props.c.service ?? undefined);
    const mine = raw.series.filter((s) => s.attributes['cache.name'] === props.c.name);
    const of = (result: string) =>
      mine.filter((s) => s.attributes['cache.result'] === result).flatMap((s) => s.points);
    const misses = new Map(of('miss').map((p) => [p.t, p.v]));
    return of('hit')
      .filter((p) => misses.has(p.t))
      .sort((a, b) => a.t - b.t)
      .map((p) => ({ t: p.t, hits: p.v, misses: misses.get(p.t)! }));
  }, [props.c.name, props.c.service, w.window, w.from, w.to]);
  return (
    <Async state={series}>
      {(samples) => (
        <HitRatioChart
          samples={samples}
          fromMs={fromMs}
          toMs={toMs}
          title="Hit ratio between exports"
          note={`From the siperf.cache.requests counters service ${props.c.service} exports (hits and misses between two exports).`}
        />
      )}
    </Async>
  );
}

function MissRatioCurve(props: { c: CacheSummary }) {
  const { c } = props;
  const curve = useMemo(() => [...c.missRatioCurve].sort((a, b) => a.size - b.size), [c.missRatioCurve]);
  const base = curve.find((p) => p.sizeFactor === 1)?.size ?? c.maxEntries ?? c.entries;
  const data = useMemo(
    () => ({
      x: curve.map((p) => p.size),
      series: [{ label: 'hit ratio (LRU estimate)', values: curve.map((p) => p.hitRatio) }],
      marker: { x: base, label: `now: ${count(base)}` },
    }),
    [curve, base],
  );
  if (curve.length < 2)
    return (
      <figure class="chart">
        <figcaption>Miss-ratio curve</figcaption>
        <p class="muted small">
          {c.backend === 'redis'
            ? 'A redis cache has no memory tier of its own to size (Redis evicts), so it has no curve.'
            : 'No curve yet: it is estimated from the keys read (SHARDS sampling) once the cache has traffic.'}
        </p>
      </figure>
    );
  const at1 = curveAt(curve, base);
  const at2 = curveAt(curve, 2 * base);
  const best = curve[curve.length - 1]!;
  return (
    <div>
      <CurveChart
        title="Miss-ratio curve: hit ratio by cache size"
        x={data.x}
        series={data.series}
        formatX={countFormat}
        xLabel="size"
        formatY={pctFormat}
        logX
        marker={data.marker}
        yRange={UNIT_RANGE as [number, number]}
      />
      {at1 !== undefined && at2 !== undefined ? (
        <p>
          <strong>2× the size gives {points(at2 - at1)}</strong> ({count(base)} → {count(2 * base)} entries:{' '}
          {pct(at1)} → {pct(at2)}); at {count(best.size)} entries the curve reaches {pct(best.hitRatio)}.
        </p>
      ) : null}
      {at1 !== undefined && at1 - c.hitRatio > 0.1 ? (
        <p class="warn small">
          The hit ratio measured ({pct(c.hitRatio)}) is far below the curve at this size ({pct(at1)}): the
          misses come from expiry and invalidation rather than from size, so a larger cache will not help;
          look at the TTLs below.
        </p>
      ) : null}
      <p class="muted small">
        The curve estimates an LRU cache of each size from a sample of the keys read; the hit ratio measured (
        {pct(c.hitRatio)}) is{' '}
        {c.policy === 'w-tinylfu' ? 'W-TinyLFU’s, usually at or above LRU’s' : 'the cache’s own'}.
      </p>
    </div>
  );
}
const countFormat = (v: number) => `${count(v)}`;
