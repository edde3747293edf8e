/**
 * A coarse wall clock for the memory store's hit path: `Date.now()` read at most once per 256 calls
 * and once per turn of the event loop, so a hit on an entry with an expiry does not pay a clock read.
 * Within one turn of the loop the time may lag by as long as 256 calls took; a new turn (any I/O, timer
 * or `await` of real work) reads the clock afresh, so an expiry is seen at most that late.
 * @module
 */

/** Calls answered from one clock read at most. */
const READS_PER_TICK = 256;

let cached = 0;
let valid = false;
let reads = 0;

const invalidate = (): void => {
  valid = false;
};

/** Milliseconds since the epoch, as `Date.now()`, refreshed as described in the module comment. */
export function coarseNow(): number {
  if (valid && ++reads < READS_PER_TICK) return cached;
  cached = Date.now();
  reads = 0;
  if (!valid) {
    valid = true;
    // One check-phase callback per turn of the loop that read the clock; it does not keep the process up.
    setImmediate(invalidate).unref();
  }
  return cached;
}
