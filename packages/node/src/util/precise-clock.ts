/**
 * Wall-clock time with sub-millisecond digits that stays on the system clock.
 *
 * `Date.now()` has whole milliseconds; `performance.timeOrigin + performance.now()` has microseconds but
 * drifts away from the system clock over a long-running process (NTP slewing, a suspended host), which is
 * why OpenTelemetry JS 2.x stamps span starts with `Date.now()` (open-telemetry/opentelemetry-js#3279,
 * PR #3434) and so loses their sub-ms digits (issue #5019). This clock takes the middle way of
 * OpenTelemetry Java's `AnchoredClock`: wall time = an anchor read from `Date.now()` plus the
 * `performance.now()` time elapsed since. Each reading is checked against `Date.now()`; when the two are
 * more than about half a millisecond apart beyond what `Date.now()`'s truncation allows, the clock
 * re-anchors. So times are never more than ~1.5 ms from `Date.now()`, and the differences between two
 * readings (the order and gaps of spans in one trace) keep `performance.now()`'s microseconds.
 * @module
 */

/** `[seconds, nanoseconds]` since the Unix epoch (OpenTelemetry's `HrTime`). */
export type HrTime = [number, number];

/** The anchor: `Date.now()` (an integer, ms) + 0.5 ms was the wall time at `performance.now()` = `perfMs`. */
let anchorWallMs = -1;
let anchorPerfMs = 0;

/**
 * Wall time, ms since the epoch, at a `performance.now()` reading (default: now), as the integer and
 * fractional parts of the anchor (kept apart so that no digit is lost to a double of ~1.7e12).
 */
function wallParts(perfMs: number): { wholeMs: number; fracMs: number } {
  const nowPerf = performance.now();
  const nowWall = Date.now();
  // Where the anchored clock puts "now"; Date.now() truncates, so the true time is in [nowWall, nowWall + 1).
  const estimate = anchorWallMs + 0.5 + (nowPerf - anchorPerfMs);
  if (anchorWallMs < 0 || estimate < nowWall - 1 || estimate >= nowWall + 2) {
    anchorWallMs = nowWall;
    anchorPerfMs = nowPerf;
  }
  return { wholeMs: anchorWallMs, fracMs: 0.5 + (perfMs - anchorPerfMs) };
}

/**
 * The wall time at a `performance.now()` reading as `[seconds, nanoseconds]`.
 * @param perfMs - a `performance.now()` value of this process (default: now).
 */
export function hrTimeAt(perfMs: number = performance.now()): HrTime {
  const { wholeMs, fracMs } = wallParts(perfMs);
  let sec = Math.floor(wholeMs / 1000);
  let ms = wholeMs - sec * 1000 + fracMs;
  const carry = Math.floor(ms / 1000);
  sec += carry;
  ms -= carry * 1000;
  let ns = Math.round(ms * 1e6);
  if (ns >= 1e9) {
    sec += 1;
    ns -= 1e9;
  }
  return [sec, ns];
}

/** `[seconds, nanoseconds]` minus a duration in ms (≥ 0). */
export function hrTimeMinusMs(t: HrTime, durationMs: number): HrTime {
  const total = t[1] - Math.round(durationMs * 1e6);
  const borrow = Math.floor(total / 1e9);
  return [t[0] + borrow, total - borrow * 1e9];
}
