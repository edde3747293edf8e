/**
 * Business transactions over REST, for clients that are not Node.js: `POST /api/v1/apm/transactions/start`
 * (returns an id), `POST …/{id}/steps`, `POST …/{id}/end`, and `GET /api/v1/apm/transactions` (per name:
 * count, success rate, p50/p95, per-step stats, the slowest step, abandoned ones). Each call is stored as a
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

/** What the transaction routes need. */
export interface TransactionDeps {
  config: Config;
  store: Store;
}

type Body = Record<string, unknown>;

function bodyOf(request: FastifyRequest): Body {
  const b = request.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw new SiperfError('ERR_API_BODY', 'expected a JSON object body');
  }
  return b as Body;
}

function text(b: Body, field: string, max: number, required: boolean): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) {
    if (required)
      throw new SiperfError('ERR_API_BODY', `${field}: required, a string of 1..${max} characters`, {
        field,
      });
    return undefined;
  }
  if (typeof v !== 'string' || v === '' || v.length > max) {
    throw new SiperfError('ERR_API_BODY', `${field}: expected a string of 1..${max} characters`, {
      field,
      limit: max,
    });
  }
  return v;
}

function flag(b: Body, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean')
    throw new SiperfError('ERR_API_BODY', `${field}: expected true or false`, { field });
  return v;
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
  const idPattern = /^[A-Za-z0-9_.:-]{1,64}$/;

  const known = async (id: string) => {
    if (!idPattern.test(id)) {
      throw new SiperfError('ERR_QUERY_PARAM', 'id: expected 1..64 characters of A-Z a-z 0-9 _ . : -', {
        field: 'id',
      });
    }
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

  app.post(
    '/api/v1/apm/transactions/start',
    { schema: { summary: 'Start a business transaction', tags: ['transactions'] } },
    async (request, reply) => {
      requireKey(request, [config.ingestKey, config.apiKey], 'transaction writes');
      const b = bodyOf(request);
      const name = text(b, 'name', 256, true)!;
      const service = text(b, 'service', 256, false) ?? 'api-client';
      const id = text(b, 'id', 64, false) ?? randomBytes(16).toString('hex');
      if (!idPattern.test(id))
        throw new SiperfError('ERR_API_BODY', 'id: expected 1..64 characters of A-Z a-z 0-9 _ . : -', {
          field: 'id',
        });
      const now = nowNs();
      const mark: TransactionMark = { id, name, event: 'start', step: '', success: undefined };
      await store.writeSpans([markSpan(mark, service, traceIdOf(id), now, now)]);
      return reply.code(201).send({ id, name });
    },
  );

  app.post(
    '/api/v1/apm/transactions/:id/steps',
    { schema: { summary: 'Record a step of a business transaction', tags: ['transactions'] } },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      requireKey(request, [config.ingestKey, config.apiKey], 'transaction writes');
      const b = bodyOf(request);
      const step = text(b, 'name', 256, true)!;
      const durationMs = b.durationMs;
      if (
        typeof durationMs !== 'number' ||
        !Number.isFinite(durationMs) ||
        durationMs < 0 ||
        durationMs > 30 * 86_400_000
      ) {
        throw new SiperfError('ERR_API_BODY', 'durationMs: expected a number of ms, 0..2592000000', {
          field: 'durationMs',
          limit: '0..2592000000',
        });
      }
      const success = flag(b, 'success') ?? true;
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
    { schema: { summary: 'End a business transaction', tags: ['transactions'] } },
    async (request: FastifyRequest<{ Params: { id: string } }>) => {
      requireKey(request, [config.ingestKey, config.apiKey], 'transaction writes');
      const b = request.body === undefined || request.body === null ? {} : bodyOf(request);
      const success = flag(b, 'success');
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
    { schema: { summary: 'Business transactions per name, with their steps', tags: ['transactions'] } },
    async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) => {
      requireKey(request, [config.apiKey], 'the API');
      const w = parseWindow(request.query, Date.now());
      const marks = await store.transactionMarks({ window: w });
      return {
        from: new Date(w.fromMs).toISOString(),
        to: new Date(w.toMs).toISOString(),
        abandonAfterMs: config.transactionAbandonAfterMs,
        transactions: transactionStats(marks, nowNs(), config.transactionAbandonAfterMs),
      };
    },
  );
}
