/**
 * PostgreSQL plan advice on one pool: the generic plan of a normalised statement (PREPARE with
 * `plan_cache_mode = force_generic_plan`, then `EXPLAIN (FORMAT JSON) EXECUTE` with NULL parameters — the
 * plan does not depend on the values, and nothing is executed), the plan rules of `plan-rules.ts`, index
 * suggestions checked with hypothetical indexes (HypoPG, when the extension can be created: cost before
 * and after), and the catalog checks of PgHero: foreign keys without an index, unused and duplicate
 * indexes, and the top statements of `pg_stat_statements` when it is loaded.
 * @module
 */
import type { PoolClient } from 'pg';
import { SiperfError } from '../errors.ts';
import { checkPgStatement } from './pg-statement.ts';
import { createIndexSql, type PgPlanNode, type PlanFinding, planFindings } from './plan-rules.ts';
import { assertNotShadowed, pgSandboxBegin } from './read-only.ts';
import { codeOutsideLiterals, extended, statementCount } from './sql-text.ts';

/** The plan of a statement with its findings and, for index findings, the verified cost change. */
export interface PgPlanAdvice {
  statement: string;
  totalCost: number;
  findings: (PlanFinding & {
    costBefore?: number;
    costAfter?: number;
    verifiedWith: 'hypopg' | 'estimate';
  })[];
  plan: PgPlanNode;
}

/** Statements that can be explained: DML only (EXPLAIN of anything else is refused). */
const EXPLAINABLE = /^\s*(with\b[\s\S]*?\b)?(select|insert|update|delete|values|table)\b/i;

/** Highest `$n` placeholder of a normalised statement. */
export function paramCount(statement: string): number {
  let n = 0;
  for (const m of statement.matchAll(/\$(\d+)/g)) n = Math.max(n, Number(m[1]));
  return n;
}

/**
 * Runs `fn` on a client inside the sandbox transaction of `read-only.ts` (READ ONLY, the statement
 * timeout, default 10 s, the lock timeout, `pg_catalog` first on the search path), with generic plans;
 * always rolled back and deallocated.
 */
export async function withAdvisorSession<T>(
  client: PoolClient,
  fn: () => Promise<T>,
  statementTimeoutMs = 10_000,
): Promise<T> {
  await client.query(pgSandboxBegin(statementTimeoutMs, '\nSET LOCAL plan_cache_mode = force_generic_plan;'));
  try {
    return await fn();
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    await client.query('DEALLOCATE ALL').catch(() => {});
  }
}

let counter = 0;

/**
 * The generic plan of a statement (`$n` placeholders allowed).
 * @throws Error when the statement is not DML or does not prepare (unknown table, ambiguous parameter types).
 */
export async function genericPlan(
  client: PoolClient,
  statement: string,
  analyze = false,
): Promise<PgPlanNode> {
  // Statements come from traces and logs, that is from outside: one statement only, and only through the
  // extended protocol (which refuses a second one), inside the advisor's read-only transaction.
  if (statementCount(statement, 'postgresql') !== 1) throw new Error('one statement only');
  if (!EXPLAINABLE.test(codeOutsideLiterals(statement, 'postgresql'))) {
    throw new Error('only SELECT, INSERT, UPDATE and DELETE statements are explained');
  }
  const n = paramCount(statement);
  if (analyze && (n > 0 || !/^\s*select\b/i.test(statement)))
    throw new Error('EXPLAIN ANALYZE only runs SELECT statements without parameters');
  const name = `siperf_advisor_${++counter}`;
  await client.query(extended(`PREPARE ${name} AS ${statement}`));
  try {
    const args = n > 0 ? `(${Array.from({ length: n }, () => 'NULL').join(', ')})` : '';
    const r = await client.query(
      extended(`EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE, BUFFERS' : ''}) EXECUTE ${name}${args}`),
    );
    const json = r.rows[0]['QUERY PLAN'] as { Plan: PgPlanNode }[];
    return json[0]!.Plan;
  } finally {
    await client.query(`DEALLOCATE ${name}`).catch(() => {});
  }
}

/** Estimated rows of the tables a plan reads (`pg_class.reltuples`, as the planner sees them). */
export async function tableRows(client: PoolClient, plan: PgPlanNode): Promise<Map<string, number>> {
  const tables = new Set<string>();
  const walk = (n: PgPlanNode) => {
    if (n['Relation Name']) tables.add(n['Relation Name']);
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(plan);
  if (tables.size === 0) return new Map();
  const r = await client.query<{ relname: string; rows: number }>(
    `SELECT c.relname, GREATEST(c.reltuples, 0)::float8 AS rows FROM pg_class c
     WHERE c.relkind IN ('r', 'p', 'm') AND c.relname = ANY($1) AND pg_table_is_visible(c.oid)`,
    [[...tables]],
  );
  return new Map(r.rows.map((x) => [x.relname, Number(x.rows)]));
}

/**
 * Whether HypoPG is there: created in this database (`CREATE EXTENSION hypopg`, which the advisor never
 * runs itself), `installed` when only the server has the package.
 */
export async function hypopgAvailable(client: PoolClient): Promise<'created' | 'installed' | 'absent'> {
  const r = await client.query<{ created: boolean; installed: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'hypopg') AS created,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg') AS installed`,
  );
  const row = r.rows[0]!;
  return row.created ? 'created' : row.installed ? 'installed' : 'absent';
}

/** Plan, findings and, with HypoPG, the cost of the statement with each suggested index. */
export async function adviseStatement(
  client: PoolClient,
  statement: string,
  o: { analyze?: boolean; hypopg: boolean; largeTableRows?: number },
): Promise<PgPlanAdvice> {
  // Statements come from spans, logs and pg_stat_statements, that is from outside: the parse-tree rules of
  // cached queries (plus a top-level INSERT/UPDATE/DELETE, planned, never executed); ANALYZE (which
  // executes) only for a statement that would pass as a cached query, inside the read-only transaction.
  const names = await checkPgStatement(statement, 'explain');
  await assertNotShadowed(client, names);
  let analyze = o.analyze === true;
  if (analyze) {
    analyze = await checkPgStatement(statement, 'query').then(
      () => true,
      (err) => {
        if (err instanceof SiperfError) return false;
        throw err;
      },
    );
  }
  const plan = await genericPlan(client, statement, analyze);
  const rows = await tableRows(client, plan);
  const findings: PgPlanAdvice['findings'] = [];
  for (const f of planFindings(plan, { tableRows: rows, largeTableRows: o.largeTableRows })) {
    if (o.hypopg && f.table && f.columns.length > 0) {
      try {
        await client.query('SELECT * FROM hypopg_create_index($1)', [
          createIndexSql(f.table, undefined, f.columns).replace(' CONCURRENTLY IF NOT EXISTS', ''),
        ]);
        const after = await genericPlan(client, statement);
        findings.push({
          ...f,
          costBefore: plan['Total Cost'],
          costAfter: after['Total Cost'],
          verifiedWith: 'hypopg',
        });
      } finally {
        await client.query('SELECT hypopg_reset()').catch(() => {});
      }
    } else findings.push({ ...f, verifiedWith: 'estimate' });
  }
  return { statement, totalCost: plan['Total Cost'], findings, plan };
}

/** A catalog finding (PgHero's checks). */
export interface CatalogFinding {
  rule: 'fk_without_index' | 'unused_index' | 'duplicate_index';
  table: string;
  detail: string;
  fix: string;
  evidence: Record<string, unknown>;
}

/** Foreign keys whose columns lead no index, unused indexes (no scan since the stats reset, not unique), duplicate indexes. */
export async function catalogFindings(client: PoolClient): Promise<CatalogFinding[]> {
  const out: CatalogFinding[] = [];
  const fks = await client.query<{ table: string; columns: string[]; constraint: string; rows: number }>(
    `SELECT c.conrelid::regclass::text AS table, c.conname AS constraint,
            array_agg(a.attname::text ORDER BY k.ord) AS columns, max(t.reltuples)::float8 AS rows
     FROM pg_constraint c
     JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, ord) ON true
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
     JOIN pg_class t ON t.oid = c.conrelid
     WHERE c.contype = 'f' AND NOT EXISTS (
       SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
         AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey)
     GROUP BY c.conrelid, c.conname`,
  );
  for (const f of fks.rows) {
    out.push({
      rule: 'fk_without_index',
      table: f.table,
      detail: `foreign key ${f.constraint} on ${f.table} (${f.columns.join(', ')}) has no index: joins and cascading deletes scan the table`,
      fix: createIndexSql(f.table, undefined, f.columns),
      evidence: { constraint: f.constraint, columns: f.columns, tableRows: f.rows },
    });
  }
  const unused = await client.query<{ table: string; index: string; bytes: string; scans: string }>(
    `SELECT s.relname AS table, s.indexrelname AS index, pg_relation_size(s.indexrelid)::text AS bytes, s.idx_scan::text AS scans
     FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
     WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND pg_relation_size(s.indexrelid) > 1048576`,
  );
  for (const u of unused.rows) {
    out.push({
      rule: 'unused_index',
      table: u.table,
      detail: `index ${u.index} on ${u.table} has not been used since the statistics were reset and costs ${Math.round(Number(u.bytes) / 1048576)} MiB and every write`,
      fix: `DROP INDEX CONCURRENTLY ${u.index}`,
      evidence: { index: u.index, bytes: Number(u.bytes), scans: Number(u.scans) },
    });
  }
  const dup = await client.query<{ table: string; index: string; covered_by: string }>(
    `SELECT a.indrelid::regclass::text AS table, a.indexrelid::regclass::text AS index, b.indexrelid::regclass::text AS covered_by
     FROM pg_index a JOIN pg_index b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
     WHERE NOT a.indisunique AND a.indpred IS NULL AND b.indpred IS NULL AND a.indexprs IS NULL AND b.indexprs IS NULL
       AND array_length(a.indkey::int2[], 1) <= array_length(b.indkey::int2[], 1)
       AND (b.indkey::int2[])[0:array_length(a.indkey::int2[], 1) - 1] = (a.indkey::int2[])[0:array_length(a.indkey::int2[], 1) - 1]
       AND (array_length(a.indkey::int2[], 1) < array_length(b.indkey::int2[], 1) OR a.indexrelid > b.indexrelid)`,
  );
  for (const d of dup.rows) {
    out.push({
      rule: 'duplicate_index',
      table: d.table,
      detail: `index ${d.index} is covered by ${d.covered_by} (same leading columns): it only costs writes and space`,
      fix: `DROP INDEX CONCURRENTLY ${d.index}`,
      evidence: { index: d.index, coveredBy: d.covered_by },
    });
  }
  return out;
}

/** Top statements by total time from `pg_stat_statements`, or null when it is not loaded. */
export async function topStatements(
  client: PoolClient,
  limit = 20,
): Promise<{ query: string; calls: number; totalMs: number; meanMs: number; rows: number }[] | null> {
  try {
    const r = await client.query<{ query: string; calls: string; total: number; mean: number; rows: string }>(
      `SELECT query, calls::text, total_exec_time AS total, mean_exec_time AS mean, rows::text
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time DESC LIMIT $1`,
      [limit],
    );
    return r.rows.map((x) => ({
      query: x.query,
      calls: Number(x.calls),
      totalMs: x.total,
      meanMs: x.mean,
      rows: Number(x.rows),
    }));
  } catch {
    return null;
  }
}
