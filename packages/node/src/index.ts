/**
 * @siperf/node — the Node.js SDK of SuperInsight Perf.
 * @module
 */

export { BusinessTransaction } from './business-transaction.ts';
export type { InitOptions, SiperfHandle } from './init.ts';
export { init } from './init.ts';
export type { MetricOptions } from './metrics.ts';
export { counter, gauge, histogram } from './metrics.ts';
export { PreciseStartSpanProcessor } from './precise-start.ts';
export type { TraceRequestOptions } from './trace-request.ts';
export { traceRequest } from './trace-request.ts';
