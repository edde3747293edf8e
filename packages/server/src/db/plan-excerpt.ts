/**
 * The plan node a finding was drawn from, in EXPLAIN's own words, from the finding's evidence: the scan
 * with its cost, rows and filter (PostgreSQL), the access type, rows and condition (MySQL/MariaDB), or the
 * sort or hash that spilled. A reader sees why the index is asked for without running EXPLAIN again.
 * @module
 */

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The excerpt, or `null` when the evidence holds no plan node (catalog findings).
 * @param evidence - a plan finding's evidence (`filter`, `planRows`, `scanCost`, `tableRows`, `outerRows`,
 *   `rule`; or `accessType`, `rows`, `condition`; or `sortMethod`; or `hashBatches`, `peakMemoryKb`).
 * @param table - the table the finding is about, when known.
 */
export function planExcerpt(evidence: Record<string, unknown>, table: string | null): string | null {
  const e = evidence;
  if (typeof e.filter === 'string') {
    const rows = num(e.planRows);
    const cost = num(e.scanCost);
    const figures = [
      cost !== undefined ? `total cost=${cost.toFixed(2)}` : '',
      rows !== undefined ? `rows=${Math.round(rows)}` : '',
    ].filter(Boolean);
    const lines = [`Seq Scan${table ? ` on ${table}` : ''}  (${figures.join(' ')})`, `  Filter: ${e.filter}`];
    const tableRows = num(e.tableRows);
    if (tableRows !== undefined) lines.push(`  -- the table holds about ${Math.round(tableRows)} rows`);
    const outer = num(e.outerRows);
    if (e.rule === 'nested_loop_scan' && outer !== undefined)
      return [`Nested Loop  (outer rows=${Math.round(outer)})`, ...lines.map((l) => `  ->  ${l}`)].join('\n');
    return lines.join('\n');
  }
  if (typeof e.condition === 'string' || typeof e.accessType === 'string') {
    const rows = num(e.rows);
    return [
      `table ${table ?? '?'}: access type ${String(e.accessType ?? '?')}, rows ${rows === undefined ? '?' : Math.round(rows)}`,
      typeof e.condition === 'string' ? `  attached condition: ${e.condition}` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }
  if (typeof e.sortMethod === 'string') {
    const rows = num(e.rows);
    return `Sort  (Sort Method: ${e.sortMethod}${rows === undefined ? '' : `, rows=${Math.round(rows)}`})`;
  }
  const batches = num(e.hashBatches);
  if (batches !== undefined) {
    const kb = num(e.peakMemoryKb);
    return `Hash  (Batches: ${batches}${kb !== undefined ? `, Memory Usage: ${kb}kB` : ''})`;
  }
  return null;
}
