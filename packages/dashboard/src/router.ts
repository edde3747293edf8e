/**
 * All view state lives in the URL: the page is the path, the time range (`range`, or `from`/`to` for a custom
 * one), the service filter (`service`), auto-refresh (`refresh`) and each page's own choices are query
 * parameters. A copied link reopens the same view; back and forward work (History API).
 * @module
 */
import { useEffect, useState } from 'preact/hooks';

/** The time ranges of the picker; `custom` uses `from`/`to`. */
export const RANGES = ['15m', '1h', '6h', '24h', '7d'] as const;
/** Auto-refresh periods, seconds (0: off). */
export const REFRESH = [0, 10, 30] as const;

/** The current location: path and query parameters. */
export interface Location {
  path: string;
  params: URLSearchParams;
}

const listeners = new Set<() => void>();
const current = (): Location => ({
  path: window.location.pathname,
  params: new URLSearchParams(window.location.search),
});

window.addEventListener('popstate', () => {
  for (const l of listeners) l();
});

/** The location, re-rendering the caller when it changes. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return loc;
}

/** Global parameters kept when moving between pages. */
const GLOBAL = ['range', 'from', 'to', 'service', 'refresh'];

/**
 * A URL for `path` with `params`; the global parameters (range, service, refresh) of the current location are
 * kept unless `params` sets them (`undefined` or `''` removes one).
 */
export function href(path: string, params: Record<string, string | number | undefined> = {}): string {
  const now = new URLSearchParams(window.location.search);
  const q = new URLSearchParams();
  for (const k of GLOBAL) {
    const v = now.get(k);
    if (v !== null) q.set(k, v);
  }
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Goes to `url` (a new history entry, or the same one with `replace`). */
export function navigate(url: string, replace = false): void {
  if (url === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const l of listeners) l();
}

/** Sets query parameters of the current page (`undefined` removes one). */
export function setParams(params: Record<string, string | number | undefined>, replace = false): void {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  navigate(s ? `${window.location.pathname}?${s}` : window.location.pathname, replace);
}

/** The API window parameters of a location: `window=<range>` or a custom `from`/`to`. */
export function windowQuery(params: URLSearchParams): { window?: string; from?: string; to?: string } {
  const from = params.get('from');
  const to = params.get('to');
  if (params.get('range') === 'custom' && from && to) return { from, to };
  const range = params.get('range');
  return { window: range && (RANGES as readonly string[]).includes(range) ? range : '1h' };
}
