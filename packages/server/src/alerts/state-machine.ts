/**
 * The alert state machine, as Prometheus evaluates alerting rules: a rule whose condition holds goes
 * `inactive → pending`, and `pending → firing` once it has held for the rule's `for` duration; a firing
 * rule resolves when the value crosses back over the clear threshold (hysteresis: with `clear` set, a
 * value between `clear` and `threshold` keeps it firing, so a value hovering at the threshold does not
 * flap). A pending rule whose condition stops holding goes back to `inactive` without notifying.
 * Pure: the evaluator keeps the states and calls {@link step} with each new value.
 * @module
 */

/** The comparison and levels of a rule. */
export interface Condition {
  op: '>' | '<';
  threshold: number;
  /** Level that clears a firing alert; defaults to `threshold`. For `>` it must be ≤ threshold. */
  clear?: number | undefined;
  /** How long the condition must hold before firing, ms (0 fires at once). */
  forMs: number;
}

/** The state of one rule. */
export type AlertState =
  | { phase: 'inactive' }
  | { phase: 'pending'; sinceMs: number; value: number }
  | { phase: 'firing'; sinceMs: number; value: number }
  | { phase: 'resolved'; sinceMs: number; resolvedMs: number; value: number };

/** A transition that notifiers care about. */
export type Transition = 'firing' | 'resolved' | undefined;

const holds = (c: Condition, v: number) => (c.op === '>' ? v > c.threshold : v < c.threshold);
const cleared = (c: Condition, v: number) => {
  const level = c.clear ?? c.threshold;
  return c.op === '>' ? v <= level : v >= level;
};

/**
 * The next state after observing `value` at `nowMs`. A missing value (`undefined`: no data) keeps a
 * firing alert firing and resets a pending one.
 */
export function step(
  state: AlertState,
  c: Condition,
  value: number | undefined,
  nowMs: number,
): { state: AlertState; transition: Transition } {
  if (value === undefined || Number.isNaN(value)) {
    if (state.phase === 'pending') return { state: { phase: 'inactive' }, transition: undefined };
    return { state, transition: undefined };
  }
  switch (state.phase) {
    case 'inactive':
    case 'resolved': {
      if (!holds(c, value)) return { state: { phase: 'inactive' }, transition: undefined };
      if (c.forMs <= 0) return { state: { phase: 'firing', sinceMs: nowMs, value }, transition: 'firing' };
      return { state: { phase: 'pending', sinceMs: nowMs, value }, transition: undefined };
    }
    case 'pending': {
      if (!holds(c, value)) return { state: { phase: 'inactive' }, transition: undefined };
      if (nowMs - state.sinceMs >= c.forMs) {
        return { state: { phase: 'firing', sinceMs: nowMs, value }, transition: 'firing' };
      }
      return { state: { ...state, value }, transition: undefined };
    }
    case 'firing': {
      if (cleared(c, value)) {
        return {
          state: { phase: 'resolved', sinceMs: state.sinceMs, resolvedMs: nowMs, value },
          transition: 'resolved',
        };
      }
      return { state: { ...state, value }, transition: undefined };
    }
  }
}
