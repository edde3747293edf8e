/**
 * OTLP over gRPC (https://opentelemetry.io/docs/specs/otlp/#otlpgrpc): the unary `Export` of
 * `opentelemetry.proto.collector.trace.v1.TraceService` and `…metrics.v1.MetricsService` on `grpcPort`
 * (4317), served by `@grpc/grpc-js` over plain HTTP/2.
 *
 * It is a second door to the same pipeline as OTLP/HTTP ({@link IngestPipeline}): the same decode (the
 * `.proto` files in `packages/server/proto/`), write-queue and in-flight-bytes admission, event-loop guard,
 * keys and store. grpc-js reads the message and decompresses it (`grpc-encoding: gzip` or `deflate`),
 * refusing one over `maxDecompressedBytes` with RESOURCE_EXHAUSTED; the message reaches the handler as
 * bytes and is decoded by the pipeline. A key comes from the `authorization` metadata (`Bearer <key>`,
 * what `OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<key>` sends) or `x-api-key`.
 *
 * Errors map to status codes as the OTLP spec asks: an undecodable message INVALID_ARGUMENT; no key
 * UNAUTHENTICATED, a wrong key PERMISSION_DENIED; overload RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo`
 * in `grpc-status-details-bin` (the only RESOURCE_EXHAUSTED a client should retry); a closing store
 * UNAVAILABLE. Spans or points refused inside an accepted message come back as `partial_success`.
 * @module
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import {
  type Admission,
  encodeProtobufResponse,
  type IngestPipeline,
  otlpTypes,
  rejectionMessage,
  type SpanRejection,
} from '../ingest/index.ts';
import { bearerKey, checkKey } from './auth.ts';

/** Milliseconds a stopping server gives calls in progress before it cancels them. */
const SHUTDOWN_GRACE_MS = 5000;

/** google.rpc.Status, google.rpc.RetryInfo and the well-known types they use (field numbers as upstream). */
const rpcTypes = (() => {
  let types: { status: protobuf.Type; retryInfo: protobuf.Type } | undefined;
  return () => {
    if (types) return types;
    const root = protobuf.Root.fromJSON({
      nested: {
        google: {
          nested: {
            protobuf: {
              nested: {
                Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
                Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
              },
            },
            rpc: {
              nested: {
                Status: {
                  fields: {
                    code: { type: 'int32', id: 1 },
                    message: { type: 'string', id: 2 },
                    details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
                  },
                },
                RetryInfo: { fields: { retryDelay: { type: 'google.protobuf.Duration', id: 1 } } },
              },
            },
          },
        },
      },
    });
    types = {
      status: root.lookupType('google.rpc.Status'),
      retryInfo: root.lookupType('google.rpc.RetryInfo'),
    };
    return types;
  };
})();

/**
 * The gRPC status of an ingest error: UNAUTHENTICATED (no key), PERMISSION_DENIED (wrong key),
 * RESOURCE_EXHAUSTED with RetryInfo when the error says when to retry, RESOURCE_EXHAUSTED without for a
 * message too large, INVALID_ARGUMENT for bad data, UNAVAILABLE for a closing server, else INTERNAL.
 */
export function grpcStatusOf(err: unknown): grpc.StatusObject {
  const e =
    err instanceof SiperfError ? err : new SiperfError('ERR_INTERNAL', (err as Error)?.message ?? 'error');
  const metadata = new grpc.Metadata();
  let code: grpc.status;
  if (e.code === 'ERR_AUTH_MISSING') code = grpc.status.UNAUTHENTICATED;
  else if (e.code === 'ERR_AUTH_FORBIDDEN') code = grpc.status.PERMISSION_DENIED;
  else if (e.retryAfterSeconds !== undefined) code = grpc.status.RESOURCE_EXHAUSTED;
  else if (e.status === 413) code = grpc.status.RESOURCE_EXHAUSTED;
  else if (e.status >= 400 && e.status < 500) code = grpc.status.INVALID_ARGUMENT;
  else if (e.status === 503) code = grpc.status.UNAVAILABLE;
  else code = grpc.status.INTERNAL;
  const details = `${e.code}: ${e.detail}`;
  if (e.retryAfterSeconds !== undefined) {
    const { status, retryInfo } = rpcTypes();
    const info = retryInfo
      .encode(retryInfo.create({ retryDelay: { seconds: e.retryAfterSeconds, nanos: 0 } }))
      .finish();
    const body = status
      .encode(
        status.create({
          code,
          message: details,
          details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: info }],
        }),
      )
      .finish();
    metadata.set('grpc-status-details-bin', Buffer.from(body));
  }
  return { code, details, metadata };
}

/**
 * Decodes `grpc-status-details-bin` into the retry delay it carries, seconds (undefined without
 * RetryInfo). For clients and tests.
 */
export function retryDelaySeconds(statusDetails: Buffer): number | undefined {
  const { status, retryInfo } = rpcTypes();
  const decoded = status.toObject(status.decode(statusDetails), { longs: Number, bytes: Buffer }) as {
    details?: { typeUrl: string; value: Buffer }[];
  };
  const any = decoded.details?.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo');
  if (!any) return undefined;
  const info = retryInfo.toObject(retryInfo.decode(any.value), { longs: Number }) as {
    retryDelay?: { seconds?: number; nanos?: number };
  };
  return (info.retryDelay?.seconds ?? 0) + (info.retryDelay?.nanos ?? 0) / 1e9;
}

const bytes = (b: Buffer): Buffer => b;
/** A unary method whose messages stay bytes (decoded by the pipeline, like an HTTP body). */
function exportMethod(service: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${service}/Export`,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  };
}

/** The traces service definition (`opentelemetry.proto.collector.trace.v1.TraceService`). */
export const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: exportMethod('opentelemetry.proto.collector.trace.v1.TraceService'),
};
/** The metrics service definition (`opentelemetry.proto.collector.metrics.v1.MetricsService`). */
export const METRICS_SERVICE: grpc.ServiceDefinition = {
  Export: exportMethod('opentelemetry.proto.collector.metrics.v1.MetricsService'),
};

/** What {@link OtlpGrpcServer} needs. */
export interface OtlpGrpcDeps {
  config: Config;
  pipeline: IngestPipeline;
  /** Where failures that are not the client's fault are reported. */
  log: (message: string, err: unknown) => void;
}

function metadataValue(metadata: grpc.Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

function partialSuccess(
  countField: 'rejectedSpans' | 'rejectedDataPoints',
  rejected: readonly SpanRejection[],
): Record<string, unknown> | undefined {
  return rejected.length > 0
    ? { [countField]: rejected.length, errorMessage: rejectionMessage(rejected) }
    : undefined;
}

/** The OTLP/gRPC listener: built with the app, listening once {@link start} is called. */
export class OtlpGrpcServer {
  private server: grpc.Server | undefined;
  private boundPort: number | undefined;

  constructor(private readonly deps: OtlpGrpcDeps) {}

  /** Whether the setting asks for it (`grpcPort` > 0). */
  get enabled(): boolean {
    return this.deps.config.grpcPort > 0;
  }

  /** The port listened on, once started. */
  get port(): number | undefined {
    return this.boundPort;
  }

  /**
   * Listens on `config.host` and `port` (default `config.grpcPort`; 0 here picks a free port).
   * @returns the port bound.
   * @throws Error from grpc-js when the port cannot be bound (in use, no permission).
   */
  async start(port = this.deps.config.grpcPort): Promise<number> {
    if (this.server) throw new Error('the OTLP/gRPC server is already started');
    const { config } = this.deps;
    const server = new grpc.Server({
      // Applies to the message as received and once decompressed.
      'grpc.max_receive_message_length': config.maxDecompressedBytes,
      'grpc.max_send_message_length': 64 * 1024,
    });
    server.addService(TRACE_SERVICE, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        this.handle('otlp-traces', call, callback),
    });
    server.addService(METRICS_SERVICE, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        this.handle('otlp-metrics', call, callback),
    });
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    this.server = server;
    try {
      this.boundPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
          err ? reject(err) : resolve(bound),
        ),
      );
    } catch (err) {
      this.server = undefined;
      server.forceShutdown();
      throw err;
    }
    return this.boundPort;
  }

  /** Stops listening; calls in progress get {@link SHUTDOWN_GRACE_MS} to finish, then are cancelled. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.boundPort = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private handle(
    signal: 'otlp-traces' | 'otlp-metrics',
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
    callback: grpc.sendUnaryData<Buffer>,
  ): void {
    this.export(signal, call).then(
      (response) => callback(null, response),
      (err) => {
        const { pipeline, log } = this.deps;
        pipeline.countFailure(err);
        const status = grpcStatusOf(err);
        if (status.code === grpc.status.INTERNAL) log('OTLP/gRPC export failed', err);
        callback(status, null);
      },
    );
  }

  private async export(
    signal: 'otlp-traces' | 'otlp-metrics',
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
  ): Promise<Buffer> {
    const { config, pipeline } = this.deps;
    checkKey(
      () =>
        bearerKey(metadataValue(call.metadata, 'authorization')) ?? metadataValue(call.metadata, 'x-api-key'),
      [config.ingestKey, config.apiKey],
      'ingest',
    );
    pipeline.checkPressure();
    const message = call.request;
    // grpc-js enforced the size (maxDecompressedBytes); the message is already read, so no span
    // reservation: the decoded count is checked against the write queue below.
    const admission: Admission = pipeline.admit(message.byteLength, false, false);
    try {
      const types = otlpTypes();
      const { rejected } = await pipeline.ingest(signal, 'otlp-grpc', undefined, message, 'identity', true);
      return Buffer.from(
        signal === 'otlp-traces'
          ? encodeProtobufResponse(types.traceResponse, partialSuccess('rejectedSpans', rejected))
          : encodeProtobufResponse(types.metricsResponse, partialSuccess('rejectedDataPoints', rejected)),
      );
    } finally {
      admission.release();
    }
  }
}
