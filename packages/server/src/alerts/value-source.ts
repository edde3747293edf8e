/**
 * The values alert rules watch, read through the analysis modules: resource utilisation, predicted
 * exhaustion, endpoint p95 and error rate (server spans), and any stored metric.
 * @module
 */
import { endpointMetrics } from '../apm/index.ts';
import { predictResource, resourceSeries } from '../resources/index.ts';
import type { Store } from '../storage/index.ts';
import type { ValueSource } from './engine.ts';

const mean = (v: readonly number[]) => (v.length === 0 ? undefined : v.reduce((a, b) => a + b, 0) / v.length);

/**
 * The production value source over a store. Host-less rules use `defaultHost()` (this machine, or the
 * host that reported last).
 */
export function storeValueSource(store: Store, defaultHost: () => Promise<string | undefined>): ValueSource {
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
        const series = await resourceSeries(store, { resourceType: e.resource, host, window });
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
        const p = await predictResource(store, {
          resourceType: e.resource,
          host,
          horizon: '24h',
          nowMs,
          select: e.select,
        });
        const at = p.exhaustion?.p50;
        // Not within the horizon counts as "far": a large number, so a `<` rule clears.
        const hours = at ? (Date.parse(at) - nowMs) / 3_600_000 : p.points.length > 0 ? 1e6 : undefined;
        return { value: hours, labels: { host, resource: e.resource, ...p.labels } };
      }
      case 'endpoint': {
        const rowsIn = async (w: typeof window) =>
          (
            await endpointMetrics(store, {
              window: w,
              service: e.service,
              kind: 'server',
              apdexThresholdMs: 500,
            })
          ).filter(
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
        const series = await resourceSeries(store, { resourceType: e.name, host, window });
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
