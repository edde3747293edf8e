/**
 * MySQL/MariaDB plan advice: `EXPLAIN FORMAT=JSON` of a statement (normalised `?` placeholders replaced
 * by sample values: `'1'`, and 10 for LIMIT/OFFSET; EXPLAIN does not run the statement), and the rules
 * over both servers' JSON shapes (MySQL's `using_filesort`/`using_temporary_table`, MariaDB's `filesort`
 * and `temporary_table` blocks): full scans of large tables with a condition (an index on its columns),
 * filesorts (an index that returns the rows in order), temporary tables for GROUP BY or DISTINCT.
 * @module
 */
import type { InstrumentedMysqlPool } from '@siperf/node/db';
import { checkMysqlStatement } from './mysql-statement.ts';
import type { PoolRole } from './pool-role.ts';
import { mysqlSandboxSettings, resetMysqlSession } from './read-only.ts';

/** A rule's finding on a MySQL plan. */
export interface MysqlPlanFinding {
  rule: 'full_table_scan' | 'filesort' | 'temporary_table';
  table: string | null;
  columns: string[];
  fix: string | null;
  detail: string;
  evidence: Record<string, unknown>;
}

/** The statement with sample values in place of `?` placeholders. */
export function withSampleValues(statement: string): string {
  return statement.replace(/\b(LIMIT|OFFSET)\s+\?/gi, '$1 10').replace(/\?/g, "'1'");
}

/** Columns a condition compares (`t1.c = 5`, `` `db`.`t1`.`c` = '1' ``): equality first, then range. */
export function conditionColumns(condition: string, table: string): string[] {
  const eq: string[] = [];
  const range: string[] = [];
  const re = /(?:`?[\w$]+`?\.)?(?:`?[\w$]+`?\.)?`?([\w$]+)`?\s*(=|<=>|<=|>=|<|>|\blike\b|\bbetween\b)/gi;
  for (const m of condition.matchAll(re)) {
    const col = m[1]!;
    if (/^\d/.test(col) || col.toLowerCase() === table.toLowerCase()) continue;
    const list = m[2] === '=' || m[2] === '<=>' ? eq : range;
    if (!eq.includes(col) && !range.includes(col)) list.push(col);
  }
  return [...eq, ...range.slice(0, 1)];
}

const q = (s: string) => `\`${s.replace(/`/g, '``')}\``;

/** Findings of one JSON plan. */
export function mysqlPlanFindings(plan: unknown, largeTableRows = 10_000): MysqlPlanFinding[] {
  const out: MysqlPlanFinding[] = [];
  const tables: { name: string; rows: number; access: string; condition: string | undefined }[] = [];
  let filesortKey: string | undefined;
  let filesort = false;
  let temporary = false;
  const visit = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (key === 'table' && typeof o.table_name === 'string') {
      tables.push({
        name: o.table_name,
        rows: Number(o.rows ?? o.rows_examined_per_scan ?? 0),
        access: String(o.access_type ?? ''),
        condition: typeof o.attached_condition === 'string' ? o.attached_condition : undefined,
      });
    }
    if (key === 'filesort' || o.using_filesort === true) {
      filesort = true;
      if (typeof o.sort_key === 'string') filesortKey = o.sort_key;
    }
    if (key === 'temporary_table' || o.using_temporary_table === true) temporary = true;
    for (const [k, x] of Object.entries(o)) visit(x, k);
  };
  visit(plan);
  for (const t of tables) {
    if (t.access === 'ALL' && t.rows >= largeTableRows && t.condition) {
      const columns = conditionColumns(t.condition, t.name);
      if (columns.length > 0) {
        out.push({
          rule: 'full_table_scan',
          table: t.name,
          columns,
          fix: `CREATE INDEX ${q(`${t.name}_${columns.join('_')}_idx`.slice(0, 64))} ON ${q(t.name)} (${columns.map(q).join(', ')})`,
          detail: `a full scan reads about ${t.rows} rows of ${t.name} to apply ${t.condition}`,
          evidence: { rows: t.rows, condition: t.condition, accessType: t.access },
        });
      }
    }
  }
  const big = tables.reduce((m, t) => Math.max(m, t.rows), 0);
  if (filesort && big >= largeTableRows) {
    out.push({
      rule: 'filesort',
      table: tables.length === 1 ? tables[0]!.name : null,
      columns: filesortKey
        ? filesortKey.split(',').map((c) => c.trim().split('.').pop()!.replace(/`/g, ''))
        : [],
      fix: null,
      detail: `about ${big} rows are sorted in a filesort${filesortKey ? ` by ${filesortKey}` : ''}: an index that ends with the ORDER BY columns returns them in order`,
      evidence: { rows: big, sortKey: filesortKey ?? null },
    });
  }
  if (temporary && big >= largeTableRows) {
    out.push({
      rule: 'temporary_table',
      table: tables.length === 1 ? tables[0]!.name : null,
      columns: [],
      fix: null,
      detail: `GROUP BY or DISTINCT builds a temporary table over about ${big} rows: an index on the grouping columns avoids it`,
      evidence: { rows: big },
    });
  }
  return out;
}

/**
 * Explains a statement on a pool and applies the rules. The statement (from a span or a log: from
 * outside) must pass `mysql-statement.ts` in `explain` mode: a SELECT calling allow-listed functions only,
 * without derived tables or CTEs (MariaDB's EXPLAIN runs those); what is explained is the statement
 * regenerated from its checked tree, in a read-only transaction with the sandbox's timeouts, and the
 * session is reset after (`read-only.ts`).
 * @param role - the pool's role when known (its flavour picks the timeout setting; default MariaDB).
 * @throws SiperfError `ERR_QUERY_NOT_ALLOWED` when the statement is refused; the server's error when it
 *   refuses it.
 */
export async function adviseMysqlStatement(
  pool: InstrumentedMysqlPool,
  statement: string,
  role?: PoolRole,
): Promise<{ statement: string; findings: MysqlPlanFinding[]; plan: unknown }> {
  const checked = checkMysqlStatement(withSampleValues(statement), 'explain');
  const timeoutMs = pool.stats().statementTimeoutMs || 10_000;
  const conn = await pool.getConnection();
  try {
    await conn.query(mysqlSandboxSettings(role ?? { role: '', powers: [], mariadb: true }, timeoutMs));
    await conn.query('START TRANSACTION READ ONLY');
    const [rows] = (await conn.query(`EXPLAIN FORMAT=JSON ${checked.sql}`)) as unknown as [
      Record<string, string>[],
    ];
    const first = rows[0]!;
    const plan = JSON.parse(first.EXPLAIN ?? Object.values(first)[0]!);
    return { statement, findings: mysqlPlanFindings(plan), plan };
  } finally {
    await resetMysqlSession(conn, role, pool.stats().statementTimeoutMs);
  }
}
