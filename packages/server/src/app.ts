/**
 * The composition root: the only place that picks concrete adapters and wires them. `buildApp` makes the
 * Fastify app over a given store (tests use it with `:memory:`); `startServer` opens the store, schedules
 * rollup flushes and retention, listens, and drains on SIGTERM/SIGINT.
 * @module
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController, type RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import {
  AlertEngine,
  type AlertQueries,
  defaultRules,
  parseRule,
  parseRulesFile,
  storeValueSource,
} from './alerts/index.ts';
import {
  addSharedSchema,
  alertRoutes,
  apmRoutes,
  cacheRoutes,
  dashboardRoutes,
  docsRoutes,
  ingestRoutes,
  installProblemHandlers,
  OtlpGrpcServer,
  optimizationRoutes,
  type PageFallback,
  prometheusRoutes,
  recommendationRoutes,
  refuseMissingBody,
  resourceRoutes,
  SHARED_SCHEMAS,
  serializerCompiler,
  transactionRoutes,
  validatorCompiler,
  vitalsRoutes,
} from './api/index.ts';
import { Closed, problems } from './api/schemas/index.ts';
import { endpointMetrics } from './apm/index.ts';
import { CacheRegistry } from './cache/index.ts';
import { alertReceiverList, type Config, poolList } from './config.ts';
import { LogDigests } from './db/log-digests.ts';
import { DbPools } from './db/pools.ts';
import { SiperfError } from './errors.ts';
import { IngestPipeline, loadSqlParser } from './ingest/index.ts';
import { RecommendationEngine, RecommendationStates } from './recommendations/index.ts';
import {
  HostSampler,
  ProcReader,
  predictResource,
  resourceSeries,
  scrapeNodeExporter,
} from './resources/index.ts';
import { createClickHouseStore, createDuckDbStore, type Store } from './storage/index.ts';
import { AtomicFileWriter } from './util/atomic-file.ts';
import { nowNs } from './util/time.ts';

const DAY_NS = 86_400_000_000_000n;

/** The routes of an app built by {@link buildApp}, in registration order. */
export function registeredRoutes(app: FastifyInstance): readonly RouteOptions[] {
  return (app as unknown as { siperfRoutes: RouteOptions[] }).siperfRoutes;
}

/** Options of {@link buildApp}. */
export interface AppOptions {
  config: Config;
  store: Store;
  /** The alert engine (default: one over the store, with the default rules when configured). */
  alerts?: AlertEngine;
  /** A pino logger, or `false` for none (tests). Default: pino at `config.logLevel`. */
  logger?: boolean | Logger;
  /**
   * The clock of the recommendations (their windows, when they are applied and judged), ms since the epoch.
   * Default `Date.now`; tests pass their own.
   */
  now?: () => number;
}

/**
 * Builds the HTTP app (ingest, API, OpenAPI at /docs) and the OTLP/gRPC server over the same ingest
 * pipeline ({@link otlpGrpcOf}). Listens on neither; closing the app stops both.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, store } = options;
  await loadSqlParser();
  const app = Fastify({
    loggerInstance: typeof options.logger === 'object' ? options.logger : undefined,
    logger:
      typeof options.logger === 'object'
        ? undefined
        : options.logger === false
          ? false
          : {
              level: config.logLevel,
              redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
            },
    bodyLimit: 1024 * 1024,
    // A client that stops sending mid-body is dropped instead of holding a socket for ever.
    requestTimeout: 120_000,
    // Path parameters up to 1,100 characters (cache keys go to 1,024); longer get Fastify's own 414.
    routerOptions: { maxParamLength: 1100 },
    // Per-request log lines off: ingest is many small requests; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  // Each open connection holds memory: over the cap, Node closes a new connection as it is accepted.
  app.server.maxConnections = config.maxConnections;
  const pages: { fallback?: PageFallback } = {};
  installProblemHandlers(app, pages);
  // A body-less request to a route that decodes its own body is a 415/400 before its handler runs.
  app.addHook('preValidation', refuseMissingBody);
  // Every route, as registered (the contract test checks that each declares its schemas).
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  app.decorate('siperfRoutes', routes);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler(config.validateResponses === 1));
  for (const schema of SHARED_SCHEMAS) addSharedSchema(app, schema);
  await app.register(swagger, {
    // Shared schemas become components named by their $id (`#/components/schemas/Problem`).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SuperInsight Perf API',
        version: '0.1.0',
        description: 'OTLP ingest and the APM API of siperf',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(docsRoutes);
  pages.fallback = await dashboardRoutes(app);
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: 200 while the server runs',
        tags: ['server'],
        querystring: Closed({}),
        response: { 200: Closed({ status: Type.Literal('ok') }), ...problems() },
      },
    },
    async () => ({
      status: 'ok',
    }),
  );
  const pipeline = new IngestPipeline({ config, store });
  app.decorate('ingestPipeline', pipeline);
  app.addHook('onClose', async () => pipeline.close());
  await app.register(async (child) => ingestRoutes(child, { config, pipeline }));
  // OTLP/gRPC: the same pipeline on its own port, listening once startServer (or a test) starts it.
  const grpc = new OtlpGrpcServer({
    config,
    pipeline,
    log: (message, err) => app.log.error({ err, component: 'otlp-grpc' }, message),
  });
  app.decorate('otlpGrpc', grpc);
  app.addHook('preClose', async () => grpc.close());
  await app.register(async (child) => apmRoutes(child, { config, store }));
  await app.register(async (child) => transactionRoutes(child, { config, store }));
  await app.register(async (child) => vitalsRoutes(child, { config, store }));
  await app.register(async (child) => resourceRoutes(child, { config, store }));
  const engine = options.alerts ?? createAlertEngine(config, store, app.log);
  app.decorate('alertEngine', engine);
  await app.register(async (child) => alertRoutes(child, { config, engine }));
  await app.register(async (child) => prometheusRoutes(child, { config, store, pipeline, alerts: engine }));
  const caches = new CacheRegistry({
    redisUrl: config.redisUrl,
    file: config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'caches.json'),
    log: (message, err) => app.log.warn({ err, component: 'caches' }, message),
  });
  const pools = new DbPools(poolList(config.pools));
  app.addHook('onClose', async () => {
    await caches.close();
    await pools.close();
  });
  await app.register(async (child) => cacheRoutes(child, { config, store, caches }));
  const logs = new LogDigests();
  const advisor = await createRecommendationEngine(
    config,
    { store, caches, pools, logs },
    app.log,
    options.now,
  );
  app.addHook('onClose', async () => advisor.flush());
  await app.register(async (child) =>
    optimizationRoutes(child, { config, store, caches, pools, logs, engine: advisor }),
  );
  await app.register(async (child) =>
    recommendationRoutes(child, { config, engine: advisor, nowMs: options.now }),
  );
  return app;
}

/**
 * The recommendation engine over the analysis folders, its states kept in `<dataDir>/recommendations.json`
 * (in memory for `:memory:`).
 */
export async function createRecommendationEngine(
  config: Config,
  sources: { store: Store; caches: CacheRegistry; pools: DbPools; logs: LogDigests },
  log: FastifyInstance['log'],
  now?: () => number,
): Promise<RecommendationEngine> {
  const states = await RecommendationStates.open({
    file: config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'recommendations.json'),
    log: (message, err) => log.error({ err, component: 'recommendations' }, message),
  });
  return new RecommendationEngine({
    ...sources,
    states,
    now,
    settings: {
      slowQueryThresholdMs: config.slowQueryThresholdMs,
      apdexThresholdMs: config.apdexThresholdMs,
      planAdvice: {
        explainAnalyze: config.explainAnalyze === 1,
        allowWritablePools: config.allowWritablePools === 1,
      },
      prices: {
        currency: config.currency,
        vcpuHour: config.priceVcpuHour,
        memoryGibHour: config.priceMemoryGibHour,
        diskGibMonth: config.priceDiskGibMonth,
      },
      maxAgeMs: config.recommendationsMaxAgeMs,
    },
  });
}

/**
 * The reads of the alert values, wired to `apm/` and `resources/` over the store (the alerts folder
 * imports neither: it receives these functions).
 */
export function alertQueries(store: Store): AlertQueries {
  return {
    endpoints: (q) =>
      endpointMetrics(store, { window: q.window, service: q.service, kind: 'server', apdexThresholdMs: 500 }),
    series: (q) => resourceSeries(store, q),
    exhaustion: (q) =>
      predictResource(store, {
        resourceType: q.resourceType,
        host: q.host,
        horizon: '24h',
        nowMs: q.nowMs,
        select: q.select,
      }),
  };
}

/**
 * An alert engine over the store: the default rules (unless switched off), hosts defaulting to this one.
 * Rules made through the API, and built-ins deleted, are kept in `<dataDir>/alert-rules.json`.
 */
export function createAlertEngine(config: Config, store: Store, log: FastifyInstance['log']): AlertEngine {
  const me = hostname();
  const defaultHost = async (): Promise<string | undefined> => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const hosts = await store.metricHosts({ fromNs: now - 3_600_000_000_000n, toNs: now + 60_000_000_000n });
    return hosts.find((h) => h.host === me)?.host ?? hosts[0]?.host;
  };
  const file = config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'alert-rules.json');
  let saved: { rules?: unknown[]; removedBuiltIns?: string[] } = {};
  if (file && existsSync(file)) {
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      log.error(
        { err, component: 'alerts', file },
        'alert rules file unreadable; starting with the defaults',
      );
    }
  }
  const defaultReceivers = alertReceiverList(config.alertReceivers);
  const engine = new AlertEngine(storeValueSource(alertQueries(store), defaultHost), {
    defaultReceivers,
    publicUrl: publicUrlOf(config),
    log: (message, err) => log.warn({ err, component: 'alerts' }, message),
  });
  if (config.alertDefaultRules === 1) {
    for (const rule of defaultRules()) if (!saved.removedBuiltIns?.includes(rule.id)) engine.upsert(rule);
  }
  if (config.alertRulesFile) {
    let text: string;
    try {
      text = readFileSync(config.alertRulesFile, 'utf8');
    } catch (err) {
      throw new SiperfError(
        'ERR_CONFIG_INVALID',
        `alertRulesFile ${config.alertRulesFile}: cannot read (${(err as Error).message})`,
      );
    }
    for (const rule of parseRulesFile(text, config.alertRulesFile)) {
      engine.upsert(rule);
    }
  }
  for (const raw of saved.rules ?? []) {
    try {
      engine.upsert(parseRule(raw));
    } catch (err) {
      log.error({ err, component: 'alerts' }, 'a saved alert rule is invalid and was skipped');
    }
  }
  const unrouted = engine.list().filter((r) => engine.receiversOf(r).length === 0);
  if (config.alertEvaluationIntervalMs > 0 && unrouted.length > 0) {
    // Once, at start: the built-in rules have no receivers, so without alertReceivers they notify nobody.
    log.warn(
      { component: 'alerts', rules: unrouted.map((r) => r.id) },
      `${unrouted.length} alert rule(s) have no receiver and alertReceivers is unset: they fire to nobody (GET /api/v1/alerts shows delivery "no-receiver"); set alertReceivers (e.g. SIPERF_ALERT_RECEIVERS=slack:https://hooks.slack.com/services/…) to route them`,
    );
  }
  if (engine.size > config.maxAlertRules) {
    log.warn(
      { component: 'alerts', rules: engine.size, maxAlertRules: config.maxAlertRules },
      `${engine.size} alert rules are loaded, more than maxAlertRules (${config.maxAlertRules}): new ones are refused until some are deleted`,
    );
  }
  if (file) {
    // Rewritten whole, off the event loop and atomically (temp file, sync, rename), one write at a time:
    // of changes made while a write runs, the last one is written next.
    const rulesFile = new AtomicFileWriter(file, (err) =>
      log.error({ err, component: 'alerts', file }, 'could not save the alert rules'),
    );
    engine.setOnChange((rules, removedBuiltIns) =>
      rulesFile.write(
        JSON.stringify({ rules: rules.filter((r) => !r.builtIn && !r.fromFile), removedBuiltIns }, null, 2),
      ),
    );
  }
  return engine;
}

/**
 * The base URL of the links in notifications: `publicUrl`, else `http://<host>:<port>` (this machine's
 * name when listening on every address, which no one can open).
 */
export function publicUrlOf(config: Config): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === '';
  const host = wildcard ? hostname() : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/**
 * Samples this host every `resourceSampleIntervalMs` into the store (nothing when 0). A sample that
 * fails is logged and the next one tried; samples never overlap.
 */
function startHostSampler(
  config: Config,
  store: Store,
  log: FastifyInstance['log'],
): { stop(): void } | undefined {
  if (config.resourceSampleIntervalMs === 0) return undefined;
  const sampler = new HostSampler(new ProcReader('/'), hostname(), nowNs);
  let running = false;
  const tick = (): void => {
    if (running) return;
    running = true;
    sampler
      .sample()
      .then((points) => (points.length > 0 ? store.writeMetricPoints(points) : 0))
      .catch((err) => log.warn({ err, component: 'resources' }, 'host sample failed'))
      .finally(() => {
        running = false;
      });
  };
  tick();
  const timer = setInterval(tick, config.resourceSampleIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Scrapes each `nodeExporterTargets` URL every `nodeExporterIntervalMs`; a failing target is logged. */
function startNodeExporterScrape(
  config: Config,
  store: Store,
  log: FastifyInstance['log'],
): { stop(): void } | undefined {
  const targets = (config.nodeExporterTargets ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (targets.length === 0) return undefined;
  const tick = (): void => {
    for (const target of targets) {
      scrapeNodeExporter(target, nowNs())
        .then((points) => store.writeMetricPoints(points))
        .catch((err) => log.warn({ err, component: 'resources', target }, 'node_exporter scrape failed'));
    }
  };
  tick();
  const timer = setInterval(tick, config.nodeExporterIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The OTLP/gRPC server of an app built by {@link buildApp} (not listening until its `start()`). */
export function otlpGrpcOf(app: FastifyInstance): OtlpGrpcServer {
  return (app as unknown as { otlpGrpc: OtlpGrpcServer }).otlpGrpc;
}

/** A running server and how to stop it. */
export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  /** Actual address, e.g. `http://127.0.0.1:4318`. */
  url: string;
  /** OTLP/gRPC port listened on; undefined when `grpcPort` is 0 or the port could not be bound. */
  grpcPort: number | undefined;
  /** Stops accepting, lets in-flight requests finish, flushes rollups and closes the store. */
  stop(): Promise<void>;
}

/**
 * Opens the store of the configuration: ClickHouse when `store` is a `clickhouse://` URL, else the DuckDB
 * file under `dataDir` (created when missing).
 * @throws SiperfError `ERR_STORE_UNAVAILABLE` (one line naming the URL without its password, and the
 *   cause) when ClickHouse does not answer; DuckDB's error when its file is locked.
 */
export async function openStore(config: Config, logger?: Logger): Promise<Store> {
  const log = logger ? { log: logger.child({ component: 'storage' }) } : {};
  if (config.store !== undefined) return createClickHouseStore({ url: config.store, ...log });
  const path = config.dataDir === ':memory:' ? ':memory:' : join(config.dataDir, 'siperf.duckdb');
  if (path !== ':memory:') mkdirSync(config.dataDir, { recursive: true });
  return createDuckDbStore({
    path,
    memoryLimitMb: config.storeMemoryLimitMb,
    checkpointThresholdMb: config.storeCheckpointMb,
    ...log,
  });
}

/**
 * Opens the store (`store`, or the DuckDB file under `config.dataDir`), starts the app and its timers, and listens.
 * @throws when the port is taken or the database file is locked by another process.
 */
export async function startServer(config: Config, logger?: Logger): Promise<RunningServer> {
  const store = await openStore(config, logger);
  const app = await buildApp({ config, store, ...(logger ? { logger } : {}) });
  const log = app.log;
  const flushTimer = setInterval(() => {
    store.flushRollups().catch((err) => log.error({ err, component: 'storage' }, 'rollup flush failed'));
  }, config.rollupFlushIntervalMs);
  const retention = async (): Promise<void> => {
    const deleted = await store.applyRetention(
      {
        rawSpansNs: BigInt(config.rawSpansRetentionDays) * DAY_NS,
        rollupsNs: BigInt(config.rollupsRetentionDays) * DAY_NS,
        metricPointsNs: BigInt(config.metricPointsRetentionDays) * DAY_NS,
      },
      nowNs(),
    );
    log.info({ component: 'retention', deleted }, 'retention applied');
  };
  const compactionTimer = setInterval(() => {
    // Minutes that ended more than a minute ago rarely get new rows; merge their flush rows.
    store
      .compactRollups(nowNs() - 120_000_000_000n)
      .catch((err) => log.error({ err, component: 'storage' }, 'rollup compaction failed'));
  }, 60_000);
  compactionTimer.unref();
  const retentionTimer = setInterval(() => {
    retention().catch((err) => log.error({ err, component: 'retention' }, 'retention failed'));
  }, 3_600_000);
  flushTimer.unref();
  retentionTimer.unref();
  const sampler = startHostSampler(config, store, log);
  const scraper = startNodeExporterScrape(config, store, log);
  const engine = (app as unknown as { alertEngine: AlertEngine }).alertEngine;
  const alertTimer =
    config.alertEvaluationIntervalMs > 0
      ? setInterval(() => {
          engine
            .evaluate(Date.now())
            .catch((err) => log.error({ err, component: 'alerts' }, 'alert evaluation failed'));
        }, config.alertEvaluationIntervalMs)
      : undefined;
  alertTimer?.unref();
  const address = await app.listen({ host: config.host, port: config.port });
  const grpc = otlpGrpcOf(app);
  let grpcPort: number | undefined;
  if (grpc.enabled) {
    try {
      grpcPort = await grpc.start();
    } catch (err) {
      // Not fatal: OTLP/HTTP works, and a second server on one machine (tests, benchmarks) needs no gRPC.
      log.error(
        { err, component: 'otlp-grpc', grpcPort: config.grpcPort },
        `OTLP/gRPC is off: port ${config.grpcPort} could not be bound (grpcPort; 0 turns it off)`,
      );
    }
  }
  log.info({ url: address, grpcPort, dataDir: config.dataDir }, 'siperf listening');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(flushTimer);
      clearInterval(retentionTimer);
      clearInterval(compactionTimer);
      sampler?.stop();
      scraper?.stop();
      if (alertTimer) clearInterval(alertTimer);
      // The alert engine reads the store: its running evaluation ends before the store closes.
      await engine.stop();
      await app.close();
      await store.close();
      log.info('siperf stopped; store closed');
    })();
    return stopping;
  };
  return { app, store, url: address, grpcPort, stop };
}
