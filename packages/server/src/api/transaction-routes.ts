/**
 * Business transactions over REST, for clients that are not Node.js: `POST /api/v1/apm/transactions/start`
 * (returns an id), `POST …/{id}/steps`, `POST …/{id}/end`, and `GET /api/v1/apm/transactions` (per name:
 * count, success rate, p50/p95, per-step stats, the slowest step, abandoned ones; `service` keeps the
 * transactions with a mark of that service in the window). Each call is stored as a
 * span with `siperf.transaction.*` attributes, the same marks `@siperf/node` writes, so both land in one view.
 * Writes take the ingest key or the API key; the read takes the API key.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { transactionStats } from '../apm/index.ts';
import type { Config } from '../config.ts';
import { SiperfError } from '../errors.ts';
import { TRANSACTION_ATTRIBUTES } from '../ingest/index.ts';
import { type Span, SpanKind, StatusCode, type TransactionMark } from '../model/index.ts';
import type { Store } from '../storage/index.ts';
import { nowNs } from '../util/time.ts';
import { requireKey } from './auth.ts';
import { parseWindow } from './query-params.ts';
import {
  type EndBody,
  transactionRouteSchemas as S,
  type StartTransactionBody,
  type StepBody,
} from './schemas/transactions.ts';

/** What the transaction routes need. */
export interface TransactionDeps {
  config: Config;
  store: Store;
}

/** A span carrying one transaction mark, as the SDK would send it. */
function markSpan(
  mark: TransactionMark,
  service: string,
  traceId: string,
  startNs: bigint,
  endNs: bigint,
): Span {
  const attributes: Span['attributes'] = {
    [TRANSACTION_ATTRIBUTES.id]: mark.id,
    [TRANSACTION_ATTRIBUTES.name]: mark.name,
    [TRANSACTION_ATTRIBUTES.event]: mark.event,
  };
  if (mark.step) attributes[TRANSACTION_ATTRIBUTES.step] = mark.step;
  if (mark.success !== undefined) attributes[TRANSACTION_ATTRIBUTES.success] = mark.success;
  const failed = mark.success === false;
  const name = mark.event === 'step' ? `${mark.name} / ${mark.step}` : `${mark.name} (${mark.event})`;
  return {
    traceId,
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: '',
    service,
    name,
    endpoint: name,
    kind: SpanKind.INTERNAL,
    startTimeUnixNano: startNs,
    endTimeUnixNano: endNs,
    durationNano: endNs - startNs,
    statusCode: failed ? StatusCode.ERROR : StatusCode.UNSET,
    statusMessage: '',
    httpStatusCode: 0,
    isError: failed,
    db: undefined,
    transaction: mark,
    clockFlagged: false,
    resourceAttributes: { 'service.name': service },
    attributes,
    events: [],
    links: [],
    scope: 'siperf-rest',
  };
}

/** Registers the transaction routes. */
export async function transactionRoutes(app: FastifyInstance, deps: TransactionDeps): Promise<void> {
  const { config, store } = deps;

  /** The marks of a transaction (its id is checked by the schema). */
  const known = async (id: string) => {
    const marks = await store.transactionMarks({ transactionId: id });
    const start = marks.find((m) => m.event === 'start') ?? marks[0];
    if (!start)
      throw new SiperfError(
        'ERR_QUERY_NOT_FOUND',
        `no transaction ${id}; start it with POST /api/v1/apm/transactions/start`,
      );
    return { start, marks };
  };
  const traceIdOf = (id: string) => (/^[0-9a-f]{32}$/.test(id) ? id : randomBytes(16).toString('hex'));
  // The key before the body is parsed or anything validated: writes take the ingest or the API key.
  app.addHook('onRequest', async (request) =>
    request.method === 'POST'
      ? requireKey(request, [config.ingestKey, config.apiKey], 'transaction writes')
      : requireKey(request, [config.apiKey], 'the API'),
  );

  app.post(
    '/api/v1/apm/transactions/start',
    { schema: S.start },
    async (request: FastifyRequest<{ Body: StartTransactionBody }>, reply) => {
      const { name } = request.body;
      const service = request.body.service ?? 'api-client';
      const id = request.body.id ?? randomBytes(16).toString('hex');
      const now = nowNs();
      const mark: TransactionMark = { id, name, event: 'start', step: '', success: undefined };
      await store.writeSpans([markSpan(mark, service, traceIdOf(id), now, now)]);
      return reply.code(201).send({ id, name });
    },
  );

  app.post(
    '/api/v1/apm/transactions/:id/steps',
    { schema: S.step },
    async (request: FastifyRequest<{ Params: { id: string }; Body: StepBody }>, reply) => {
      const { name: step, durationMs } = request.body;
      const success = request.body.success ?? true;
      const { start } = await known(request.params.id);
      const now = nowNs();
      const mark: TransactionMark = { id: start.id, name: start.name, event: 'step', step, success };
      await store.writeSpans([
        markSpan(mark, start.service, traceIdOf(start.id), now - BigInt(Math.round(durationMs * 1e6)), now),
      ]);
      return reply.code(201).send({ id: start.id, step, durationMs, success });
    },
  );

  app.post(
    '/api/v1/apm/transactions/:id/end',
    { schema: S.end },
    async (request: FastifyRequest<{ Params: { id: string }; Body: EndBody | undefined }>) => {
      const success = request.body?.success;
      const { start, marks } = await known(request.params.id);
      const now = nowNs();
      const mark: TransactionMark = { id: start.id, name: start.name, event: 'end', step: '', success };
      await store.writeSpans([markSpan(mark, start.service, traceIdOf(start.id), now, now)]);
      const first = marks.reduce((a, m) => (m.startNs < a ? m.startNs : a), now);
      return {
        id: start.id,
        name: start.name,
        durationMs: Number(now - first) / 1e6,
        success: success ?? null,
      };
    },
  );

  app.get(
    '/api/v1/apm/transactions',
    { schema: S.list },
    async (request: FastifyRequest<{ Querystring: { service?: string } & Record<string, unknown> }>) => {
      const w = parseWindow(request.query, Date.now());
      // `service`: the transactions with a mark of that service in the window (all their marks).
      const marks = await store.transactionMarks({ window: w, service: request.query.service });
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        abandonAfterMs: config.transactionAbandonAfterMs,
        transactions: transactionStats(marks, nowNs(), config.transactionAbandonAfterMs),
      };
    },
  );
}
