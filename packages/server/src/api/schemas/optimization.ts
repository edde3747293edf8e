/**
 * Schemas of the optimization routes under `/api/v1/cache-db/`: the advice (cache and database
 * recommendations ranked by time saved per hour), the comprehensive statistics, the database pools with
 * their sizing advice, a read-only query through a cache, and log uploads (a PostgreSQL log or a MySQL
 * slow log as the raw body, digested per statement fingerprint). Durations in ms, ratios 0..1.
 * @module
 */
import { type Static, Type } from 'typebox';
import { CacheName } from '../../model/cache-spec.ts';
import { QueryMetrics } from './apm.ts';
import { CacheSummary } from './caches.ts';
import {
  Closed,
  Ms,
  Nullable,
  OpenObject,
  problems,
  StringEnum,
  WindowAnswer,
  WindowQuery,
} from './common.ts';

/** Log formats of `POST /api/v1/cache-db/logs` (the server checks they are the log reader's). */
export const LOG_FORMAT_NAMES = ['mysql-slow', 'pg-stderr', 'pg-csv', 'pg-json'] as const;

/** The window (and service) the advice and the statistics cover. */
export const AdviceQuery = Closed(WindowQuery);
export type AdviceQuery = Static<typeof AdviceQuery>;

/** One piece of advice: the finding, its evidence, the change to make and the time it saves. */
export const Recommendation = Closed({
  id: Type.String({ description: 'stable: the same finding keeps its id, e.g. cache-size:checkout' }),
  area: StringEnum(['cache', 'database', 'query'] as const),
  severity: StringEnum(['info', 'warning', 'critical'] as const),
  title: Type.String(),
  evidence: Type.Record(Type.String(), Type.Unknown(), {
    description: 'what was measured, with units in the field names',
  }),
  action: Type.String({ description: 'what to do, in words' }),
  change: Nullable(Type.String({ description: 'the exact setting or statement, when there is one' })),
  expectedGain: Closed({
    timeSavedMsPerHour: Nullable(Ms('load time avoided per hour (null when it cannot be estimated)')),
    description: Type.String(),
  }),
});
export type Recommendation = Static<typeof Recommendation>;

export const RecommendationsAnswer = Closed({
  ...WindowAnswer,
  recommendations: Type.Array(Recommendation, { description: 'by time saved per hour, then severity' }),
  notes: Type.Array(Type.String(), {
    description: 'what could not be checked (a pool down, a statement that does not prepare)',
  }),
});
export type RecommendationsAnswer = Static<typeof RecommendationsAnswer>;

const DurationSummary = Closed({
  count: Type.Integer(),
  meanMs: Ms(),
  p50Ms: Ms(),
  p95Ms: Ms(),
  maxMs: Ms(),
});

/** A pool's state and history since it was made (the figures HikariCP reports). */
export const PoolStats = Closed({
  name: Type.String(),
  driver: StringEnum(['postgresql', 'mysql'] as const),
  max: Type.Integer({ description: 'most connections the pool opens' }),
  total: Type.Integer(),
  idle: Type.Integer(),
  active: Type.Integer(),
  pending: Type.Integer({ description: 'callers waiting for a connection' }),
  acquired: Type.Integer(),
  timeouts: Type.Integer({ description: 'acquisitions that gave up after acquireTimeoutMs' }),
  errors: Type.Integer(),
  acquireWait: DurationSummary,
  hold: DurationSummary,
  create: DurationSummary,
  statementTimeoutMs: Ms(),
  acquireTimeoutMs: Ms(),
  since: Type.String({ description: 'when the pool was made, ISO-8601' }),
  acquisitionsPerSecond: Type.Number(),
});
export type PoolStats = Static<typeof PoolStats>;

/** Pool sizing by Little's law, with its arithmetic. */
export const PoolSizingAdvice = Closed({
  pool: Type.String(),
  current: Type.Integer(),
  recommended: Type.Integer(),
  action: StringEnum(['increase', 'decrease', 'keep'] as const),
  reasoning: Type.Array(Type.String()),
  evidence: Closed({
    acquisitionsPerSecond: Type.Number(),
    meanHoldMs: Ms(),
    p95HoldMs: Ms(),
    meanConcurrency: Type.Number({ description: 'λ·W with the mean hold: connections busy on average' }),
    peakConcurrency: Type.Number({ description: 'λ·W with the p95 hold' }),
    waitShare: Type.Number({ description: 'acquire wait over (wait + hold), 0..1' }),
    timeouts: Type.Integer(),
    dbMaxConnections: Nullable(Type.Integer()),
    instances: Type.Integer(),
  }),
});
export type PoolSizingAdvice = Static<typeof PoolSizingAdvice>;

/** A configured pool: its figures and sizing advice, or why they are missing. */
export const PoolFigures = Closed({
  name: Type.String(),
  driver: StringEnum(['postgresql', 'mysql'] as const),
  stats: Nullable(PoolStats),
  sizing: Nullable(PoolSizingAdvice),
  error: Nullable(Type.String({ description: 'why the pool could not be read' })),
});
export type PoolFigures = Static<typeof PoolFigures>;

export const PoolsAnswer = Closed({ pools: Type.Array(PoolFigures) });
export type PoolsAnswer = Static<typeof PoolsAnswer>;

export const ComprehensiveAnswer = Closed({
  ...WindowAnswer,
  caches: Closed({
    count: Type.Integer(),
    hits: Type.Number(),
    misses: Type.Number(),
    hitRatio: Type.Number(),
    items: Type.Array(CacheSummary),
  }),
  database: Closed({
    pools: Type.Array(PoolFigures),
    queries: Type.Array(QueryMetrics, { description: 'the 20 statements with the most time in the window' }),
  }),
  recommendations: Type.Array(Recommendation),
  notes: Type.Array(Type.String()),
});
export type ComprehensiveAnswer = Static<typeof ComprehensiveAnswer>;

/** `since`/`until`: the date must lead; the rest is read as UTC when it has no offset (an invalid date is refused). */
const isoTime = () =>
  Type.Optional(
    Type.String({
      pattern: '^\\d{4}-\\d{2}-\\d{2}',
      maxLength: 64,
      description: 'an ISO-8601 time (YYYY-MM-DD…)',
    }),
  );

export const LogImportQuery = Closed({
  format: StringEnum(LOG_FORMAT_NAMES, { description: 'the log’s format' }),
  prefix: Type.Optional(
    Type.String({
      maxLength: 1024,
      description: "PostgreSQL's log_line_prefix (pg-stderr), e.g. '%m [%p] user=%u,db=%d '",
    }),
  ),
  since: isoTime(),
  until: isoTime(),
  logTimezone: Type.Optional(
    Type.String({
      maxLength: 64,
      description:
        'IANA zone of PostgreSQL log times written with a zone abbreviation or none, e.g. Europe/Paris (default UTC)',
    }),
  ),
});
export type LogImportQuery = Static<typeof LogImportQuery>;

/** One statement fingerprint's figures in a log, as pt-query-digest and pgBadger report them. */
export const QueryDigest = Closed({
  fingerprint: Type.String(),
  statement: Type.String({ description: 'normalised (literals replaced)' }),
  example: Type.String({ description: 'the slowest statement as logged' }),
  count: Type.Integer({ description: 'calls, with and without a duration' }),
  untimed: Type.Optional(
    Type.Integer({ description: 'calls logged without a duration: not in the time figures' }),
  ),
  totalMs: Ms(),
  minMs: Ms(),
  maxMs: Ms(),
  meanMs: Ms(),
  p95Ms: Ms(),
  stddevMs: Ms('population standard deviation'),
  rowsExamined: Nullable(Type.Number({ description: 'null when the log does not say' })),
  databases: Type.Record(Type.String(), Type.Integer(), { description: 'calls per database' }),
  users: Type.Record(Type.String(), Type.Integer(), { description: 'calls per user' }),
  applications: Type.Record(Type.String(), Type.Integer(), {
    description: 'calls per application (the client host for MySQL)',
  }),
  firstSeen: Nullable(Type.String()),
  lastSeen: Nullable(Type.String()),
  plan: Nullable(Type.String({ description: 'an auto_explain plan of the slowest call' })),
  planMs: Type.Optional(
    Nullable(Ms('the duration auto_explain logged with the plan (a plan time, not added to totalMs)')),
  ),
  tables: Type.Optional(
    Type.Array(Type.String(), { description: 'the tables the statement names (pt-query-digest’s distill)' }),
  ),
});
export type QueryDigest = Static<typeof QueryDigest>;

export const LogDigestAnswer = Closed({
  id: Type.Integer({ description: 'the upload’s number (the server keeps the last 20)' }),
  format: Type.String(),
  lines: Type.Integer(),
  unknownLines: Type.Integer(),
  unknownExamples: Type.Array(Type.String(), { description: 'a few lines that could not be read' }),
  events: Type.Integer(),
  filteredOut: Type.Integer({ description: 'events outside since/until' }),
  noTime: Type.Optional(
    Type.Integer({ description: 'events that carry no time (kept even with since/until)' }),
  ),
  notes: Type.Optional(Type.Array(Type.String(), { description: 'what the reader decided, said once each' })),
  queries: Type.Array(QueryDigest, { description: 'by total time' }),
});
export type LogDigestAnswer = Static<typeof LogDigestAnswer>;

const logFile = (description: string) => ({ schema: Type.String({ format: 'binary', description }) });

/** The log file as the raw body, read by the handler whatever its content type. */
export const LogImportBody = {
  description:
    'the log file, plain or gzip-compressed (bzip2 is refused), up to 256 MiB, digested as it arrives',
  content: {
    'application/octet-stream': logFile('the log file'),
    'text/plain': logFile('the log file as text'),
    'application/gzip': logFile('the log file, gzip-compressed'),
  },
};

export const CachedQueryBody = Closed({
  cacheName: CacheName,
  poolName: Type.String({
    pattern: '^[A-Za-z0-9_.-]{1,64}$',
    description: '1..64 characters of A-Z a-z 0-9 _ . - (a name of the pools setting)',
  }),
  query: Type.String({
    minLength: 1,
    maxLength: 100_000,
    description:
      'one read-only statement (SELECT, WITH … SELECT, VALUES, TABLE) with $1… or ? placeholders, calling allow-listed functions only',
  }),
  params: Type.Optional(
    Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
      maxItems: 1000,
      description: 'the bound parameters (default none)',
    }),
  ),
  ttlMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 2_147_483_647,
      description: 'TTL of the rows, ms (default: the cache’s)',
    }),
  ),
  cacheKey: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 1024,
      description:
        'the key to keep the rows under (within the pool); default: a hash of pool, query and params',
    }),
  ),
});
export type CachedQueryBody = Static<typeof CachedQueryBody>;

export const CachedQueryAnswer = Closed({
  cache: Type.String(),
  pool: Type.String(),
  cacheKey: Type.String({ description: 'the key the rows are kept under' }),
  hit: Type.Boolean({ description: 'the rows came from the cache' }),
  timeMs: Ms(),
  rowCount: Type.Integer(),
  rows: Type.Array(OpenObject, { description: 'at most 10,000 rows and cachedQueryMaxBytes bytes' }),
});
export type CachedQueryAnswer = Static<typeof CachedQueryAnswer>;

const tags = ['cache-db'];

/** Route schemas of the optimization routes. */
export const optimizationRouteSchemas = {
  recommendations: {
    summary: 'Cache and database advice with evidence, the change to make, and the time it saves per hour',
    tags,
    querystring: AdviceQuery,
    response: { 200: RecommendationsAnswer, ...problems() },
  },
  pools: {
    summary: 'Configured pools: figures and sizing advice',
    tags,
    querystring: Closed({}),
    response: { 200: PoolsAnswer, ...problems() },
  },
  comprehensive: {
    summary: 'Every cache, pool and costly statement, with the advice',
    tags,
    querystring: AdviceQuery,
    response: { 200: ComprehensiveAnswer, ...problems() },
  },
  logs: {
    summary: 'Digest a PostgreSQL log or MySQL slow log (the raw file as the body)',
    description:
      'Events before `since` or from `until` on are counted as filteredOut. The server keeps the last 20 ' +
      'uploads and explains their costliest statements with those of the traces.',
    tags,
    querystring: LogImportQuery,
    body: LogImportBody,
    response: { 200: LogDigestAnswer, ...problems(413) },
  },
  cachedQuery: {
    summary: 'Run a read-only query on a pool through a cache (parameters bound)',
    tags,
    querystring: Closed({}),
    body: CachedQueryBody,
    response: { 200: CachedQueryAnswer, ...problems(404, 413, 415, 422, 502) },
  },
} as const;
