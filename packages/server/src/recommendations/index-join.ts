/**
 * Join (a): an endpoint's p95 → the statement that dominates its time → that statement's plan → the index
 * the plan asks for (its gain checked with HypoPG where the extension exists) → the database time saved per
 * hour, and the endpoint's expected p95 once the index exists.
 *
 * Arithmetic, per statement the index serves: calls per hour × mean ms × the share of its time the index
 * removes (1 − plan cost after ÷ before with a hypothetical index, or 90% as an estimate) = database ms saved
 * per hour. Per endpoint that runs the statement, from its sampled requests (`endpoint-samples.ts`): each
 * request saves its time in the statement × that share; the expected p95 is the window's p95 scaled by the
 * sample's p95 after ÷ before (the p95 of the requests less their saving).
 * @module
 */
import type { PlanAdvice } from '../db/index.ts';
import type { EndpointEffect } from '../model/index.ts';
import { rateWindow } from '../util/rate-window.ts';
import type { SampledEffect } from './endpoint-samples.ts';
import {
  type Draft,
  draft,
  endpointSeries,
  evidence,
  figure,
  gain,
  statementSeries,
  target,
  type WindowMs,
} from './shape.ts';

/** An endpoint's figures in the window (server spans, from the rollups). */
export interface EndpointFigures {
  service: string;
  endpoint: string;
  requests: number;
  /** p95 in the window, ms (DDSketch, within 1%). */
  p95Ms: number;
}

/** What an endpoint's sampled requests say about one statement. */
export interface EndpointEvidence {
  figures: EndpointFigures;
  fingerprint: string;
  effect: SampledEffect;
}

/** The share of a statement's time an estimated index removes (no hypothetical-index check). */
export const ESTIMATED_INDEX_SHARE = 0.9;

const r1 = figure;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** An endpoint's effect from its sample, at the window's rate. */
export function endpointEffect(e: EndpointEvidence, hours: number): EndpointEffect {
  const ratio = e.effect.sampleP95Ms > 0 ? e.effect.sampleP95AfterMs / e.effect.sampleP95Ms : 1;
  return {
    service: e.figures.service,
    endpoint: e.figures.endpoint,
    requestsPerHour: e.figures.requests / hours,
    p95Ms: e.figures.p95Ms,
    expectedP95Ms: e.figures.p95Ms * ratio,
    statementShare: e.effect.share,
    dominant: e.effect.dominant,
    msPerRequest: e.effect.msSavedPerRequest,
    sampledRequests: e.effect.sampledRequests,
  };
}

/** The arithmetic line of one endpoint's effect. */
export function endpointLine(e: EndpointEvidence, x: EndpointEffect, what: string): string {
  const s = e.effect;
  return (
    `${x.endpoint} (${x.service}), ${s.sampledRequests} sampled requests: the statement is ${pct(s.share)} of their time ` +
    `(${r1(s.statementMsPerRequest)} ms per request${s.dominant ? ', the largest share of any statement' : ''}); ${what} ` +
    `= ${r1(x.msPerRequest)} ms saved per request × ${r1(x.requestsPerHour)} requests per hour = ${r1((x.msPerRequest * x.requestsPerHour) / 1000)} s per hour; ` +
    `p95 ${r1(x.p95Ms)} ms × (sample p95 after ${r1(s.sampleP95AfterMs)} ÷ before ${r1(s.sampleP95Ms)} ms) = ${r1(x.expectedP95Ms)} ms expected` +
    ' (the calls taken as on the request’s path: an upper estimate where they overlap other work)'
  );
}

/**
 * The recommendation of an index the plan advisor asks for, joined to the endpoints that wait on the
 * statements it serves.
 * @param a - the advisor's index advice (its statements with calls per hour and mean, the share saved).
 * @param endpoints - per endpoint that runs one of its statements, its figures and sampled effect.
 */
export function indexRecommendation(
  a: PlanAdvice,
  w: WindowMs,
  endpoints: readonly EndpointEvidence[],
): Draft {
  const { hours } = rateWindow(w.fromMs, w.toMs);
  const share = a.shareSaved ?? ESTIMATED_INDEX_SHARE;
  const lines: string[] = [];
  const costBefore = a.evidence.costBefore;
  const costAfter = a.evidence.costAfter;
  if (a.verifiedWith === 'hypopg' && typeof costBefore === 'number' && typeof costAfter === 'number') {
    lines.push(
      `plan cost ${r1(costBefore)} → ${r1(costAfter)} with a hypothetical index (HypoPG): 1 − ${r1(costAfter)} ÷ ${r1(costBefore)} = ${pct(share)} of the statement's time saved`,
    );
  } else {
    lines.push(
      `no hypothetical-index check: ${pct(share)} of the statement's time taken as saved (an estimate)`,
    );
  }
  let dbMsPerHour = 0;
  let known = false;
  for (const s of a.statements) {
    const ms = s.callsPerHour * s.meanMs * share;
    if (s.callsPerHour > 0) known = true;
    dbMsPerHour += ms;
    lines.push(
      `${s.statement.slice(0, 120)} (${s.source}): ${r1(s.callsPerHour)} calls per hour × ${r1(s.meanMs)} ms × ${pct(share)} = ${r1(ms / 1000)} s of database time per hour`,
    );
  }
  const effects = endpoints.map((e) => {
    const x = endpointEffect(e, hours);
    lines.push(endpointLine(e, x, `${r1(e.effect.statementMsPerRequest)} ms × ${pct(share)}`));
    return x;
  });
  effects.sort((x, y) => y.msPerRequest * y.requestsPerHour - x.msPerRequest * x.requestsPerHour);
  const top = effects[0];
  const first = a.statements[0];
  const dbSeconds = known ? dbMsPerHour / 1000 : null;
  const confidence =
    a.verifiedWith === 'hypopg' && first?.source === 'traces'
      ? 'high'
      : a.verifiedWith === 'hypopg'
        ? 'medium'
        : 'low';
  const confidenceReason =
    a.verifiedWith === 'hypopg'
      ? `the plan's cost with the index was checked with HypoPG; calls and means from ${first?.source === 'traces' ? 'the traces’ rollups' : (first?.source ?? 'the statements')}`
      : 'the share of time the index saves is an estimate (no HypoPG in this database)';
  const parts = [
    top ? `${top.endpoint} p95 ${r1(top.p95Ms)} → ${r1(top.expectedP95Ms)} ms` : undefined,
    dbSeconds !== null ? `${r1(dbSeconds)} s of database time saved per hour` : undefined,
  ].filter(Boolean);
  const on = /\bON\s+(\S+)\s*\(([^)]*)\)/i.exec(a.change ?? '');
  const title = on ? `Index ${on[1]} (${on[2]})${parts.length ? `: ${parts.join(', ')}` : ''}` : a.title;
  const traceIds = [...new Set(endpoints.flatMap((e) => e.effect.traceIds))].slice(0, 5);
  return draft({
    key: a.id,
    kind: 'index',
    area: 'database',
    severity: a.severity,
    title,
    target: target({
      service: top?.service ?? first?.service ?? null,
      endpoint: top?.endpoint ?? null,
      fingerprint: first?.fingerprint ?? null,
      statement: first?.statement ?? null,
      pool: a.pool,
      table: a.table,
    }),
    evidence: evidence(w, {
      traceIds,
      fingerprint: first?.fingerprint ?? null,
      planExcerpt: a.planExcerpt,
      series: [
        ...effects.map((x) => endpointSeries(w, x.service, x.endpoint)),
        ...(first?.source === 'traces' ? [statementSeries(w, first.service, first.statement)] : []),
      ],
      measured: a.evidence,
    }),
    gain: gain({
      timeSavedSecondsPerHour: dbSeconds,
      databaseSecondsPerHour: dbSeconds,
      msPerRequest: top ? top.msPerRequest : first ? first.meanMs * share : null,
      endpoints: effects,
      arithmetic: lines,
      confidence,
      confidenceReason,
      description: a.expectedGain.description,
    }),
    apply: { kind: 'sql', how: a.action, change: a.change },
  });
}
