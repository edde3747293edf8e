/**
 * The database side of `GET /api/v1/cache-db/optimization/recommendations`: the trace findings (N+1,
 * sequential queries), the plans of the statements that cost the most time (on the configured pools:
 * PostgreSQL generic plans with HypoPG checks, MySQL/MariaDB EXPLAIN), `pg_stat_statements`, and the
 * catalog checks — each a {@link Recommendation} with its evidence, the statement to run, and the load
 * time it would save per hour.
 * @module
 */
import { databaseMetrics, queryFindings } from '../apm/index.ts';
import type { Recommendation } from '../model/index.ts';
import type { RollupReader, SpanReader, TimeWindow } from '../storage/index.ts';
import type { LogDigests } from './log-digests.ts';
import { adviseMysqlStatement } from './mysql-advisor.ts';
import {
  adviseStatement,
  catalogFindings,
  hypopgAvailable,
  topStatements,
  withAdvisorSession,
} from './pg-advisor.ts';
import type { DbPools, NamedPool } from './pools.ts';
import { assertReadOnlyRole, mysqlPoolRole, pgPoolRole } from './read-only.ts';

/** Options of {@link databaseRecommendations}. */
export interface DatabaseAdviceOptions {
  window: TimeWindow & { fromMs: number; toMs: number };
  service?: string | undefined;
  slowQueryThresholdMs: number;
  explainAnalyze: boolean;
  /** Explain on a pool whose role can write (the `allowWritablePools` setting). Default false. */
  allowWritablePools?: boolean;
  /** Statements explained per pool, by total time (default 10). */
  maxStatements?: number;
  /** Uploaded log digests: their costliest statements are explained too. */
  logs?: LogDigests | undefined;
}

const round = (v: number) => Math.round(v * 10) / 10;

/**
 * The time the rates per hour are over, in words: the window, or the minute it is counted as at least
 * (a rate from seconds of data would otherwise be extrapolated further still).
 */
function spanText(hours: number, windowHours: number): string {
  const text = hours < 1 ? `${round(hours * 60)} min` : `${round(hours)} h`;
  return windowHours < hours
    ? `${text}, the ${round(windowHours * 3600)} s window counted as a minute`
    : text;
}

/** The database in a pool's URL (`/orders` → `orders`). */
function databaseOf(p: NamedPool): string {
  try {
    return decodeURIComponent(new URL(p.setting.url).pathname.replace(/^\//, ''));
  } catch {
    return '';
  }
}

/** Recommendations and the notes on what could not be checked (a pool down, a statement that does not prepare). */
export async function databaseRecommendations(
  store: SpanReader & RollupReader,
  pools: DbPools,
  o: DatabaseAdviceOptions,
): Promise<{ recommendations: Recommendation[]; notes: string[] }> {
  const windowHours = (o.window.toMs - o.window.fromMs) / 3_600_000;
  const hours = Math.max(1 / 60, windowHours);
  const over = spanText(hours, windowHours);
  const recs: Recommendation[] = [];
  const notes: string[] = [];

  const statements = await databaseMetrics(store, {
    window: o.window,
    service: o.service,
    slowQueryThresholdMs: o.slowQueryThresholdMs,
  });
  const qf = await queryFindings(store, {
    statements,
    window: o.window,
    service: o.service,
    slowQueryThresholdMs: o.slowQueryThresholdMs,
  });
  for (const f of qf.findings) {
    if (f.type === 'slow_query') continue; // its plan is examined below
    // Requests per hour that pay for it: from the statement's exact call count in the rollups when it is a
    // database call (calls ÷ calls per request), else from the traces examined (a floor when sampled).
    const calls = f.fingerprint
      ? statements.find((s) => s.fingerprint === f.fingerprint && s.service === f.service)?.calls
      : undefined;
    const requests = calls !== undefined ? calls / f.callsPerRequest : f.traces;
    const perHour = (f.savingPerRequestMs * requests) / hours;
    const nPlusOne = f.type === 'n_plus_one';
    recs.push({
      id: `${nPlusOne ? 'n-plus-one' : 'sequential-queries'}:${f.endpointService}/${f.endpoint}:${f.fingerprint || f.statement.slice(0, 80)}`,
      area: 'query',
      severity: nPlusOne && f.savingPerRequestMs >= 50 ? 'critical' : nPlusOne ? 'warning' : 'info',
      title: nPlusOne
        ? `N+1 on ${f.endpoint}: ${f.statement.slice(0, 120)} runs ${round(f.callsPerRequest)} times per request (${round(f.timePerRequestMs)} ms)`
        : `${f.callsPerRequest} independent queries run one after another on ${f.endpoint} (${round(f.timePerRequestMs)} ms)`,
      evidence: {
        ...f.evidence,
        service: f.service,
        traces: f.traces,
        exampleTraceId: f.exampleTraceId,
        callsPerRequest: f.callsPerRequest,
        timePerRequestMs: f.timePerRequestMs,
      },
      action: f.fix,
      change: null,
      expectedGain: {
        timeSavedMsPerHour: perHour,
        description: `about ${round(f.savingPerRequestMs)} ms per affected request; ${Math.round(requests)} such requests in ${over}${calls !== undefined ? " (from the statement's call count)" : qf.limitReached ? ' (a sample of the traces: more exist)' : ''}.`,
      },
    });
  }

  const open: NamedPool[] = [];
  for (const p of pools.list()) {
    try {
      open.push(pools.get(p.name));
    } catch (err) {
      notes.push(`pool ${p.name}: ${(err as Error).message}`);
    }
  }
  const indexRecs = new Map<string, Recommendation>();
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
              callsPerHour: q.callsPerHour,
              meanMs: q.meanMs,
              source: 'logs',
            })),
            ...mine.map((s) => ({
              statement: s.statement,
              callsPerHour: s.calls / hours,
              calls: s.calls,
              meanMs: s.meanMs,
              source: 'traces',
            })),
            ...fromStats
              .filter((s) => !mine.some((m) => m.statement === s.query))
              .slice(0, 5)
              .map((s) => ({
                statement: s.query,
                callsPerHour: 0,
                meanMs: s.meanMs,
                source: 'pg_stat_statements',
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
              if (prev) {
                prev.expectedGain.timeSavedMsPerHour = (prev.expectedGain.timeSavedMsPerHour ?? 0) + gain;
                (prev.evidence.statements as string[]).push(w.statement);
                continue;
              }
              indexRecs.set(key, {
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
          calls: q.callsPerHour * hours,
          meanMs: q.meanMs,
          source: 'logs',
        }));
        const myPool = pool as Extract<NamedPool, { setting: { driver: 'mysql' } }>;
        const conn = await myPool.pool.getConnection();
        let role: Awaited<ReturnType<typeof mysqlPoolRole>>;
        try {
          role = await mysqlPoolRole(myPool, conn);
        } finally {
          conn.release();
        }
        let candidates = [...mine.map((m) => ({ ...m, source: 'traces' })), ...fromLogs];
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
