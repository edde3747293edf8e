/**
 * The one typed client of the siperf REST API. Answer types come from the server's schemas
 * (`@siperf/server/schemas`, types only: nothing of the server is bundled). The read key, when the server
 * has keys, is asked once, kept in `sessionStorage` for the tab's session and sent as `X-Api-Key`; it is
 * never put in a URL.
 * @module
 */
import type {
  AlertHistoryAnswer,
  AlertRulesAnswer,
  AlertsAnswer,
  BottlenecksAnswer,
  CacheListAnswer,
  CacheStatistics,
  CapacityAnswer,
  ComprehensiveAnswer,
  CostAnswer,
  CurrentResourcesAnswer,
  CustomMetricsAnswer,
  DatabaseMetricsAnswer,
  EndpointMetricsAnswer,
  EndpointSeriesAnswer,
  HostsAnswer,
  PoolsAnswer,
  PredictionAnswer,
  Problem,
  RecentTracesAnswer,
  RecommendationAnswer,
  RecommendationListAnswer,
  RecommendationsAnswer,
  ResourceBottlenecksAnswer,
  ScalingAnswer,
  ServicesAnswer,
  SilencesAnswer,
  StatisticsAnswer,
  TraceTree,
  TransactionsAnswer,
  UserExperienceAnswer,
} from '@siperf/server/schemas';

/** GET routes and their answers (the server's schemas). Path parameters are written `{name}`. */
export interface GetRoutes {
  '/api/v1/apm/services': ServicesAnswer;
  '/api/v1/apm/metrics/api': EndpointMetricsAnswer;
  '/api/v1/apm/metrics/series': EndpointSeriesAnswer;
  '/api/v1/apm/metrics/database': DatabaseMetricsAnswer;
  '/api/v1/apm/bottlenecks': BottlenecksAnswer;
  '/api/v1/apm/traces/recent': RecentTracesAnswer;
  '/api/v1/apm/traces/{traceId}': TraceTree;
  '/api/v1/apm/metrics/custom': CustomMetricsAnswer;
  '/api/v1/apm/metrics/user-experience': UserExperienceAnswer;
  '/api/v1/apm/transactions': TransactionsAnswer;
  '/api/v1/resources/hosts': HostsAnswer;
  '/api/v1/resources/current': CurrentResourcesAnswer;
  '/api/v1/resources/statistics': StatisticsAnswer;
  '/api/v1/resources/predictions/{resourceType}': PredictionAnswer;
  '/api/v1/resources/bottlenecks': ResourceBottlenecksAnswer;
  '/api/v1/resources/scaling-recommendations': ScalingAnswer;
  '/api/v1/resources/cost-optimization': CostAnswer;
  '/api/v1/resources/capacity': CapacityAnswer;
  '/api/v1/alerts': AlertsAnswer;
  '/api/v1/alerts/rules': AlertRulesAnswer;
  '/api/v1/alerts/history': AlertHistoryAnswer;
  '/api/v1/alerts/silences': SilencesAnswer;
  '/api/v1/cache-db/caches': CacheListAnswer;
  '/api/v1/cache-db/caches/{name}/statistics': CacheStatistics;
  '/api/v1/cache-db/optimization/recommendations': RecommendationsAnswer;
  '/api/v1/cache-db/statistics/comprehensive': ComprehensiveAnswer;
  '/api/v1/cache-db/pools': PoolsAnswer;
  '/api/v1/recommendations': RecommendationListAnswer;
  '/api/v1/recommendations/{id}': RecommendationAnswer;
}

/** Query values: undefined members are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** An error answer of the API (RFC 9457 problem), or a network failure (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

const KEY_STORAGE = 'siperf.apiKey';

/** The read key of this tab's session, if one was given. */
export function apiKey(): string | undefined {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps (or forgets, with `undefined`) the read key for this tab's session. */
export function setApiKey(key: string | undefined): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  for (const l of keyListeners) l();
}

const keyListeners = new Set<() => void>();
/** Calls `listener` when the key changes; returns the unsubscribe function. */
export function onKeyChange(listener: () => void): () => void {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

/** Fills `{name}` path parameters and appends the query. */
export function urlOf(path: string, params: Record<string, string> = {}, query: Query = {}): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${filled}?${s}` : filled;
}

async function request<T>(method: string, url: string, body?: unknown, contentType?: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = apiKey();
  if (key) headers['x-api-key'] = key;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Blob) {
      payload = body;
      headers['content-type'] = contentType ?? 'text/plain';
    } else {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: payload ?? null });
  } catch (err) {
    throw new ApiError(0, { title: 'The siperf server did not answer', detail: (err as Error).message });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = { detail: text.slice(0, 200) };
  }
  if (!res.ok) {
    const err = new ApiError(res.status, (json ?? {}) as Partial<Problem>);
    // The frame opens the key prompt on these.
    if (res.status === 401 || res.status === 403)
      window.dispatchEvent(new CustomEvent('siperf:auth', { detail: err }));
    throw err;
  }
  return json as T;
}

/** GET a documented route. */
export function get<P extends keyof GetRoutes & string>(
  path: P,
  query: Query = {},
  params: Record<string, string> = {},
): Promise<GetRoutes[P]> {
  return request<GetRoutes[P]>('GET', urlOf(path, params, query));
}

/** POST to a documented route (a JSON body, or text/Blob with its content type). */
export function post<T = unknown>(
  path: string,
  body?: unknown,
  params: Record<string, string> = {},
  query: Query = {},
  contentType?: string,
): Promise<T> {
  return request<T>('POST', urlOf(path, params, query), body, contentType);
}

/** DELETE a documented route. */
export function del(path: string, params: Record<string, string> = {}): Promise<void> {
  return request<void>('DELETE', urlOf(path, params));
}
