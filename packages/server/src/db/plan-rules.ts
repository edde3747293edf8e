/**
 * Rules over query plans, PostgreSQL's `EXPLAIN (FORMAT JSON)` (plain or ANALYZE) — the checks a DBA
 * makes first, as in PgHero and pganalyze's plan insights:
 * - a sequential scan with a selective filter (≤ 10% of the rows kept) on a large table (≥ 10,000 rows):
 *   an index on the filter's columns, equality columns first, then one range column;
 * - a nested loop whose inner side scans a table for each of many outer rows (≥ 1,000): an index on the
 *   join key;
 * - sorts and hashes that spill to disk (ANALYZE): `work_mem`;
 * - row estimates wrong by 10× or more (ANALYZE): stale statistics, `ANALYZE table`.
 * @module
 */

/** One node of a PostgreSQL JSON plan (the fields the rules read). */
export interface PgPlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  Alias?: string;
  'Total Cost': number;
  'Plan Rows': number;
  Filter?: string;
  'Join Filter'?: string;
  'Index Cond'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Sort Space Type'?: string;
  'Sort Method'?: string;
  'Hash Batches'?: number;
  'Peak Memory Usage'?: number;
  Plans?: PgPlanNode[];
}

/** A rule's finding. */
export interface PlanFinding {
  rule: 'seq_scan_selective_filter' | 'nested_loop_scan' | 'sort_spill' | 'hash_spill' | 'row_estimate_error';
  table: string | null;
  columns: string[];
  /** The statement that fixes it, when there is one. */
  fix: string | null;
  detail: string;
  evidence: Record<string, unknown>;
}

/** Options of {@link planFindings}. */
export interface PlanRuleOptions {
  /** Estimated rows per table (`pg_class.reltuples`), by relation name. */
  tableRows: Map<string, number>;
  largeTableRows?: number;
  selectivity?: number;
}

const quoteIdent = (s: string) => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);

/**
 * Columns a filter compares with a constant or parameter: equality ones, then range ones, as written
 * in `Filter` (`((created_by = $1) AND (label <> 'x'::text))`).
 */
export function filterColumns(filter: string): { equality: string[]; range: string[] } {
  const equality: string[] = [];
  const range: string[] = [];
  const re = /\(?\s*\(?([a-z_][a-z0-9_]*|"[^"]+")\)?(?:::[a-z ]+)?\s*(=|<=|>=|<|>|~~|IS NULL)\s*/gi;
  for (const m of filter.matchAll(re)) {
    const col = m[1]!.replace(/^"|"$/g, '');
    const op = m[2]!.toUpperCase();
    if (/^\$\d+$/.test(col) || ['AND', 'OR', 'NOT', 'ANY', 'ALL'].includes(col.toUpperCase())) continue;
    const list = op === '=' || op === 'IS NULL' ? equality : range;
    if (!equality.includes(col) && !range.includes(col)) list.push(col);
  }
  return { equality, range };
}

function walk(
  node: PgPlanNode,
  visit: (n: PgPlanNode, parent: PgPlanNode | undefined) => void,
  parent?: PgPlanNode,
): void {
  visit(node, parent);
  for (const c of node.Plans ?? []) walk(c, visit, node);
}

/** The suggested index for a table and columns (the statement to run). */
export function createIndexSql(table: string, schema: string | undefined, columns: string[]): string {
  const name = `${table}_${columns.join('_')}_idx`.slice(0, 63);
  const qualified =
    schema && schema !== 'public' ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table);
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quoteIdent(name)} ON ${qualified} (${columns.map(quoteIdent).join(', ')})`;
}

/** Findings of one plan (its root node). */
export function planFindings(root: PgPlanNode, o: PlanRuleOptions): PlanFinding[] {
  const large = o.largeTableRows ?? 10_000;
  const selective = o.selectivity ?? 0.1;
  const out: PlanFinding[] = [];
  walk(root, (n, parent) => {
    const table = n['Relation Name'];
    const rows = table ? (o.tableRows.get(table) ?? 0) : 0;
    if (n['Node Type'] === 'Seq Scan' && table && n.Filter && rows >= large) {
      const kept = (n['Actual Rows'] ?? n['Plan Rows']) / Math.max(1, rows);
      const { equality, range } = filterColumns(n.Filter);
      const columns = [...equality, ...range.slice(0, 1)];
      const inner = parent?.['Node Type'] === 'Nested Loop' && parent.Plans?.[1] === n;
      if (columns.length > 0 && (kept <= selective || inner)) {
        const outerRows = inner ? (parent!.Plans![0]!['Actual Rows'] ?? parent!.Plans![0]!['Plan Rows']) : 1;
        out.push({
          rule: inner && outerRows >= 1000 ? 'nested_loop_scan' : 'seq_scan_selective_filter',
          table,
          columns,
          fix: createIndexSql(table, n.Schema, columns),
          detail: inner
            ? `a nested loop scans all ${Math.round(rows)} rows of ${table} for each of ${Math.round(outerRows)} outer rows`
            : `a sequential scan reads all ${Math.round(rows)} rows of ${table} to keep ${(100 * kept).toFixed(2)}% of them (filter ${n.Filter})`,
          evidence: {
            tableRows: rows,
            planRows: n['Plan Rows'],
            filter: n.Filter,
            scanCost: n['Total Cost'],
            outerRows,
          },
        });
      }
    }
    if (n['Node Type'] === 'Sort' && n['Sort Space Type'] === 'Disk') {
      out.push({
        rule: 'sort_spill',
        table: null,
        columns: [],
        fix: "SET work_mem = '64MB'  -- for this session or role; or an index that returns the rows in order",
        detail: `a sort spilled to disk (${n['Sort Method'] ?? 'external'})`,
        evidence: { sortMethod: n['Sort Method'], rows: n['Actual Rows'] },
      });
    }
    if (n['Node Type'] === 'Hash' && (n['Hash Batches'] ?? 1) > 1) {
      out.push({
        rule: 'hash_spill',
        table: null,
        columns: [],
        fix: "SET work_mem = '64MB'  -- for this session or role",
        detail: `a hash table was split into ${n['Hash Batches']} batches on disk`,
        evidence: { hashBatches: n['Hash Batches'], peakMemoryKb: n['Peak Memory Usage'] },
      });
    }
    if (n['Actual Rows'] !== undefined && table) {
      const actual = n['Actual Rows'];
      const planned = n['Plan Rows'];
      const ratio = Math.max(actual, 1) / Math.max(planned, 1);
      if ((ratio >= 10 || ratio <= 0.1) && Math.max(actual, planned) >= 100) {
        out.push({
          rule: 'row_estimate_error',
          table,
          columns: [],
          fix: `ANALYZE ${quoteIdent(table)}`,
          detail: `the planner expected ${planned} rows from ${table} and got ${actual}: its statistics are stale`,
          evidence: { planRows: planned, actualRows: actual },
        });
      }
    }
  });
  return out;
}
