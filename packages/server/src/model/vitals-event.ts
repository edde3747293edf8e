/**
 * One web-vitals measurement from a real user's browser, as siperf stores it.
 * @module
 */

/** The metrics the `web-vitals` library reports (FID only from older beacons and browsers). */
export const VITALS_METRICS = ['LCP', 'INP', 'CLS', 'FCP', 'TTFB', 'FID'] as const;

/** A web-vitals metric name. */
export type VitalsMetric = (typeof VITALS_METRICS)[number];

/** One beacon item. Times in ms (CLS is unitless); `timeUnixNano` is when the server received it. */
export interface VitalsEvent {
  timeUnixNano: bigint;
  /** Service (application) the page belongs to; `unknown_service` when the beacon names none. */
  service: string;
  /** Page path (origin kept when the beacon sent an absolute URL), without query string or fragment. */
  page: string;
  name: VitalsMetric;
  /** Metric value: ms for LCP/INP/FCP/TTFB/FID, a unitless score for CLS. ≥ 0; 0 is valid (prerender). */
  value: number;
  /** Change since the last report of this metric instance (web-vitals `delta`). */
  delta: number;
  /** web-vitals' id of this metric instance (one per page load and metric). */
  id: string;
  /** `navigate`, `reload`, `back-forward`, `back-forward-cache`, `prerender`, `restore`, `soft-navigation`. */
  navigationType: string;
  /** Scalar fields of web-vitals' attribution object (e.g. LCP `resourceLoadDelay`, INP `interactionTarget`). */
  attribution: Record<string, string | number | boolean>;
}
