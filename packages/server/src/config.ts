/**
 * The server's configuration: one documented default, then a config file (JSON), then `SIPERF_*`
 * environment variables, then command-line flags, each overriding the one before (the order the
 * OpenTelemetry exporters use: code/flags first, then environment, then defaults). Validated once at start;
 * each bad value gets a message naming the field, what was expected and what was given.
 * @module
 */
import { readFileSync } from 'node:fs';
import { type Static, Type } from 'typebox';
import { SiperfError } from './errors.ts';
import { type SchemaProblem, schemaCheck } from './util/schema-check.ts';

const MS_PER_DAY = 86_400_000;
const int = (minimum: number, maximum: number, def: number, description: string) =>
  Type.Integer({ minimum, maximum, default: def, description });
const num = (minimum: number, maximum: number, def: number, description: string) =>
  Type.Number({ minimum, maximum, default: def, description });
const text = (def: string, description: string) => Type.String({ minLength: 1, default: def, description });
const optionalText = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

/**
 * Every setting: its type, bounds, default and meaning (units are in the names). The one source of the
 * {@link Config} type, of {@link DEFAULT_CONFIG} and of the checks of {@link loadConfig} (a test checks that
 * the README's settings table names every setting).
 */
export const ConfigSchema = Type.Object(
  {
    host: text('127.0.0.1', 'Address to listen on; any other than loopback requires ingestKey and apiKey.'),
    port: int(0, 65535, 4318, 'TCP port (4318 is the OTLP/HTTP port; 0 picks a free one).'),
    grpcPort: int(
      0,
      65535,
      4317,
      'TCP port of OTLP/gRPC ingest (traces and metrics; same host, keys and limits as OTLP/HTTP; a message may be up to maxDecompressedBytes once decompressed); 0 turns it off. A port in use is logged and the server runs without it.',
    ),
    dataDir: text('./data', 'Folder holding siperf.duckdb; `:memory:` keeps nothing on disk.'),
    store: optionalText(
      'Where spans, rollups, metric points and web vitals are kept. Unset: the embedded DuckDB file under dataDir. `clickhouse://user:password@host:8123/database`: a ClickHouse server (18.16 or newer, over HTTP; the database and tables are created when missing), which several siperf nodes may share. The password never appears in logs, answers or errors.',
    ),
    ingestKey: optionalText('Bearer key for /v1/* and /api/v2/spans; unset: no key needed (loopback only).'),
    apiKey: optionalText('Bearer key for /api/* reads; unset: no key needed (loopback only).'),
    corsOrigins: optionalText(
      'Origins whose pages may send web-vitals beacons (CORS), comma separated, e.g. `https://shop.example,http://localhost:3000`; `*` allows any. Unset: same origin only.',
    ),
    maxBodyBytes: int(
      1024,
      1024 ** 3,
      16 * 1024 * 1024,
      'Largest request body accepted, bytes (compressed size).',
    ),
    maxDecompressedBytes: int(
      1024,
      4 * 1024 ** 3,
      64 * 1024 * 1024,
      'Largest body after decompression, bytes.',
    ),
    maxPendingSpans: int(
      1,
      100_000_000,
      16_384,
      'Spans waiting to be written, with those admitted trace requests are expected to bring (declared body bytes × the spans per byte seen so far), above which ingest answers 503 with Retry-After before the body is read. Bounds the memory the queue holds (~3 KiB a span).',
    ),
    maxEventLoopDelayMs: int(
      0,
      600_000,
      1000,
      'Event-loop delay above which ingest answers 503 with Retry-After (the process is saturated), ms; 0 turns the check off. Measured by @fastify/under-pressure every overloadSampleIntervalMs.',
    ),
    overloadSampleIntervalMs: int(10, 60_000, 500, 'How often the event-loop delay is sampled, ms.'),
    maxInflightBodyBytes: int(
      1024,
      16 * 1024 ** 3,
      32 * 1024 * 1024,
      'Ingest request bodies in flight at once, bytes: a request whose Content-Length would go over it is answered 503 with Retry-After before its body is read (a chunked body counts as its bytes arrive); with nothing in flight one request is always admitted.',
    ),
    ingestWorkers: int(
      0,
      64,
      2,
      'Worker threads that decompress, decode and convert ingest bodies over 16 KiB off the event loop; 0 decodes every body on the event loop.',
    ),
    decodeWorkerHeapMb: int(
      32,
      16_384,
      256,
      'Heap cap of each decode worker, MiB; a body that decodes into more is answered 413.',
    ),
    maxConnections: int(
      1,
      1_000_000,
      2048,
      'Open TCP connections the server keeps; a connection over it is closed when accepted.',
    ),
    maxFutureSkewMs: int(
      0,
      100 * 365 * MS_PER_DAY,
      3_600_000,
      'A span starting further than this in the future is kept but flagged, ms.',
    ),
    maxPastSkewMs: int(
      0,
      100 * 365 * MS_PER_DAY,
      5 * 365 * MS_PER_DAY,
      'A span starting further than this in the past is kept but flagged, ms.',
    ),
    maxSpanDurationMs: int(
      1,
      100 * 365 * MS_PER_DAY,
      7 * MS_PER_DAY,
      "A span lasting longer than this is rejected (ERR_INGEST_SPAN_TIME, through OTLP partial success or Zipkin's per-span list) rather than skewing its endpoint's mean, ms.",
    ),
    apdexThresholdMs: int(1, 3_600_000, 500, 'Apdex T, ms.'),
    slowQueryThresholdMs: int(1, 3_600_000, 1000, 'A database call slower than this is a slow call, ms.'),
    transactionAbandonAfterMs: int(
      1000,
      30 * MS_PER_DAY,
      1_800_000,
      'A business transaction without an end, idle this long, is reported as abandoned, ms.',
    ),
    rawSpansRetentionDays: int(1, 3650, 7, 'Raw spans are kept this long after ingest, days.'),
    rollupsRetentionDays: int(1, 3650, 90, 'Rollups are kept this long after they were written, days.'),
    metricPointsRetentionDays: int(1, 3650, 30, 'Metric points are kept this long after ingest, days.'),
    storeMemoryLimitMb: int(
      64,
      1_048_576,
      256,
      'Memory the embedded DuckDB may use for its buffers, MiB (its own default is 80% of RAM).',
    ),
    storeCheckpointMb: int(
      1,
      65_536,
      64,
      "Write-ahead-log size that triggers a checkpoint of the store, MiB (DuckDB's own 16 costs ~20% of ingest throughput); a crash replays at most this much at the next start.",
    ),
    recommendationsMaxAgeMs: int(
      0,
      3_600_000,
      60_000,
      'How long the findings behind the recommendations list are reused, ms: a request over the same window length and filters that ends at most this long after the last computation answers from it, and a recomputation starts in the background once it is half that old; 0 computes on every request.',
    ),
    rollupFlushIntervalMs: int(
      100,
      3_600_000,
      5000,
      'How often in-memory rollups are written to the store, ms.',
    ),
    resourceSampleIntervalMs: int(
      0,
      3_600_000,
      10_000,
      "How often the built-in host sampler reads /proc, statfs and cgroups, ms; 0 turns it off (for example when a Collector's hostmetrics receiver reports this host).",
    ),
    nodeExporterTargets: optionalText(
      'Prometheus node_exporter URLs to scrape, comma separated (e.g. `http://db-1:9100/metrics`).',
    ),
    nodeExporterIntervalMs: int(1000, 3_600_000, 15_000, 'How often node_exporter targets are scraped, ms.'),
    currency: text('USD', 'Currency of the prices.'),
    priceVcpuHour: num(
      0,
      1e6,
      0.0218,
      "Price of a vCPU-hour. The default prices are an example (about Google Cloud's E2 on-demand rates in us-central1 in 2024): set your own.",
    ),
    priceMemoryGibHour: num(0, 1e6, 0.0029, 'Price of a GiB-hour of memory.'),
    priceDiskGibMonth: num(0, 1e6, 0.1, 'Price of a GiB-month of disk.'),
    alertRulesFile: optionalText(
      'A JSON file of alert rules, `{ "rules": [ … ] }`, each as POST /api/v1/alerts/rules takes it; loaded at start (a bad rule stops the start with its index and field).',
    ),
    alertEvaluationIntervalMs: int(
      0,
      MS_PER_DAY,
      30_000,
      'How often alert rules are evaluated, ms; 0 turns alerting off.',
    ),
    alertDefaultRules: int(
      0,
      1,
      1,
      '1 loads the built-in rules (CPU, memory, disk full within 24 h, error rate, p95); 0 leaves them out.',
    ),
    maxAlertRules: int(
      1,
      100_000,
      1000,
      'Most alert rules (built-in, from alertRulesFile and made through the API, together); POST /api/v1/alerts/rules of a new id beyond it is refused with 409 ERR_ALERT_RULES_LIMIT (replacing a rule by its id always works).',
    ),
    alertReceivers: optionalText(
      'Where every alert rule without receivers of its own notifies (the built-in rules have none), comma separated: an http(s) URL gets the Alertmanager webhook payload; `slack:<incoming-webhook URL>` a Slack message; `pagerduty:<routing key>` (or `pagerduty:<routing key>@<events URL>`) PagerDuty Events API v2 (a comma inside a URL is written %2C). E.g. `http://am-bridge:9095/,slack:https://hooks.slack.com/services/T/B/X`. Unset: such rules fire to nobody (logged once at start; the API shows them as not delivered).',
    ),
    publicUrl: optionalText(
      "The URL people open siperf at (e.g. `https://siperf.example.com`): the links in notifications (Alertmanager `externalURL`, each alert's `generatorURL` = `<publicUrl>/alerts?rule=<id>`, Slack). Unset: `http://<host>:<port>` (this machine's name for a wildcard host).",
    ),
    redisUrl: text(
      'redis://127.0.0.1:6379',
      "Redis of the server's redis and tiered caches (credentials stay in the config, never in the API).",
    ),
    pools: optionalText(
      'Named database pools for the query advisor and cached queries: `name=url` pairs separated by commas, e.g. `orders=postgresql://app@db/orders,legacy=mysql://root@127.0.0.1/shop`.',
    ),
    explainAnalyze: int(
      0,
      1,
      0,
      '1 lets the advisor run EXPLAIN ANALYZE on SELECT statements without parameters that pass the cached-query checks (allow-listed functions, no catalogs), in a read-only transaction rolled back, under the statement and lock timeouts; 0 never executes them.',
    ),
    allowWritablePools: int(
      0,
      1,
      0,
      "1 runs client SQL on a role that can write: cached queries and the advisor's EXPLAIN use a pool whose role is a superuser or may INSERT, UPDATE, DELETE or CREATE (MySQL/MariaDB: any privilege beyond SELECT), guarded only by the statement checks and the read-only transaction; 0 refuses such a pool (ERR_POOL_WRITABLE).",
    ),
    cachedQueryMaxBytes: int(
      1024,
      1024 ** 3,
      8 * 1024 * 1024,
      'Largest result of a cached query, bytes (the rows as text, counted while they stream; over it: ERR_QUERY_RESULT_TOO_LARGE and the statement is stopped).',
    ),
    validateResponses: int(
      0,
      1,
      0,
      '1 checks every API answer against its response schema before sending it (a mismatch is a 500 naming the field): for tests and development, it costs CPU.',
    ),
    logLevel: Type.Unsafe<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>({
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      description: 'pino log level.',
    }),
  },
  { additionalProperties: false },
);

/** The validated configuration (frozen). Units are in the names; each field is described in {@link ConfigSchema}. */
export type Config = Static<typeof ConfigSchema>;

type SettingSchema = { type?: string; default?: unknown; enum?: unknown[] } & Record<string, unknown>;
const SETTINGS = ConfigSchema.properties as unknown as Record<keyof Config, SettingSchema>;

/** Defaults of every setting (from {@link ConfigSchema}). */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze(
  Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.default])) as Config,
);

/** One check per setting, compiled on first use. */
let checks: Map<string, (value: unknown) => SchemaProblem | undefined> | undefined;
function checkOf(key: string): ((value: unknown) => SchemaProblem | undefined) | undefined {
  checks ??= new Map(Object.entries(SETTINGS).map(([k, s]) => [k, schemaCheck(s, k)]));
  return checks.get(key);
}

/** Strict decimal number text. */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Text from the environment or a flag, read as the setting's type (numbers must be decimal). */
function fromText(key: string, value: unknown): unknown {
  const type = SETTINGS[key as keyof Config]?.type;
  if (typeof value === 'string' && (type === 'integer' || type === 'number') && DECIMAL.test(value.trim())) {
    return Number(value.trim());
  }
  return value;
}

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
  for (const key of Object.keys(SETTINGS)) {
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
    const check = checkOf(key);
    if (!check) {
      errors.push(`${key}: unknown setting (from ${from})`);
      continue;
    }
    const converted = fromText(key, value);
    const problem = check(converted);
    if (problem) {
      errors.push(`${problem.detail} (from ${from})`);
    } else {
      out[key] = converted;
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
  try {
    alertReceiverList(config.alertReceivers);
  } catch (err) {
    errors.push((err as SiperfError).detail);
  }
  // The URL may hold a password: the message names the expected shape, never the value.
  if (
    config.store !== undefined &&
    !/^clickhouses?:\/\/[^\s/?#]+(\/[A-Za-z_][A-Za-z0-9_]*)?$/.test(config.store)
  ) {
    errors.push(
      'store: expected clickhouse://user:password@host:8123/database (database: letters, digits, _)',
    );
  }
  if (config.publicUrl !== undefined && !/^https?:\/\/[^\s?#]+$/.test(config.publicUrl)) {
    errors.push(
      `publicUrl: expected an http(s) URL without query or fragment, got ${JSON.stringify(config.publicUrl)}`,
    );
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

/**
 * One entry of the `alertReceivers` setting, in the shape of an alert rule's receiver (`alerts/notifiers.ts`
 * `Receiver`; this layer does not import it).
 */
export type AlertReceiverSetting =
  | { type: 'webhook'; url: string }
  | { type: 'slack'; url: string }
  | { type: 'pagerduty'; routingKey: string; url?: string };

/**
 * The `alertReceivers` setting as a list: `http(s)://…` (webhook, Alertmanager payload), `webhook:<url>`,
 * `slack:<url>`, `pagerduty:<routing key>[@<events URL>]`, separated by commas.
 * @throws SiperfError `ERR_CONFIG_INVALID` naming the entry by position, what was expected and what was given
 *   (a routing key is shown only by its length).
 */
export function alertReceiverList(value: string | undefined): AlertReceiverSetting[] {
  if (!value) return [];
  const url = /^https?:\/\/[^\s,]+$/;
  // A URL may carry a secret (Slack's path): errors show its start only.
  const shown = (text: string) => JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}…` : text);
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((entry, i): AlertReceiverSetting => {
      const bad = (why: string): never => {
        throw new SiperfError('ERR_CONFIG_INVALID', `alertReceivers: entry ${i + 1}: ${why}`);
      };
      const colon = entry.indexOf(':');
      const kind = colon < 0 ? '' : entry.slice(0, colon).toLowerCase();
      const rest = entry.slice(colon + 1);
      if (kind === 'http' || kind === 'https') {
        return url.test(entry) ? { type: 'webhook', url: entry } : bad(`not a URL: ${shown(entry)}`);
      }
      if (kind === 'webhook' || kind === 'slack') {
        return url.test(rest)
          ? { type: kind, url: rest }
          : bad(`${kind}: expected an http(s) URL after "${kind}:", got ${shown(rest)}`);
      }
      if (kind === 'pagerduty') {
        const at = rest.indexOf('@');
        const routingKey = at < 0 ? rest : rest.slice(0, at);
        const events = at < 0 ? undefined : rest.slice(at + 1);
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(routingKey))
          bad(
            `pagerduty: expected a routing key of 1..64 letters, digits, _ or -, got ${routingKey.length} characters`,
          );
        if (events !== undefined && !url.test(events))
          bad(`pagerduty: expected an http(s) events URL after "@", got ${shown(events)}`);
        return events === undefined
          ? { type: 'pagerduty', routingKey }
          : { type: 'pagerduty', routingKey, url: events };
      }
      return bad(
        `expected an http(s) URL, slack:<url>, webhook:<url> or pagerduty:<routing key>, got ${shown(entry)}`,
      );
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
