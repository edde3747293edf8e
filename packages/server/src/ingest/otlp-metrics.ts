/**
 * OTLP metric requests (`ExportMetricsServiceRequest`, JSON or protobuf) → metric points.
 * Gauge and sum points keep their value (`asDouble` or `asInt`); histogram and exponential histogram
 * points keep count, sum, min, max and their buckets, with `value` = sum / count. Summary points keep
 * their quantiles. A point without a valid time is rejected alone (partial success, `rejectedDataPoints`).
 * Spec: https://opentelemetry.io/docs/specs/otlp/ and opentelemetry-proto `metrics.proto`.
 * @module
 */
import { SiperfError } from '../errors.ts';
import type { MetricPoint, MetricType } from '../model/index.ts';
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

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const b = toBigInt(v);
  if (b !== undefined) return Number(b);
  return typeof v === 'string' ? Number(v) : Number.NaN;
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
  arr((request as Obj).resourceMetrics).forEach((rmRaw, r) => {
    const rm = obj(rmRaw);
    const resourceAttributes = attributes(obj(rm.resource).attributes);
    const sn = resourceAttributes['service.name'];
    const service = typeof sn === 'string' && sn !== '' ? sn : 'unknown_service';
    arr(rm.scopeMetrics ?? rm.instrumentationLibraryMetrics).forEach((smRaw, s) => {
      arr(obj(smRaw).metrics).forEach((mRaw, m) => {
        const metric = obj(mRaw);
        const name = typeof metric.name === 'string' ? metric.name : '';
        const unit = typeof metric.unit === 'string' ? metric.unit : '';
        let type: MetricType | undefined;
        let data: Obj = {};
        for (const t of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const) {
          if (has(metric, t)) {
            type = t === 'exponentialHistogram' ? 'exponential_histogram' : t;
            data = obj(metric[t]);
            break;
          }
        }
        arr(data.dataPoints).forEach((pRaw, k) => {
          const path = `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}].dataPoints[${k}]`;
          const p = obj(pRaw);
          const time = toBigInt(p.timeUnixNano);
          if (name === '' || type === undefined) {
            out.rejected.push({
              index: index++,
              field: `${path}`,
              code: 'ERR_INGEST_METRIC',
              reason: 'metric has no name or no data type',
            });
            return;
          }
          if (time === undefined || time <= 0n) {
            out.rejected.push({
              index: index++,
              field: `${path}.timeUnixNano`,
              code: 'ERR_INGEST_METRIC',
              reason: `must be a positive integer of ns since the epoch, got ${JSON.stringify(p.timeUnixNano ?? null)}`,
            });
            return;
          }
          index++;
          const count = toNumber(p.count ?? 0);
          const sum = has(p, 'sum') ? toNumber(p.sum) : 0;
          let value: number;
          let buckets: unknown = null;
          if (type === 'gauge' || type === 'sum') {
            value = has(p, 'asDouble')
              ? toNumber(p.asDouble)
              : has(p, 'asInt')
                ? toNumber(p.asInt)
                : Number.NaN;
          } else if (type === 'summary') {
            value = count > 0 ? sum / count : Number.NaN;
            buckets = arr(p.quantileValues).map((q) => ({
              quantile: toNumber(obj(q).quantile),
              value: toNumber(obj(q).value),
            }));
          } else {
            value = count > 0 ? sum / count : Number.NaN;
            buckets =
              type === 'histogram'
                ? { bounds: arr(p.explicitBounds).map(toNumber), counts: arr(p.bucketCounts).map(toNumber) }
                : {
                    scale: toNumber(p.scale ?? 0),
                    zeroCount: toNumber(p.zeroCount ?? 0),
                    positive: {
                      offset: toNumber(obj(p.positive).offset ?? 0),
                      counts: arr(obj(p.positive).bucketCounts).map(toNumber),
                    },
                    negative: {
                      offset: toNumber(obj(p.negative).offset ?? 0),
                      counts: arr(obj(p.negative).bucketCounts).map(toNumber),
                    },
                  };
          }
          out.points.push({
            name,
            service,
            unit,
            type,
            monotonic: data.isMonotonic === true,
            temporality: enumValue(data.aggregationTemporality, TEMPORALITY),
            timeUnixNano: time,
            startTimeUnixNano: toBigInt(p.startTimeUnixNano) ?? 0n,
            value,
            count,
            sum,
            min: has(p, 'min') ? toNumber(p.min) : undefined,
            max: has(p, 'max') ? toNumber(p.max) : undefined,
            buckets,
            attributes: attributes(p.attributes),
            resourceAttributes,
          });
        });
      });
    });
  });
  return out;
}
