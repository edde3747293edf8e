/**
 * Where a recommendation's evidence is shown: the cache it is about (`/caches?cache=<name>`), the endpoint
 * (`/services/<service>/endpoints?endpoint=<endpoint>`), the statements
 * (`/database/statements?fingerprint=<fp>`), an example trace (`/traces/<traceId>`) or a host
 * (`/resources?host=<host>`).
 *
 * The answer names a cache, an endpoint or a statement only inside the recommendation's stable `id`
 * (`cache-size:<cache>`, `cache-ttl:<cache>:<group>`, `n-plus-one:<service>/<endpoint>:<fingerprint>`,
 * `sequential-queries:<service>/<endpoint>:<statements…>`) and in its title, and an index advice by its
 * statements' text; this module reads them from there (a fingerprint by the statement's text among those
 * of GET /api/v1/apm/metrics/database). Members `fingerprint`, `endpoint` and `endpointService` in the
 * evidence are used first when the server sends them.
 *
 * A recommendation of the one list (`GET /api/v1/recommendations`) names what it is about in its `target`
 * and its evidence's `traceIds` and `fingerprint`: {@link targetLinks} reads them from there.
 * @module
 */
import type { JoinedRecommendation, Recommendation } from '@siperf/server/schemas';
import { href } from '../router.ts';

/** One link to evidence. */
export interface EvidenceLink {
  label: string;
  href: string;
}

const FINGERPRINT = /^[0-9a-f]{16}$/;

/** The cache a cache recommendation is about (`service/name` for an application's cache). */
export function cacheOf(r: Recommendation): string | undefined {
  if (r.area !== 'cache' || !r.id.startsWith('cache-')) return undefined;
  const rest = r.id.slice(r.id.indexOf(':') + 1);
  if (!rest) return undefined;
  // cache-ttl:<cache>:<group> (names and groups have no ':').
  return r.id.startsWith('cache-ttl:') ? rest.slice(0, rest.indexOf(':')) || undefined : rest;
}

/** The endpoint (and its service) a query recommendation is about, and the statement's fingerprint. */
export function endpointOf(
  r: Recommendation,
): { service: string; endpoint: string; fingerprint: string | undefined } | undefined {
  const e = r.evidence;
  if (typeof e.endpoint === 'string' && typeof e.endpointService === 'string')
    return {
      service: e.endpointService,
      endpoint: e.endpoint,
      fingerprint: typeof e.fingerprint === 'string' && e.fingerprint ? e.fingerprint : undefined,
    };
  const nPlusOne = r.id.startsWith('n-plus-one:');
  if (!nPlusOne && !r.id.startsWith('sequential-queries:')) return undefined;
  // The endpoint as the title words it: "N+1 on <endpoint>: …" or "… one after another on <endpoint> (…)".
  const m = nPlusOne
    ? /^N\+1 on (.+?): /.exec(r.title)
    : / one after another on (.+) \([\d.]+ ms\)$/.exec(r.title);
  const endpoint = m?.[1];
  if (!endpoint) return undefined;
  const rest = r.id.slice(r.id.indexOf(':') + 1);
  const at = rest.indexOf(`/${endpoint}:`);
  if (at <= 0) return undefined;
  const tail = rest.slice(at + endpoint.length + 2);
  return {
    service: rest.slice(0, at),
    endpoint,
    fingerprint: nPlusOne && FINGERPRINT.test(tail) ? tail : undefined,
  };
}

/** The statements an advice names in its evidence (`statement`, `statements`). */
export function statementsOf(r: Recommendation): string[] {
  const e = r.evidence;
  const out: string[] = [];
  if (typeof e.statement === 'string') out.push(e.statement);
  if (Array.isArray(e.statements)) for (const s of e.statements) if (typeof s === 'string') out.push(s);
  return out;
}

/**
 * The links to a recommendation's evidence. `fingerprints` maps a normalised statement to its fingerprint
 * (from GET /api/v1/apm/metrics/database), for advice that names statements by their text.
 */
export function evidenceLinks(r: Recommendation, fingerprints: ReadonlyMap<string, string>): EvidenceLink[] {
  const links: EvidenceLink[] = [];
  const cache = cacheOf(r);
  if (cache) links.push({ label: `Cache ${cache}`, href: href('/caches', { cache }) });
  const ep = endpointOf(r);
  if (ep)
    links.push({
      label: `Endpoint ${ep.endpoint} (${ep.service})`,
      href: href(`/services/${encodeURIComponent(ep.service)}/endpoints`, { endpoint: ep.endpoint }),
    });
  const fps = new Set<string>();
  if (ep?.fingerprint) fps.add(ep.fingerprint);
  if (typeof r.evidence.fingerprint === 'string' && FINGERPRINT.test(r.evidence.fingerprint))
    fps.add(r.evidence.fingerprint);
  for (const s of statementsOf(r)) {
    const fp = fingerprints.get(s.trim());
    if (fp) fps.add(fp);
  }
  let n = 0;
  for (const fp of fps) {
    n++;
    links.push({
      label: fps.size > 1 ? `Statement ${n}` : 'Statement',
      href: href('/database/statements', { fingerprint: fp }),
    });
  }
  const trace = r.evidence.exampleTraceId;
  if (typeof trace === 'string' && trace)
    links.push({ label: 'Example trace', href: href(`/traces/${encodeURIComponent(trace)}`) });
  const host = r.evidence.host;
  if (typeof host === 'string' && host)
    links.push({ label: `Host ${host}`, href: href('/resources', { host }) });
  return links;
}

/** Most example traces linked from one recommendation (the list sends up to 5). */
const MAX_TRACE_LINKS = 3;

/**
 * The links to the evidence of a recommendation of the one list: its cache (`service/name` for an
 * application's cache, as the Caches page names it), its endpoint and the other endpoints whose p95 it
 * changes, its statement (by the target's or the evidence's fingerprint), up to three example traces, and
 * its host.
 */
export function targetLinks(r: JoinedRecommendation): EvidenceLink[] {
  const links: EvidenceLink[] = [];
  const t = r.target;
  if (t.cache) {
    const cache = t.service && !t.cache.includes('/') ? `${t.service}/${t.cache}` : t.cache;
    links.push({ label: `Cache ${cache}`, href: href('/caches', { cache }) });
  }
  const endpoints: { service: string; endpoint: string }[] = [];
  if (t.service && t.endpoint) endpoints.push({ service: t.service, endpoint: t.endpoint });
  for (const e of r.gain.endpoints)
    if (!endpoints.some((x) => x.service === e.service && x.endpoint === e.endpoint))
      endpoints.push({ service: e.service, endpoint: e.endpoint });
  for (const e of endpoints)
    links.push({
      label: `Endpoint ${e.endpoint} (${e.service})`,
      href: href(`/services/${encodeURIComponent(e.service)}/endpoints`, { endpoint: e.endpoint }),
    });
  const fp = t.fingerprint ?? r.evidence.fingerprint;
  if (fp) links.push({ label: 'Statement', href: href('/database/statements', { fingerprint: fp }) });
  const traces = r.evidence.traceIds.slice(0, MAX_TRACE_LINKS);
  for (const [i, id] of traces.entries())
    links.push({
      label: traces.length > 1 ? `Trace ${i + 1}` : 'Example trace',
      href: href(`/traces/${encodeURIComponent(id)}`),
    });
  if (t.host) links.push({ label: `Host ${t.host}`, href: href('/resources', { host: t.host }) });
  return links;
}
