/**
 * The advisor's database findings (`GET /api/v1/cache-db/optimization/recommendations`, areas `database`
 * and `query`) as the database pages show them: which statement a finding is about, the plan excerpt it
 * was drawn from, the statement to run (a `CREATE INDEX …`) and its gain, verified with HypoPG or
 * estimated.
 *
 * Which statement: index findings carry the normalised statements they were drawn from
 * (`evidence.statements`, MySQL ones `evidence.statement`), N+1 findings end their id with the statement's
 * fingerprint (`n-plus-one:<service>/<endpoint>:<fingerprint>`); `evidence.fingerprint` is used when the
 * server sends it.
 * @module
 */
import type { Recommendation } from '@siperf/server/schemas';
import { CopyCode } from '../components/copy-code.tsx';
import { count, ms, num } from '../format.ts';
import { href } from '../router.ts';

/** A statement as the database pages know it: its fingerprint and normalised text. */
export interface StatementRef {
  fingerprint: string;
  statement: string;
}

const isDbAdvice = (r: Recommendation) => r.area === 'database' || r.area === 'query';

/** Whether a recommendation is about this statement. */
export function aboutStatement(r: Recommendation, s: StatementRef): boolean {
  if (!isDbAdvice(r)) return false;
  const e = r.evidence;
  if (e.fingerprint === s.fingerprint) return true;
  if (Array.isArray(e.fingerprints) && e.fingerprints.includes(s.fingerprint)) return true;
  if (Array.isArray(e.statements) && e.statements.includes(s.statement)) return true;
  if (e.statement === s.statement) return true;
  return s.fingerprint !== '' && r.id.endsWith(`:${s.fingerprint}`);
}

/** The database and query advice of an answer. */
export function databaseAdvice(recs: readonly Recommendation[]): Recommendation[] {
  return recs.filter(isDbAdvice);
}

/** Time saved per hour with its unit: `1.24 s per hour`. */
export function perHour(v: number | null): string {
  return v === null ? 'not estimated' : `${ms(v)} per hour`;
}

const RULES: Record<string, string> = {
  seq_scan_selective_filter: 'selective filter over a sequential scan',
  nested_loop_scan: 'sequential scan inside a nested loop',
  sort_spill: 'sort spilled to disk',
  hash_spill: 'hash spilled to disk',
  row_estimate_error: 'row estimate far off',
  fk_without_index: 'foreign key without an index',
  unused_index: 'unused index',
  duplicate_index: 'duplicate index',
  full_table_scan: 'full table scan',
};

/** The table a `CREATE INDEX … ON <table> (…)` names. */
function tableOf(change: string | null): string | undefined {
  return change ? /\bON\s+([^\s(]+)\s*\(/i.exec(change)?.[1] : undefined;
}

const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The plan excerpt a finding was drawn from, in EXPLAIN's words: the scan node with its cost, rows and
 * filter (PostgreSQL), or the access type, rows and condition (MySQL). `undefined` when the evidence
 * holds no plan node (N+1, catalog findings).
 */
export function planExcerpt(r: Recommendation): string | undefined {
  const e = r.evidence;
  const table = tableOf(r.change);
  if (typeof e.filter === 'string') {
    const rows = n(e.planRows);
    const cost = n(e.scanCost);
    const scan = `Seq Scan${table ? ` on ${table}` : ''}  (${[cost !== undefined ? `total cost=${cost.toFixed(2)}` : '', rows !== undefined ? `rows=${Math.round(rows)}` : ''].filter(Boolean).join(' ')})`;
    const lines = [scan, `  Filter: ${e.filter}`];
    if (n(e.tableRows) !== undefined)
      lines.push(`  -- the table holds about ${Math.round(n(e.tableRows)!)} rows`);
    if (e.rule === 'nested_loop_scan' && n(e.outerRows) !== undefined)
      return [
        `Nested Loop  (outer rows=${Math.round(n(e.outerRows)!)})`,
        ...lines.map((l) => `  ->  ${l}`),
      ].join('\n');
    return lines.join('\n');
  }
  if (typeof e.condition === 'string' || typeof e.accessType === 'string') {
    return [
      `table ${table ?? '?'}: access type ${String(e.accessType ?? '?')}, rows ${count(n(e.rows))}`,
      typeof e.condition === 'string' ? `  attached condition: ${e.condition}` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }
  if (typeof e.sortMethod === 'string')
    return `Sort  (Sort Method: ${e.sortMethod}, rows=${count(n(e.rows))})`;
  if (n(e.hashBatches) !== undefined)
    return `Hash  (Batches: ${e.hashBatches}${n(e.peakMemoryKb) !== undefined ? `, Memory Usage: ${e.peakMemoryKb}kB` : ''})`;
  return undefined;
}

/** How the gain was checked: HypoPG's plan cost before and after, or an estimate. */
function Verification(props: { r: Recommendation }) {
  const e = props.r.evidence;
  const before = n(e.costBefore);
  const after = n(e.costAfter);
  if (e.verifiedWith === 'hypopg' && before !== undefined && after !== undefined) {
    const drop = before > 0 ? 1 - after / before : 0;
    return (
      <p class="db-verified good">
        Verified with HypoPG (a hypothetical index): plan cost {num(before, 1)} → {num(after, 1)}{' '}
        <strong>({drop > 0 ? `−${(100 * drop).toFixed(1)}%` : 'no change'})</strong>
      </p>
    );
  }
  if (e.verifiedWith === 'estimate')
    return (
      <p class="db-verified muted">
        Not verified: HypoPG is not available in this database, so the gain is an estimate.
      </p>
    );
  return null;
}

/** Readable label of an evidence field: `callsPerHour` → `calls per hour`. */
const label = (k: string) =>
  k
    .replace(/Ms$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();

/** An evidence value with its unit (from the field name: `…Ms` is ms, `…PerHour` per hour). */
function evidenceValue(k: string, v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') {
    if (k.endsWith('Ms')) return ms(v);
    if (k.endsWith('PerHour')) return `${num(v, 1)} per hour`;
    if (/bytes$/i.test(k)) return `${count(v)} B`;
    if (/Kb$/.test(k)) return `${count(v)} kB`;
    return Number.isInteger(v) ? count(v) : num(v, 2);
  }
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Evidence fields shown elsewhere (the plan excerpt, the verification line, the statement itself). */
const SHOWN = new Set([
  'statements',
  'statement',
  'filter',
  'condition',
  'costBefore',
  'costAfter',
  'verifiedWith',
  'rule',
  'exampleTraceId',
  'exampleParentSpanId',
]);

/** Evidence fields the plan excerpt already shows. */
const PLAN_FIELDS = new Set([
  'tableRows',
  'planRows',
  'scanCost',
  'outerRows',
  'rows',
  'accessType',
  'sortMethod',
  'hashBatches',
  'peakMemoryKb',
]);

/**
 * One finding: severity, title, the time it saves, the plan excerpt, the statement to run with a copy
 * button, and the rest of the evidence. `statement` links the finding to its statement's page.
 */
export function AdviceItem(props: { r: Recommendation; statement?: StatementRef; open?: boolean }) {
  const r = props.r;
  const plan = planExcerpt(r);
  const inPlan = plan ? PLAN_FIELDS : new Set<string>();
  const rest = Object.entries(r.evidence).filter(
    ([k, v]) => !SHOWN.has(k) && !inPlan.has(k) && v !== null && v !== '',
  );
  const trace = typeof r.evidence.exampleTraceId === 'string' ? r.evidence.exampleTraceId : undefined;
  return (
    <li class="db-advice">
      <div class="db-advice-head">
        <span
          class={`badge ${r.severity === 'critical' ? 'bad' : r.severity === 'warning' ? 'warn' : 'muted'}`}
        >
          {r.severity}
        </span>{' '}
        <span class="badge muted">
          {RULES[String(r.evidence.rule)] ?? (r.area === 'query' ? 'query pattern' : r.area)}
        </span>{' '}
        <strong>{r.title}</strong>
      </div>
      <p class="db-gain">
        {r.expectedGain.timeSavedMsPerHour === null ? (
          <span class="muted">Time saved not estimated</span>
        ) : (
          <>
            Saves <strong>{perHour(r.expectedGain.timeSavedMsPerHour)}</strong>
          </>
        )}
        <span class="muted"> — {r.expectedGain.description}</span>
      </p>
      {props.statement ? (
        <p class="small">
          Statement:{' '}
          <a href={href('/database/statements', { fingerprint: props.statement.fingerprint })}>
            <code>{props.statement.statement.slice(0, 100)}</code>
            {props.statement.statement.length > 100 ? '…' : ''}
          </a>
        </p>
      ) : null}
      <details open={props.open}>
        <summary>What to do, and the evidence</summary>
        {r.change && r.action === `Run ${r.change}` ? <p>Run:</p> : <p>{r.action}</p>}
        {r.change ? <CopyCode code={r.change} label="the statement to run" wrap /> : null}
        <Verification r={r} />
        {plan ? (
          <>
            <h4>Plan excerpt</h4>
            <pre class="db-plan">
              <code>{plan}</code>
            </pre>
          </>
        ) : null}
        {trace ? (
          <p class="small">
            Example trace: <a href={href(`/traces/${trace}`)}>{trace}</a>
          </p>
        ) : null}
        {rest.length > 0 ? (
          <dl class="db-evidence">
            {rest.map(([k, v]) => (
              <div key={k}>
                <dt>{label(k)}</dt>
                <dd>{evidenceValue(k, v)}</dd>
              </div>
            ))}
          </dl>
        ) : null}
      </details>
    </li>
  );
}

/** A statement cut to one line for a table cell (the whole text in its tooltip). */
export function StatementText(props: { text: string; max?: number }) {
  const max = props.max ?? 120;
  const one = props.text.replace(/\s+/g, ' ');
  return (
    <code class="db-stmt" title={props.text}>
      {one.length > max ? `${one.slice(0, max)}…` : one}
    </code>
  );
}
