export { cacheAdvice, rankCacheAdvice } from './advice.ts';
export { CacheRegistry, type RegisteredCache } from './registry.ts';
export { type CacheSpec, parseCacheSpec } from './spec.ts';
export { applicationCaches, type CacheSummary, cacheSummaries, fromStats } from './summary.ts';
