/**
 * @siperf/browser — real-user monitoring for siperf. Reports LCP, INP, CLS, FCP and TTFB through the
 * `web-vitals` library's attribution build (and FID from the browser's `first-input` entry where it still
 * reports one), each exactly as the web-vitals callback gives it (`name, value, rating, delta, id,
 * navigationType`) plus the scalar fields of its `attribution` and the page path. Items are queued and
 * sent in batches to `POST <endpoint>/api/v1/apm/user-experience` when the page is hidden or unloaded (and
 * every `flushIntervalMs`), with `navigator.sendBeacon`, falling back to `fetch(…, { keepalive: true })`.
 * Bodies go as `text/plain` JSON, a CORS-safelisted type, so no preflight request is needed.
 *
 * Every change of a metric is observed (`reportAllChanges`) and only the latest value per metric id waits
 * in the queue; the server counts the latest report of an id. So a value is not lost when web-vitals
 * skips its final report (in 6.2.3, INP of a page hidden before its idle callback ran), and periodic
 * flushes may send a metric again as it grows.
 * @module
 */
import { type MetricWithAttribution, onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals/attribution';

/** Options of {@link init}. */
export interface RumOptions {
  /** Base URL of the siperf server, e.g. `https://siperf.example:4318`. */
  endpoint: string;
  /** Service (application) name the beacons are filed under. */
  service?: string;
  /** The server's ingest key, sent as `?key=` (a beacon cannot set headers; this key is public). */
  ingestKey?: string;
  /** Page name; default `location.pathname`. A function is called when each metric is reported. */
  page?: string | (() => string);
  /** Send at most this many items per request. Default 20. */
  maxBatch?: number;
  /** Also send what is queued every this many ms; 0 sends only when the page is hidden. Default 10,000. */
  flushIntervalMs?: number;
}

/** One beacon item (a web-vitals metric, flattened). Times in ms; CLS unitless. */
export interface VitalsBeaconItem {
  name: string;
  value: number;
  rating: string;
  delta: number;
  id: string;
  navigationType: string;
  attribution: Record<string, string | number | boolean>;
  page: string;
  service?: string;
}

/** What {@link init} returns. */
export interface RumHandle {
  /** Sends what is queued now. */
  flush(): void;
  /** Items waiting to be sent. */
  pending(): number;
}

/** Keeps the scalar fields of a web-vitals attribution object (DOM nodes and entries are dropped). */
export function scalarFields(attribution: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (typeof attribution !== 'object' || attribution === null) return out;
  for (const [k, v] of Object.entries(attribution)) {
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'string') out[k] = v.slice(0, 500);
  }
  return out;
}

function navigationType(): string {
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  if (document.prerendering || (nav?.activationStart ?? 0) > 0) return 'prerender';
  return nav?.type.replace(/_/g, '-') ?? 'navigate';
}

function selector(node: Node | null | undefined): string {
  if (node?.nodeType !== 1) return '';
  const el = node as Element;
  const id = el.id ? `#${el.id}` : '';
  const cls =
    typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
  return `${el.tagName.toLowerCase()}${id}${cls}`;
}

/**
 * Starts reporting. Call once per page load, as early as possible (the `rum.js` served by siperf calls it
 * itself from its `data-*` attributes).
 * @throws TypeError naming `endpoint` when it is not an http(s) URL.
 */
export function init(options: RumOptions): RumHandle {
  let base: URL;
  try {
    base = new URL(options.endpoint, location.href);
  } catch {
    throw new TypeError(`siperf: endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`siperf: endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
  }
  const url = new URL('/api/v1/apm/user-experience', base);
  if (options.ingestKey) url.searchParams.set('key', options.ingestKey);
  const target = url.toString();
  const maxBatch = Math.max(1, options.maxBatch ?? 20);
  const pageOf = (): string =>
    typeof options.page === 'function' ? options.page() : (options.page ?? location.pathname);
  // The latest report per metric id, in first-report order.
  const queue = new Map<string, VitalsBeaconItem>();

  const send = (items: VitalsBeaconItem[]): void => {
    const body = JSON.stringify(items);
    const blob = new Blob([body], { type: 'text/plain' });
    if (typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(target, blob)) return;
    // sendBeacon missing, or its queue full: keepalive fetch survives the page unloading too.
    fetch(target, {
      method: 'POST',
      body,
      keepalive: true,
      mode: 'cors',
      credentials: 'omit',
      headers: { 'content-type': 'text/plain' },
    }).catch(() => undefined);
  };
  const flush = (): void => {
    const items = [...queue.values()];
    queue.clear();
    for (let i = 0; i < items.length; i += maxBatch) send(items.slice(i, i + maxBatch));
  };
  const push = (item: VitalsBeaconItem): void => {
    queue.delete(item.id);
    queue.set(item.id, item);
  };
  const report = (m: MetricWithAttribution): void => {
    push({
      name: m.name,
      value: m.value,
      rating: m.rating,
      delta: m.delta,
      id: m.id,
      navigationType: m.navigationType,
      attribution: scalarFields(m.attribution),
      page: pageOf(),
      ...(options.service ? { service: options.service } : {}),
    });
  };
  const opts = { reportAllChanges: true };
  onLCP(report, opts);
  onINP(report, opts);
  onCLS(report, opts);
  onFCP(report, opts);
  onTTFB(report, opts);
  observeFirstInput((item) =>
    push({ ...item, page: pageOf(), ...(options.service ? { service: options.service } : {}) }),
  );

  addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  addEventListener('pagehide', flush);
  const every = options.flushIntervalMs ?? 10_000;
  if (every > 0) setInterval(flush, every);
  return { flush, pending: () => queue.size };
}

/**
 * FID (first input delay) from the browser's `first-input` entry: `processingStart − startTime`, ms.
 * web-vitals 5 dropped FID; browsers that still report the entry get it, others nothing.
 */
function observeFirstInput(report: (item: Omit<VitalsBeaconItem, 'page'>) => void): void {
  try {
    const po = new PerformanceObserver((list) => {
      const entry = list.getEntries()[0] as PerformanceEventTiming | undefined;
      if (!entry) return;
      po.disconnect();
      const value = Math.max(0, entry.processingStart - entry.startTime);
      report({
        name: 'FID',
        value,
        rating: value <= 100 ? 'good' : value <= 300 ? 'needs-improvement' : 'poor',
        delta: value,
        id: `fid-${Date.now()}-${Math.floor(Math.random() * 1e12)}`,
        navigationType: navigationType(),
        attribution: {
          eventType: entry.name,
          eventTime: entry.startTime,
          eventTarget: selector(entry.target),
        },
      });
    });
    po.observe({ type: 'first-input', buffered: true });
  } catch {
    // The entry type is not supported here.
  }
}
