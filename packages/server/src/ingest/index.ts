export type { DecodeResult, IngestSignal } from './decode-task.ts';
export type { CsvSample, CsvSeries } from './metrics-csv.ts';
export { CSV_LIMITS, parseMetricsCsv } from './metrics-csv.ts';
export { parseOtlpJson } from './otlp-json.ts';
export type { MetricBatch } from './otlp-metrics.ts';
export { otlpMetricsToPoints } from './otlp-metrics.ts';
export { decodeProtobuf, encodeProtobufResponse, otlpTypes } from './otlp-protobuf.ts';
export { otlpTracesToSpans } from './otlp-traces.ts';
export type {
  Admission,
  IngestCounters,
  IngestOutcome,
  IngestPipelineOptions,
  IngestTransport,
} from './pipeline.ts';
export { IngestPipeline } from './pipeline.ts';
export { TRANSACTION_ATTRIBUTES, transactionOf } from './semconv.ts';
export type { ClockPolicy, SpanBatch, SpanRejection } from './span-batch.ts';
export { isClockFlagged, rejectionMessage } from './span-batch.ts';
export type { NormalisedStatement } from './sql-fingerprint.ts';
export { loadSqlParser, normaliseGeneric, normaliseStatement } from './sql-fingerprint.ts';
export type { VitalsBatch, VitalsRejection } from './vitals-beacon.ts';
export { normalisePage, parseVitalsBeacon, VITALS_LIMITS } from './vitals-beacon.ts';
export { zipkinToSpans } from './zipkin.ts';
