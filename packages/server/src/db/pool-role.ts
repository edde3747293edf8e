/**
 * What a pool's database role may do beyond reading, checked on the pool's first use by cached queries
 * or the advisor and again after {@link ROLE_RECHECK_MS}: client SQL and EXPLAIN run only on a role that
 * cannot write, unless the operator sets `allowWritablePools` (which names the risk).
 *
 * PostgreSQL: superuser, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS; membership of the roles that
 * reach files, programs, other backends or all data (`pg_write_server_files`, `pg_read_server_files`,
 * `pg_execute_server_program`, `pg_signal_backend`, `pg_write_all_data`, `pg_checkpoint`); CREATE on the
 * database or on a schema; INSERT, UPDATE, DELETE or TRUNCATE on any table or view (columns too); USAGE or
 * UPDATE on a sequence (nextval). MySQL/MariaDB: any privilege in `SHOW GRANTS` other than SELECT, SHOW
 * VIEW, SHOW DATABASES and USAGE, any grant WITH GRANT OPTION, and the same for the roles granted.
 * @module
 */
import type { PoolConnection } from 'mysql2/promise';
import type { PoolClient } from 'pg';

/** What was found: the role and, when it can write, why. */
export interface PoolRole {
  role: string;
  /** Human-readable powers beyond reading (empty: read-only). */
  powers: string[];
  /** MySQL flavour: MariaDB has `max_statement_time`, MySQL `max_execution_time`. */
  mariadb?: boolean;
}

/** How long a role check is trusted, ms. */
export const ROLE_RECHECK_MS = 5 * 60_000;

const PG_ROLE_SQL = `SELECT current_user AS role, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
  r.rolbypassrls, has_database_privilege(current_database(), 'CREATE') AS db_create,
  ARRAY(SELECT b.rolname::text FROM pg_roles b WHERE b.rolname IN ('pg_write_server_files', 'pg_read_server_files',
    'pg_execute_server_program', 'pg_signal_backend', 'pg_write_all_data', 'pg_checkpoint')
    AND pg_has_role(current_user, b.oid, 'USAGE') ORDER BY 1) AS member_of,
  ARRAY(SELECT n.nspname::text FROM pg_namespace n WHERE has_schema_privilege(n.oid, 'CREATE')
    AND n.nspname !~ '^pg_(toast_)?temp_' ORDER BY 1 LIMIT 3) AS create_schemas,
  ARRAY(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
      AND (has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
        OR has_any_column_privilege(c.oid, 'INSERT, UPDATE'))
    ORDER BY 1 LIMIT 3) AS writable,
  ARRAY(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'USAGE, UPDATE') END
    ORDER BY 1 LIMIT 3) AS sequences
FROM pg_roles r WHERE r.rolname = current_user`;

/** The powers of the PostgreSQL role of `client`. */
export async function pgRole(client: PoolClient): Promise<PoolRole> {
  const r = await client.query(PG_ROLE_SQL);
  const x = r.rows[0] as Record<string, unknown> & {
    role: string;
    member_of: string[];
    create_schemas: string[];
    writable: string[];
    sequences: string[];
  };
  const powers: string[] = [];
  if (x.rolsuper) powers.push('is a superuser');
  for (const [k, what] of [
    ['rolcreaterole', 'CREATEROLE'],
    ['rolcreatedb', 'CREATEDB'],
    ['rolreplication', 'REPLICATION'],
    ['rolbypassrls', 'BYPASSRLS'],
  ] as const)
    if (x[k]) powers.push(`has ${what}`);
  for (const m of x.member_of) powers.push(`is a member of ${m}`);
  if (x.db_create) powers.push('may CREATE in the database');
  if (x.create_schemas.length > 0) powers.push(`may CREATE in schema ${x.create_schemas.join(', ')}`);
  if (x.writable.length > 0)
    powers.push(`may write ${x.writable.join(', ')}${x.writable.length >= 3 ? ' (and maybe more)' : ''}`);
  if (x.sequences.length > 0) powers.push(`may advance sequence ${x.sequences.join(', ')}`);
  return { role: x.role, powers };
}

/** Privileges that only read. */
const MYSQL_READ = new Set(['SELECT', 'SHOW VIEW', 'SHOW DATABASES', 'USAGE']);

/** Splits `SELECT (a, b), INSERT (c), UPDATE` at the commas outside parentheses. */
function privileges(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out
    .map((p) =>
      p
        .replace(/\(.*\)/s, '')
        .trim()
        .toUpperCase(),
    )
    .filter(Boolean);
}

/** The powers of the MySQL/MariaDB user of `conn` (its grants and those of its roles). */
export async function mysqlRole(conn: PoolConnection): Promise<PoolRole> {
  const [[who]] = (await conn.query('SELECT CURRENT_USER() AS role, VERSION() AS version')) as unknown as [
    { role: string; version: string }[],
  ];
  const powers: string[] = [];
  const seen = new Set<string>();
  const read = async (forWhom: string | undefined, depth: number): Promise<void> => {
    let rows: Record<string, string>[];
    try {
      [rows] = (await conn.query(forWhom ? `SHOW GRANTS FOR ${forWhom}` : 'SHOW GRANTS')) as unknown as [
        Record<string, string>[],
      ];
    } catch (err) {
      powers.push(`its grants could not be read (${(err as Error).message})`);
      return;
    }
    for (const row of rows) {
      const line = String(Object.values(row)[0] ?? '');
      const grant = /^GRANT\s+(.+?)\s+ON\s+(.+?)\s+TO\s+/is.exec(line);
      if (grant) {
        const risky = privileges(grant[1]!).filter((p) => !MYSQL_READ.has(p));
        if (risky.length > 0) powers.push(`has ${risky.join(', ')} ON ${grant[2]}`);
        if (/WITH\s+GRANT\s+OPTION/i.test(line)) powers.push(`may grant on ${grant[2]}`);
        continue;
      }
      const role = /^GRANT\s+(.+?)\s+TO\s+/is.exec(line);
      if (role && depth < 3) {
        for (const r of role[1]!.split(',').map((s) => s.trim())) {
          if (seen.has(r)) continue;
          seen.add(r);
          await read(r, depth + 1);
        }
      }
    }
  };
  await read(undefined, 0);
  return { role: who!.role, powers, mariadb: /mariadb/i.test(who!.version) };
}

const checked = new WeakMap<object, { atMs: number; role: PoolRole }>();

/**
 * The role of a pool, from the cache when checked within {@link ROLE_RECHECK_MS}.
 * @param key - the pool object (the cache is keyed on it).
 */
export async function cachedRole(
  key: object,
  check: () => Promise<PoolRole>,
  nowMs = Date.now(),
): Promise<PoolRole> {
  const hit = checked.get(key);
  if (hit && nowMs - hit.atMs < ROLE_RECHECK_MS) return hit.role;
  const role = await check();
  checked.set(key, { atMs: nowMs, role });
  return role;
}
