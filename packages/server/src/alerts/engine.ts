/**
 * The alert engine: evaluates every rule on a schedule, steps its state machine, keeps the history of
 * transitions, applies silences, and notifies receivers on `firing` and `resolved` (and again every
 * `repeatIntervalMs` while firing): a rule's own receivers, else the default ones (`alertReceivers`); a
 * rule with neither fires to nobody, and its status says so (`delivery: 'no-receiver'`). Notices link to
 * the rule in the dashboard (`publicUrl`). A rule whose value cannot be computed, or a receiver that
 * fails, is logged; neither stops the other rules. {@link AlertEngine.stop} ends evaluation before the
 * store it reads closes.
 * @module
 */
import { type AlertNotice, type Delivery, deliver, type Receiver } from './notifiers.ts';
import type { AlertRule } from './rules.ts';
import { type AlertState, step } from './state-machine.ts';

/** Computes a rule's value at a time (`undefined` when there is no data). */
export type ValueSource = (
  rule: AlertRule,
  nowMs: number,
) => Promise<{ value: number | undefined; labels: Record<string, string> }>;

/** A transition kept in the history. */
export interface AlertEvent {
  at: string;
  ruleId: string;
  name: string;
  transition: 'pending' | 'firing' | 'resolved' | 'inactive';
  value: number | undefined;
  silenced: boolean;
  deliveries: Delivery[];
}

/** A silence: no notifications for matching rules until `endsAt` (ms). */
export interface Silence {
  id: string;
  ruleId?: string | undefined;
  /** Every label given must match the alert's. */
  labels: Record<string, string>;
  endsAtMs: number;
  comment: string;
}

/**
 * What became of the last notice of a firing or resolved alert: `delivered` (every receiver took it),
 * `failed` (a receiver refused it or could not be reached after the retries), `no-receiver` (not
 * delivered: the rule has no receiver and there is no default one), `silenced` (not sent).
 */
export type DeliveryOutcome = 'delivered' | 'failed' | 'no-receiver' | 'silenced';

/** A rule's current state, as the API shows it. */
export interface AlertStatus {
  rule: AlertRule;
  state: AlertState;
  labels: Record<string, string>;
  lastValue: number | undefined;
  lastEvaluatedMs: number | undefined;
  error?: string;
  /** Outcome of the last notice since the alert began firing (absent while inactive or pending). */
  delivery?: DeliveryOutcome;
}

const HISTORY_LIMIT = 10_000;

/** Evaluates rules and notifies. */
export class AlertEngine {
  private readonly rules = new Map<string, AlertRule>();
  private readonly status = new Map<string, AlertStatus>();
  private readonly lastNotified = new Map<string, number>();
  private readonly history: AlertEvent[] = [];
  private silences: Silence[] = [];
  private running = false;
  /** The evaluation in progress, if any (what {@link stop} waits for). */
  private current: Promise<void> | undefined;
  private stopped = false;
  private failedDeliveries = 0;
  private readonly removedBuiltIns = new Set<string>();
  /** What the change listener returned for the last change. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: ValueSource,
    private readonly options: {
      repeatIntervalMs?: number;
      deliver?: typeof deliver;
      /** Where rules without receivers of their own notify (`alertReceivers`); none by default. */
      defaultReceivers?: readonly Receiver[];
      /**
       * Base URL of the dashboard (`publicUrl`): notices carry `<publicUrl>/alerts?rule=<id>` and the
       * base as Alertmanager's `externalURL`. Without it the links are empty.
       */
      publicUrl?: string;
      log?: (message: string, err?: unknown) => void;
      /** Called after every change of the rules (to persist them); {@link saved} waits for its promise. */
      onChange?: (rules: readonly AlertRule[], removedBuiltIns: readonly string[]) => void | Promise<void>;
    } = {},
  ) {}

  /** Adds or replaces a rule (by id); its state starts inactive. */
  upsert(rule: AlertRule): void {
    this.rules.set(rule.id, rule);
    this.status.set(rule.id, {
      rule,
      state: { phase: 'inactive' },
      labels: {},
      lastValue: undefined,
      lastEvaluatedMs: undefined,
    });
    this.removedBuiltIns.delete(rule.id);
    this.changed();
  }

  /** Removes a rule. @returns whether it existed. */
  remove(id: string): boolean {
    const rule = this.rules.get(id);
    const st = this.status.get(id);
    // A firing alert whose rule goes away is resolved, so receivers (PagerDuty) close what they opened.
    if (rule && st?.state.phase === 'firing') {
      const nowMs = Date.now();
      const state: AlertState = {
        phase: 'resolved',
        sinceMs: st.state.sinceMs,
        resolvedMs: nowMs,
        value: st.state.value,
      };
      this.notify(rule, state, st.labels, st.state.value, nowMs)
        .then((deliveries) => {
          this.history.push({
            at: new Date(nowMs).toISOString(),
            ruleId: id,
            name: rule.name,
            transition: 'resolved',
            value: st.lastValue,
            silenced: false,
            deliveries,
          });
        })
        .catch(() => undefined);
    }
    this.status.delete(id);
    if (!this.rules.delete(id)) return false;
    if (rule?.builtIn) this.removedBuiltIns.add(id);
    this.changed();
    return true;
  }

  /** Sets the change listener (after the initial rules are loaded, so loading does not save). */
  setOnChange(
    listener: (rules: readonly AlertRule[], removedBuiltIns: readonly string[]) => void | Promise<void>,
  ): void {
    this.options.onChange = listener;
  }

  private changed(): void {
    this.saving = Promise.resolve(
      this.options.onChange?.([...this.rules.values()], [...this.removedBuiltIns]),
    ).catch(() => undefined);
  }

  /** Resolves once the change listener has handled the last change (the rules file is written). */
  saved(): Promise<void> {
    return this.saving;
  }

  /** Whether a rule of that id exists. */
  has(id: string): boolean {
    return this.rules.has(id);
  }

  /** Notifications a receiver refused or could not be reached for (after the retries), since start. */
  get deliveryFailures(): number {
    return this.failedDeliveries;
  }

  /** Rules held (built-in, from the rules file and made through the API). */
  get size(): number {
    return this.rules.size;
  }

  list(): AlertRule[] {
    return [...this.rules.values()];
  }

  /** States of every rule. */
  states(): AlertStatus[] {
    return [...this.status.values()];
  }

  /** The receivers a rule's notices go to: its own, else the default ones (empty: nobody). */
  receiversOf(rule: AlertRule): readonly Receiver[] {
    return rule.receivers.length > 0 ? rule.receivers : (this.options.defaultReceivers ?? []);
  }

  /** The dashboard link of a rule (empty without `publicUrl`). */
  ruleUrl(ruleId: string): string {
    const base = (this.options.publicUrl ?? '').replace(/\/+$/, '');
    return base === '' ? '' : `${base}/alerts?rule=${encodeURIComponent(ruleId)}`;
  }

  /** Transitions, newest first. */
  events(limit = 1000): AlertEvent[] {
    return this.history.slice(-limit).reverse();
  }

  addSilence(s: Silence): void {
    this.silences.push(s);
  }

  activeSilences(nowMs: number): Silence[] {
    this.silences = this.silences.filter((s) => s.endsAtMs > nowMs);
    return this.silences;
  }

  private silenced(rule: AlertRule, labels: Record<string, string>, nowMs: number): boolean {
    return this.activeSilences(nowMs).some(
      (s) =>
        (s.ruleId === undefined || s.ruleId === rule.id) &&
        Object.entries(s.labels).every(([k, v]) => labels[k] === v || rule.labels[k] === v),
    );
  }

  /**
   * Evaluates every rule once at `nowMs` (calls that overlap a running one are skipped, and so is every
   * call after {@link stop}).
   */
  async evaluate(nowMs: number): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    const run = (async () => {
      for (const rule of this.rules.values()) {
        if (this.stopped) break;
        await this.evaluateRule(rule, nowMs);
      }
    })();
    this.current = run;
    try {
      await run;
    } finally {
      this.running = false;
      this.current = undefined;
    }
  }

  /**
   * Stops evaluating: no evaluation starts any more, and a running one ends after the rule it is on.
   * Resolves once nothing reads the store (call it before closing the store). Idempotent.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.catch(() => undefined);
  }

  private async evaluateRule(rule: AlertRule, nowMs: number): Promise<void> {
    const st = this.status.get(rule.id);
    if (!st) return;
    let value: number | undefined;
    let labels: Record<string, string> = {};
    try {
      ({ value, labels } = await this.source(rule, nowMs));
      delete st.error;
    } catch (err) {
      st.error = (err as Error).message;
      this.options.log?.(`alert rule ${rule.id}: value failed`, err);
      return;
    }
    const before = st.state.phase;
    const { state, transition } = step(st.state, rule, value, nowMs);
    st.state = state;
    st.labels = labels;
    st.lastValue = value;
    st.lastEvaluatedMs = nowMs;
    const repeat = this.options.repeatIntervalMs ?? 4 * 3_600_000;
    const due =
      state.phase === 'firing' &&
      transition === undefined &&
      nowMs - (this.lastNotified.get(rule.id) ?? nowMs) >= repeat;
    if (state.phase === 'inactive' || state.phase === 'pending') delete st.delivery;
    if (state.phase !== before || transition || due) {
      const silenced = this.silenced(rule, labels, nowMs);
      let deliveries: Delivery[] = [];
      if ((transition || due) && silenced) st.delivery = 'silenced';
      if ((transition || due) && !silenced) {
        deliveries = await this.notify(rule, state, labels, value ?? Number.NaN, nowMs);
        this.lastNotified.set(rule.id, nowMs);
        st.delivery =
          deliveries.length === 0 ? 'no-receiver' : deliveries.every((d) => d.ok) ? 'delivered' : 'failed';
      }
      if (state.phase !== before) {
        this.history.push({
          at: new Date(nowMs).toISOString(),
          ruleId: rule.id,
          name: rule.name,
          transition: state.phase === 'resolved' ? 'resolved' : state.phase,
          value,
          silenced,
          deliveries,
        });
        if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
      }
    }
  }

  private async notify(
    rule: AlertRule,
    state: AlertState,
    labels: Record<string, string>,
    value: number,
    nowMs: number,
  ): Promise<Delivery[]> {
    const receivers = this.receiversOf(rule);
    if (receivers.length === 0) return [];
    const firing = state.phase === 'firing';
    const condition = `${Number.isFinite(value) ? Number(value.toPrecision(4)) : value} ${rule.op} ${rule.threshold}${firing ? '' : ' no longer'}`;
    const notice: AlertNotice = {
      status: firing ? 'firing' : 'resolved',
      ruleId: rule.id,
      name: rule.name,
      severity: rule.severity,
      labels: { ...rule.labels, ...labels },
      condition,
      summary: `${rule.name}: ${condition}`,
      value,
      threshold: rule.threshold,
      startsAt: new Date('sinceMs' in state ? state.sinceMs : nowMs).toISOString(),
      endsAt: firing ? null : new Date(nowMs).toISOString(),
      generatorUrl: this.ruleUrl(rule.id),
      externalUrl: (this.options.publicUrl ?? '').replace(/\/+$/, ''),
    };
    const send = this.options.deliver ?? deliver;
    const results = await Promise.all(receivers.map((r) => send(r, [notice])));
    const flat = results.flat();
    for (const d of flat) if (!d.ok) this.failedDeliveries++;
    for (const d of flat)
      if (!d.ok)
        this.options.log?.(
          `alert ${rule.id}: ${d.receiver} delivery failed after ${d.attempts} attempts`,
          d.error ?? d.status,
        );
    return flat;
  }
}
