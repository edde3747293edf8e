/**
 * The demo's report, read from the siperf REST API as any user would: the slowest endpoints (p95) with
 * their database calls per request (counted in recent traces), the top queries by total time, the advice,
 * the business transaction's steps and the time between them, custom metrics, and web vitals when a
 * browser reported them. Every figure it prints is the API's, for one window (`from`/`to`), and each
 * section names the request it comes from — a reader can ask the same question and get the same numbers
 * (`test/demo.test.ts` does).
 * @module
 */

/** A recommendation as the report shows it (from `GET /api/v1/recommendations`). */
export interface DemoRecommendation {
  /** Stable id, `<kind>.<16 hex>`. */
  id: string;
  /** The readable key the id is drawn from (`n-plus-one:<service>/<endpoint>:<fingerprint>`, …). */
  key: string;
  kind: string;
  title: string;
  /** The exact statement, setting or code (`apply.change`). */
  change: string | null;
  /** What to do, in words (`apply.how`). */
  action: string;
  timeSavedSecondsPerHour: number | null;
  /** The API's own account of the gain (an estimate says so). */
  gain: string;
  state: string;
  /** Once applied: its figure before and after, and the verdict. */
  outcome: RecommendationOutcomeJson | null;
}

/** `outcome` of a recommendation, as the API answers it (the fields the demo prints). */
export interface RecommendationOutcomeJson {
  figure: string;
  unit: string;
  before: number | null;
  after: number | null;
  verdict: string;
  judgeableAt: string;
}

/** An item of `GET /api/v1/recommendations` (the fields the demo reads). */
export interface RecommendationJson {
  id: string;
  key: string;
  kind: string;
  title: string;
  target: { endpoint: string | null; table: string | null };
  apply: { how: string; change: string | null };
  gain: { timeSavedSecondsPerHour: number | null; description: string };
  state: string;
  outcome: RecommendationOutcomeJson | null;
}

/** The report's shape of an item of the list. */
export function demoRecommendation(x: RecommendationJson): DemoRecommendation {
  return {
    id: x.id,
    key: x.key,
    kind: x.kind,
    title: x.title,
    change: x.apply.change,
    action: x.apply.how,
    timeSavedSecondsPerHour: x.gain.timeSavedSecondsPerHour,
    gain: x.gain.description,
    state: x.state,
    outcome: x.outcome,
  };
}

/** What the report holds (all durations in ms). */
export interface DemoReport {
  siperfUrl: string;
  window: { from: string; to: string };
  /** The API request (path and query) behind each section. */
  sources: {
    endpoints: string;
    dbCalls: string;
    queries: string;
    recommendations: string;
    transactions: string;
    customMetrics: string;
    webVitals: string;
  };
  endpoints: {
    endpoint: string;
    requests: number;
    meanMs: number;
    p50Ms: number;
    p95Ms: number;
    errorRate: number;
    /** Median over up to 5 recent traces of the database statements under one request. */
    dbCallsPerRequest: number | null;
    /** The traces counted, most recent first. */
    dbCallTraces: string[];
  }[];
  /** The endpoint with the most database calls per request when it is ≥ 5 (an N+1 suspect). */
  nPlusOneSuspect: string | null;
  queries: { statement: string; calls: number; totalMs: number; p95Ms: number; endpoints: string[] }[];
  /** The server's one list of recommendations, ranked by time saved per hour (the first five). */
  recommendations: DemoRecommendation[];
  /** What the advisor could not check (e.g. no database pool configured for plans). */
  adviceNotes: string[];
  transaction: {
    name: string;
    count: number;
    successRate: number;
    meanMs: number;
    p95Ms: number;
    slowestStep: string | null;
    steps: {
      step: string;
      count: number;
      p95Ms: number;
      meanMs: number;
      shareOfTime: number;
      failureRate: number;
    }[];
    /** What no step covers: the requests and work without a step, the network, the client. */
    betweenSteps: { meanMs: number; shareOfTime: number };
  } | null;
  customMetrics: { name: string; points: number }[];
  webVitals: {
    score: number | null;
    metrics: Record<string, { p75: number; rating: string; count: number }>;
  } | null;
}

/** The parts of the API's answers the report reads. */
interface SpanNodeJson {
  kind: string;
  db: { statement?: string } | null;
  children: SpanNodeJson[];
}
interface QueryJson {
  statement: string;
  calls: number;
  totalMs: number;
  p95Ms: number;
  endpoints: string[];
}
interface TransactionJson {
  name: string;
  count: number;
  successRate: number;
  meanMs: number;
  p95Ms: number;
  slowestStep: string | null;
  steps: {
    step: string;
    count: number;
    p95Ms: number;
    meanMs: number;
    shareOfTime: number;
    failureRate: number;
  }[];
  betweenSteps: { meanMs: number; shareOfTime: number };
}

async function getJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function countDbSpans(nodes: readonly SpanNodeJson[]): number {
  let n = 0;
  for (const node of nodes) {
    // Statements only: pg's instrumentation also records pool connects as database spans.
    if (node.kind === 'client' && node.db?.statement) n += 1;
    n += countDbSpans(node.children ?? []);
  }
  return n;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Reads the report of `service` over `[from, to]` from the server at `base`.
 * @throws Error naming the path when the API answers an error.
 */
export async function buildReport(base: string, service: string, from: Date, to: Date): Promise<DemoReport> {
  const w = `from=${from.toISOString()}&to=${to.toISOString()}`;
  const svc = `service=${encodeURIComponent(service)}`;
  const sources: DemoReport['sources'] = {
    endpoints: `/api/v1/apm/metrics/api?${svc}&kind=server&${w}`,
    dbCalls: `/api/v1/apm/traces/recent?${svc}&endpoint=<endpoint>&limit=5&${w}, then /api/v1/apm/traces/<traceId>`,
    queries: `/api/v1/apm/metrics/database?${svc}&${w}`,
    recommendations: `/api/v1/recommendations?${svc}&${w}`,
    transactions: `/api/v1/apm/transactions?${svc}&${w}`,
    customMetrics: `/api/v1/apm/metrics/custom?${w}`,
    webVitals: `/api/v1/apm/metrics/user-experience?${w}`,
  };
  const api = await getJson<{ endpoints: (DemoReport['endpoints'][number] & { errorRate: number })[] }>(
    base,
    sources.endpoints,
  );
  const endpoints: DemoReport['endpoints'] = [];
  for (const e of api.endpoints) {
    const recent = await getJson<{ traces: { traceId: string }[] }>(
      base,
      `/api/v1/apm/traces/recent?${svc}&endpoint=${encodeURIComponent(e.endpoint)}&limit=5&${w}`,
    );
    const counts: number[] = [];
    for (const t of recent.traces) {
      const tree = await getJson<{ roots: SpanNodeJson[] }>(base, `/api/v1/apm/traces/${t.traceId}`);
      counts.push(countDbSpans(tree.roots));
    }
    endpoints.push({
      endpoint: e.endpoint,
      requests: e.requests,
      meanMs: e.meanMs,
      p50Ms: e.p50Ms,
      p95Ms: e.p95Ms,
      errorRate: e.errorRate,
      dbCallsPerRequest: median(counts),
      dbCallTraces: recent.traces.map((t) => t.traceId),
    });
  }
  endpoints.sort((a, b) => b.p95Ms - a.p95Ms);
  const worst = [...endpoints].sort((a, b) => (b.dbCallsPerRequest ?? 0) - (a.dbCallsPerRequest ?? 0))[0];
  const db = await getJson<{ queries: QueryJson[] }>(base, sources.queries);
  const queries = db.queries
    .filter((q) => q.endpoints.length > 0)
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, 5)
    .map((q) => ({
      statement: q.statement,
      calls: q.calls,
      totalMs: q.totalMs,
      p95Ms: q.p95Ms,
      endpoints: q.endpoints,
    }));
  const advice = await getJson<{ recommendations: RecommendationJson[]; notes: string[] }>(
    base,
    sources.recommendations,
  );
  const txs = await getJson<{ transactions: TransactionJson[] }>(base, sources.transactions);
  const tx = txs.transactions.find((t) => t.name === 'annotate');
  const custom = await getJson<{ metrics: { name: string; points: number }[] }>(base, sources.customMetrics);
  const ux = await getJson<{
    overall: {
      score: number | null;
      metrics: Record<string, { p75: number; rating: string; count: number }>;
    };
  }>(base, sources.webVitals);
  const vitals = ux.overall;
  return {
    siperfUrl: base,
    window: { from: from.toISOString(), to: to.toISOString() },
    sources,
    endpoints,
    nPlusOneSuspect: worst && (worst.dbCallsPerRequest ?? 0) >= 5 ? worst.endpoint : null,
    queries,
    recommendations: advice.recommendations.slice(0, 5).map(demoRecommendation),
    adviceNotes: advice.notes,
    transaction: tx
      ? {
          name: tx.name,
          count: tx.count,
          successRate: tx.successRate,
          meanMs: tx.meanMs,
          p95Ms: tx.p95Ms,
          slowestStep: tx.slowestStep,
          steps: tx.steps.map((s) => ({
            step: s.step,
            count: s.count,
            p95Ms: s.p95Ms,
            meanMs: s.meanMs,
            shareOfTime: s.shareOfTime,
            failureRate: s.failureRate,
          })),
          betweenSteps: { meanMs: tx.betweenSteps.meanMs, shareOfTime: tx.betweenSteps.shareOfTime },
        }
      : null,
    customMetrics: custom.metrics
      .filter((m) => m.name.startsWith('demo.'))
      .map((m) => ({ name: m.name, points: m.points })),
    webVitals:
      Object.keys(vitals.metrics).length === 0
        ? null
        : {
            score: vitals.score,
            metrics: Object.fromEntries(
              Object.entries(vitals.metrics).map(([k, v]) => [
                k,
                { p75: v.p75, rating: v.rating, count: v.count },
              ]),
            ),
          },
  };
}

/** The requests of one session of the demo's workflow, one each (see run-demo.ts). */
export const SESSION_ENDPOINTS = [
  'POST /login',
  'GET /tasks/:id',
  'GET /tasks/:id/summary',
  'POST /tasks/:id/annotations',
  'GET /results',
];

/** A duration in ms as the report prints it: whole from 100 up, one decimal below. */
export const formatMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
/** A ratio 0..1 as the report prints it: a percentage with one decimal. */
export const formatPct = (v: number): string => `${(100 * v).toFixed(1)}%`;

/** A recommendation's time saved per hour, in words: `saves 1.23 s per hour`. */
export const savedText = (secondsPerHour: number | null): string =>
  secondsPerHour === null
    ? 'time saved: not estimated'
    : `saves ${secondsPerHour >= 100 ? secondsPerHour.toFixed(0) : secondsPerHour.toPrecision(3)} s per hour`;

/** The section title line: what it shows, and the request it comes from. */
const from = (title: string, path: string): string => `${title} — GET ${path}`;

/** The report as text for a terminal. */
export function formatReport(r: DemoReport): string {
  const ms = formatMs;
  const pct = formatPct;
  const seconds = (Date.parse(r.window.to) - Date.parse(r.window.from)) / 1000;
  const out: string[] = [];
  out.push(
    '',
    `Report of the load, ${r.window.from} to ${r.window.to} (${seconds.toFixed(1)} s), from the siperf API at ${r.siperfUrl}:`,
    'each section names the request its figures come from; ask it and you get the same numbers.',
  );
  out.push('', from('Slowest endpoints (p95)', r.sources.endpoints));
  out.push(
    `  ${'endpoint'.padEnd(28)} ${'requests'.padStart(8)} ${'mean ms'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'errors'.padStart(7)}  db calls/request`,
  );
  for (const e of r.endpoints) {
    const flag = e.endpoint === r.nPlusOneSuspect ? '  ← N+1: one query per row' : '';
    out.push(
      `  ${e.endpoint.padEnd(28)} ${String(e.requests).padStart(8)} ${ms(e.meanMs).padStart(8)} ${ms(e.p50Ms).padStart(8)} ${ms(e.p95Ms).padStart(8)} ${pct(e.errorRate).padStart(7)}  ${e.dbCallsPerRequest ?? '-'}${flag}`,
    );
  }
  out.push(
    "  errors = failed requests (5xx, exceptions); 4xx answers are the client's errors and are not counted",
    '  (the demo client leaves 3% of annotations without a label on purpose: 422, and a failed transaction).',
    `  db calls/request: the median count of database statements in up to 5 recent traces of the endpoint (GET ${r.sources.dbCalls}).`,
  );
  out.push('', from('Top queries by total time', r.sources.queries));
  for (const q of r.queries) {
    out.push(
      `  ${ms(q.totalMs).padStart(8)} ms total  ${String(q.calls).padStart(6)} calls  p95 ${ms(q.p95Ms)} ms  from ${q.endpoints.join(', ')}`,
    );
    out.push(`      ${q.statement.replace(/\s+/g, ' ')}`);
  }
  out.push('', from('Recommendations, by time saved per hour', r.sources.recommendations));
  out.push('  (per hour: the rate of this window, as the API gives it — not an hour that was measured)');
  r.recommendations.forEach((x, i) => {
    out.push(`  ${i + 1}. ${x.title}`);
    out.push(`     ${savedText(x.timeSavedSecondsPerHour)} — ${x.gain}`);
    out.push(`     → ${x.change ?? x.action}`);
  });
  for (const n of r.adviceNotes.slice(0, 3)) out.push(`  note: ${n}`);
  out.push('');
  if (r.transaction) {
    const t = r.transaction;
    out.push(from(`Business transaction "${t.name}"`, r.sources.transactions));
    out.push(
      `  ${t.count} completed, ${pct(t.successRate)} succeeded, mean ${ms(t.meanMs)} ms, p95 ${ms(t.p95Ms)} ms; slowest step: ${t.slowestStep ?? '-'}`,
    );
    out.push(
      `  ${'step'.padEnd(18)} ${'p95 ms'.padStart(8)} ${'mean ms'.padStart(8)} ${'of the time'.padStart(12)} ${'failed'.padStart(7)}`,
    );
    for (const s of t.steps) {
      out.push(
        `  ${s.step.padEnd(18)} ${ms(s.p95Ms).padStart(8)} ${ms(s.meanMs).padStart(8)} ${pct(s.shareOfTime).padStart(12)} ${pct(s.failureRate).padStart(7)}`,
      );
    }
    out.push(
      `  ${'between the steps'.padEnd(18)} ${'-'.padStart(8)} ${ms(t.betweenSteps.meanMs).padStart(8)} ${pct(t.betweenSteps.shareOfTime).padStart(12)} ${'-'.padStart(7)}`,
      "  between the steps: time no step covers — requests without a step (GET /tasks/:id/summary), each request's",
      '  work outside its step, the network and the client. The mean ms are per transaction (a step once each).',
    );
    // A session makes one request to each endpoint, so the endpoints' means add up to the service's time
    // per transaction; what is left of the time between the steps is outside the service.
    const session = r.endpoints.filter((e) => SESSION_ENDPOINTS.includes(e.endpoint));
    const inService = session.reduce((sum, e) => sum + e.meanMs, 0);
    const inSteps = t.steps.reduce((sum, s) => sum + s.meanMs, 0);
    const outside = t.betweenSteps.meanMs - (inService - inSteps);
    if (session.length === SESSION_ENDPOINTS.length && outside >= 0) {
      out.push(
        `  Of its ${ms(t.betweenSteps.meanMs)} ms, about ${ms(inService - inSteps)} ms are the service's requests outside their steps (one request`,
        `  to each of the ${session.length} endpoints per session: their mean ms above add up to ${ms(inService)}, the steps' to ${ms(inSteps)}) and about ${ms(outside)} ms`,
        '  are outside the service: the network and the load client, which runs in this process beside the siperf server.',
      );
    }
  } else {
    out.push(from('Business transaction "annotate": none completed in the window', r.sources.transactions));
  }
  out.push(
    '',
    `${from('Custom metrics', r.sources.customMetrics)}: ${r.customMetrics.map((m) => `${m.name} (${m.points} points)`).join(', ') || 'none'}`,
  );
  if (r.webVitals) {
    const v = Object.entries(r.webVitals.metrics)
      .map(
        ([k, m]) =>
          `${k} ${k === 'CLS' ? m.p75.toFixed(3) : `${ms(m.p75)} ms`} (${m.rating}, ${m.count} page loads)`,
      )
      .join(', ');
    out.push(`${from('Web vitals, p75', r.sources.webVitals)}: score ${r.webVitals.score ?? '-'}/100; ${v}`);
  } else {
    out.push(
      `${from('Web vitals', r.sources.webVitals)}: no browser reported (Chromium not found, or --no-browser)`,
    );
  }
  return out.join('\n');
}

/** What `--fix` applied, and what became of it (each item read again by id after a like window). */
export interface DemoFixReport {
  /** When the recommendations were marked applied, ISO-8601. */
  appliedAt: string;
  /** The window their "before" figure was measured over (the report's). */
  window: { from: string; to: string };
  items: {
    /** The request that answers it: `GET /api/v1/recommendations/<id>?from=…&to=…`. */
    source: string;
    /** What the demo changed. */
    did: string;
    recommendation: DemoRecommendation;
  }[];
}

/** The `--fix` section of the report, as text. */
export function formatFixes(f: DemoFixReport): string {
  const out = [`After --fix (applied at ${f.appliedAt}; before = ${f.window.from} to ${f.window.to})`];
  f.items.forEach((x, i) => {
    const r = x.recommendation;
    const o = r.outcome;
    out.push(`  ${i + 1}. ${r.title} — GET ${x.source}`);
    out.push(`     did: ${x.did}`);
    out.push(`     ${r.state}: ${o ? o.verdict : 'no figure judges this kind'}`);
  });
  return out.join('\n');
}
