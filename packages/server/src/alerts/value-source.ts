/**
 * The values alert rules watch: resource utilisation, predicted exhaustion, endpoint p95 and error rate
 * (server spans), and any stored metric. They are read through {@link AlertQueries}, function ports that
 * the composition root (`app.ts`) wires to `apm/` and `resources/` — as Prometheus' rules reach the query
 * engine only through `QueryFunc` — so this folder imports neither.
 * @module
 */
import type { TimeWindow } from '../storage/index.ts';
import type { ValueSource } from './engine.ts';

/** One endpoint's figures over a window (server spans). Durations in ms, rates 0..1. */
export interface EndpointFigures {
  service: string;
  endpoint: string;
  requests: number;
  p95Ms: number;
  errorRate: number;
}

/** One series of a resource or stored metric: its labels and values over the window, oldest first. */
export interface SeriesValues {
  labels: Record<string, string>;
  values: number[];
}

/** A forecast's answer, as far as alerting reads it. */
export interface ExhaustionForecast {
  labels: Record<string, string>;
  /** Forecast points (none: too little history). */
  points: readonly unknown[];
  /** When the likely path crosses the threshold, ISO-8601 (null or absent: not within the horizon). */
  exhaustion: { p50: string | null } | null;
}

/** The reads alert values go through (wired in `app.ts`; tests pass fakes). */
export interface AlertQueries {
  /** Server-span RED figures of each endpoint in the window (`apm` `endpointMetrics`). */
  endpoints(q: { window: TimeWindow; service?: string | undefined }): Promise<EndpointFigures[]>;
  /** The series of a resource type or stored metric (`resources` `resourceSeries`). */
  series(q: { resourceType: string; host?: string | undefined; window: TimeWindow }): Promise<SeriesValues[]>;
  /** The exhaustion forecast of a resource of a host over 24 h (`resources` `predictResource`). */
  exhaustion(q: {
    resourceType: string;
    host: string;
    nowMs: number;
    select?: string | undefined;
  }): Promise<ExhaustionForecast>;
}

const mean = (v: readonly number[]) => (v.length === 0 ? undefined : v.reduce((a, b) => a + b, 0) / v.length);

/**
 * The production value source, reading through `queries`. Host-less rules use `defaultHost()` (this
 * machine, or the host that reported last).
 */
export function storeValueSource(
  queries: AlertQueries,
  defaultHost: () => Promise<string | undefined>,
): ValueSource {
  return async (rule, nowMs): Promise<{ value: number | undefined; labels: Record<string, string> }> => {
    const window = {
      fromNs: BigInt(nowMs - rule.windowMs) * 1_000_000n,
      toNs: BigInt(nowMs + 1) * 1_000_000n,
    };
    const e = rule.expr;
    switch (e.kind) {
      case 'resource': {
        const host = e.host ?? (await defaultHost());
        if (!host) return { value: undefined, labels: {} };
        const series = await queries.series({ resourceType: e.resource, host, window });
        const picked = e.select ? series.filter((s) => Object.values(s.labels).includes(e.select!)) : series;
        // The worst series (the fullest filesystem), by its mean over the window.
        let best: { value: number; labels: Record<string, string> } | undefined;
        for (const s of picked) {
          const m = mean(s.values);
          if (m !== undefined && (!best || m > best.value)) best = { value: m, labels: s.labels };
        }
        return best
          ? { value: best.value, labels: { host, resource: e.resource, ...best.labels } }
          : { value: undefined, labels: { host } };
      }
      case 'exhaustion': {
        const host = e.host ?? (await defaultHost());
        if (!host) return { value: undefined, labels: {} };
        const p = await queries.exhaustion({ resourceType: e.resource, host, nowMs, select: e.select });
        const at = p.exhaustion?.p50;
        // Not within the horizon counts as "far": a large number, so a `<` rule clears.
        const hours = at ? (Date.parse(at) - nowMs) / 3_600_000 : p.points.length > 0 ? 1e6 : undefined;
        return { value: hours, labels: { host, resource: e.resource, ...p.labels } };
      }
      case 'endpoint': {
        const rowsIn = async (w: typeof window) =>
          (await queries.endpoints({ window: w, service: e.service })).filter(
            (r) => (e.endpoint === undefined || r.endpoint === e.endpoint) && r.requests >= e.minRequests,
          );
        const rows = await rowsIn(window);
        if (e.stat === 'p95Regression') {
          const baselineMs = e.baselineMs ?? 86_400_000;
          const before = await rowsIn({
            fromNs: window.fromNs - BigInt(baselineMs) * 1_000_000n,
            toNs: window.fromNs,
          });
          const base = new Map(before.map((r) => [`${r.service}\0${r.endpoint}`, r.p95Ms]));
          let worst: { value: number; labels: Record<string, string> } | undefined;
          for (const r of rows) {
            const b = base.get(`${r.service}\0${r.endpoint}`);
            if (b === undefined || b <= 0 || r.p95Ms < (e.minP95Ms ?? 100)) continue;
            const ratio = r.p95Ms / b;
            if (!worst || ratio > worst.value) {
              worst = {
                value: ratio,
                labels: {
                  service: r.service,
                  endpoint: r.endpoint,
                  p95Ms: r.p95Ms.toFixed(1),
                  baselineP95Ms: b.toFixed(1),
                },
              };
            }
          }
          return worst ?? { value: undefined, labels: {} };
        }
        let worst: (typeof rows)[number] | undefined;
        for (const r of rows) if (!worst || r[e.stat] > worst[e.stat]) worst = r;
        return worst
          ? { value: worst[e.stat], labels: { service: worst.service, endpoint: worst.endpoint } }
          : { value: undefined, labels: {} };
      }
      case 'metric': {
        const host = e.host;
        const series = await queries.series({ resourceType: e.name, host, window });
        let best: number | undefined;
        for (const s of series) {
          const v =
            e.stat === 'max'
              ? Math.max(...s.values)
              : e.stat === 'last'
                ? s.values[s.values.length - 1]
                : mean(s.values);
          if (v !== undefined && Number.isFinite(v) && (best === undefined || v > best)) best = v;
        }
        return { value: best, labels: { metric: e.name, ...(host ? { host } : {}) } };
      }
    }
  };
}
