/**
 * OTLP metric requests (`ExportMetricsServiceRequest`, JSON or protobuf) → metric points.
 * Gauge and sum points keep their value (`asDouble` or `asInt`); histogram and exponential histogram
 * points keep count, sum, min, max and their buckets, with `value` = sum / count. Summary points keep
 * their quantiles. A point without a valid time is rejected alone (partial success, `rejectedDataPoints`).
 * Spec: https://opentelemetry.io/docs/specs/otlp/ and opentelemetry-proto `metrics.proto`.
 * @module
 */
import { SiperfError } from '../errors.ts';
import type { Attributes, MetricPoint, MetricType } from '../model/index.ts';
import { attributes, enumValue, toBigInt } from './otlp-values.ts';
import type { SpanRejection } from './span-batch.ts';

type Obj = Record<string, unknown>;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const has = (o: Obj, k: string): boolean => Object.hasOwn(o, k) && o[k] !== null && o[k] !== undefined;
const TEMPORALITY = [
  'AGGREGATION_TEMPORALITY_UNSPECIFIED',
  'AGGREGATION_TEMPORALITY_DELTA',
  'AGGREGATION_TEMPORALITY_CUMULATIVE',
];

/** Points and the rejected ones of one request. */
export interface MetricBatch {
  points: MetricPoint[];
  rejected: SpanRejection[];
}

/**
 * Converts a decoded `ExportMetricsServiceRequest` into points.
 * @throws SiperfError `ERR_INGEST_DECODE` when the request is not an object.
 */
export function otlpMetricsToPoints(request: unknown): MetricBatch {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new SiperfError(
      'ERR_INGEST_DECODE',
      'expected an ExportMetricsServiceRequest object with resourceMetrics',
    );
  }
  const out: MetricBatch = { points: [], rejected: [] };
  let index = 0;
  const reject = (field: string, reason: string): void => {
    out.rejected.push({ index: index++, field, code: 'ERR_INGEST_METRIC', reason });
  };
  arr((request as Obj).resourceMetrics).forEach((rmRaw, r) => {
    const rm = obj(rmRaw);
    let resourceAttributes: Attributes;
    try {
      resourceAttributes = attributes(obj(rm.resource).attributes);
    } catch (err) {
      reject(`resourceMetrics[${r}].resource.attributes`, (err as Error).message);
      return;
    }
    const sn = resourceAttributes['service.name'];
    const service = typeof sn === 'string' && sn !== '' ? sn : 'unknown_service';
    arr(rm.scopeMetrics ?? rm.instrumentationLibraryMetrics).forEach((smRaw, s) => {
      arr(obj(smRaw).metrics).forEach((mRaw, m) => {
        const metricPath = `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}]`;
        const metric = obj(mRaw);
        const name = typeof metric.name === 'string' ? metric.name : '';
        let type: MetricType | undefined;
        let data: Obj = {};
        for (const t of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const) {
          if (has(metric, t) && typeof metric[t] === 'object') {
            type = t === 'exponentialHistogram' ? 'exponential_histogram' : t;
            data = obj(metric[t]);
            break;
          }
        }
        if (name === '') {
          reject(`${metricPath}.name`, 'a metric needs a name');
          return;
        }
        if (type === undefined) {
          reject(metricPath, 'a metric needs one of gauge, sum, histogram, exponentialHistogram or summary');
          return;
        }
        const temporality = enumValue(data.aggregationTemporality, TEMPORALITY);
        if (!Number.isInteger(temporality) || temporality < 0 || temporality > 2) {
          reject(
            `${metricPath}.${type}.aggregationTemporality`,
            `must be 0, 1 or 2, got ${JSON.stringify(data.aggregationTemporality)}`,
          );
          return;
        }
        const base = {
          name,
          service,
          unit: typeof metric.unit === 'string' ? metric.unit : '',
          type,
          monotonic: data.isMonotonic === true,
          temporality,
          resourceAttributes,
        };
        arr(data.dataPoints).forEach((pRaw, k) => {
          const path = `${metricPath}.${type}.dataPoints[${k}]`;
          try {
            const point = convertPoint(obj(pRaw), base, path);
            if ('reason' in point) reject(point.field, point.reason);
            else {
              index++;
              out.points.push(point);
            }
          } catch (err) {
            reject(path, (err as Error).message);
          }
        });
      });
    });
  });
  return out;
}

const MAX_TIME_NS = 2n ** 63n - 1n;

/** A JSON/protobuf double: a number, or the proto3 JSON spellings "NaN", "Infinity", "-Infinity". */
function toDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v)) return Number(v);
  return undefined;
}

/** A non-negative 64-bit count (string, number or Long) as a number. */
function toCount(v: unknown): number | undefined {
  if (v === undefined || v === null) return 0;
  const b = toBigInt(v);
  return b !== undefined && b >= 0n ? Number(b) : undefined;
}

type PointBase = Pick<
  MetricPoint,
  'name' | 'service' | 'unit' | 'type' | 'monotonic' | 'temporality' | 'resourceAttributes'
>;

function convertPoint(
  p: Obj,
  base: PointBase,
  path: string,
): MetricPoint | { field: string; reason: string } {
  const time = toBigInt(p.timeUnixNano);
  if (time === undefined || time <= 0n || time > MAX_TIME_NS) {
    return {
      field: `${path}.timeUnixNano`,
      reason: `must be a positive integer of ns since the epoch below 2^63, got ${JSON.stringify(p.timeUnixNano ?? null)}`,
    };
  }
  const start =
    p.startTimeUnixNano === undefined || p.startTimeUnixNano === null ? 0n : toBigInt(p.startTimeUnixNano);
  if (start === undefined || start < 0n || start > MAX_TIME_NS) {
    return {
      field: `${path}.startTimeUnixNano`,
      reason: `must be an integer of ns since the epoch below 2^63, got ${JSON.stringify(p.startTimeUnixNano)}`,
    };
  }
  let value: number;
  let count = 0;
  let sum = 0;
  let buckets: unknown = null;
  if (base.type === 'gauge' || base.type === 'sum') {
    const v = has(p, 'asDouble') ? toDouble(p.asDouble) : has(p, 'asInt') ? toSafeInt(p.asInt) : undefined;
    if (v === undefined) {
      return {
        field: `${path}.asDouble`,
        reason: `a number point needs asDouble (a number, "NaN" or "Infinity") or asInt (an integer), got ${JSON.stringify(p.asDouble ?? p.asInt ?? null)}`,
      };
    }
    value = v;
  } else {
    const c = toCount(p.count);
    if (c === undefined)
      return {
        field: `${path}.count`,
        reason: `must be a non-negative integer, got ${JSON.stringify(p.count)}`,
      };
    count = c;
    const total = has(p, 'sum') ? toDouble(p.sum) : 0;
    if (total === undefined)
      return { field: `${path}.sum`, reason: `must be a number, got ${JSON.stringify(p.sum)}` };
    sum = total;
    value = count > 0 ? sum / count : Number.NaN;
    if (base.type === 'histogram') {
      const bounds = arr(p.explicitBounds).map(toDouble);
      const counts = arr(p.bucketCounts).map(toCount);
      if (bounds.some((b) => b === undefined || Number.isNaN(b)))
        return { field: `${path}.explicitBounds`, reason: 'must be numbers' };
      if (counts.some((c) => c === undefined))
        return { field: `${path}.bucketCounts`, reason: 'must be non-negative integers' };
      if (counts.length > 0 && counts.length !== bounds.length + 1) {
        return {
          field: `${path}.bucketCounts`,
          reason: `must have explicitBounds.length + 1 = ${bounds.length + 1} entries, got ${counts.length}`,
        };
      }
      buckets = { bounds, counts };
    } else if (base.type === 'exponential_histogram') {
      const side = (v: unknown) => ({
        offset: Number(toBigInt(obj(v).offset) ?? 0n),
        counts: arr(obj(v).bucketCounts).map((c) => toCount(c) ?? 0),
      });
      buckets = {
        scale: Number(toBigInt(p.scale) ?? 0n),
        zeroCount: toCount(p.zeroCount) ?? 0,
        positive: side(p.positive),
        negative: side(p.negative),
      };
    } else {
      buckets = arr(p.quantileValues).map((q) => ({
        quantile: toDouble(obj(q).quantile) ?? null,
        value: toDouble(obj(q).value) ?? null,
      }));
    }
  }
  const min = has(p, 'min') ? toDouble(p.min) : undefined;
  const max = has(p, 'max') ? toDouble(p.max) : undefined;
  return {
    ...base,
    timeUnixNano: time,
    startTimeUnixNano: start,
    value,
    count,
    sum,
    min,
    max,
    buckets,
    attributes: attributes(p.attributes),
  };
}

function toSafeInt(v: unknown): number | undefined {
  const b = toBigInt(v);
  return b === undefined ? undefined : Number(b);
}
