/**
 * The demo's report, read from the siperf REST API as any user would: the slowest endpoints (p95) with
 * their database calls per request (counted in recent traces), the top queries by total time, the
 * business transaction's slowest step, custom metrics, and web vitals when a browser reported them.
 * @module
 */

/** What the report holds (all durations in ms). */
export interface DemoReport {
  siperfUrl: string;
  window: { from: string; to: string };
  endpoints: {
    endpoint: string;
    requests: number;
    p50Ms: number;
    p95Ms: number;
    errorRate: number;
    /** Median over up to 5 recent traces of the database spans under one request. */
    dbCallsPerRequest: number | null;
  }[];
  /** The endpoint with the most database calls per request when it is ≥ 5 (an N+1 suspect). */
  nPlusOneSuspect: string | null;
  queries: { statement: string; calls: number; totalMs: number; p95Ms: number; endpoints: string[] }[];
  /** The server's advice, ranked by time saved per hour (the first five). */
  recommendations: {
    id: string;
    title: string;
    change: string | null;
    action: string;
    timeSavedMsPerHour: number | null;
  }[];
  /** What the advisor could not check (e.g. no database pool configured for plans). */
  adviceNotes: string[];
  transaction: {
    name: string;
    count: number;
    successRate: number;
    p95Ms: number;
    slowestStep: string | null;
    steps: { step: string; count: number; p95Ms: number; shareOfTime: number; failureRate: number }[];
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
  p95Ms: number;
  slowestStep: string | null;
  steps: { step: string; count: number; p95Ms: number; shareOfTime: number; failureRate: number }[];
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
  const api = await getJson<{ endpoints: (DemoReport['endpoints'][number] & { errorRate: number })[] }>(
    base,
    `/api/v1/apm/metrics/api?${svc}&kind=server&${w}`,
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
      p50Ms: e.p50Ms,
      p95Ms: e.p95Ms,
      errorRate: e.errorRate,
      dbCallsPerRequest: median(counts),
    });
  }
  endpoints.sort((a, b) => b.p95Ms - a.p95Ms);
  const worst = [...endpoints].sort((a, b) => (b.dbCallsPerRequest ?? 0) - (a.dbCallsPerRequest ?? 0))[0];
  const db = await getJson<{ queries: QueryJson[] }>(base, `/api/v1/apm/metrics/database?${svc}&${w}`);
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
  const advice = await getJson<{
    recommendations: {
      id: string;
      title: string;
      change: string | null;
      action: string;
      expectedGain: { timeSavedMsPerHour: number | null };
    }[];
    notes: string[];
  }>(base, `/api/v1/cache-db/optimization/recommendations?${svc}&${w}`);
  const txs = await getJson<{ transactions: TransactionJson[] }>(
    base,
    `/api/v1/apm/transactions?${svc}&${w}`,
  );
  const tx = txs.transactions.find((t) => t.name === 'annotate');
  const custom = await getJson<{ metrics: { name: string; points: number }[] }>(
    base,
    `/api/v1/apm/metrics/custom?${w}`,
  );
  const ux = await getJson<{
    overall: {
      score: number | null;
      metrics: Record<string, { p75: number; rating: string; count: number }>;
    };
  }>(base, `/api/v1/apm/metrics/user-experience?${w}`);
  const vitals = ux.overall;
  return {
    siperfUrl: base,
    window: { from: from.toISOString(), to: to.toISOString() },
    endpoints,
    nPlusOneSuspect: worst && (worst.dbCallsPerRequest ?? 0) >= 5 ? worst.endpoint : null,
    queries,
    recommendations: advice.recommendations.slice(0, 5).map((x) => ({
      id: x.id,
      title: x.title,
      change: x.change,
      action: x.action,
      timeSavedMsPerHour: x.expectedGain.timeSavedMsPerHour,
    })),
    adviceNotes: advice.notes,
    transaction: tx
      ? {
          name: tx.name,
          count: tx.count,
          successRate: tx.successRate,
          p95Ms: tx.p95Ms,
          slowestStep: tx.slowestStep,
          steps: tx.steps.map((s) => ({
            step: s.step,
            count: s.count,
            p95Ms: s.p95Ms,
            shareOfTime: s.shareOfTime,
            failureRate: s.failureRate,
          })),
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

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

/** The report as text for a terminal. */
export function formatReport(r: DemoReport): string {
  const out: string[] = [];
  out.push('', 'Slowest endpoints (p95)');
  out.push(
    `  ${'endpoint'.padEnd(28)} ${'requests'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'errors'.padStart(7)}  db calls/request`,
  );
  for (const e of r.endpoints) {
    const flag = e.endpoint === r.nPlusOneSuspect ? '  ← N+1: one query per row' : '';
    out.push(
      `  ${e.endpoint.padEnd(28)} ${String(e.requests).padStart(8)} ${ms(e.p50Ms).padStart(8)} ${ms(e.p95Ms).padStart(8)} ${pct(e.errorRate).padStart(7)}  ${e.dbCallsPerRequest ?? '-'}${flag}`,
    );
  }
  out.push(
    "  errors = failed requests (5xx, exceptions); 4xx answers are the client's errors and are not counted",
    '  (the demo client leaves 3% of annotations without a label on purpose: 422, and a failed transaction).',
  );
  out.push('', 'Top queries by total time');
  for (const q of r.queries) {
    out.push(
      `  ${ms(q.totalMs).padStart(8)} ms total  ${String(q.calls).padStart(6)} calls  p95 ${ms(q.p95Ms)} ms  from ${q.endpoints.join(', ')}`,
    );
    out.push(`      ${q.statement.replace(/\s+/g, ' ')}`);
  }
  out.push('', 'Recommendations (GET /api/v1/cache-db/optimization/recommendations), by time saved per hour');
  r.recommendations.forEach((x, i) => {
    const gain =
      x.timeSavedMsPerHour === null ? '' : ` (saves ~${ms(x.timeSavedMsPerHour / 1000)} s of work per hour)`;
    out.push(`  ${i + 1}. ${x.title}${gain}`);
    out.push(`     → ${x.change ?? x.action}`);
  });
  for (const n of r.adviceNotes.slice(0, 2)) out.push(`  note: ${n}`);
  out.push('');
  if (r.transaction) {
    const t = r.transaction;
    out.push(
      `Business transaction "${t.name}": ${t.count} completed, ${pct(t.successRate)} succeeded, p95 ${ms(t.p95Ms)} ms; slowest step: ${t.slowestStep ?? '-'}`,
    );
    for (const s of t.steps) {
      out.push(
        `  ${s.step.padEnd(18)} p95 ${ms(s.p95Ms).padStart(7)} ms  ${pct(s.shareOfTime).padStart(6)} of the time  ${pct(s.failureRate)} failed`,
      );
    }
    const inSteps = t.steps.reduce((sum, s) => sum + s.shareOfTime, 0);
    out.push(
      `  the other ${pct(Math.max(0, 1 - inSteps))} is between the steps: the network, the client, and request work outside them`,
    );
  } else {
    out.push('Business transaction "annotate": none completed in the window');
  }
  out.push(
    '',
    `Custom metrics: ${r.customMetrics.map((m) => `${m.name} (${m.points} points)`).join(', ') || 'none'}`,
  );
  if (r.webVitals) {
    const v = Object.entries(r.webVitals.metrics)
      .map(([k, m]) => `${k} ${k === 'CLS' ? m.p75.toFixed(3) : `${ms(m.p75)} ms`} (${m.rating})`)
      .join(', ');
    out.push(
      `Web vitals, p75 over ${Math.max(...Object.values(r.webVitals.metrics).map((m) => m.count))} page loads: score ${r.webVitals.score ?? '-'}/100; ${v}`,
    );
  } else {
    out.push('Web vitals: no browser reported (Chromium not found, or --no-browser)');
  }
  return out.join('\n');
}
