/**
 * The hours a rate per hour is taken over: the window's, counted as at least a minute (a rate from seconds
 * of data would otherwise be extrapolated further still), and those hours in words.
 * @module
 */

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * Hours to divide a window's counts by, and the text that says so.
 * @param fromMs - window start, ms since the epoch.
 * @param toMs - window end, ms since the epoch (> fromMs).
 * @returns `hours` ≥ 1/60; `text` such as `15 min`, `2 h`, or `1 min, the 20 s window counted as a minute`.
 */
export function rateWindow(fromMs: number, toMs: number): { hours: number; text: string } {
  const windowHours = (toMs - fromMs) / 3_600_000;
  const hours = Math.max(1 / 60, windowHours);
  const text = hours < 1 ? `${round1(hours * 60)} min` : `${round1(hours)} h`;
  return {
    hours,
    text:
      windowHours < hours ? `${text}, the ${round1(windowHours * 3600)} s window counted as a minute` : text,
  };
}
