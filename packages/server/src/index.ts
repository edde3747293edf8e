/**
 * @siperf/server as a library: start a server in-process (the demo and tests do), or build the app over
 * a store of your own.
 * @module
 */
export type { AppOptions, RunningServer } from './app.ts';
export { buildApp, otlpGrpcOf, startServer } from './app.ts';
export type { Config, ConfigSources } from './config.ts';
export { DEFAULT_CONFIG, loadConfig } from './config.ts';
