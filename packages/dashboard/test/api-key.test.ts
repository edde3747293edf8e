/**
 * The dashboard against a server with keys (`ingestKey` and `apiKey` set; it still listens on 127.0.0.1):
 * the API refuses the dashboard's calls until the key is given; the key prompt appears, a wrong key is
 * said to be wrong, the right key loads the data; the key is sent as a header and never appears in any
 * request URL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { RunningServer } from '@siperf/server';
import type { Browser, Request } from 'playwright-core';
import { dropRedisCache, EXPECTED, type Loaded, loadKnownData, SERVER_FLAGS } from './fixtures.ts';
import {
  assertBuilt,
  launchChromium,
  NEEDS_CHROMIUM,
  newContext,
  readTable,
  screenshot,
  settled,
  startSiperf,
  WAIT_MS,
  watchErrors,
} from './harness.ts';

test('with keys: the prompt appears, a wrong key is refused, the right key loads the data; the key only in a header', {
  skip: NEEDS_CHROMIUM,
  timeout: 600_000,
}, async () => {
  assertBuilt();
  const apiKey = `read-${randomBytes(12).toString('hex')}`;
  const ingestKey = `ingest-${randomBytes(12).toString('hex')}`;
  const wrongKey = `wrong-${randomBytes(12).toString('hex')}`;
  let server: RunningServer | undefined;
  let loaded: Loaded | undefined;
  let browser: Browser | undefined;
  try {
    server = await startSiperf({ ...SERVER_FLAGS, alertEvaluationIntervalMs: 1000, apiKey, ingestKey });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
    // Without a key the API refuses (401), with the ingest key it still refuses reads (403).
    assert.equal((await fetch(`${server.url}/api/v1/apm/services`)).status, 401);
    assert.equal(
      (
        await fetch(`${server.url}/api/v1/apm/services`, {
          headers: { authorization: `Bearer ${ingestKey}` },
        })
      ).status,
      403,
    );
    loaded = await loadKnownData(server.url, { authorization: `Bearer ${apiKey}` });
    browser = await launchChromium();
    const context = await newContext(browser);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const log = watchErrors(page);
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));

    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    const dialog = page.getByRole('dialog', { name: 'This server needs its API key' });
    await dialog.waitFor();
    assert.equal(await page.locator('section[aria-labelledby="services-h"] table').count(), 0, 'no data yet');
    const field = dialog.getByLabel('API key');
    assert.equal(await field.getAttribute('type'), 'password');
    await screenshot(page, 'api-key-prompt', 'light');

    // A wrong key: refused (403), and the prompt says so.
    await field.fill(wrongKey);
    await dialog.getByRole('button', { name: 'Use this key' }).click();
    await dialog.getByText('That key was not accepted.').waitFor();
    await screenshot(page, 'api-key-wrong', 'light');

    // The right key (typed, then Enter): the data loads.
    await dialog.getByLabel('API key').fill(apiKey);
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    const table = page.locator('section[aria-labelledby="services-h"] table');
    await table.locator('tbody tr').first().waitFor();
    await settled(page);
    const rows = await readTable(table);
    assert.deepEqual(
      rows.map((r) => [r.Service, r.Requests]),
      [
        ['checkout', EXPECTED.services.checkout.requests.toLocaleString('en')],
        ['catalog', String(EXPECTED.services.catalog.requests)],
      ],
    );
    // The key is kept for the tab: a reload loads the data without asking again.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await table.locator('tbody tr').first().waitFor();
    assert.equal(await dialog.count(), 0);

    // The key never appears in a URL; API calls carry it as a header, and only calls made after it was given.
    const api = requests.filter((r) => new URL(r.url()).pathname.startsWith('/api/'));
    for (const r of requests) {
      for (const k of [apiKey, wrongKey])
        assert.ok(!r.url().includes(k) && !decodeURIComponent(r.url()).includes(k), `a key in ${r.url()}`);
    }
    const sentKeys = api.map((r) => r.headers()['x-api-key'] ?? r.headers().authorization ?? '');
    assert.ok(sentKeys.includes(''), 'the first calls go without a key');
    assert.ok(sentKeys.includes(wrongKey), 'the wrong key is sent as a header');
    assert.ok(sentKeys.includes(apiKey), 'the right key is sent as a header');
    const last = api.at(-1)!;
    assert.equal(last.headers()['x-api-key'], apiKey);
    // The static files of the dashboard need no key.
    const refused = log.errors.filter((e) => !/status of 40[13]/.test(e));
    assert.deepEqual(refused, [], 'no console error other than the refused calls');
    await context.close();
  } finally {
    await browser?.close();
    if (server && loaded)
      await dropRedisCache(server.url, loaded.redisCache, { authorization: `Bearer ${apiKey}` });
    await server?.stop();
  }
});
