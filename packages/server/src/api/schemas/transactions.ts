/**
 * Schemas of the business-transaction routes (`/api/v1/apm/transactions…`): start, steps, end, and the
 * per-name statistics. Durations in ms.
 * @module
 */
import { type Static, Type } from 'typebox';
import { Closed, Ms, Nullable, problems, WindowAnswer, WindowQuery } from './common.ts';

/** A transaction id: 1..64 characters of `A-Z a-z 0-9 _ . : -` (usually 32 hex). */
export const TransactionId = Type.String({
  pattern: '^[A-Za-z0-9_.:-]{1,64}$',
  description: '1..64 characters of A-Z a-z 0-9 _ . : -',
});

export const TransactionParams = Closed({ id: TransactionId });

export const StartTransactionBody = Closed({
  name: Type.String({ minLength: 1, maxLength: 256, description: 'the workflow, e.g. checkout' }),
  service: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'service.name (default api-client)' }),
  ),
  id: Type.Optional(TransactionId),
});
export type StartTransactionBody = Static<typeof StartTransactionBody>;

export const StartTransactionAnswer = Closed({ id: Type.String(), name: Type.String() });

export const StepBody = Closed({
  name: Type.String({ minLength: 1, maxLength: 256, description: 'the step, e.g. pay' }),
  durationMs: Type.Number({ minimum: 0, maximum: 2_592_000_000, description: 'how long the step took' }),
  success: Type.Optional(Type.Boolean({ description: 'default true' })),
});
export type StepBody = Static<typeof StepBody>;

export const StepAnswer = Closed({
  id: Type.String(),
  step: Type.String(),
  durationMs: Ms(),
  success: Type.Boolean(),
});

export const EndBody = Closed({
  success: Type.Optional(Type.Boolean({ description: 'the outcome; omitted: not stated' })),
});
export type EndBody = Static<typeof EndBody>;

export const EndAnswer = Closed({
  id: Type.String(),
  name: Type.String(),
  durationMs: Ms('from the first mark to the end'),
  success: Nullable(Type.Boolean()),
});

export const StepStats = Closed({
  step: Type.String(),
  count: Type.Integer(),
  failures: Type.Integer(),
  failureRate: Type.Number(),
  p95Ms: Ms(),
  meanMs: Ms(),
  shareOfTime: Type.Number({ description: "the step's share of the completed transactions' time, 0..1" }),
});

export const TransactionStats = Closed({
  name: Type.String(),
  count: Type.Integer({ description: 'completed transactions' }),
  successes: Type.Integer(),
  successRate: Type.Number(),
  p50Ms: Ms(),
  p95Ms: Ms(),
  meanMs: Ms('mean duration of the completed transactions'),
  betweenSteps: Closed(
    {
      meanMs: Ms('per completed transaction'),
      shareOfTime: Type.Number({ description: "share of the completed transactions' time, 0..1" }),
    },
    {
      description:
        'time no step covers (parallel steps count once): requests and work without a step, the network, the client',
    },
  ),
  abandoned: Type.Integer(),
  inProgress: Type.Integer(),
  steps: Type.Array(StepStats),
  slowestStep: Nullable(Type.String()),
});
export type TransactionStats = Static<typeof TransactionStats>;

export const TransactionsAnswer = Closed({
  ...WindowAnswer,
  abandonAfterMs: Ms(),
  transactions: Type.Array(TransactionStats),
});
export type TransactionsAnswer = Static<typeof TransactionsAnswer>;

/** Route schemas of the transaction routes. */
export const transactionRouteSchemas = {
  start: {
    summary: 'Start a business transaction',
    tags: ['transactions'],
    querystring: Closed({}),
    body: StartTransactionBody,
    response: { 201: StartTransactionAnswer, ...problems(415) },
  },
  step: {
    summary: 'Record a step of a business transaction',
    tags: ['transactions'],
    params: TransactionParams,
    querystring: Closed({}),
    body: StepBody,
    response: { 201: StepAnswer, ...problems(404, 415) },
  },
  end: {
    summary: 'End a business transaction (the body is optional)',
    tags: ['transactions'],
    params: TransactionParams,
    querystring: Closed({}),
    body: EndBody,
    response: { 200: EndAnswer, ...problems(404, 415) },
  },
  list: {
    summary: 'Business transactions per name, with their steps',
    tags: ['transactions'],
    querystring: Closed(WindowQuery),
    response: { 200: TransactionsAnswer, ...problems() },
  },
} as const;
