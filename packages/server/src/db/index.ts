export type { AdvisedStatement, DatabaseAdviceOptions, PlanAdvice, StatementLoad } from './advisor.ts';
export { planAdvice } from './advisor.ts';
export { LogDigests, type StoredDigest } from './log-digests.ts';
export { planExcerpt } from './plan-excerpt.ts';
export { DbPools, type NamedPool } from './pools.ts';
