/**
 * The tables a statement names, as pt-query-digest's "distill" finds them: after FROM and JOIN, UPDATE,
 * INTO (INSERT, REPLACE, LOAD DATA … INTO TABLE), INSERT/REPLACE without INTO, DELETE, TRUNCATE, COPY and
 * CREATE/ALTER/DROP TABLE. Literals and comments are left out first; a name followed by `(` is a function.
 * @module
 */

const NAME = '(?:`[^`]+`|"[^"]+"|[A-Za-z_][\\w$]*)';
const TABLE = `(${NAME}(?:\\s*\\.\\s*${NAME})?)(?!\\s*\\()`;
const MODIFIERS = '(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE|QUICK|ONLY|LOCAL|CONCURRENT)\\s+)*';
const PATTERNS = [
  new RegExp(
    `\\b(?:FROM|JOIN)\\s+${MODIFIERS}${TABLE}((?:\\s*,\\s*${NAME}(?:\\s*\\.\\s*${NAME})?(?:\\s+(?:AS\\s+)?(?!WHERE|JOIN|LEFT|RIGHT|INNER|ON|GROUP|ORDER|LIMIT)\\w+)?)*)`,
    'gi',
  ),
  new RegExp(`\\bINTO\\s+(?:TABLE\\s+)?${TABLE}`, 'gi'),
  new RegExp(`^\\s*(?:INSERT|REPLACE)\\s+${MODIFIERS}(?!INTO\\b)${TABLE}`, 'gi'),
  new RegExp(`^\\s*UPDATE\\s+${MODIFIERS}${TABLE}`, 'gi'),
  new RegExp(`^\\s*(?:TRUNCATE|COPY)\\s+(?:TABLE\\s+)?${MODIFIERS}${TABLE}`, 'gi'),
  new RegExp(
    `\\b(?:CREATE|ALTER|DROP)\\s+(?:TEMPORARY\\s+|TEMP\\s+|UNLOGGED\\s+)?TABLE\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?${TABLE}`,
    'gi',
  ),
];
const NOT_TABLES = new Set(['dual', 'select', 'lateral', 'unnest', 'values', 'stdin', 'stdout']);

const unquote = (n: string) => n.replace(/\s*\.\s*/g, '.').replace(/[`"]/g, '');

/** The tables `statement` names, in order of first mention, without quotes (`db.tbl` kept qualified). */
export function tablesOf(statement: string): string[] {
  // Only the first 16 KiB: long IN lists add values, not tables.
  const text = statement
    .slice(0, 16_384)
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "''")
    .replace(/\/\*[\s\S]*?\*\/|--[^\n]*|#[^\n]*/g, ' ');
  const found: string[] = [];
  const add = (n: string | undefined) => {
    if (!n) return;
    const t = unquote(n);
    if (!NOT_TABLES.has(t.toLowerCase()) && !found.includes(t)) found.push(t);
  };
  for (const re of PATTERNS) {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      add(m[1]);
      // `FROM a, b x, c`: the comma-separated rest.
      if (m[2])
        for (const more of m[2].matchAll(new RegExp(`,\\s*(${NAME}(?:\\s*\\.\\s*${NAME})?)`, 'g')))
          add(more[1]);
    }
  }
  return found;
}
