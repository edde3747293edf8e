/**
 * `BusinessTransaction`: a multi-step workflow (sign-up, checkout, an annotation task) that may cross
 * requests, services and background jobs (the seed's `BusinessTransactionTracker`).
 *
 * Each event is a span with these attributes, which the siperf server reassembles
 * (`GET /api/v1/apm/transactions`):
 * - `siperf.transaction.id` — the transaction's id (32 hex characters unless given);
 * - `siperf.transaction.name` — its name, e.g. `checkout`;
 * - `siperf.transaction.event` — `start`, `step` or `end`;
 * - `siperf.transaction.step` — the step's name (step events);
 * - `siperf.transaction.success` — the outcome of a step or of the whole transaction.
 *
 * The id and name travel in W3C baggage (`siperf.transaction.id`, `siperf.transaction.name`): run work
 * inside `context.with(tx.context(), …)` and outgoing calls carry them; the other side calls
 * `BusinessTransaction.fromContext()` to add steps or end it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { refineStartTime } from './precise-start.ts';
import { runInSpan } from './span-run.ts';
import { hrTimeAt, hrTimeMinusMs } from './util/precise-clock.ts';

const TRACER = '@siperf/node';
const ID = 'siperf.transaction.id';
const NAME = 'siperf.transaction.name';
const EVENT = 'siperf.transaction.event';
const STEP = 'siperf.transaction.step';
const SUCCESS = 'siperf.transaction.success';

/** A business transaction in progress. */
export class BusinessTransaction {
  private constructor(
    /** The transaction's id. */
    readonly id: string,
    /** The transaction's name. */
    readonly name: string,
  ) {}

  /**
   * Starts a transaction and records its start event.
   * @param name - the workflow's name (1..256 characters).
   * @param attributes - added to the start event, e.g. `{ 'user.id': '42' }`.
   * @param id - a caller-chosen id (1..64 characters of A-Z a-z 0-9 _ . : -); default 32 random hex.
   * @throws TypeError naming the argument when the name or id is unusable.
   */
  static start(name: string, attributes: Attributes = {}, id?: string): BusinessTransaction {
    const tx = BusinessTransaction.resume(id ?? randomBytes(16).toString('hex'), name);
    tx.mark('start', `${name} (start)`, attributes);
    return tx;
  }

  /**
   * The handle of a transaction started elsewhere, to add steps or end it.
   * @throws TypeError naming the argument when the name or id is unusable.
   */
  static resume(id: string, name: string): BusinessTransaction {
    if (typeof name !== 'string' || name === '' || name.length > 256) {
      throw new TypeError('BusinessTransaction: name must be a string of 1..256 characters');
    }
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(id)) {
      throw new TypeError('BusinessTransaction: id must be 1..64 characters of A-Z a-z 0-9 _ . : -');
    }
    return new BusinessTransaction(id, name);
  }

  /** The transaction carried in a context's baggage (default: the active one), or `undefined`. */
  static fromContext(ctx: Context = context.active()): BusinessTransaction | undefined {
    const baggage = propagation.getBaggage(ctx);
    const id = baggage?.getEntry(ID)?.value;
    const name = baggage?.getEntry(NAME)?.value;
    if (!id || !name) return undefined;
    try {
      return BusinessTransaction.resume(id, name);
    } catch {
      return undefined;
    }
  }

  /** `ctx` (default: the active context) with this transaction in its baggage. */
  context(ctx: Context = context.active()): Context {
    const baggage = (propagation.getBaggage(ctx) ?? propagation.createBaggage())
      .setEntry(ID, { value: this.id })
      .setEntry(NAME, { value: this.name });
    return propagation.setBaggage(ctx, baggage);
  }

  /**
   * Runs `fn(span)` as a step: a span named `<transaction> / <step>`, failed when `fn` throws or rejects
   * (the error is re-thrown). Returns what `fn` returns; the step runs with this transaction in baggage.
   */
  step<T>(stepName: string, fn: (span: Span) => T): T {
    const tracer = trace.getTracer(TRACER);
    return context.with(this.context(), () =>
      tracer.startActiveSpan(
        `${this.name} / ${stepName}`,
        { attributes: this.attributes('step', stepName) },
        (span) => {
          refineStartTime(span);
          return runInSpan(span, fn, (sp, ok) => {
            sp.setAttribute(SUCCESS, ok);
          });
        },
      ),
    );
  }

  /**
   * Records a step that already happened (e.g. measured by another system): it ends now and lasted
   * `durationMs` (both ends with sub-millisecond digits).
   * @throws RangeError when `durationMs` is negative or not finite.
   */
  addStep(stepName: string, durationMs: number, success = true): void {
    if (!Number.isFinite(durationMs) || durationMs < 0) {
      throw new RangeError(
        `BusinessTransaction.addStep: durationMs must be a finite number ≥ 0, got ${durationMs}`,
      );
    }
    const end = hrTimeAt();
    const span = trace.getTracer(TRACER).startSpan(
      `${this.name} / ${stepName}`,
      {
        startTime: hrTimeMinusMs(end, durationMs),
        attributes: { ...this.attributes('step', stepName), [SUCCESS]: success },
      },
      this.context(),
    );
    if (!success) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  }

  /** Records the end of the transaction with its outcome. */
  end(success = true): void {
    this.mark('end', `${this.name} (end)`, { [SUCCESS]: success });
  }

  private attributes(event: 'start' | 'step' | 'end', step?: string): Attributes {
    return {
      [ID]: this.id,
      [NAME]: this.name,
      [EVENT]: event,
      ...(step === undefined ? {} : { [STEP]: step }),
    };
  }

  private mark(event: 'start' | 'end', spanName: string, extra: Attributes): void {
    const span = trace
      .getTracer(TRACER)
      .startSpan(spanName, { attributes: { ...extra, ...this.attributes(event) } }, this.context());
    refineStartTime(span);
    if (extra[SUCCESS] === false) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}
