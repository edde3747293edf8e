/**
 * Stable recommendation ids: the kind, a dot, and the first 16 hex digits of the SHA-256 of the finding's
 * readable key (`index:main:CREATE INDEX …`). The same finding gives the same id on every call and after a
 * restart; the id is safe in a URL path.
 * @module
 */
import { createHash } from 'node:crypto';
import type { RecommendationKind } from '../model/index.ts';

/** The pattern every id matches (the API's path parameter checks it). */
export const RECOMMENDATION_ID_PATTERN = '^[a-z][a-z-]*\\.[0-9a-f]{16}$';

/**
 * The id of a finding.
 * @param kind - the recommendation's kind.
 * @param key - the finding's readable key; the same finding must always give the same key.
 * @returns `<kind>.<16 hex>`, e.g. `index.3f2a9c0b1d4e5f60`.
 */
export function recommendationId(kind: RecommendationKind, key: string): string {
  return `${kind}.${createHash('sha256').update(`${kind}\u0000${key}`).digest('hex').slice(0, 16)}`;
}
