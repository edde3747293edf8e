/**
 * A trace of 100,000 spans in the trace view (headless Chromium against a real server): the view shows its
 * first waterfall rows and the spans count, and scrolling the waterfall to its end brings the last span's row
 * into view (the waterfall is virtualised: only rows in view are in the DOM). Not timed: how fast this is
 * measured by `npm run bench:dashboard`, never asserted in a test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunningServer } from '@siperf/server';
import type { Browser } from 'playwright-core';
import { BIG_TRACE, loadBigTrace } from './fixtures.ts';
import {
  assertBuilt,
  launchChromium,
  NEEDS_CHROMIUM,
  navLinks,
  newContext,
  open,
  screenshot,
  startSiperf,
  stat,
  stats,
  textOf,
  WAIT_MS,
  watchErrors,
} from './harness.ts';

test('a 100,000-span trace: first rows shown, the waterfall scrolls to the last span', {
  skip: NEEDS_CHROMIUM,
  timeout: 900_000,
}, async (t) => {
  assertBuilt();
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startSiperf();
    const big = await loadBigTrace(server.url);
    browser = await launchChromium();
    const context = await newContext(browser);
    const page = await context.newPage();
    // Building, checking and sending a 55 MB answer takes a while on a busy machine: wait on conditions only.
    page.setDefaultTimeout(Math.max(WAIT_MS, 300_000));
    const log = watchErrors(page);
    await open(page, `${server.url}/`);
    if (!(await navLinks(page)).some((l) => l.path === '/traces')) {
      t.skip('the Traces page (/traces) is not in the dashboard yet: the trace view cannot be opened');
      return;
    }
    await page.goto(`${server.url}/traces/${big.traceId}`, { waitUntil: 'domcontentloaded' });
    const tree = page.getByRole('tree');
    // The first rows: the root, then its first children.
    const rootRow = tree.locator(`[role="treeitem"][data-span="${big.rootSpanId}"]`);
    await rootRow.waitFor({ state: 'visible', timeout: 300_000 });
    assert.equal(await textOf(rootRow.locator('.wf-label')), BIG_TRACE.rootName);
    await tree.locator('[role="treeitem"]', { hasText: 'prepare 0' }).waitFor({ state: 'visible' });
    const figures = await stats(page.locator('main'));
    assert.equal(stat(figures, 'Spans'), '100,000');
    // Virtualised: far fewer rows in the DOM than spans.
    const inDom = await tree.locator('[role="treeitem"]').count();
    assert.ok(inDom > 10 && inDom < 1000, `${inDom} rows in the DOM for 100,000 spans`);
    await screenshot(page, 'trace-100k-top', 'light');

    // Scroll the waterfall to its end: the last span's row comes into view.
    const last = tree.locator(`[role="treeitem"][data-span="${big.lastSpanId}"]`);
    assert.equal(await last.count(), 0, 'the last row is not rendered before scrolling');
    await tree.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await last.waitFor({ state: 'visible' });
    assert.equal(await textOf(last.locator('.wf-label')), BIG_TRACE.lastName);
    assert.ok(await last.isVisible());
    await screenshot(page, 'trace-100k-end', 'light');
    // And back from the keyboard: Home on the focused tree returns to the root row.
    await tree.focus();
    await page.keyboard.press('Home');
    await rootRow.waitFor({ state: 'visible' });
    assert.deepEqual(log.errors, []);
  } finally {
    await browser?.close();
    await server?.stop();
  }
});
