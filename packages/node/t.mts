import { createCache } from './src/cache/index.ts';
const cache = createCache<number>('dbg-x'+Date.now(), { backend: 'tiered', maxEntries: 100, policy: 'lru', exportMetrics: false });
await cache.whenReady();
for (let round = 0; round < 3; round++) for (let k = 0; k < 150; k++) await cache.getOrLoad(`k:${k}`, () => k);
console.log(cache.stats(), cache.redisBreaker?.());
await cache.close?.();
process.exit(0);
