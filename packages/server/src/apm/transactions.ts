/**
 * Business transactions: multi-step workflows (sign-up, checkout, an annotation task) that may cross
 * requests, services and background jobs, reassembled from their marks (spans with
 * `siperf.transaction.*` attributes, written by `@siperf/node`'s `BusinessTransaction` or the REST calls).
 *
 * A transaction is complete once an `end` mark arrives: its duration runs from its first mark's start to
 * the end mark's end, and it succeeded unless the end mark says otherwise (or, without a stated outcome, a
 * step failed). One with no end mark whose last activity is older than the abandon timeout is abandoned;
 * younger ones are in progress. Percentiles are exact (linear interpolation between closest ranks,
 * Hyndman & Fan type 7): transactions are few compared with spans. The time of a completed transaction
 * that no step covers (the union of its steps' intervals, so parallel steps count once) is its time
 * between the steps: requests and work without a step, the network, the client.
 * @module
 */
import type { TransactionMarkRow } from '../storage/index.ts';
import { quantileSorted } from '../util/stats.ts';

/** Per step of a transaction name. Durations in ms; rates and shares 0..1. */
export interface StepStats {
  step: string;
  count: number;
  failures: number;
  failureRate: number;
  p95Ms: number;
  meanMs: number;
  /** This step's total time over the total time of the completed transactions. */
  shareOfTime: number;
}

/** Per transaction name. Durations in ms of completed transactions. */
export interface TransactionStats {
  name: string;
  /** Completed transactions. */
  count: number;
  successes: number;
  successRate: number;
  p50Ms: number;
  p95Ms: number;
  /** Mean duration of the completed transactions. */
  meanMs: number;
  /** Time of the completed transactions that no step covers: mean per transaction, and share of their time. */
  betweenSteps: { meanMs: number; shareOfTime: number };
  abandoned: number;
  inProgress: number;
  steps: StepStats[];
  /** The step with the highest p95, or `null` without steps. */
  slowestStep: string | null;
}

/** Length of the union of the steps' intervals within [fromNs, toNs], ms. */
function coveredMs(steps: readonly TransactionMarkRow[], fromNs: bigint, toNs: bigint): number {
  const spans = steps
    .map((s) => [
      s.startNs < fromNs ? fromNs : s.startNs,
      s.startNs + s.durationNs > toNs ? toNs : s.startNs + s.durationNs,
    ])
    .filter(([a, b]) => b! > a!)
    .sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0));
  let covered = 0n;
  let reach = fromNs;
  for (const [a, b] of spans) {
    const from = a! > reach ? a! : reach;
    if (b! > from) covered += b! - from;
    if (b! > reach) reach = b!;
  }
  return Number(covered) / 1e6;
}

/**
 * Statistics per transaction name.
 * @param marks - every mark of the transactions to report (any order).
 * @param nowNs - the server clock, ns.
 * @param abandonAfterMs - a transaction without an end mark and idle for longer than this is abandoned.
 */
export function transactionStats(
  marks: readonly TransactionMarkRow[],
  nowNs: bigint,
  abandonAfterMs: number,
): TransactionStats[] {
  const byId = new Map<string, TransactionMarkRow[]>();
  for (const m of marks) {
    let list = byId.get(m.id);
    if (!list) {
      list = [];
      byId.set(m.id, list);
    }
    list.push(m);
  }
  interface Acc {
    durations: number[];
    successes: number;
    abandoned: number;
    inProgress: number;
    totalMs: number;
    /** Time of completed transactions outside every step, ms. */
    betweenMs: number;
    steps: Map<string, { durations: number[]; failures: number }>;
  }
  const byName = new Map<string, Acc>();
  const abandonNs = BigInt(Math.round(abandonAfterMs * 1e6));
  for (const list of byId.values()) {
    const name = list.find((m) => m.event === 'start')?.name ?? list[0]!.name;
    let acc = byName.get(name);
    if (!acc) {
      acc = {
        durations: [],
        successes: 0,
        abandoned: 0,
        inProgress: 0,
        totalMs: 0,
        betweenMs: 0,
        steps: new Map(),
      };
      byName.set(name, acc);
    }
    let start = list[0]!.startNs;
    let lastEnd = 0n;
    for (const m of list) {
      if (m.startNs < start) start = m.startNs;
      if (m.startNs + m.durationNs > lastEnd) lastEnd = m.startNs + m.durationNs;
    }
    const ends = list.filter((m) => m.event === 'end');
    const steps = list.filter((m) => m.event === 'step');
    const stepFailed = steps.some((m) => m.success === false || m.isError);
    if (ends.length === 0) {
      if (nowNs - lastEnd > abandonNs) acc.abandoned++;
      else acc.inProgress++;
      continue;
    }
    const end = ends[ends.length - 1]!;
    const endNs = end.startNs + end.durationNs;
    const durationMs = Number(endNs - start) / 1e6;
    acc.durations.push(durationMs);
    acc.totalMs += durationMs;
    acc.betweenMs += durationMs - coveredMs(steps, start, endNs);
    if (end.success ?? !stepFailed) acc.successes++;
    for (const s of steps) {
      let st = acc.steps.get(s.step);
      if (!st) {
        st = { durations: [], failures: 0 };
        acc.steps.set(s.step, st);
      }
      st.durations.push(Number(s.durationNs) / 1e6);
      if (s.success === false || s.isError) st.failures++;
    }
  }
  const out: TransactionStats[] = [];
  for (const [name, acc] of byName) {
    const durations = [...acc.durations].sort((a, b) => a - b);
    const steps: StepStats[] = [...acc.steps].map(([step, st]) => {
      const sorted = [...st.durations].sort((a, b) => a - b);
      const total = sorted.reduce((a, b) => a + b, 0);
      return {
        step,
        count: sorted.length,
        failures: st.failures,
        failureRate: st.failures / sorted.length,
        p95Ms: quantileSorted(sorted, 0.95),
        meanMs: total / sorted.length,
        shareOfTime: acc.totalMs > 0 ? total / acc.totalMs : 0,
      };
    });
    steps.sort((a, b) => b.p95Ms - a.p95Ms);
    out.push({
      name,
      count: durations.length,
      successes: acc.successes,
      successRate: durations.length > 0 ? acc.successes / durations.length : 0,
      p50Ms: quantileSorted(durations, 0.5),
      p95Ms: quantileSorted(durations, 0.95),
      meanMs: durations.length > 0 ? acc.totalMs / durations.length : 0,
      betweenSteps: {
        meanMs: durations.length > 0 ? acc.betweenMs / durations.length : 0,
        shareOfTime: acc.totalMs > 0 ? acc.betweenMs / acc.totalMs : 0,
      },
      abandoned: acc.abandoned,
      inProgress: acc.inProgress,
      steps,
      slowestStep: steps[0]?.step ?? null,
    });
  }
  out.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  return out;
}
