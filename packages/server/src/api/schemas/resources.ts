/**
 * Schemas of the resource routes under `/api/v1/resources/`: hosts, the current state of a host,
 * statistics, USE bottlenecks, scaling and cost recommendations, capacity, forecasts, and the CSV import.
 * `host` chooses the machine (default: the host that reported last). Ratios 0..1, bytes, bytes per second.
 * @module
 */
import { type Static, Type } from 'typebox';
import { Closed, Nullable, problems, StringEnum, WindowQuery } from './common.ts';

/** Forecast horizons (the keys of `HORIZONS` in resources/predictions.ts; a test keeps them equal). */
export const FORECAST_HORIZONS = ['1h', '6h', '24h', '7d', '30d'] as const;

/** Built-in resource types (`RESOURCE_TYPES` of resources/resource-series.ts). */
const RESOURCE_TYPE_NAMES = 'cpu, memory, disk, network, disk_io';

const host = Type.Optional(
  Type.String({ maxLength: 1024, description: 'host.name (default: the host that reported last)' }),
);

/** A built-in resource type or a metric name (imported series are metrics of their own name). */
const resourceName = (what: string) =>
  Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9_.\\-/]{0,254}$',
    description: `${what}: ${RESOURCE_TYPE_NAMES} or a metric name (a letter, then letters, digits, _ . - /; ≤ 255)`,
  });

const windowParams = (description: string) => ({
  from: WindowQuery.from,
  to: WindowQuery.to,
  window: Type.Optional(Type.String({ maxLength: 32, description })),
});

const Labels = Type.Record(Type.String(), Type.String(), { description: 'the series labels' });

export const HostsAnswer = Closed({
  hosts: Type.Array(
    Closed({
      host: Type.String(),
      lastSeen: Type.String({ description: 'last point, ISO-8601' }),
      points: Type.Integer({ description: 'points stored in the window' }),
    }),
  ),
});
export type HostsAnswer = Static<typeof HostsAnswer>;

const nullableNumber = (description?: string) => Nullable(Type.Number(description ? { description } : {}));

export const CurrentResourcesAnswer = Closed({
  host: Type.String(),
  timestamp: Nullable(Type.String({ description: 'newest sample, ISO-8601 (null: none in the last 5 min)' })),
  cpu: Closed({
    utilization: nullableNumber('busy share 0..1 (of the container limit when there is one)'),
    cores: nullableNumber(),
    limitCores: nullableNumber('container CPU limit'),
    load1: nullableNumber('1-minute load average'),
  }),
  memory: Closed({
    utilization: nullableNumber('0..1'),
    usedBytes: nullableNumber(),
    limitBytes: nullableNumber(),
  }),
  filesystems: Type.Array(
    Closed({
      mount: Type.String(),
      device: Type.String(),
      utilization: Type.Number({ description: "0..1, as df's Use%: used / (used + available)" }),
      usedBytes: Type.Number(),
      availableBytes: Type.Number({ description: 'what unprivileged users can still write' }),
      reservedBytes: nullableNumber(
        'free space only root may use (ext4 reserves 5% by default); null when the source does not report it',
      ),
      sizeBytes: Type.Number({
        description:
          "the filesystem's size, blocks × block size as df and node_exporter report it: used + available + reserved (used + available when reservedBytes is null)",
      }),
    }),
  ),
  network: Closed({ rxBytesPerSec: nullableNumber(), txBytesPerSec: nullableNumber() }),
  disk: Closed({
    readBytesPerSec: nullableNumber(),
    writeBytesPerSec: nullableNumber(),
    busyRatio: nullableNumber('share of time the busiest device was busy, 0..1'),
  }),
});
export type CurrentResourcesAnswer = Static<typeof CurrentResourcesAnswer>;

export const SeriesStatistics = Closed({
  labels: Labels,
  unit: Type.String(),
  samples: Type.Integer(),
  from: Nullable(Type.String({ description: 'first sample, ISO-8601 (null without samples)' })),
  to: Nullable(Type.String({ description: 'last sample, ISO-8601 (null without samples)' })),
  spanMs: Type.Number({
    description: 'time from the first to the last sample, ms: the data the figures come from (0 without two)',
  }),
  mean: Type.Number(),
  min: Type.Number(),
  max: Type.Number(),
  p50: Type.Number(),
  p95: Type.Number(),
  p99: Type.Number(),
  trendPerHour: Type.Number({
    description:
      'least-squares slope over spanMs, unit per hour (from less than an hour of data: extrapolated)',
  }),
  trendOver: Type.String({
    description:
      'the data the trend was fitted on, in words: "fitted over 1 min of data (2 samples), extrapolated to an hour"',
  }),
});
export type SeriesStatistics = Static<typeof SeriesStatistics>;

export const StatisticsAnswer = Closed({
  host: Type.String(),
  from: Type.String(),
  to: Type.String(),
  resources: Type.Array(Closed({ resource: Type.String(), series: Type.Array(SeriesStatistics) })),
});
export type StatisticsAnswer = Static<typeof StatisticsAnswer>;

export const ResourceBottleneck = Closed({
  resource: StringEnum(['cpu', 'memory', 'filesystem', 'disk', 'network'] as const),
  kind: StringEnum(['utilization', 'saturation', 'errors'] as const, { description: 'the USE letter' }),
  severity: StringEnum(['warning', 'critical'] as const),
  evidence: Type.String({ description: 'what was measured against which threshold' }),
  value: Type.Number(),
  threshold: Type.Number(),
  action: Type.String(),
  labels: Type.Optional(Labels),
});
export type ResourceBottleneck = Static<typeof ResourceBottleneck>;

export const ResourceBottlenecksAnswer = Closed({
  host: Type.String(),
  from: Type.String(),
  to: Type.String(),
  bottlenecks: Type.Array(ResourceBottleneck, { description: 'most severe first' }),
});
export type ResourceBottlenecksAnswer = Static<typeof ResourceBottlenecksAnswer>;

const queueDelay = (when: string) =>
  Type.Optional(
    Nullable(
      Type.Number({
        description: `M/M/c mean queueing delay ${when}, in mean service times (CPU only); null when the load reaches the capacity (the queue grows without bound)`,
      }),
    ),
  );

export const ScalingRecommendation = Closed({
  resource: StringEnum(['cpu', 'memory'] as const),
  scope: StringEnum(['container', 'host'] as const),
  current: Type.Number({ description: 'cores or bytes' }),
  recommended: Type.Number(),
  lowerBound: Type.Number(),
  upperBound: Type.Number(),
  scalingFactor: Type.Number({ description: 'recommended / current' }),
  action: StringEnum(['scale-up', 'scale-down', 'keep', 'wait'] as const, {
    description: 'wait: less than a day of history',
  }),
  historyDays: Type.Number(),
  samples: Type.Integer(),
  performance: Closed({
    utilizationNow: Type.Number(),
    utilizationAfter: Type.Number(),
    queueDelayNow: queueDelay('now'),
    queueDelayAfter: queueDelay('at the recommended size'),
  }),
  risk: Type.Number({ description: 'decayed share of samples (CPU) or daily peaks (memory) above it' }),
  why: Type.String(),
});
export type ScalingRecommendation = Static<typeof ScalingRecommendation>;

export const ScalingAnswer = Closed({
  host: Type.String(),
  from: Type.String(),
  to: Type.String(),
  recommendations: Type.Array(ScalingRecommendation),
});
export type ScalingAnswer = Static<typeof ScalingAnswer>;

export const CostAnswer = Closed({
  host: Type.String(),
  currency: Type.String(),
  prices: Closed({
    currency: Type.String(),
    vcpuHour: Type.Number(),
    memoryGibHour: Type.Number(),
    diskGibMonth: Type.Number(),
  }),
  monthlyCost: Closed({
    cpu: Type.Number(),
    memory: Type.Number(),
    disk: Type.Number(),
    total: Type.Number(),
  }),
  items: Type.Array(
    Closed({
      resource: StringEnum(['cpu', 'memory', 'filesystem'] as const),
      kind: StringEnum(['over-provisioned', 'under-provisioned', 'idle'] as const),
      current: Type.String(),
      proposed: Type.String(),
      monthlySavings: Type.Number({ description: '< 0 is a cost increase' }),
      evidence: Type.String(),
    }),
  ),
  potentialMonthlySavings: Type.Number({ description: 'sum of the positive savings' }),
});
export type CostAnswer = Static<typeof CostAnswer>;

export const Exhaustion = Closed(
  {
    threshold: Type.Number(),
    p10: Nullable(Type.String({ description: 'early: the upper 80% bound crosses, ISO-8601' })),
    p50: Nullable(Type.String({ description: 'likely: the forecast crosses' })),
    p90: Nullable(Type.String({ description: 'late: the lower 80% bound crosses' })),
    linear: Nullable(Type.String({ description: 'where a straight line through the history crosses' })),
    withinHorizon: Type.Boolean({ description: 'the forecast (p50) crosses within the horizon' }),
    explanation: Type.String({
      description:
        'how the forecast and the straight line relate, with their figures: why one crosses and the other does not (the line crosses after the horizon; the forecast levels off below the threshold), or how far apart they cross',
    }),
  },
  { description: 'when the threshold is crossed; null times: not within the horizon' },
);
export type Exhaustion = Static<typeof Exhaustion>;

export const CapacityAnswer = Closed({
  host: Type.String(),
  horizon: StringEnum(['7d', '30d'] as const),
  plans: Type.Array(
    Closed({
      resource: Type.String(),
      labels: Labels,
      threshold: Type.Number(),
      method: Type.String({ description: 'forecast method, none without a forecast' }),
      last: Nullable(Type.Number({ description: 'the first forecast value (null without a forecast)' })),
      crossing: Nullable(Exhaustion),
      note: Type.Optional(Type.String()),
    }),
  ),
});
export type CapacityAnswer = Static<typeof CapacityAnswer>;

export const PredictionAnswer = Closed({
  resourceType: Type.String(),
  host: Type.String(),
  labels: Labels,
  unit: Type.String(),
  horizon: StringEnum(FORECAST_HORIZONS),
  stepMs: Type.Number({ description: 'forecast step (0 without a forecast)' }),
  historyPoints: Type.Integer(),
  method: Type.String({
    description:
      'seasonal-naive, seasonal-mean (the last days or weeks at the same time, on the current level), naive, ses, holt (damped), holt-winters, double-seasonal (a day and a week), decomposition (the profile of the last days or weeks plus damped Holt on the rest, as MSTL), combination (the mean of an ETS model and a naive rule); none without a forecast',
  }),
  period: Type.Integer({ description: 'season length in steps (0: none)' }),
  period2: Type.Integer({ description: 'second (weekly) season length in steps of the method (0: none)' }),
  points: Type.Array(
    Closed({
      timestamp: Type.String(),
      value: Type.Number(),
      lower80: Type.Number(),
      upper80: Type.Number(),
      lower95: Type.Number(),
      upper95: Type.Number(),
    }),
  ),
  accuracy: Nullable(
    Closed(
      {
        mase: Type.Number(),
        relativeMae: Type.Number({ description: 'MAE over the MAE of the seasonal naive forecast' }),
        coverage80: Type.Number(),
        coverage95: Type.Number(),
        origins: Type.Integer({ description: 'forecast origins evaluated' }),
      },
      { description: 'backtest on the last 30% of the history (null: too short)' },
    ),
  ),
  exhaustion: Nullable(Exhaustion),
  note: Type.Optional(Type.String({ description: 'why there is no forecast, or why it is rough' })),
});
export type PredictionAnswer = Static<typeof PredictionAnswer>;

export const ImportQuery = Closed({
  metric: Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9_.\\-/]{0,199}$',
    description: 'a metric name (letters, digits, _ . - /; ≤ 200), not a built-in resource name',
  }),
  host: Type.String({
    pattern: '^[^\\s\\p{Cc}]{1,255}$',
    description: 'a host name (1..255 characters, no spaces or control characters)',
  }),
});

export const ImportAnswer = Closed({
  metric: Type.String(),
  host: Type.String(),
  points: Type.Integer(),
  from: Type.String({ description: 'first row, ISO-8601' }),
  to: Type.String({ description: 'last row, ISO-8601' }),
  outOfOrder: Type.Integer({ description: 'rows earlier than the row before' }),
  duplicateTimes: Type.Integer({ description: "rows whose time equals another row's" }),
  replaced: Type.Integer({ description: 'points of an earlier import of this metric and host in the range' }),
});
export type ImportAnswer = Static<typeof ImportAnswer>;

const csv = Type.String({ description: 'timestamp,value rows (ISO-8601 or epoch ms; a header is allowed)' });

const tags = ['resources'];

/** Route schemas of the resource routes. */
export const resourceRouteSchemas = {
  hosts: {
    summary: 'Hosts that reported resource metrics',
    tags,
    querystring: Closed(windowParams('window length ending at `to`: 15m, 1h, 24h, 7d (default 1h)')),
    response: { 200: HostsAnswer, ...problems() },
  },
  current: {
    summary: 'Latest CPU, memory, filesystems, network and disk I/O of a host',
    tags,
    querystring: Closed({ host }),
    response: { 200: CurrentResourcesAnswer, ...problems(404) },
  },
  statistics: {
    summary: 'Per resource over a window: mean, min, max, p50/p95/p99, trend per hour',
    tags,
    querystring: Closed({
      host,
      resource: Type.Optional(resourceName('one resource (default: every built-in one)')),
      ...windowParams('window length ending at `to` (default 1h)'),
    }),
    response: { 200: StatisticsAnswer, ...problems(404) },
  },
  bottlenecks: {
    summary: 'USE method per resource: utilisation, saturation, errors, with evidence and an action',
    tags,
    querystring: Closed({ host, ...windowParams('window length ending at `to` (default 1h)') }),
    response: { 200: ResourceBottlenecksAnswer, ...problems(404) },
  },
  scaling: {
    summary: 'VPA-style CPU and memory recommendations with performance impact and risk',
    tags,
    querystring: Closed({ host, ...windowParams('window length ending at `to` (default 7d)') }),
    response: { 200: ScalingAnswer, ...problems(404) },
  },
  cost: {
    summary: 'Monthly cost at the configured prices and what each change saves or costs',
    tags,
    querystring: Closed({ host, ...windowParams('window length ending at `to` (default 7d)') }),
    response: { 200: CostAnswer, ...problems(404) },
  },
  capacity: {
    summary:
      'When CPU, memory and each filesystem cross their thresholds at the current growth (P10/P50/P90)',
    tags,
    querystring: Closed({
      host,
      horizon: Type.Optional(StringEnum(['7d', '30d'] as const, { default: '30d' })),
    }),
    response: { 200: CapacityAnswer, ...problems(404) },
  },
  predictions: {
    summary: 'Forecast of a resource with 80% and 95% intervals, backtest accuracy and time to exhaustion',
    tags,
    params: Closed({ resourceType: resourceName('the resource') }),
    querystring: Closed({
      host,
      horizon: Type.Optional(StringEnum(FORECAST_HORIZONS, { default: '24h' })),
      select: Type.Optional(
        Type.String({
          maxLength: 1024,
          description: 'a label value choosing one series: a mount point, receive/transmit…',
        }),
      ),
      threshold: Type.Optional(
        Type.Number({
          minimum: -1e15,
          maximum: 1e15,
          description: 'value that counts as exhausted (default 1 for utilisations)',
        }),
      ),
      from: Type.Optional(
        Type.String({
          maxLength: 64,
          description: 'history start: ISO-8601 or epoch ms (default 7 d before `to`; 28 d for 7d/30d)',
        }),
      ),
      to: Type.Optional(
        Type.String({
          maxLength: 64,
          description: 'history end (default now): the forecast starts after its last point',
        }),
      ),
      window: Type.Optional(Type.String({ maxLength: 32, description: 'history length ending at `to`' })),
    }),
    response: { 200: PredictionAnswer, ...problems(404) },
  },
  import: {
    summary: 'Import a timestamp,value CSV series as a metric of a host (gauge points)',
    tags,
    querystring: ImportQuery,
    body: { content: { 'text/csv': { schema: csv }, 'text/plain': { schema: csv } } },
    response: { 201: ImportAnswer, ...problems(413, 415) },
  },
} as const;
