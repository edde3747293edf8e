/**
 * Decoding OTLP/HTTP protobuf bodies with protobufjs and the opentelemetry-proto `.proto` files kept in
 * `packages/server/proto/` (Apache-2.0; see the NOTICE there). The schema is loaded on first use.
 * @module
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { SiperfError } from '../errors.ts';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

interface OtlpTypes {
  traceRequest: protobuf.Type;
  traceResponse: protobuf.Type;
  metricsRequest: protobuf.Type;
  metricsResponse: protobuf.Type;
}

let types: OtlpTypes | undefined;

/** The OTLP request and response message types (loaded once, synchronously, on first call). */
export function otlpTypes(): OtlpTypes {
  if (types) return types;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `${PROTO_DIR}${target}`;
  root.loadSync(
    [
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
      'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    ],
    { keepCase: false },
  );
  root.resolveAll();
  types = {
    traceRequest: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    traceResponse: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    metricsRequest: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    metricsResponse: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
  };
  return types;
}

/**
 * Decodes a protobuf body into a message object (ids as `Uint8Array`, 64-bit integers as `Long`).
 * @throws SiperfError `ERR_INGEST_DECODE` naming protobufjs' complaint when the bytes are not a valid message.
 */
export function decodeProtobuf(type: protobuf.Type, body: Uint8Array): unknown {
  try {
    return type.decode(body);
  } catch (err) {
    throw new SiperfError(
      'ERR_INGEST_DECODE',
      `body is not a valid ${type.name} protobuf message: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Encodes an OTLP export response (`partialSuccess` when something was rejected). */
export function encodeProtobufResponse(
  type: protobuf.Type,
  partialSuccess: Record<string, unknown> | undefined,
): Uint8Array {
  return type.encode(type.fromObject(partialSuccess ? { partialSuccess } : {})).finish();
}
