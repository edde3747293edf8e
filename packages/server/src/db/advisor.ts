/**
 * The database advisor: the plans of the statements that cost the most time (on the configured pools:
 * PostgreSQL generic plans with HypoPG checks, MySQL/MariaDB EXPLAIN), `pg_stat_statements`, uploaded logs,
 * and the catalog checks — each an {@link Advice} with its evidence, the statement to run, and the time it
 * would save per hour, plus the statements it is about (fingerprint, calls per hour, mean) and the plan
 * node it was drawn from, so `recommendations/` can join it to the endpoints that wait on them.
 *
 * The statements come from the caller (the traces' rollups, read by `apm/`): this folder reads no spans.
 * @module
 */
import type { Advice } from '../model/index.ts';
import { rateWindow } from '../util/rate-window.ts';
import type { LogDigests } from './log-digests.ts';
import { adviseMysqlStatement } from './mysql-advisor.ts';
import {
  adviseStatement,
  catalogFindings,
  hypopgAvailable,
  topStatements,
  withAdvisorSession,
} from './pg-advisor.ts';
import { planExcerpt } from './plan-excerpt.ts';
import type { DbPools, NamedPool } from './pools.ts';
import { assertReadOnlyRole, mysqlPoolRole, pgPoolRole } from './read-only.ts';

/** A statement the traces ran in the window, with its load: a row of the database metrics. */
export interface StatementLoad {
  service: string;
  /** `db.system`: `postgresql`, `mysql`, `mariadb` … */
  system: string;
  database: string;
  fingerprint: string;
  /** The normalised statement. */
  statement: string;
  calls: number;
  meanMs: number;
}

/** A statement a piece of plan advice is about, and the load it was weighed with. */
export interface AdvisedStatement {
  statement: string;
  /** Its fingerprint (null for `pg_stat_statements` rows, which carry none siperf computes). */
  fingerprint: string | null;
  /** The service that ran it (traces only). */
  service: string | null;
  source: 'traces' | 'logs' | 'pg_stat_statements';
  callsPerHour: number;
  meanMs: number;
}

/** Plan or catalog advice, with what `recommendations/` joins it by. */
export interface PlanAdvice extends Advice {
  pool: string;
  /** The plan or catalog rule (`seq_scan_selective_filter`, `fk_without_index`, `mysql-full_table_scan` …). */
  rule: string;
  table: string | null;
  /** The statements it is about (several when one index serves several), empty for catalog findings. */
  statements: AdvisedStatement[];
  /** Share of each statement's time the change removes: 1 − cost after ÷ cost before, or the estimate. */
  shareSaved: number | null;
  verifiedWith: 'hypopg' | 'estimate' | null;
  planExcerpt: string | null;
}

/** Options of {@link planAdvice}. */
export interface DatabaseAdviceOptions {
  /** The window the statements' calls were counted over, ms since the epoch. */
  window: { fromMs: number; toMs: number };
  /** The statements of the traces in the window, by total time, largest first. */
  statements: readonly StatementLoad[];
  explainAnalyze: boolean;
  /** Explain on a pool whose role can write (the `allowWritablePools` setting). Default false. */
  allowWritablePools?: boolean;
  /** Statements explained per pool, by total time (default 10). */
  maxStatements?: number;
  /** Uploaded log digests: their costliest statements are explained too. */
  logs?: LogDigests | undefined;
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The database in a pool's URL (`/orders` → `orders`). */
function databaseOf(p: NamedPool): string {
  try {
    return decodeURIComponent(new URL(p.setting.url).pathname.replace(/^\//, ''));
  } catch {
    return '';
  }
}

/**
 * Plan and catalog advice on every configured pool, and the notes on what could not be checked (a pool
 * down, a statement that does not prepare, HypoPG missing).
 */
export async function planAdvice(
  pools: DbPools,
  o: DatabaseAdviceOptions,
): Promise<{ recommendations: PlanAdvice[]; notes: string[] }> {
  const { hours, text: over } = rateWindow(o.window.fromMs, o.window.toMs);
  const recs: PlanAdvice[] = [];
  const notes: string[] = [];
  const statements = o.statements;

  const open: NamedPool[] = [];
  for (const p of pools.list()) {
    try {
      open.push(pools.get(p.name));
    } catch (err) {
      notes.push(`pool ${p.name}: ${(err as Error).message}`);
    }
  }
  const indexRecs = new Map<string, PlanAdvice>();
  /** Statements of uploaded logs for this pool that the traces do not already cover (by total time). */
  const logStatements = (
    system: 'postgresql' | 'mysql',
    pool: NamedPool,
    mine: { fingerprint: string }[],
    sameKind: number,
  ) =>
    (o.logs?.statements(system) ?? [])
      .filter((q) => !mine.some((m) => m.fingerprint === q.fingerprint))
      .filter(
        (q) => Object.keys(q.databases).length === 0 || databaseOf(pool) in q.databases || sameKind === 1,
      )
      .slice(0, o.maxStatements ?? 10);
  for (const pool of open) {
    const db = databaseOf(pool);
    const sameKind = open.filter((p) => p.setting.driver === pool.setting.driver).length;
    const mine = statements
      .filter((s) =>
        pool.setting.driver === 'postgresql'
          ? s.system === 'postgresql'
          : ['mysql', 'mariadb'].includes(s.system),
      )
      .filter((s) => s.database === db || sameKind === 1)
      .slice(0, o.maxStatements ?? 10);
    try {
      if (pool.setting.driver === 'postgresql') {
        const pgPool = pool as Extract<NamedPool, { setting: { driver: 'postgresql' } }>;
        const client = await pgPool.pool.connect();
        try {
          const hypopgState = await hypopgAvailable(client);
          const hypopg = hypopgState === 'created';
          if (hypopgState === 'installed')
            notes.push(
              `pool ${pool.setting.name}: HypoPG is installed but not created in this database (CREATE EXTENSION hypopg): index gains are estimates`,
            );
          else if (hypopgState === 'absent') {
            // PGlite (PostgreSQL in WebAssembly, e.g. the demo's) has no HypoPG to install.
            const version = await client.query<{ v: string }>('SELECT version() AS v').then(
              (r) => r.rows[0]?.v ?? '',
              () => '',
            );
            notes.push(
              /PGlite/.test(version)
                ? `pool ${pool.setting.name}: PGlite has no HypoPG: index gains are estimates (90% of the statement's time), not verified with a hypothetical index`
                : `pool ${pool.setting.name}: HypoPG is not installed (postgresql-15-hypopg): index gains are estimates`,
            );
          }
          const fromStats = (await topStatements(client)) ?? [];
          const fromLogs = logStatements('postgresql', pool, mine, sameKind);
          if (fromStats.length === 0)
            notes.push(
              `pool ${pool.setting.name}: pg_stat_statements is not loaded; statements come from traces${fromLogs.length > 0 ? ' and uploaded logs' : ''}`,
            );
          const work = [
            ...fromLogs.map((q) => ({
              statement: q.statement,
              fingerprint: q.fingerprint,
              service: null,
              callsPerHour: q.callsPerHour,
              meanMs: q.meanMs,
              source: 'logs' as const,
            })),
            ...mine.map((s) => ({
              statement: s.statement,
              fingerprint: s.fingerprint,
              service: s.service,
              callsPerHour: s.calls / hours,
              calls: s.calls,
              meanMs: s.meanMs,
              source: 'traces' as const,
            })),
            ...fromStats
              .filter((s) => !mine.some((m) => m.statement === s.query))
              .slice(0, 5)
              .map((s) => ({
                statement: s.query,
                fingerprint: null,
                service: null,
                callsPerHour: 0,
                meanMs: s.meanMs,
                source: 'pg_stat_statements' as const,
              })),
          ];
          // Statements from outside are explained only on a role that cannot write (or when allowed).
          let explainRefused: string | undefined;
          try {
            assertReadOnlyRole(
              pool.setting.name,
              await pgPoolRole(pgPool, client),
              o.allowWritablePools === true,
            );
          } catch (err) {
            explainRefused = (err as Error).message;
            notes.push(`${explainRefused} (statements not explained)`);
          }
          for (const w of explainRefused === undefined ? work : []) {
            let advice: Awaited<ReturnType<typeof adviseStatement>>;
            try {
              advice = await withAdvisorSession(client, () =>
                adviseStatement(client, w.statement, { hypopg, analyze: o.explainAnalyze }),
              );
            } catch (err) {
              notes.push(
                `pool ${pool.setting.name}: could not explain ${w.statement.slice(0, 80)}: ${(err as Error).message}`,
              );
              continue;
            }
            const perHourFrom =
              'calls' in w && typeof w.calls === 'number' ? `: ${Math.round(w.calls)} calls in ${over}` : '';
            for (const f of advice.findings) {
              const share =
                f.costBefore && f.costAfter !== undefined ? Math.max(0, 1 - f.costAfter / f.costBefore) : 0.9;
              const gain = w.callsPerHour * w.meanMs * share;
              const key = `index:${pool.setting.name}:${f.fix ?? f.rule}`;
              const prev = indexRecs.get(key);
              const advised: AdvisedStatement = {
                statement: w.statement,
                fingerprint: w.fingerprint,
                service: w.service,
                source: w.source,
                callsPerHour: w.callsPerHour,
                meanMs: w.meanMs,
              };
              if (prev) {
                prev.expectedGain.timeSavedMsPerHour = (prev.expectedGain.timeSavedMsPerHour ?? 0) + gain;
                (prev.evidence.statements as string[]).push(w.statement);
                prev.statements.push(advised);
                continue;
              }
              indexRecs.set(key, {
                pool: pool.setting.name,
                rule: f.rule,
                table: f.table,
                statements: [advised],
                shareSaved: share,
                verifiedWith: f.verifiedWith,
                planExcerpt: planExcerpt(f.evidence, f.table),
                id: key,
                area: 'database',
                severity: f.rule === 'row_estimate_error' || f.rule.endsWith('spill') ? 'info' : 'warning',
                title: `${pool.setting.name}: ${f.detail}`,
                evidence: {
                  pool: pool.setting.name,
                  statements: [w.statement],
                  source: w.source,
                  callsPerHour: w.callsPerHour,
                  meanMs: w.meanMs,
                  rule: f.rule,
                  ...f.evidence,
                  costBefore: f.costBefore ?? advice.totalCost,
                  costAfter: f.costAfter ?? null,
                  verifiedWith: f.verifiedWith,
                },
                action: f.fix ? `Run ${f.fix}` : f.detail,
                change: f.fix,
                expectedGain: {
                  timeSavedMsPerHour: w.callsPerHour > 0 ? gain : null,
                  description:
                    f.verifiedWith === 'hypopg'
                      ? `plan cost ${round(f.costBefore!)} → ${round(f.costAfter!)} with the index (HypoPG): about ${Math.round(100 * share)}% of ${round(w.meanMs)} ms per call, ${round(w.callsPerHour)} calls per hour${perHourFrom}`
                      : `an estimate (no hypothetical-index check): about 90% of ${round(w.meanMs)} ms per call, ${round(w.callsPerHour)} calls per hour${perHourFrom}`,
                },
              });
            }
          }
          for (const c of await catalogFindings(client)) {
            recs.push({
              pool: pool.setting.name,
              rule: c.rule,
              table: c.table,
              statements: [],
              shareSaved: null,
              verifiedWith: null,
              planExcerpt: null,
              id: `${c.rule}:${pool.setting.name}:${c.table}:${c.fix}`,
              area: 'database',
              severity: c.rule === 'fk_without_index' ? 'warning' : 'info',
              title: `${pool.setting.name}: ${c.detail}`,
              evidence: { pool: pool.setting.name, ...c.evidence },
              action: `Run ${c.fix}`,
              change: c.fix,
              expectedGain: {
                timeSavedMsPerHour: null,
                description:
                  c.rule === 'fk_without_index'
                    ? 'joins on the key and deletes of the referenced rows stop scanning the table'
                    : 'less write work and space',
              },
            });
          }
        } finally {
          // Whatever a statement left in the session (it ran in rolled-back transactions) goes.
          await client.query('DISCARD ALL').then(
            () => client.release(),
            (err: Error) => client.release(err),
          );
        }
      } else {
        const fromLogs = logStatements('mysql', pool, mine, sameKind).map((q) => ({
          statement: q.statement,
          fingerprint: q.fingerprint,
          service: null,
          calls: q.callsPerHour * hours,
          meanMs: q.meanMs,
          source: 'logs' as const,
        }));
        const myPool = pool as Extract<NamedPool, { setting: { driver: 'mysql' } }>;
        const conn = await myPool.pool.getConnection();
        let role: Awaited<ReturnType<typeof mysqlPoolRole>>;
        try {
          role = await mysqlPoolRole(myPool, conn);
        } finally {
          conn.release();
        }
        let candidates = [...mine.map((m) => ({ ...m, source: 'traces' as const })), ...fromLogs];
        try {
          assertReadOnlyRole(pool.setting.name, role, o.allowWritablePools === true);
        } catch (err) {
          notes.push(`${(err as Error).message} (statements not explained)`);
          candidates = [];
        }
        for (const s of candidates) {
          let advice: Awaited<ReturnType<typeof adviseMysqlStatement>>;
          try {
            advice = await adviseMysqlStatement(myPool.pool, s.statement, role);
          } catch (err) {
            notes.push(
              `pool ${pool.setting.name}: could not explain ${s.statement.slice(0, 80)}: ${(err as Error).message}`,
            );
            continue;
          }
          for (const f of advice.findings) {
            const gain = (s.calls / hours) * s.meanMs * 0.5;
            recs.push({
              pool: pool.setting.name,
              rule: `mysql-${f.rule}`,
              table: f.table,
              statements: [
                {
                  statement: s.statement,
                  fingerprint: s.fingerprint,
                  service: s.service,
                  source: s.source,
                  callsPerHour: s.calls / hours,
                  meanMs: s.meanMs,
                },
              ],
              shareSaved: f.fix ? 0.5 : null,
              verifiedWith: f.fix ? 'estimate' : null,
              planExcerpt: planExcerpt(f.evidence, f.table),
              id: `mysql-${f.rule}:${pool.setting.name}:${f.table ?? ''}:${f.columns.join(',')}`,
              area: 'database',
              severity: f.rule === 'full_table_scan' ? 'warning' : 'info',
              title: `${pool.setting.name}: ${f.detail}`,
              evidence: {
                pool: pool.setting.name,
                source: s.source,
                statement: s.statement,
                calls: s.calls,
                meanMs: s.meanMs,
                ...f.evidence,
              },
              action: f.fix ? `Run ${f.fix}` : f.detail,
              change: f.fix,
              expectedGain: {
                timeSavedMsPerHour: f.fix ? gain : null,
                description: `an estimate: half of ${round(s.meanMs)} ms per call, ${round(s.calls / hours)} calls per hour: ${Math.round(s.calls)} calls in ${over}`,
              },
            });
          }
        }
      }
    } catch (err) {
      notes.push(`pool ${pool.setting.name}: ${(err as Error).message}`);
    }
  }
  recs.push(...indexRecs.values());
  return { recommendations: recs, notes };
}
