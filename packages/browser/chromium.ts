/**
 * Headless Chromium as this project runs it (tests, the demo): Debian's `chromium` (or `SIPERF_CHROMIUM`),
 * with the flags that keep it off the network and out of the sandbox it cannot have as root here.
 * @module
 */

/** Path of the Chromium binary. */
export const CHROMIUM_PATH = process.env.SIPERF_CHROMIUM ?? '/usr/bin/chromium';

/** Launch flags: headless, no sandbox, no GPU, and none of Chromium's own network traffic. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
