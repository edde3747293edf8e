/**
 * The server's configuration: one documented default, then a config file (JSON), then `SIPERF_*`
 * environment variables, then command-line flags, each overriding the one before (the order the
 * OpenTelemetry exporters use: code/flags first, then environment, then defaults). Validated once at start;
 * each bad value gets a message naming the field, what was expected and what was given.
 * @module
 */
import { readFileSync } from 'node:fs';
import { SiperfError } from './errors.ts';

/** The validated configuration (frozen). Units are in the names. */
export interface Config {
  /** Address to listen on. Default `127.0.0.1`; any other address requires `ingestKey` and `apiKey`. */
  host: string;
  /** TCP port. Default 4318 (the OTLP/HTTP port). */
  port: number;
  /** Folder holding `siperf.duckdb`. Default `./data`; `:memory:` keeps nothing on disk. */
  dataDir: string;
  /** Bearer key for `/v1/*` and `/api/v2/spans`; unset = no key needed (loopback only). */
  ingestKey: string | undefined;
  /** Bearer key for `/api/*` reads; unset = no key needed (loopback only). */
  apiKey: string | undefined;
  /**
   * Origins whose pages may send web-vitals beacons to `POST /api/v1/apm/user-experience` (CORS), comma
   * separated, e.g. `https://shop.example,http://localhost:3000`; `*` allows any. Unset: same origin only.
   */
  corsOrigins: string | undefined;
  /** Largest request body accepted, bytes (compressed size). Default 16 MiB. */
  maxBodyBytes: number;
  /** Largest body after gzip decompression, bytes. Default 64 MiB. */
  maxDecompressedBytes: number;
  /** Spans waiting to be written above which ingest answers 503 with Retry-After. Default 200,000. */
  maxPendingSpans: number;
  /**
   * Event-loop delay above which ingest answers 503 with `Retry-After` (the process is saturated), ms.
   * Default 1000; 0 turns the check off. Measured by @fastify/under-pressure every `overloadSampleIntervalMs`.
   */
  maxEventLoopDelayMs: number;
  /** How often the event-loop delay is sampled, ms. Default 500. */
  overloadSampleIntervalMs: number;
  /** A span starting further than this in the future is kept but flagged. ms. Default 1 h. */
  maxFutureSkewMs: number;
  /** A span starting further than this in the past is kept but flagged. ms. Default 5 years. */
  maxPastSkewMs: number;
  /** Apdex T, ms. Default 500. */
  apdexThresholdMs: number;
  /** A database call slower than this is a slow call, ms. Default 1000. */
  slowQueryThresholdMs: number;
  /** A business transaction without an end, idle this long, is reported as abandoned, ms. Default 30 min. */
  transactionAbandonAfterMs: number;
  /** Raw spans are kept this long after ingest, days. Default 7. */
  rawSpansRetentionDays: number;
  /** Rollups are kept this long after they were written, days. Default 90. */
  rollupsRetentionDays: number;
  /** Metric points are kept this long after ingest, days. Default 30. */
  metricPointsRetentionDays: number;
  /** Memory the embedded DuckDB may use for its buffers, MiB (its own default is 80% of RAM). Default 256. */
  storeMemoryLimitMb: number;
  /**
   * Write-ahead-log size that triggers a checkpoint of the store, MiB. Default 256 (DuckDB's own 16 costs
   * ~20% of ingest throughput); a crash replays at most this much at the next start.
   */
  storeCheckpointMb: number;
  /** How often in-memory rollups are written to the store, ms. Default 5000. */
  rollupFlushIntervalMs: number;
  /**
   * How often the built-in host sampler reads `/proc`, `statfs` and cgroups, ms. Default 10,000; 0 turns
   * it off (for example when a Collector's hostmetrics receiver reports this host).
   */
  resourceSampleIntervalMs: number;
  /** Prometheus node_exporter URLs to scrape (comma separated, e.g. `http://db-1:9100/metrics`). Unset: none. */
  nodeExporterTargets: string | undefined;
  /** How often they are scraped, ms. Default 15,000. */
  nodeExporterIntervalMs: number;
  /**
   * Prices for cost-optimization, in `currency`. The defaults are an example — about Google Cloud's E2
   * on-demand rates in us-central1 in 2024 (vCPU 0.0218/h, memory 0.0029 per GiB-hour, balanced disk
   * 0.10 per GiB-month) — set your own.
   */
  currency: string;
  priceVcpuHour: number;
  priceMemoryGibHour: number;
  priceDiskGibMonth: number;
  /**
   * A JSON file of alert rules, `{ "rules": [ … ] }`, each as `POST /api/v1/alerts/rules` takes it; loaded
   * at start (a bad rule stops the start with its index and field). Unset: none.
   */
  alertRulesFile: string | undefined;
  /** How often alert rules are evaluated, ms. Default 30,000; 0 turns alerting off. */
  alertEvaluationIntervalMs: number;
  /** 1 loads the built-in rules (CPU, memory, disk full within 24 h, error rate, p95); 0 leaves them out. */
  alertDefaultRules: number;
  /** Redis of the server's redis and tiered caches (credentials stay in the config, never in the API). */
  redisUrl: string;
  /**
   * Named database pools for the query advisor and cached queries: `name=url` pairs separated by commas,
   * e.g. `orders=postgresql://app@db/orders,legacy=mysql://root@127.0.0.1/shop`. Credentials stay here.
   */
  pools: string | undefined;
  /** 1 lets the advisor run `EXPLAIN ANALYZE` on SELECT statements without parameters; 0 (default) never executes them. */
  explainAnalyze: number;
  /**
   * 1 checks every API answer against its response schema before sending it (a mismatch is a 500 naming
   * the field): for tests and development, it costs CPU. Default 0.
   */
  validateResponses: number;
  /** pino level. Default `info`. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Defaults of every setting. */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  host: '127.0.0.1',
  port: 4318,
  dataDir: './data',
  ingestKey: undefined,
  apiKey: undefined,
  corsOrigins: undefined,
  maxBodyBytes: 16 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024,
  maxPendingSpans: 200_000,
  maxEventLoopDelayMs: 1000,
  overloadSampleIntervalMs: 500,
  maxFutureSkewMs: 3_600_000,
  maxPastSkewMs: 5 * 365 * 86_400_000,
  apdexThresholdMs: 500,
  slowQueryThresholdMs: 1000,
  transactionAbandonAfterMs: 1_800_000,
  rawSpansRetentionDays: 7,
  rollupsRetentionDays: 90,
  metricPointsRetentionDays: 30,
  storeMemoryLimitMb: 256,
  storeCheckpointMb: 256,
  rollupFlushIntervalMs: 5000,
  resourceSampleIntervalMs: 10_000,
  nodeExporterTargets: undefined,
  nodeExporterIntervalMs: 15_000,
  currency: 'USD',
  priceVcpuHour: 0.0218,
  priceMemoryGibHour: 0.0029,
  priceDiskGibMonth: 0.1,
  alertRulesFile: undefined,
  alertEvaluationIntervalMs: 30_000,
  alertDefaultRules: 1,
  redisUrl: 'redis://127.0.0.1:6379',
  pools: undefined,
  explainAnalyze: 0,
  validateResponses: 0,
  logLevel: 'info',
});

type Rule =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'string'; optional?: boolean }
  | { kind: 'enum'; values: readonly string[] };

const RULES: Record<keyof Config, Rule> = {
  host: { kind: 'string' },
  port: { kind: 'int', min: 0, max: 65535 },
  dataDir: { kind: 'string' },
  ingestKey: { kind: 'string', optional: true },
  apiKey: { kind: 'string', optional: true },
  corsOrigins: { kind: 'string', optional: true },
  maxBodyBytes: { kind: 'int', min: 1024, max: 1024 * 1024 * 1024 },
  maxDecompressedBytes: { kind: 'int', min: 1024, max: 4 * 1024 * 1024 * 1024 },
  maxPendingSpans: { kind: 'int', min: 1, max: 100_000_000 },
  maxEventLoopDelayMs: { kind: 'int', min: 0, max: 600_000 },
  overloadSampleIntervalMs: { kind: 'int', min: 10, max: 60_000 },
  maxFutureSkewMs: { kind: 'int', min: 0, max: 100 * 365 * 86_400_000 },
  maxPastSkewMs: { kind: 'int', min: 0, max: 100 * 365 * 86_400_000 },
  apdexThresholdMs: { kind: 'int', min: 1, max: 3_600_000 },
  slowQueryThresholdMs: { kind: 'int', min: 1, max: 3_600_000 },
  transactionAbandonAfterMs: { kind: 'int', min: 1000, max: 30 * 86_400_000 },
  rawSpansRetentionDays: { kind: 'int', min: 1, max: 3650 },
  rollupsRetentionDays: { kind: 'int', min: 1, max: 3650 },
  metricPointsRetentionDays: { kind: 'int', min: 1, max: 3650 },
  storeMemoryLimitMb: { kind: 'int', min: 64, max: 1_048_576 },
  storeCheckpointMb: { kind: 'int', min: 1, max: 65_536 },
  rollupFlushIntervalMs: { kind: 'int', min: 100, max: 3_600_000 },
  resourceSampleIntervalMs: { kind: 'int', min: 0, max: 3_600_000 },
  nodeExporterTargets: { kind: 'string', optional: true },
  nodeExporterIntervalMs: { kind: 'int', min: 1000, max: 3_600_000 },
  currency: { kind: 'string' },
  priceVcpuHour: { kind: 'number', min: 0, max: 1e6 },
  priceMemoryGibHour: { kind: 'number', min: 0, max: 1e6 },
  priceDiskGibMonth: { kind: 'number', min: 0, max: 1e6 },
  alertRulesFile: { kind: 'string', optional: true },
  alertEvaluationIntervalMs: { kind: 'int', min: 0, max: 86_400_000 },
  alertDefaultRules: { kind: 'int', min: 0, max: 1 },
  redisUrl: { kind: 'string' },
  pools: { kind: 'string', optional: true },
  explainAnalyze: { kind: 'int', min: 0, max: 1 },
  validateResponses: { kind: 'int', min: 0, max: 1 },
  logLevel: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
};

/** `maxBodyBytes` → `SIPERF_MAX_BODY_BYTES`. */
export function envName(key: string): string {
  return `SIPERF_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Where the settings come from; later sources override earlier ones. */
export interface ConfigSources {
  /** Path of a JSON config file (its keys are the {@link Config} field names). */
  file?: string | undefined;
  /** Environment variables (`SIPERF_*` are read). */
  env?: Record<string, string | undefined>;
  /** Values from command-line flags (strings or numbers), by field name. */
  flags?: Record<string, unknown>;
}

/**
 * Builds the configuration from defaults, file, environment and flags.
 * @throws SiperfError `ERR_CONFIG_INVALID` listing every bad value ("port: expected an integer 0..65535, got
 *   \"abc\" (from SIPERF_PORT)"), an unknown key in the file, or an unreadable file.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const raw: Record<string, { value: unknown; from: string }> = {};
  if (sources.file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(sources.file, 'utf8'));
    } catch (err) {
      throw new SiperfError('ERR_CONFIG_INVALID', `config file ${sources.file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SiperfError('ERR_CONFIG_INVALID', `config file ${sources.file}: expected a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed)) raw[k] = { value: v, from: `config file ${sources.file}` };
  }
  for (const key of Object.keys(RULES)) {
    const v = sources.env?.[envName(key)];
    if (v !== undefined && v !== '') raw[key] = { value: v, from: envName(key) };
  }
  for (const [k, v] of Object.entries(sources.flags ?? {})) {
    if (v !== undefined)
      raw[k] = { value: v, from: `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` };
  }
  const errors: string[] = [];
  const out: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [key, { value, from }] of Object.entries(raw)) {
    const rule = RULES[key as keyof Config];
    if (!rule) {
      errors.push(`${key}: unknown setting (from ${from})`);
      continue;
    }
    const checked = check(rule, value);
    if (typeof checked === 'object' && checked !== null && 'error' in checked) {
      errors.push(`${key}: ${checked.error}, got ${JSON.stringify(value)} (from ${from})`);
    } else {
      out[key] = checked;
    }
  }
  const config = out as unknown as Config;
  if (errors.length === 0 && !isLoopback(config.host) && (!config.ingestKey || !config.apiKey)) {
    errors.push(
      `host: listening on ${config.host} (not loopback) requires both ingestKey and apiKey (SIPERF_INGEST_KEY, SIPERF_API_KEY)`,
    );
  }
  for (const target of (config.nodeExporterTargets ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    if (!/^https?:\/\/[^\s]+$/.test(target)) {
      errors.push(`nodeExporterTargets: each target must be an http(s) URL, got ${JSON.stringify(target)}`);
    }
  }
  for (const origin of corsOriginList(config.corsOrigins)) {
    if (origin !== '*' && !/^https?:\/\/[^/\s?#]+$/.test(origin)) {
      errors.push(
        `corsOrigins: each origin must be * or scheme://host[:port] without a path, got ${JSON.stringify(origin)}`,
      );
    }
  }
  if (errors.length > 0)
    throw new SiperfError('ERR_CONFIG_INVALID', `invalid configuration: ${errors.join('; ')}`);
  return Object.freeze(config);
}

function check(rule: Rule, value: unknown): unknown {
  switch (rule.kind) {
    case 'int': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < rule.min || n > rule.max) {
        return { error: `expected an integer ${rule.min}..${rule.max}` };
      }
      return n;
    }
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < rule.min || n > rule.max) {
        return { error: `expected a number ${rule.min}..${rule.max}` };
      }
      return n;
    }
    case 'string':
      if (typeof value !== 'string' || value === '') return { error: 'expected a non-empty string' };
      return value;
    case 'enum':
      if (typeof value !== 'string' || !rule.values.includes(value))
        return { error: `expected one of ${rule.values.join(', ')}` };
      return value;
  }
}

/** One entry of the `pools` setting. */
export interface PoolSetting {
  name: string;
  driver: 'postgresql' | 'mysql';
  url: string;
}

/**
 * The `pools` setting as a list.
 * @throws SiperfError `ERR_CONFIG_INVALID` naming the bad entry (without its credentials).
 */
export function poolList(value: string | undefined): PoolSetting[] {
  if (!value) return [];
  const seen = new Set<string>();
  return value.split(',').map((entry, i) => {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    const url = entry.slice(eq + 1).trim();
    const bad = (why: string): never => {
      throw new SiperfError('ERR_CONFIG_INVALID', `pools: entry ${i + 1} (${name || '?'}): ${why}`);
    };
    if (eq < 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      bad('expected name=url with a name of 1..64 of A-Z a-z 0-9 _ . -');
    if (seen.has(name)) bad('the name is used twice');
    seen.add(name);
    let scheme = '';
    try {
      scheme = new URL(url).protocol.replace(/:$/, '');
    } catch {
      bad('the url is not a URL (postgresql://… or mysql://…)');
    }
    const driver = ['postgres', 'postgresql'].includes(scheme)
      ? 'postgresql'
      : ['mysql', 'mariadb'].includes(scheme)
        ? 'mysql'
        : bad(`scheme ${scheme}: expected postgresql or mysql`);
    return { name, driver, url: driver === 'mysql' ? url.replace(/^mariadb:/, 'mysql:') : url };
  });
}

/** The origins of `corsOrigins` as a list (empty when unset). */
export function corsOriginList(value: string | undefined): string[] {
  return (
    (value ?? '')
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      // Browsers send `Origin` without the scheme's default port.
      .map((o) => o.replace(/^(http:\/\/[^/]+):80$/i, '$1').replace(/^(https:\/\/[^/]+):443$/i, '$1'))
      .filter((o) => o !== '')
  );
}

/** Whether an address is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
