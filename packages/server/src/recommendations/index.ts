export type { SampledEffect, StatementShare } from './endpoint-samples.ts';
export { requestSamples, sampledEffect, sampleQuantile, statementShares } from './endpoint-samples.ts';
export type { Computed, ComputeOptions, EngineDeps, EngineSettings, Found } from './engine.ts';
export { RecommendationEngine } from './engine.ts';
export { RECOMMENDATION_ID_PATTERN, recommendationId } from './ids.ts';
export { rankAdvice, rankRecommendations } from './rank.ts';
export type { StateRecord, StatesOptions } from './states.ts';
export { RecommendationStates } from './states.ts';
