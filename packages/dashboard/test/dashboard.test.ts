/**
 * The dashboard in a real browser (headless Chromium via playwright-core) against a real `siperf serve`
 * loaded with known data (fixtures.ts, figures computed by hand there):
 *
 * - every page of the navigation renders, shows no API error, logs no console error and no uncaught
 *   exception, has no serious or critical axe-core violation in the light and the dark theme, and is
 *   screenshotted in both (test-artifacts/);
 * - the Overview (and each other page, once it is in the navigation) shows the API's figures for the same
 *   window, which equal the hand-computed ones;
 * - every page is reachable and usable with the keyboard alone;
 * - a link copied from the URL bar reopens the same view.
 *
 * Pages are taken from the navigation the dashboard renders, so a new page is covered by the generic checks
 * as soon as it is registered in src/pages.ts. Skipped, with a message, where Chromium is absent.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RunningServer } from '@siperf/server';
import type { Browser, Page } from 'playwright-core';
import { dropRedisCache, EXPECTED, type Loaded, loadKnownData, SERVER_FLAGS } from './fixtures.ts';
import {
  apiAnswer,
  artifactName,
  assertBuilt,
  assertShows,
  auditView,
  control,
  launchChromium,
  type NavLink,
  NEEDS_CHROMIUM,
  navLinks,
  newContext,
  open,
  readTable,
  screenshot,
  settled,
  startSiperf,
  tabTo,
  textOf,
  WAIT_MS,
  watchErrors,
} from './harness.ts';

const SKIP = NEEDS_CHROMIUM;
const TIMEOUT = 600_000;

let server: RunningServer | undefined;
let loaded: Loaded | undefined;
let browser: Browser | undefined;

before(
  async () => {
    if (SKIP) return;
    assertBuilt();
    // Alert rules evaluated every second, so the known rule fires without waiting 30 s.
    server = await startSiperf({ ...SERVER_FLAGS, alertEvaluationIntervalMs: 1000 });
    loaded = await loadKnownData(server.url);
    browser = await launchChromium();
  },
  { timeout: TIMEOUT },
);

after(async () => {
  await browser?.close();
  if (server && loaded) await dropRedisCache(server.url, loaded.redisCache);
  await server?.stop();
});

/** A new tab in a fresh context (its own sessionStorage), watched for errors. */
async function newTab(): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const context = await newContext(browser!);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const log = watchErrors(page);
  return { page, errors: log.errors, close: () => context.close() };
}

/** The checks every page gets (problems are collected, so one page's failure does not hide another's). */
async function checkPage(page: Page, link: NavLink, problems: string[]): Promise<void> {
  await open(page, `${server!.url}${link.href}`);
  const h1 = await textOf(page.locator('main h1').first());
  if (h1 === '') problems.push(`${link.path}: empty heading`);
  if ((await page.title()) !== `${link.title} · siperf`)
    problems.push(`${link.path}: document title "${await page.title()}"`);
  const current = await page
    .getByRole('navigation', { name: 'Pages' })
    .locator('a[aria-current="page"]')
    .allTextContents();
  if (current.join() !== link.title)
    problems.push(`${link.path}: aria-current on ${JSON.stringify(current)}`);
  // An API error shown on a page with known data is a broken page; then axe and screenshots, both themes.
  await auditView(page, artifactName('page', link.path), problems);
}

test('every page of the navigation: renders its data, no console error, no serious axe violation in either theme; screenshots', {
  skip: SKIP,
  timeout: TIMEOUT,
}, async (t) => {
  const tab = await newTab();
  try {
    const { page } = tab;
    await open(page, `${server!.url}/`);
    const links = await navLinks(page);
    assert.ok(
      links.some((l) => l.path === '/' && l.title === 'Overview'),
      `the navigation lists the Overview: ${JSON.stringify(links)}`,
    );
    t.diagnostic(`pages in the navigation: ${links.map((l) => `${l.title} (${l.path})`).join(', ')}`);
    const problems: string[] = [];
    for (const link of links) {
      try {
        await checkPage(page, link, problems);
      } catch (err) {
        problems.push(`${link.path}: ${(err as Error).message.split('\n')[0]}`);
        await screenshot(page, artifactName('failed', link.path), 'light').catch(() => undefined);
      }
    }
    problems.push(...tab.errors);
    assert.deepEqual(problems, [], `problems on the pages:\n${problems.join('\n')}`);
  } finally {
    await tab.close();
  }
});

test('overview: per service the throughput, requests, error rate, p95 and Apdex the API answers for the same window, as computed by hand', {
  skip: SKIP,
  timeout: TIMEOUT,
}, async () => {
  const tab = await newTab();
  try {
    const { page } = tab;
    // The page's own API answer for its window (the last hour): what the table must show.
    const answer = apiAnswer(page, '/api/v1/apm/metrics/series', { window: '1h', groupBy: 'service' });
    const alertsAnswer = apiAnswer(page, '/api/v1/alerts');
    const hostsAnswer = apiAnswer(page, '/api/v1/resources/hosts');
    const adviceAnswer = apiAnswer(page, '/api/v1/recommendations', { state: 'open' });
    await open(page, `${server!.url}/`);
    const series = await answer;
    const services = page.locator('section[aria-labelledby="services-h"] table');
    await services.locator('tbody tr').first().waitFor();
    const rows = await readTable(services);
    assert.deepEqual(
      rows.map((r) => r.Service),
      ['checkout', 'catalog'],
      'busiest first (sorted by throughput, descending)',
    );
    for (const row of rows) {
      const name = row.Service as keyof typeof EXPECTED.services;
      const hand = EXPECTED.services[name];
      const api = series.groups.find((g: any) => g.service === name);
      assert.ok(api, `the API answers ${name}`);
      assertShows(row.Throughput!, api.throughputRps, `${name} throughput`, hand.throughputRps);
      assertShows(row.Requests!, api.requests, `${name} requests`, hand.requests);
      assertShows(row['Error rate']!, api.errorRate, `${name} error rate`, hand.errorRate);
      // p95 from the sketch: within 1% of the exact value.
      assertShows(row.p95!, api.p95Ms, `${name} p95`, hand.p95Ms, 0.01);
      assertShows(row.Apdex!, api.apdex, `${name} Apdex`, hand.apdex);
    }
    // By hand, as the page words them.
    assert.equal(rows[0]!.Throughput, '0.50 req/s');
    assert.equal(rows[0]!.Requests, '1,800');
    assert.equal(rows[0]!['Error rate'], '2.0%');
    assert.equal(rows[0]!.Apdex, '0.98');
    assert.equal(rows[1]!.Throughput, '0.10 req/s');
    assert.equal(rows[1]!.Requests, '360');
    assert.equal(rows[1]!['Error rate'], '0.0%');
    assert.equal(rows[1]!.p95, '1.20 s', "catalog's p95 is its max (1,200 ms): the clamp makes it exact");
    assert.equal(rows[1]!.Apdex, '0.92');
    // Each service links to its page; the sparklines are named.
    assert.equal(
      await services.locator('tbody tr').first().locator('a').first().getAttribute('href'),
      '/services/checkout',
    );
    assert.equal(await services.getByRole('img', { name: 'throughput of checkout' }).count(), 1);

    // Firing alerts: the known rule, with the API's value and its threshold.
    const alerts = await alertsAnswer;
    const firing = alerts.alerts.find((a: any) => a.ruleId === EXPECTED.alerts.firing.id);
    assert.equal(firing.state, 'firing');
    const alertPanel = page.locator('section[aria-labelledby="alerts-h"]');
    const alertText = await textOf(alertPanel.locator('li').first());
    assert.match(alertText, new RegExp(`^firing\\s+${EXPECTED.alerts.firing.name}`));
    // The page rounds to 2 decimals (format.num): the same figure as the API's.
    const shown = Number(firing.value.toFixed(2)).toLocaleString('en', { maximumFractionDigits: 2 });
    assert.ok(alertText.includes(`${shown} (threshold 300)`), alertText);
    assert.equal(await alertPanel.locator('li').count(), 1, 'the quiet rule is not listed');
    // Hosts: web-1 with the API's point count.
    const hosts = await hostsAnswer;
    const web1 = hosts.hosts.find((h: any) => h.host === EXPECTED.host.name);
    assert.ok(web1, JSON.stringify(hosts));
    const hostText = await textOf(page.locator('section[aria-labelledby="hosts-h"] li').first());
    assert.equal(hostText, `${EXPECTED.host.name} (${web1.points.toLocaleString('en')} points)`);
    // Recommendations: the open ones of the one list, the N+1 first.
    const advice = await adviceAnswer;
    const first = page.locator('section[aria-labelledby="advice-h"] ol li').first();
    const top = advice.recommendations[0];
    // By hand: the N+1 (12 author lookups per request of GET /api/products/{id}) is the top advice: the only
    // one with time saved (5 ms per request × 360 requests = 1.8 s per hour).
    assert.equal(top.kind, 'n-plus-one');
    assert.equal(top.target.endpoint, EXPECTED.nPlusOne.endpoint);
    assert.match(top.title, /GET \/api\/products\/\{id\}.*\b12\b/);
    assertShows('1.8 s', top.gain.timeSavedSecondsPerHour * 1000, 'time saved per hour', 1800);
    assert.ok((await textOf(first)).includes(top.title), 'the top advice, as the API words it');
    assert.ok((await textOf(first)).includes(top.gain.description), `its gain: ${top.gain.description}`);
    assert.equal(
      await page.locator('section[aria-labelledby="advice-h"] ol li').count(),
      Math.min(5, advice.recommendations.length),
    );
    assert.deepEqual(tab.errors, []);
  } finally {
    await tab.close();
  }
});

test('keyboard: every page is reached from the navigation with Tab and Enter; focus stays in view; sortable headers toggle with Enter and Space', {
  skip: SKIP,
  timeout: TIMEOUT,
}, async (t) => {
  const tab = await newTab();
  try {
    const { page } = tab;
    await open(page, `${server!.url}/`);
    const links = await navLinks(page);
    // The first Tab from the top of the page reaches the skip link, which moves focus to <main>.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
    const problems: string[] = [];
    await page.keyboard.press('Enter');
    const skipped = await page
      .waitForFunction(() => !!document.activeElement?.closest('main'), undefined, { timeout: 10_000 })
      .then(
        () => true,
        () => false,
      );
    if (!skipped) problems.push('"Skip to content" (Enter) does not move focus into <main>');
    let sortChecked = 0;
    for (const link of links) {
      const reached = await tabTo(page, 'nav[aria-label="Pages"] a', link.title);
      if (!reached) {
        problems.push(`${link.title}: not reached with Tab`);
        continue;
      }
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === link.path, { timeout: WAIT_MS });
      await settled(page);
      const current = await textOf(
        page.getByRole('navigation', { name: 'Pages' }).locator('a[aria-current="page"]'),
      );
      if (current !== link.title) problems.push(`${link.title}: aria-current on ${current}`);
      // Focus stays on the link used or moves into the page; it is never dropped to <body>.
      const focus = await page.evaluate(() => {
        const el = document.activeElement;
        return {
          body: !el || el === document.body,
          inNav: !!el?.closest('nav'),
          inMain: !!el?.closest('main'),
          text: el?.textContent?.trim().slice(0, 40),
        };
      });
      if (focus.body) problems.push(`${link.title}: focus dropped to <body> after Enter`);
      else if (!focus.inNav && !focus.inMain)
        problems.push(`${link.title}: focus on "${focus.text}" after Enter`);
      // The page's content is reachable: Tab goes on into <main> when it holds anything focusable.
      const focusable = await page
        .locator('main')
        .locator('a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex="0"]')
        .count();
      if (focusable > 0 && !(await tabTo(page, 'main *')))
        problems.push(`${link.title}: Tab never enters <main>`);
      // A sortable header toggles with Enter, then with Space.
      const headers = page.locator('main th[aria-sort] button');
      if ((await headers.count()) > 0) {
        if (!(await tabTo(page, 'main th[aria-sort] button'))) {
          problems.push(`${link.title}: no sortable header reached with Tab`);
        } else {
          const th = () =>
            page.evaluate(() => {
              const el = document.activeElement?.closest('th');
              return el ? { sort: el.getAttribute('aria-sort'), label: el.textContent } : undefined;
            });
          const before = await th();
          await page.keyboard.press('Enter');
          await page.waitForFunction(
            (b) => document.activeElement?.closest('th')?.getAttribute('aria-sort') !== b,
            before?.sort,
          );
          const afterEnter = await th();
          await page.keyboard.press('Space');
          await page.waitForFunction(
            (b) => document.activeElement?.closest('th')?.getAttribute('aria-sort') !== b,
            afterEnter?.sort,
          );
          const afterSpace = await th();
          if (afterEnter?.sort === 'none' || afterSpace?.sort === afterEnter?.sort)
            problems.push(
              `${link.title}: header "${before?.label}" did not toggle (${before?.sort} → ${afterEnter?.sort} → ${afterSpace?.sort})`,
            );
          if (!new URL(page.url()).searchParams.toString().includes('sort'))
            problems.push(`${link.title}: the sort is not in the URL (${page.url()})`);
          sortChecked += 1;
        }
      }
      // Back to the navigation for the next page: Shift+Tab until a nav link has focus.
      for (let i = 0; i < 200; i++) {
        if (await page.evaluate(() => !!document.activeElement?.closest('nav[aria-label="Pages"]'))) break;
        await page.keyboard.press('Shift+Tab');
      }
    }
    t.diagnostic(
      `${links.length} pages reached with the keyboard; sortable headers toggled on ${sortChecked}`,
    );
    assert.ok(sortChecked >= 1, 'at least the Overview has a sortable table');

    // The time range is a native select: ArrowDown on it (focused) picks the next range, into the URL.
    await open(page, `${server!.url}/`);
    assert.ok(await tabTo(page, 'header select'), 'the time range select is reached with Tab');
    const rangeBefore = await page.evaluate(() => (document.activeElement as HTMLSelectElement).value);
    await page.keyboard.press('ArrowDown');
    await page.waitForURL(
      (u) => u.searchParams.get('range') !== null && u.searchParams.get('range') !== rangeBefore,
    );
    assert.equal(new URL(page.url()).searchParams.get('range'), '6h', 'after 1h comes 6h');
    await settled(page);
    problems.push(...tab.errors);
    assert.deepEqual(problems, [], problems.join('\n'));
  } finally {
    await tab.close();
  }
});

/**
 * What a view shows that a copied link must bring back: the page, its heading, every control's value and
 * every sortable header's state (not the rows: a page may add rows while it stays open, e.g. a sampled
 * series).
 */
async function viewState(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(() => ({
    path: location.pathname,
    h1: document.querySelector('main h1')?.textContent?.trim(),
    selects: [...document.querySelectorAll('select')].map(
      (s) =>
        `${s.getAttribute('aria-label') ?? s.closest('label')?.firstChild?.textContent?.trim()}=${s.value}`,
    ),
    inputs: [...document.querySelectorAll<HTMLInputElement>('main input')].map((i) =>
      i.type === 'radio' || i.type === 'checkbox'
        ? `${i.name || i.type}:${i.value}=${i.checked}`
        : `${i.name || i.type}=${i.value}`,
    ),
    sorts: [...document.querySelectorAll('main th[aria-sort]')].map(
      (th) => `${th.textContent?.replace(/[▲▼]/g, '').trim()}:${th.getAttribute('aria-sort')}`,
    ),
  }));
}

/** Waits until `page` has at least `n` sortable headers (its tables drawn). */
async function tablesDrawn(page: Page, n: number): Promise<void> {
  await page
    .waitForFunction((k) => document.querySelectorAll('main th[aria-sort]').length >= k, n, {
      timeout: WAIT_MS,
    })
    .catch(() => undefined); // the comparison below says what differs
}

test('a link copied from the URL bar reopens the same view (range, service, sort) in a new tab', {
  skip: SKIP,
  timeout: TIMEOUT,
}, async (t) => {
  const tab = await newTab();
  const problems: string[] = [];
  try {
    const { page } = tab;
    await open(page, `${server!.url}/`);
    // Overview: last 6 h, service checkout, sorted by p95 ascending.
    await control(page, 'Time range').selectOption('6h');
    await page.waitForURL((u) => u.searchParams.get('range') === '6h');
    await control(page, 'Service').selectOption('checkout');
    await page.waitForURL((u) => u.searchParams.get('service') === 'checkout');
    await settled(page);
    const p95 = page.locator('main th').filter({ hasText: 'p95' }).getByRole('button');
    await p95.click();
    await page.waitForURL(
      (u) => u.searchParams.get('sort') === 'p95' && u.searchParams.get('dir') === 'desc',
    );
    await p95.click();
    await page.waitForURL((u) => u.searchParams.get('dir') === 'asc');
    await settled(page);
    const url = page.url();
    assert.deepEqual(Object.fromEntries(new URL(url).searchParams), {
      range: '6h',
      service: 'checkout',
      sort: 'p95',
      dir: 'asc',
    });
    const want = await viewState(page);
    const wantRows = await readTable(page.locator('main table').first());
    assert.deepEqual(
      wantRows.map((r) => r.Service),
      ['checkout'],
      'the service filter keeps checkout only',
    );

    const other = await newTab();
    try {
      const requests: string[] = [];
      other.page.on('request', (r) => requests.push(r.url()));
      await open(other.page, url);
      await tablesDrawn(other.page, (want.sorts as string[]).length);
      assert.deepEqual(await viewState(other.page), want);
      assert.deepEqual(await readTable(other.page.locator('main table').first()), wantRows);
      assert.equal(await control(other.page, 'Time range').inputValue(), '6h');
      assert.equal(await control(other.page, 'Service').inputValue(), 'checkout');
      assert.equal(
        await other.page.locator('main th').filter({ hasText: 'p95' }).getAttribute('aria-sort'),
        'ascending',
      );
      assert.ok(
        requests.some((u) => {
          const q = new URL(u).searchParams;
          return (
            u.includes('/api/v1/apm/metrics/series') &&
            q.get('window') === '6h' &&
            q.get('service') === 'checkout'
          );
        }),
        'the reopened view asks the API for the same window and service',
      );
      problems.push(...other.errors);
    } finally {
      await other.close();
    }

    // Every other page: reached by its link (the range and service carry over), its first sortable header
    // clicked; the URL reopens the same controls, sort states and table sizes.
    const links = (await navLinks(page)).filter((l) => l.path !== '/');
    for (const link of links) {
      await page
        .getByRole('navigation', { name: 'Pages' })
        .getByRole('link', { name: link.title, exact: true })
        .click();
      await page.waitForURL((u) => u.pathname === link.path);
      await settled(page);
      const header = page.locator('main th[aria-sort] button').first();
      if ((await header.count()) > 0) {
        const before = page.url();
        await header.click();
        await page.waitForURL((u) => u.toString() !== before);
        await settled(page);
      }
      const linkUrl = page.url();
      const q = new URL(linkUrl).searchParams;
      if (q.get('range') !== '6h' || q.get('service') !== 'checkout')
        problems.push(`${link.title}: range/service not carried over (${linkUrl})`);
      const state = await viewState(page);
      const again = await newTab();
      try {
        await open(again.page, linkUrl);
        await tablesDrawn(again.page, (state.sorts as string[]).length);
        const reopened = await viewState(again.page);
        try {
          assert.deepEqual(reopened, state);
        } catch {
          problems.push(
            `${link.title}: ${linkUrl} reopens ${JSON.stringify(reopened)}, was ${JSON.stringify(state)}`,
          );
        }
        problems.push(...again.errors);
      } finally {
        await again.close();
      }
    }
    t.diagnostic(`links reopened: Overview${links.map((l) => `, ${l.title}`).join('')}`);
    problems.push(...tab.errors);
    assert.deepEqual(problems, [], problems.join('\n'));
  } finally {
    await tab.close();
  }
});
