/**
 * The recommendation engine: reads the findings of the analysis folders over a window — the query findings
 * and statement metrics of `apm/`, the plan advisor of `db/`, the cache advice of `cache/`, the right-sizing
 * and cost of `resources/` — joins them (`index-join.ts`, `n-plus-one.ts`, `cache-join.ts`,
 * `host-join.ts`), reads sampled traces for version regressions (`regression.ts`) and the spans where
 * failing requests start to fail (`error-origin.ts`), stamps each with its state (`states.ts`) and ranks
 * the one list (`rank.ts`). Applied recommendations are judged as they are read (`outcome.ts`): once a like
 * window has passed since they were applied, their figure is measured again and they become `confirmed` or
 * `not-confirmed`; applied, confirmed and not-confirmed ones whose evidence left the window are listed
 * after the ranked ones, so that their outcome stays in view.
 *
 * The seed's `GET /api/v1/cache-db/optimization/recommendations` is answered from the same computation: its
 * advice unchanged, in the seed's order, less what the user dismissed.
 *
 * Costs, per computation: the statement metrics and query findings (at most 300 candidate traces), EXPLAIN
 * of at most 10 statements per pool, and for join (a) at most {@link EngineSettings.tracesPerEndpoint}
 * recent traces of at most {@link EngineSettings.maxSampledEndpoints} endpoints; for regressions at most
 * {@link EngineSettings.regressionTracesPerEndpoint} recent traces (pages of 100, back until an older
 * version has enough requests) of at most {@link EngineSettings.maxRegressionEndpoints} endpoints; for
 * error origins the {@link EngineSettings.errorTraces} most recent failing traces. Each sampled trace is
 * one `traceSpans` read; each applied recommendation due for judgement, one or two reads of its figure.
 * The findings are reused for `maxAgeMs` and refreshed in the background (see {@link RecommendationEngine.compute}).
 * @module
 */
import { hostname } from 'node:os';
import { databaseMetrics, endpointMetrics, type QueryMetrics, queryFindings } from '../apm/index.ts';
import { type CacheRegistry, type CacheSummary, cacheSummaries, rankCacheAdvice } from '../cache/index.ts';
import { type DatabaseAdviceOptions, type LogDigests, type PlanAdvice, planAdvice } from '../db/index.ts';
import { type DbPools, LOOPBACK } from '../db/pools.ts';
import type { Advice, Recommendation, RecommendationOutcome, Span } from '../model/index.ts';
import { costReport, type PriceTable, scalingRecommendations } from '../resources/index.ts';
import type {
  EndpointSpanRef,
  MetricReader,
  RollupReader,
  SpanReader,
  TimeWindow,
} from '../storage/index.ts';
import { cacheOfAdvice, cacheRecommendation } from './cache-join.ts';
import { type RequestSample, requestSamples, sampledEffect } from './endpoint-samples.ts';
import { errorOriginRecommendation, errorOrigins, type FailureChain, failureChains } from './error-origin.ts';
import { type HostSaving, hostRecommendations } from './host-join.ts';
import { type EndpointEvidence, type EndpointFigures, indexRecommendation } from './index-join.ts';
import { cachesOf, queryAdvice, queryRecommendation } from './n-plus-one.ts';
import {
  afterWindows,
  beforeWindowMs,
  type FigureSpec,
  figureOf,
  judgeOutcome,
  type Measured,
  startOutcome,
  waitingVerdict,
} from './outcome.ts';
import { rankAdvice, rankRecommendations } from './rank.ts';
import {
  findRegression,
  REGRESSION_RULE,
  regressionRecommendation,
  type VersionedRequest,
  versionedRequests,
} from './regression.ts';
import { type Draft, fromAdvice, kindOfAdvice, type WindowMs } from './shape.ts';
import type { RecommendationStates, StateRecord } from './states.ts';

/** The settings the engine runs with (a slice of the configuration). */
export interface EngineSettings {
  slowQueryThresholdMs: number;
  apdexThresholdMs: number;
  /** Passed to the plan advisor as they are (EXPLAIN ANALYZE, pools whose role can write …). */
  planAdvice: Omit<DatabaseAdviceOptions, 'window' | 'statements' | 'logs'>;
  prices: PriceTable;
  /** Recent traces sampled per endpoint for join (a). Default 100. */
  tracesPerEndpoint?: number;
  /** Endpoints sampled per computation, busiest first. Default 20. */
  maxSampledEndpoints?: number;
  /** Hosts judged per computation (most recent first). Default 10. */
  maxHosts?: number;
  /** Most recent traces read per endpoint to find a version regression. Default 400. */
  regressionTracesPerEndpoint?: number;
  /** Endpoints checked for a version regression per computation, busiest first. Default 10. */
  maxRegressionEndpoints?: number;
  /** Most recent failing traces read to find where failures start. Default 200. */
  errorTraces?: number;
  /**
   * How long the findings of one computation are reused, ms (see {@link RecommendationEngine.compute}).
   * Default 0: computed on every call.
   */
  maxAgeMs?: number;
}

/** What the engine reads. */
export interface EngineDeps {
  store: SpanReader & RollupReader & MetricReader;
  caches: CacheRegistry;
  pools: DbPools;
  logs: LogDigests;
  states: RecommendationStates;
  settings: EngineSettings;
  /** The clock, ms since the epoch (default `Date.now`). */
  now?: () => number;
  /** The host name this machine's samples carry, for pools on loopback (default `os.hostname()`). */
  localHost?: string;
}

/** What one computation is over. */
export interface ComputeOptions {
  window: TimeWindow & WindowMs;
  /** Only the findings of this service (hosts are then left out: they have no service). */
  service?: string | undefined;
  /**
   * Judge the hosts too (a week of their samples is read). Default true; the seed's advice route, which has
   * no place for them, passes false.
   */
  hosts?: boolean;
  /**
   * Look for version regressions and error origins in sampled traces. Default true; the seed's advice
   * route, which shows neither, passes false.
   */
  traces?: boolean;
}

/** One computation's answer. */
export interface Computed {
  window: WindowMs;
  /**
   * Every recommendation, ranked by gain, with its state; then the applied, confirmed and not-confirmed
   * ones not found over this window, as last computed (their ids in `outOfWindow`).
   */
  recommendations: Recommendation[];
  outOfWindow: string[];
  /** The seed's advice (cache, database and query areas), in the seed's order, less the dismissed. */
  advice: Advice[];
  /** What could not be checked (a pool down, a statement that does not prepare). */
  notes: string[];
  caches: CacheSummary[];
  statements: QueryMetrics[];
}

/** What the costly part of a computation finds: the drafts before their states, and what they came from. */
interface Findings {
  window: WindowMs;
  drafts: Draft[];
  /** The seed's advice, unranked, before the dismissed are taken out. */
  advice: Advice[];
  notes: string[];
  caches: CacheSummary[];
  statements: QueryMetrics[];
}

/** One reusable computation of findings. */
interface CachedFindings {
  /** Its window's end, ms since the epoch. */
  toMs: number;
  /** The log digests, pools and caches it saw (see `sourcesOf`): another set makes it stale. */
  sources: string;
  /** Requests in its window when it started (`services`); reused while the new window's are within 1%. */
  requests: number;
  /** Host samples over the week the hosts are judged on (`metricHosts`); the same 1% rule. */
  hostPoints: number;
  /** When it was started, by the engine's clock. */
  startedMs: number;
  findings: Promise<Findings>;
  /** A background recomputation is running. */
  refreshing: boolean;
}

/** A recommendation found by id: in this window, or as last computed (or saved) when not. */
export interface Found {
  recommendation: Recommendation;
  inWindow: boolean;
}

const HOST_WINDOW_MS = 7 * 86_400_000;
/** The states whose recommendations stay listed after their evidence left the window. */
const TRACKED = new Set(['applied', 'confirmed', 'not-confirmed']);
/** Findings are reused while the requests in the window differ by at most this share from theirs. */
const REUSE_REQUEST_SHARE = 0.01;
/** Findings kept for reuse at once (window lengths × filters). */
const MAX_CACHED_FINDINGS = 16;
/** Most recommendations remembered after they leave the list (for `GET …/{id}`). */
const MAX_REMEMBERED = 5000;

/** The seed's advice without the fields the plan advisor adds for the joins. */
function plainAdvice(a: Advice): Advice {
  return {
    id: a.id,
    area: a.area,
    severity: a.severity,
    title: a.title,
    evidence: a.evidence,
    action: a.action,
    change: a.change,
    expectedGain: a.expectedGain,
  };
}

/** Joins the analysis folders' findings into one ranked list of recommendations. */
export class RecommendationEngine {
  private readonly now: () => number;
  private readonly firstSeen = new Map<string, number>();
  private readonly remembered = new Map<string, Recommendation>();
  private readonly cached = new Map<string, CachedFindings>();

  constructor(private readonly deps: EngineDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Every recommendation over a window, ranked, with the seed's advice beside them.
   *
   * The findings (everything read from the store, the pools, the caches and the hosts, joined into drafts)
   * are reused for {@link EngineSettings.maxAgeMs}: a call whose window has the same length and filters as
   * an earlier one and ends at most that long after it answers from it (its `window` is then the earlier
   * one's) — unless a log was uploaded, a pool or a cache registered, or the requests in the window (read
   * from the rollups) or the host samples of the week the hosts are judged on differ by more than 1% from
   * the earlier ones — and once the findings are half that old a recomputation over the new window starts in the
   * background (stale-while-revalidate), so that a page polled every few seconds is answered at once.
   * States, outcomes and verdicts are applied on every call, never reused.
   */
  async compute(o: ComputeOptions): Promise<Computed> {
    const nowMs = this.now();
    const f = await this.findingsFor(o, nowMs);
    const ranked = rankRecommendations(f.drafts.map((d) => this.stamp(d, nowMs)));
    const here = new Set(ranked.map((r) => r.id));
    const outOfWindow: Recommendation[] = [];
    for (const s of this.deps.states.list()) {
      if (here.has(s.id) || !TRACKED.has(s.state)) continue;
      const last = this.lastKnown(s);
      if (o.service === undefined || last.target.service === o.service) outOfWindow.push(last);
    }
    const recs: Recommendation[] = [];
    for (const r of [...ranked, ...outOfWindow]) recs.push(await this.judged(r, nowMs));
    const dismissed = new Set(recs.filter((r) => r.state === 'dismissed').map((r) => r.key));
    const advice = rankAdvice(f.advice)
      .filter((a) => !dismissed.has(a.id))
      .map(plainAdvice);
    return {
      window: f.window,
      recommendations: recs,
      outOfWindow: outOfWindow.map((r) => r.id),
      advice,
      notes: f.notes,
      caches: f.caches,
      statements: f.statements,
    };
  }

  /** The findings for `o`: reused when a recent computation fits (see {@link compute}), else computed. */
  private async findingsFor(o: ComputeOptions, nowMs: number): Promise<Findings> {
    const maxAgeMs = this.deps.settings.maxAgeMs ?? 0;
    if (maxAgeMs <= 0) return this.findings(o, nowMs);
    const key = [
      o.window.toMs - o.window.fromMs,
      o.service ?? '',
      o.hosts !== false,
      o.traces !== false,
    ].join('\u0000');
    // What the findings depend on besides time: an uploaded log, a pool or a cache registered, and the
    // traffic (a first batch of spans, or a burst, must show at once; a sliding window of steady traffic
    // holds about as many requests from one minute to the next).
    const sources = this.sourcesOf();
    const { requests, hostPoints } = await this.volumeOf(o);
    const hit = this.cached.get(key);
    const near = (a: number, b: number) => Math.abs(a - b) <= REUSE_REQUEST_SHARE * Math.max(a, b);
    const fits =
      hit !== undefined &&
      hit.sources === sources &&
      near(requests, hit.requests) &&
      near(hostPoints, hit.hostPoints) &&
      o.window.toMs >= hit.toMs &&
      o.window.toMs - hit.toMs <= maxAgeMs &&
      nowMs - hit.startedMs <= maxAgeMs;
    if (!fits) return this.cache(key, o, nowMs, sources, requests, hostPoints).findings;
    if (!hit.refreshing && nowMs - hit.startedMs >= maxAgeMs / 2 && o.window.toMs > hit.toMs) {
      // Half its age gone: recompute over the new window in the background; the old answer serves until then.
      hit.refreshing = true;
      const next = this.findings(o, nowMs);
      next.then(
        () => {
          if (this.cached.get(key) === hit)
            this.cached.set(key, {
              toMs: o.window.toMs,
              sources,
              requests,
              hostPoints,
              startedMs: nowMs,
              findings: next,
              refreshing: false,
            });
        },
        () => {
          hit.refreshing = false;
        },
      );
    }
    return hit.findings;
  }

  /** Starts a computation and keeps it under `key`; a failed one is not kept. */
  private cache(
    key: string,
    o: ComputeOptions,
    nowMs: number,
    sources: string,
    requests: number,
    hostPoints: number,
  ): CachedFindings {
    const findings = this.findings(o, nowMs);
    const entry: CachedFindings = {
      toMs: o.window.toMs,
      sources,
      requests,
      hostPoints,
      startedMs: nowMs,
      findings,
      refreshing: false,
    };
    // A handful of window lengths and filters in use at once; drop the oldest beyond that.
    if (this.cached.size >= MAX_CACHED_FINDINGS)
      this.cached.delete(this.cached.keys().next().value as string);
    this.cached.set(key, entry);
    findings.catch(() => {
      if (this.cached.get(key) === entry) this.cached.delete(key);
    });
    return entry;
  }

  /** The log digests, pools and caches the findings are computed from, as one string. */
  private sourcesOf(): string {
    return [
      this.deps.logs
        .list()
        .map((d) => d.id)
        .join(','),
      this.deps.pools
        .list()
        .map((p) => p.name)
        .join(','),
      this.deps.caches.list().length,
    ].join('|');
  }

  /**
   * For the reuse check: requests in the window (from the rollups: cheap) and, when hosts are judged, the
   * host samples of the week they are judged on (0 when not).
   */
  private async volumeOf(o: ComputeOptions): Promise<{ requests: number; hostPoints: number }> {
    const { store } = this.deps;
    const services = await store.services(o.window, o.service);
    const requests = services.reduce((sum, x) => sum + x.requests, 0);
    if (o.service !== undefined || o.hosts === false) return { requests, hostPoints: 0 };
    const hosts = await store.metricHosts(hostWindow(o.window));
    return { requests, hostPoints: hosts.reduce((sum, h) => sum + h.points, 0) };
  }

  /** The costly part of a computation: every finding over the window, joined into drafts. */
  private async findings(o: ComputeOptions, nowMs: number): Promise<Findings> {
    const { store, settings } = this.deps;
    const w: WindowMs = { fromMs: o.window.fromMs, toMs: o.window.toMs };
    const statements = await databaseMetrics(store, {
      window: o.window,
      service: o.service,
      slowQueryThresholdMs: settings.slowQueryThresholdMs,
    });
    const qf = await queryFindings(store, {
      statements,
      window: o.window,
      service: o.service,
      slowQueryThresholdMs: settings.slowQueryThresholdMs,
    });
    const caches = await cacheSummaries(this.deps.caches, store, o.window, nowMs);
    const cacheAdvice = rankCacheAdvice(caches);
    const queries = queryAdvice(qf.findings, statements, w, qf.limitReached);
    const db = await planAdvice(this.deps.pools, {
      ...settings.planAdvice,
      window: w,
      statements,
      logs: this.deps.logs,
    });
    const endpoints = (
      await endpointMetrics(store, {
        window: o.window,
        service: o.service,
        kind: 'server',
        apdexThresholdMs: settings.apdexThresholdMs,
      })
    ).map((e) => ({ service: e.service, endpoint: e.endpoint, requests: e.requests, p95Ms: e.p95Ms }));

    // The most recent requests of every endpoint, read once (one scan of the window) for the samples of
    // join (a) and (b) and for the version regressions.
    let recentRead: Promise<Map<string, EndpointSpanRef[]>> | undefined;
    const perEndpoint = Math.max(
      settings.tracesPerEndpoint ?? 100,
      o.traces === false ? 0 : (settings.regressionTracesPerEndpoint ?? 400),
    );
    const recent = () => {
      recentRead ??= store
        .recentEndpointSpans({ window: o.window, service: o.service, perEndpoint })
        .then(byEndpoint);
      return recentRead;
    };
    const sample = this.sampler(endpoints, recent);
    const drafts: Draft[] = [];

    // (a) Each index, joined to the endpoints that run the statements it serves.
    for (const a of db.recommendations) {
      if (kindOfAdvice(a) !== 'index') {
        drafts.push(planDraft(a, w));
        continue;
      }
      const share = a.shareSaved ?? 0.9;
      const evidence: EndpointEvidence[] = [];
      for (const s of a.statements) {
        if (s.source !== 'traces' || !s.fingerprint) continue;
        const callers =
          statements.find((m) => m.fingerprint === s.fingerprint && m.service === s.service)?.endpoints ?? [];
        for (const figures of endpointsNamed(endpoints, callers, s.service)) {
          const effect = sampledEffect(await sample(figures), s.fingerprint, (e) => e.ms * share);
          if (effect) evidence.push({ figures, fingerprint: s.fingerprint, effect });
        }
      }
      drafts.push(indexRecommendation(a, w, evidence));
    }

    // (b) Each N+1 (and sequential queries): the batched query, or a cache with getOrLoad.
    for (const q of queries) {
      const f = q.finding;
      const figures = endpoints.find((e) => e.service === f.endpointService && e.endpoint === f.endpoint);
      const meanCall = typeof f.evidence.meanCallMs === 'number' ? f.evidence.meanCallMs : 0;
      const effect =
        figures && f.fingerprint && f.type === 'n_plus_one'
          ? sampledEffect(await sample(figures), f.fingerprint, (e) =>
              e.calls > 1 ? e.ms - 2 * meanCall : 0,
            )
          : undefined;
      drafts.push(
        queryRecommendation(q, w, {
          statement: statements.find((s) => s.fingerprint === f.fingerprint && s.service === f.service),
          caches,
          endpoint: figures && effect ? { figures, effect } : undefined,
        }),
      );
    }

    // (c) Cache advice: a size change weighed in memory and money against the time it saves.
    for (const a of cacheAdvice)
      drafts.push(cacheRecommendation(a, cacheOfAdvice(a, caches), w, settings.prices));

    // (d) Hosts over- or under-sized, over the week ending at the window's end, corrected for the database
    // time the recommendations above save on a database that runs on the host.
    const notes = [...db.notes];
    if (o.service === undefined && o.hosts !== false)
      drafts.push(...(await this.hostDrafts(w, notes, this.savingsByHost(drafts))));

    // (e) Endpoints that regressed after a version change; (f) where failing requests start to fail.
    if (o.traces !== false) {
      drafts.push(...(await this.regressionDrafts(recent, endpoints, w)));
      drafts.push(...(await this.errorOriginDrafts(o.window, o.service, w)));
    }

    // Related: an N+1 and the recommendations about the cache it would go through; an index and the
    // query findings of the endpoints it speeds up.
    for (const d of drafts) {
      if (d.kind === 'n-plus-one' && d.alternatives.length > 0) {
        const q = queries.find((x) => x.advice.id === d.key)!;
        const c = cachesOf(q.finding, caches)[0];
        if (c) {
          d.related.push(
            ...drafts
              .filter((x) => x.target.cache === c.name && x.target.service === c.service)
              .map((x) => x.id),
          );
        }
      }
      if (d.kind === 'index') {
        const eps = new Set(d.gain.endpoints.map((x) => `${x.service}\u0000${x.endpoint}`));
        d.related.push(
          ...drafts
            .filter(
              (x) =>
                (x.kind === 'n-plus-one' || x.kind === 'sequential-queries') &&
                eps.has(`${x.target.service}\u0000${x.target.endpoint}`),
            )
            .map((x) => x.id),
        );
      }
    }

    return {
      window: w,
      drafts,
      advice: [...cacheAdvice, ...queries.map((q) => q.advice), ...db.recommendations],
      notes,
      caches,
      statements,
    };
  }

  /**
   * One recommendation by id: from a computation over the window when it is there, else as last computed
   * by this server or as saved with its state (`inWindow` false); `undefined` when never seen.
   */
  async find(id: string, o: ComputeOptions): Promise<Found | undefined> {
    const computed = await this.compute(o);
    const here = computed.recommendations.find((r) => r.id === id);
    if (here) return { recommendation: here, inWindow: !computed.outOfWindow.includes(id) };
    const saved = this.deps.states.get(id);
    const last = this.remembered.get(id);
    if (saved) return { recommendation: this.lastKnown(saved), inWindow: false };
    return last ? { recommendation: last, inWindow: false } : undefined;
  }

  /**
   * Marks a recommendation applied now and measures its figure over its evidence window (the "before"; see
   * outcome.ts). Idempotent while it is `applied`: the first before figure and time are kept. From any other
   * state (open, dismissed, confirmed, not-confirmed) it starts a new measurement.
   * @returns it with its outcome (null when its kind has no figure), or `undefined` when never seen.
   */
  async applied(id: string, note: string | null, o: ComputeOptions): Promise<Found | undefined> {
    const found = await this.find(id, o);
    if (!found) return undefined;
    const rec = found.recommendation;
    if (rec.state === 'applied') return found;
    const nowMs = this.now();
    const spec = figureOf(rec);
    let outcome: RecommendationOutcome | null = null;
    if (spec) {
      const before = await this.measure(spec, beforeWindowMs({ beforeWindow: rec.evidence.window }), nowMs);
      outcome = startOutcome(spec, rec, nowMs, before);
    }
    const record = this.deps.states.set(rec, 'applied', note, nowMs, outcome);
    if (this.remembered.has(id)) this.remember(record.snapshot);
    return { recommendation: record.snapshot, inWindow: found.inWindow };
  }

  /** Marks a recommendation dismissed (idempotent). @returns it, or `undefined` when never seen. */
  async dismiss(id: string, reason: string | null, o: ComputeOptions): Promise<Found | undefined> {
    const found = await this.find(id, o);
    if (!found) return undefined;
    const record = this.deps.states.set(found.recommendation, 'dismissed', reason, this.now());
    const recommendation = record.snapshot;
    if (this.remembered.has(id)) this.remember(recommendation);
    return { recommendation, inWindow: found.inWindow };
  }

  /** Resolves once the saved states are on disk. */
  flush(): Promise<void> {
    return this.deps.states.flush();
  }

  /** A draft with its state and the times this server saw it. */
  private stamp(d: Draft, nowMs: number): Recommendation {
    const first = this.firstSeen.get(d.id) ?? nowMs;
    this.firstSeen.set(d.id, first);
    const saved = this.deps.states.get(d.id);
    const rec: Recommendation = {
      ...d,
      state: saved?.state ?? 'open',
      stateChangedAt: saved?.changedAt ?? null,
      stateReason: saved?.reason ?? null,
      outcome: saved?.outcome ?? null,
      firstSeen: new Date(
        Math.min(first, saved ? Date.parse(saved.snapshot.firstSeen) : first),
      ).toISOString(),
      lastSeen: new Date(nowMs).toISOString(),
    };
    this.remember(rec);
    return rec;
  }

  /** A saved recommendation as last computed by this server (else as saved), with its saved state. */
  private lastKnown(saved: StateRecord): Recommendation {
    const last = this.remembered.get(saved.id);
    if (!last) return saved.snapshot;
    return {
      ...last,
      state: saved.state,
      stateChangedAt: saved.changedAt,
      stateReason: saved.reason,
      outcome: saved.outcome ?? null,
    };
  }

  /**
   * An applied recommendation judged at `nowMs` when a like window has passed since it was applied and has
   * enough requests (its new state saved), else with what it waits for; any other as it is.
   */
  private async judged(rec: Recommendation, nowMs: number): Promise<Recommendation> {
    const saved = this.deps.states.get(rec.id);
    if (saved?.state !== 'applied' || !saved.outcome) return rec;
    const o = saved.outcome;
    const spec = figureOf(saved.snapshot);
    const windows = afterWindows(o, nowMs);
    if (!spec || windows.length === 0)
      return { ...rec, outcome: { ...o, verdict: waitingVerdict(o, nowMs, null) } };
    let most = 0;
    for (const w of windows) {
      const after = await this.measure(spec, w, nowMs);
      const j = judgeOutcome(o, w, after, nowMs);
      if (j.state !== 'applied') {
        const record = this.deps.states.set(rec, j.state, saved.reason, nowMs, j.outcome);
        this.remember(record.snapshot);
        return record.snapshot;
      }
      most = Math.max(most, after.samples);
    }
    return { ...rec, outcome: { ...o, verdict: waitingVerdict(o, nowMs, most) } };
  }

  /** The figure of `spec` over `w`, and the requests (calls, lookups) it rests on. */
  private async measure(spec: FigureSpec, w: WindowMs, nowMs: number): Promise<Measured> {
    const { store, settings } = this.deps;
    const window = { fromNs: BigInt(w.fromMs) * 1_000_000n, toNs: BigInt(w.toMs) * 1_000_000n };
    const service = spec.service ?? undefined;
    switch (spec.metric) {
      case 'endpoint-p95':
      case 'endpoint-error-rate': {
        const rows = await endpointMetrics(store, {
          window,
          service,
          kind: 'server',
          apdexThresholdMs: settings.apdexThresholdMs,
        });
        const e = rows.find((r) => r.endpoint === spec.endpoint && r.service === spec.service);
        if (!e || e.requests === 0) return { value: null, samples: 0 };
        return { value: spec.metric === 'endpoint-p95' ? e.p95Ms : 100 * e.errorRate, samples: e.requests };
      }
      case 'statement-mean': {
        const rows = await databaseMetrics(store, {
          window,
          service,
          slowQueryThresholdMs: settings.slowQueryThresholdMs,
        });
        const calls = rows.filter((r) => r.fingerprint === spec.fingerprint);
        const n = calls.reduce((a, r) => a + r.calls, 0);
        return n === 0
          ? { value: null, samples: 0 }
          : { value: calls.reduce((a, r) => a + r.totalMs, 0) / n, samples: n };
      }
      case 'cache-hit-ratio': {
        const all = await cacheSummaries(this.deps.caches, store, window, nowMs);
        const c = all.find(
          (x) => x.name === spec.cache && (spec.service === null || x.service === spec.service),
        );
        const n = c ? c.hits + c.misses : 0;
        return c && n > 0 ? { value: 100 * c.hitRatio, samples: n } : { value: null, samples: 0 };
      }
    }
  }

  private remember(rec: Recommendation): void {
    this.remembered.delete(rec.id);
    this.remembered.set(rec.id, rec);
    if (this.remembered.size > MAX_REMEMBERED) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) {
        this.remembered.delete(oldest);
        this.firstSeen.delete(oldest);
      }
    }
  }

  /** The sampled requests of an endpoint, read once per computation, at most `maxSampledEndpoints`. */
  private sampler(
    endpoints: readonly EndpointFigures[],
    recent: () => Promise<Map<string, EndpointSpanRef[]>>,
  ): (e: EndpointFigures) => Promise<RequestSample[]> {
    const { store, settings } = this.deps;
    const limit = settings.tracesPerEndpoint ?? 100;
    const busiest = new Set(
      [...endpoints]
        .sort((a, b) => b.requests - a.requests)
        .slice(0, settings.maxSampledEndpoints ?? 20)
        .map((e) => `${e.service}\u0000${e.endpoint}`),
    );
    const done = new Map<string, Promise<RequestSample[]>>();
    return (e) => {
      const key = `${e.service}\u0000${e.endpoint}`;
      if (!busiest.has(key)) return Promise.resolve([]);
      let p = done.get(key);
      if (!p) {
        p = (async () => {
          const traces = distinctTraces((await recent()).get(key) ?? []).slice(0, limit);
          const out: RequestSample[] = [];
          for (const spans of await spansOf(store, traces))
            out.push(...requestSamples(spans, e.service, e.endpoint));
          return out;
        })();
        done.set(key, p);
      }
      return p;
    };
  }

  /**
   * Version regressions of the busiest endpoints with at least twice {@link REGRESSION_RULE}'s requests in
   * the window: the requests of their most recent traces (at most `regressionTracesPerEndpoint` each).
   */
  private async regressionDrafts(
    recent: () => Promise<Map<string, EndpointSpanRef[]>>,
    endpoints: readonly EndpointFigures[],
    w: WindowMs,
  ): Promise<Draft[]> {
    const { store, settings } = this.deps;
    const budget = settings.regressionTracesPerEndpoint ?? 400;
    const hours = (w.toMs - w.fromMs) / 3_600_000;
    const candidates = endpoints
      .filter((e) => e.requests >= 2 * REGRESSION_RULE.minRequests)
      .sort(
        (a, b) =>
          b.requests - a.requests ||
          a.service.localeCompare(b.service) ||
          a.endpoint.localeCompare(b.endpoint),
      )
      .slice(0, settings.maxRegressionEndpoints ?? 10);
    const out: Draft[] = [];
    for (const e of candidates) {
      const traces = distinctTraces((await recent()).get(`${e.service}\u0000${e.endpoint}`) ?? []).slice(
        0,
        budget,
      );
      const requests: VersionedRequest[] = [];
      for (const spans of await spansOf(store, traces))
        requests.push(...versionedRequests(spans, e.service, e.endpoint));
      const r = findRegression(requests, e.service, e.endpoint);
      if (r) out.push(regressionRecommendation(r, w, e.requests / hours));
    }
    return out;
  }

  /**
   * Where the {@link EngineSettings.errorTraces} most recent failing traces start to fail. The rate is over
   * the window, or, when the sample is cut at its limit, from its oldest trace to the window's end.
   */
  private async errorOriginDrafts(
    window: TimeWindow,
    service: string | undefined,
    w: WindowMs,
  ): Promise<Draft[]> {
    const { store, settings } = this.deps;
    const limit = settings.errorTraces ?? 200;
    const failed = await store.recentEndpointSpans({ window, service, errorOnly: true, perEndpoint: limit });
    const traces = distinctTraces(
      failed.sort((a, b) => (b.startNs > a.startNs ? 1 : b.startNs < a.startNs ? -1 : 0)),
    ).slice(0, limit);
    const chains: FailureChain[] = [];
    for (const spans of await spansOf(store, traces)) chains.push(...failureChains(spans));
    const limited = traces.length >= limit;
    const oldestMs = traces.length > 0 ? Number(traces.at(-1)!.startNs / 1_000_000n) : w.fromMs;
    const fromMs = limited ? Math.max(w.fromMs, oldestMs) : w.fromMs;
    const hours = Math.max(1 / 60, (w.toMs - fromMs) / 3_600_000);
    return errorOrigins(chains).map((o) => errorOriginRecommendation(o, w, hours, limited));
  }

  /**
   * Database time saved per hour by the drafts about a pool, by the host its database runs on (the pool
   * URL's host; a loopback one is this machine, `localHost`).
   */
  private savingsByHost(drafts: readonly Draft[]): Map<string, HostSaving[]> {
    const out = new Map<string, HostSaving[]>();
    for (const d of drafts) {
      const seconds = d.gain.databaseSecondsPerHour;
      if (!d.target.pool || seconds === null || !(seconds > 0)) continue;
      const named = this.deps.pools.hostOf(d.target.pool);
      if (named === undefined) continue;
      const host = named === LOOPBACK ? (this.deps.localHost ?? hostname()) : named;
      const list = out.get(host) ?? [];
      list.push({ id: d.id, title: d.title, databaseSecondsPerHour: seconds });
      out.set(host, list);
    }
    return out;
  }

  /** Right-sizing of the hosts that reported, over the 7 days ending at the window's end. */
  private async hostDrafts(
    w: WindowMs,
    notes: string[],
    savings: ReadonlyMap<string, HostSaving[]>,
  ): Promise<Draft[]> {
    const { store, settings } = this.deps;
    const hw = hostWindow(w);
    const out: Draft[] = [];
    const hosts = (await store.metricHosts(hw)).slice(0, settings.maxHosts ?? 10);
    for (const { host } of hosts) {
      try {
        const scaling = await scalingRecommendations(store, host, hw);
        const cost = await costReport(store, host, hw, scaling, settings.prices);
        out.push(...hostRecommendations(host, scaling, cost, hw, savings.get(host)));
      } catch (err) {
        notes.push(`host ${host}: ${(err as Error).message}`);
      }
    }
    return out;
  }
}

/** The week ending at the window's end (or the window, when longer) that hosts are judged over. */
function hostWindow(w: WindowMs): TimeWindow & WindowMs {
  const fromMs = Math.min(w.fromMs, w.toMs - HOST_WINDOW_MS);
  return { fromMs, toMs: w.toMs, fromNs: BigInt(fromMs) * 1_000_000n, toNs: BigInt(w.toMs) * 1_000_000n };
}

/** Endpoint spans by `service \u0000 endpoint`, in the store's order (newest first). */
function byEndpoint(refs: readonly EndpointSpanRef[]): Map<string, EndpointSpanRef[]> {
  const out = new Map<string, EndpointSpanRef[]>();
  for (const r of refs) {
    const key = `${r.service}\u0000${r.endpoint}`;
    const list = out.get(key);
    if (list) list.push(r);
    else out.set(key, [r]);
  }
  return out;
}

/** The first span of each trace, in order (a trace that called an endpoint twice is one sample). */
function distinctTraces(refs: readonly EndpointSpanRef[]): EndpointSpanRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => !seen.has(r.traceId) && seen.add(r.traceId));
}

/**
 * How far before and after a sampled request a trace's spans are read: a span of a trace more than 2 minutes
 * away from its request (a very long trace, a clock skewed that far) is left out of the sample.
 */
const TRACE_SLACK_NS = 2n * 60_000_000_000n;
/** Trace ids per `traceSpansIn` read. */
const TRACES_PER_READ = 500;

/**
 * The spans of each of `traces` (in their order; [] for one with none left), read with `traceSpansIn` over
 * the time they cover ± {@link TRACE_SLACK_NS}: a few scans of that time instead of one per trace.
 */
async function spansOf(
  store: SpanReader,
  traces: readonly { traceId: string; startNs: bigint; durationNs: bigint }[],
): Promise<Span[][]> {
  const out: Span[][] = [];
  for (let i = 0; i < traces.length; i += TRACES_PER_READ) {
    const part = traces.slice(i, i + TRACES_PER_READ);
    let fromNs = part[0]!.startNs;
    let toNs = part[0]!.startNs + part[0]!.durationNs;
    for (const t of part) {
      if (t.startNs < fromNs) fromNs = t.startNs;
      if (t.startNs + t.durationNs > toNs) toNs = t.startNs + t.durationNs;
    }
    const got = await store.traceSpansIn(
      part.map((t) => t.traceId),
      { fromNs: fromNs - TRACE_SLACK_NS, toNs: toNs + TRACE_SLACK_NS + 1n },
    );
    for (const t of part) out.push(got.get(t.traceId) ?? []);
  }
  return out;
}

/** The endpoints (server figures) of the given names, of `service` when it has them, else of any service. */
function endpointsNamed(
  endpoints: readonly EndpointFigures[],
  names: readonly string[],
  service: string | null,
): EndpointFigures[] {
  const named = endpoints.filter((e) => names.includes(e.endpoint));
  const own = named.filter((e) => e.service === service);
  return own.length > 0 ? own : named;
}

/** Plan or catalog advice without an index: its pool, table, statement and plan node as target and evidence. */
function planDraft(a: PlanAdvice, w: WindowMs): Draft {
  const first = a.statements[0];
  return fromAdvice(a, w, {
    target: {
      service: first?.service ?? null,
      fingerprint: first?.fingerprint ?? null,
      statement: first?.statement ?? null,
      pool: a.pool,
      table: a.table,
    },
    evidence: { fingerprint: first?.fingerprint ?? null, planExcerpt: a.planExcerpt },
    gain:
      a.expectedGain.timeSavedMsPerHour !== null
        ? { databaseSecondsPerHour: a.expectedGain.timeSavedMsPerHour / 1000 }
        : {},
  });
}
