/**
 * Real-user monitoring end to end in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) loads a page served by this test that includes the siperf `rum.js` from the server,
 * shifts its layout, is clicked (a handler that blocks ~150 ms), and navigates away; the server then
 * reports that page's LCP, CLS, INP, FCP and TTFB. Skipped, with a message, where Chromium is absent
 * (`.ci/run` installs it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../browser/chromium.ts';
import { startTestApp, type TestApp, waitFor } from './helpers.ts';

const CHROMIUM = CHROMIUM_PATH;
const SKIP = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set SIPERF_CHROMIUM): browser test skipped`;

/** The test page: a large heading (the LCP element), a late banner (a layout shift), a slow button. */
function page(siperf: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Annotate</title></head>
<body style="font-family:sans-serif">
<h1 id="hero" style="font-size:56px;margin:0">Annotation task 42</h1>
<p style="font-size:20px;max-width:40em">${'Label every vehicle in the picture and save. '.repeat(12)}</p>
<button id="save" style="font-size:24px;padding:12px">Save annotation</button>
<script>
  setTimeout(() => {
    const banner = document.createElement('div');
    banner.style.height = '240px';
    banner.textContent = 'New tasks are waiting';
    document.body.prepend(banner);
  }, 400);
  document.getElementById('save').addEventListener('click', () => {
    const t0 = performance.now();
    while (performance.now() - t0 < 150) {}
    document.getElementById('save').textContent = 'Saved';
  });
</script>
<script src="${siperf}/rum.js" data-service="annotate-web" data-flush-interval-ms="0"></script>
</body></html>`;
}

test('Chromium: a page with rum.js reports LCP, CLS, INP, FCP and TTFB to the server', {
  skip: SKIP,
  timeout: 180_000,
}, async () => {
  let siperfUrl = '';
  const site: Server = createServer((req, res) => {
    // A little server time so TTFB is measurable.
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(req.url?.startsWith('/next') ? '<!doctype html><p>done</p>' : page(siperfUrl));
    }, 30);
  });
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  try {
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    t = await startTestApp({ corsOrigins: siteOrigin });
    siperfUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS],
    });
    const tab = await browser.newPage();
    await tab.goto(`${siteOrigin}/task?id=42`, { waitUntil: 'load' });
    await tab.waitForFunction("document.body.firstElementChild?.tagName === 'DIV'");
    await tab.waitForTimeout(500);
    await tab.click('#save');
    await tab.waitForFunction("document.getElementById('save')?.textContent === 'Saved'");
    // Leave quickly: web-vitals reads interactions in an idle callback and, when the page is hidden before
    // it ran, skips INP's final report (6.2.3); the snippet keeps every change, so INP still arrives.
    await tab.waitForTimeout(100);
    // Leaving the page hides it: web-vitals reports the final LCP, CLS and INP and the snippet sends them.
    await tab.goto(`${siteOrigin}/next`, { waitUntil: 'load' });
    let report: any;
    await waitFor(
      async () => {
        const res = await fetch(`${siperfUrl}/api/v1/apm/metrics/user-experience?page=/task`);
        report = await res.json();
        const m = report.pages[0]?.metrics ?? {};
        return Boolean(m.LCP && m.CLS && m.INP && m.FCP && m.TTFB);
      },
      'the five vitals of /task reach the server',
      { timeoutMs: 30_000, intervalMs: 100 },
    ).catch(() => undefined); // the assertions below say which metric is missing
    const task = report.pages.find((p: any) => p.page === '/task');
    assert.ok(task, `no beacon for /task: ${JSON.stringify(report)}`);
    const m = task.metrics;
    assert.deepEqual(
      Object.keys(m)
        .filter((k) => k !== 'FID')
        .sort(),
      ['CLS', 'FCP', 'INP', 'LCP', 'TTFB'],
    );
    // The server answered after ≥ 30 ms; paint follows the first byte; LCP follows FCP.
    assert.ok(m.TTFB.p75 >= 30, `TTFB ${m.TTFB.p75}`);
    assert.ok(m.FCP.p75 >= m.TTFB.p75, `FCP ${m.FCP.p75} < TTFB ${m.TTFB.p75}`);
    assert.ok(m.LCP.p75 >= m.FCP.p75, `LCP ${m.LCP.p75} < FCP ${m.FCP.p75}`);
    // The banner pushed the page down by 240 px after load without input: a layout shift.
    assert.ok(m.CLS.p75 > 0, `CLS ${m.CLS.p75}`);
    // The click handler blocked the main thread for 150 ms.
    assert.ok(m.INP.p75 >= 150, `INP ${m.INP.p75}`);
    assert.equal(typeof task.score, 'number');
    assert.ok(task.loadBreakdown.lcpSubpartsMeanMs.timeToFirstByte >= 30);
  } finally {
    await browser?.close();
    await t?.close();
    if (site.listening) await new Promise((r) => site.close(r));
  }
});
