/**
 * What the dashboard's browser tests share: a real siperf server (in this process, `startServer`), headless
 * Chromium driven by playwright-core, the checks every page gets (settled, no console error, axe-core,
 * screenshots in both themes) and readers of what a page shows (the navigation, a table by its headers).
 *
 * Waits are on conditions (locator waits, bounded polling), never fixed sleeps, and nothing asserts on
 * time: on a busy 2-core machine a test gets slower, not red.
 * @module
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type RunningServer, startServer } from '@siperf/server';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../browser/chromium.ts';

/** The built dashboard the server serves. */
export const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
/** Screenshots of every page in both themes (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** `skip` option of a browser test: a visible message where Chromium is absent. */
export const NEEDS_CHROMIUM = existsSync(CHROMIUM_PATH)
  ? false
  : `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set SIPERF_CHROMIUM): dashboard browser test skipped`;

/**
 * Fails with what to run when the dashboard is not built (`npm test` builds it first; a test run alone may
 * not have).
 */
export function assertBuilt(): void {
  assert.ok(
    existsSync(join(DIST, 'index.html')),
    `the dashboard is not built (${DIST}index.html is missing): run \`npm run build -w @siperf/dashboard\` ` +
      '(or `npm run build` at the root) before these tests',
  );
}

/** Launch flags: the project's (headless, no sandbox, off the network) plus those issue 12 names. */
export const LAUNCH_ARGS: readonly string[] = [
  ...new Set([
    ...CHROMIUM_ARGS,
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ]),
];

/** Headless Chromium (playwright gives each launch a fresh temporary profile). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...LAUNCH_ARGS, ...extraArgs] });
}

/**
 * A browser context for the dashboard. `bypassCSP`: the dashboard's policy allows scripts of its own origin
 * only, and axe-core is injected as an inline script; nothing of the page's own is affected.
 */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  // tsx (esbuild, keepNames) wraps named functions in the callbacks sent to page.evaluate with `__name(…)`,
  // a helper that exists in Node only; give the page a no-op one.
  await context.addInitScript('globalThis.__name = (f) => f;');
  return context;
}

/** Flags every test server gets (as the server's own tests): no overload guard, answers checked. */
export const TEST_SERVER_FLAGS = {
  host: '127.0.0.1',
  port: 0,
  dataDir: ':memory:',
  logLevel: 'silent',
  validateResponses: 1,
  maxEventLoopDelayMs: 0,
  resourceSampleIntervalMs: 0,
} as const;

/** A real `siperf serve` in this process, on a free loopback port. */
export function startSiperf(flags: Record<string, unknown> = {}): Promise<RunningServer> {
  return startServer(loadConfig({ flags: { ...TEST_SERVER_FLAGS, ...flags } }));
}

/** Console errors and uncaught exceptions of a page, each with the URL it happened on. */
export interface ErrorLog {
  errors: string[];
}

/** Records every `console.error`, uncaught exception and 5xx answer of `page` from now on. */
export function watchErrors(page: Page, log: ErrorLog = { errors: [] }): ErrorLog {
  page.on('console', (m) => {
    if (m.type() === 'error') log.errors.push(`${page.url()}: console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => log.errors.push(`${page.url()}: uncaught: ${e.message}`));
  // A server error names its request (the console only says "500"), with the problem's detail.
  page.on('response', (r) => {
    if (r.status() < 500) return;
    const i = log.errors.push(`${page.url()}: ${r.request().method()} ${r.url()} answered ${r.status()}`) - 1;
    r.text().then(
      (body) => {
        log.errors[i] += `: ${body.slice(0, 300)}`;
      },
      () => undefined,
    );
  });
  return log;
}

/** One link of the `Pages` navigation. */
export interface NavLink {
  title: string;
  /** Path and query, as in the link's `href`. */
  href: string;
  /** The path alone. */
  path: string;
}

/** The links of `<nav aria-label="Pages">`, in order. */
export async function navLinks(page: Page): Promise<NavLink[]> {
  const nav = page.getByRole('navigation', { name: 'Pages' });
  await nav.locator('a').first().waitFor();
  const links = await nav
    .locator('ul a')
    .evaluateAll((as) =>
      as.map((a) => ({ title: (a.textContent ?? '').trim(), href: a.getAttribute('href') ?? '' })),
    );
  return links.map((l) => ({ ...l, path: new URL(l.href, 'http://x').pathname }));
}

/** The select of a global control of the header (`Time range`, `Service`, `Refresh`). */
export function control(page: Page, label: string): Locator {
  return page
    .locator('header label')
    .filter({ hasText: new RegExp(`^\\s*${label}`) })
    .locator('select');
}

/** Generous bound of a wait on the page (a busy machine is slow, not wrong). */
export const WAIT_MS = Number(process.env.SIPERF_TEST_WAIT_MS ?? 90_000);

/**
 * Waits until the page shows its content: a heading in `<main>`, and nothing in `<main>` still loading
 * (no `aria-busy="true"` element, no "Loading…" text).
 */
export async function settled(page: Page): Promise<void> {
  await page.locator('main h1').first().waitFor({ timeout: WAIT_MS });
  await page.waitForFunction(
    () => {
      const main = document.querySelector('main');
      if (!main) return false;
      if (main.querySelector('[aria-busy="true"]')) return false;
      return !/Loading…/.test(main.textContent ?? '');
    },
    undefined,
    { timeout: WAIT_MS, polling: 100 },
  );
}

/** Opens `url` and waits for the page to settle. */
export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: WAIT_MS });
  await settled(page);
}

let axeSource: string | undefined;
/** axe-core's browser build (the root devDependency). */
function axe(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/** A violation as axe reports it, shortened to what a failure message needs. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core on the page (WCAG 2.x A and AA rules and best practices) and returns the serious and
 * critical violations.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axe() });
  const violations = await page.evaluate(async () => {
    const w = window as unknown as {
      axe: {
        run(
          context: Document,
          options: object,
        ): Promise<{
          violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
        }>;
      };
    };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.map(String).join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Writes `test-artifacts/<name>-<theme>.png` (the whole page). @returns the path. */
export async function screenshot(page: Page, name: string, theme: 'light' | 'dark'): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}-${theme}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A file-name-safe name for a page path (`/` → `overview`). */
export function artifactName(prefix: string, path: string): string {
  const p = path.replace(/^\/+|\/+$/g, '').replace(/[^a-z0-9]+/gi, '-');
  return `${prefix}-${p || 'overview'}`;
}

/** The text of an element, whitespace collapsed. */
export async function textOf(locator: Locator): Promise<string> {
  return ((await locator.textContent({ timeout: WAIT_MS })) ?? '').replace(/\s+/g, ' ').trim();
}

/** The panel (`<section class="panel">`) whose heading is `title`. */
export function panel(page: Page, title: string | RegExp): Locator {
  const name = typeof title === 'string' ? new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) : title;
  return page.locator('section.panel').filter({ has: page.locator(':scope > header h2', { hasText: name }) });
}

/** `text` with the characters special in a regular expression escaped. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The values of the figures (`.stat`) in `scope`, keyed by their label. */
export async function stats(scope: Locator | Page): Promise<Record<string, string>> {
  const pairs = await scope
    .locator('.stat')
    .evaluateAll((els) =>
      els.map((el) => [
        (el.querySelector('.stat-label')?.textContent ?? '').replace(/\s+/g, ' ').trim(),
        (el.querySelector('.stat-value')?.textContent ?? '').replace(/\s+/g, ' ').trim(),
      ]),
    );
  return Object.fromEntries(pairs);
}

/** The value of the figure whose label starts with `label`. */
export function stat(all: Record<string, string>, label: string): string {
  const key = Object.keys(all).find((k) => k === label) ?? Object.keys(all).find((k) => k.startsWith(label));
  assert.ok(key !== undefined, `no figure "${label}" among ${JSON.stringify(all)}`);
  return all[key]!;
}

/**
 * The checks every view gets, with problems collected: no error shown (`role="alert"` in `<main>`), no
 * serious or critical axe-core violation in the light and the dark theme, a screenshot in each.
 */
export async function auditView(page: Page, name: string, problems: string[]): Promise<void> {
  const where = new URL(page.url()).pathname;
  const shownErrors = await page.locator('main [role="alert"]').allTextContents();
  if (shownErrors.length > 0) problems.push(`${where}: shows an error: ${shownErrors.join(' | ')}`);
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await settled(page);
    for (const v of await seriousViolations(page))
      problems.push(`${where} (${theme}): axe ${v.impact} ${v.id}: ${v.help} at ${v.targets.join(', ')}`);
    await screenshot(page, name, theme);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * The rows of a table as records keyed by column header (the header's text without the sort arrow); each
 * value is the cell's visible text, whitespace collapsed.
 */
export async function readTable(table: Locator): Promise<Record<string, string>[]> {
  return table.evaluate((el) => {
    const clean = (s: string | null) => (s ?? '').replace(/[▲▼]/g, '').replace(/\s+/g, ' ').trim();
    const heads = [...el.querySelectorAll('thead th')].map((th) => clean(th.textContent));
    return [...el.querySelectorAll('tbody tr')].map((tr) => {
      const row: Record<string, string> = {};
      [...tr.querySelectorAll('td, th')].forEach((td, i) => {
        row[heads[i] ?? `#${i}`] = clean(td.textContent);
      });
      return row;
    });
  });
}

/**
 * The JSON answer of the first API request whose path is `path` (and whose query contains `query`, if
 * given) made from now on; start waiting before the action that triggers it.
 */
export function apiAnswer<T = any>(page: Page, path: string, query: Record<string, string> = {}): Promise<T> {
  const answer = page
    .waitForResponse(
      (r) => {
        const u = new URL(r.url());
        return (
          u.pathname === path &&
          r.request().method() === 'GET' &&
          Object.entries(query).every(([k, v]) => u.searchParams.get(k) === v)
        );
      },
      { timeout: WAIT_MS },
    )
    .then(async (r) => {
      assert.equal(r.status(), 200, `${path}: ${await r.text()}`);
      return (await r.json()) as T;
    });
  // Handled here too: a test that fails before awaiting it must not end in an unhandled rejection.
  answer.catch(() => undefined);
  return answer;
}

/**
 * Presses Tab until the focused element matches `selector` (and has the text `text`, when given), at most
 * `max` times. @returns whether it was reached.
 */
export async function tabTo(page: Page, selector: string, text?: string, max = 150): Promise<boolean> {
  const focused = () =>
    page.evaluate(
      ({ sel, txt }) => {
        const el = document.activeElement;
        return !!el?.matches(sel) && (txt === undefined || (el.textContent ?? '').trim() === txt);
      },
      { sel: selector, txt: text },
    );
  for (let i = 0; i < max; i++) {
    if (await focused()) return true;
    await page.keyboard.press('Tab');
  }
  return focused();
}

/** A figure read from a page: its value in base units (ms, a 0..1 ratio, req/s, a count) and resolution. */
export interface Shown {
  value: number;
  /** Half a unit of the last digit shown, in the same units: how far the true value may be. */
  halfStep: number;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  '%': 0.01,
  'req/s': 1,
  'req/min': 1 / 60,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/**
 * The first figure in `text` (`399 ms`, `1.20 s`, `2.0%`, `0.50 req/s`, `1,800`, `0.92`), in base units:
 * durations in ms, percentages as a ratio.
 */
export function shown(text: string): Shown {
  const m = /(-?\d[\d,]*(?:\.(\d+))?)\s*(ms|s|min|h|%|req\/s|req\/min|B|KiB|MiB|GiB)?(?![\w/])/.exec(text);
  assert.ok(m, `no figure in "${text}"`);
  const unit = UNITS[m[3] ?? ''] ?? 1;
  const decimals = m[2]?.length ?? 0;
  return { value: Number(m[1]!.replaceAll(',', '')) * unit, halfStep: (0.5 * unit) / 10 ** decimals };
}

/**
 * Asserts that `text` shows `api` (what the API answered, to the precision shown) and, when `hand` is given,
 * that the API's value is the hand-computed one within `relTol` (the sketch's 1% for percentiles).
 */
export function assertShows(text: string, api: number, what: string, hand?: number, relTol = 1e-9): void {
  const s = shown(text);
  assert.ok(
    Math.abs(s.value - api) <= s.halfStep * (1 + 1e-9) + 1e-12,
    `${what}: the page shows "${text}", the API answered ${api}`,
  );
  if (hand !== undefined) {
    assert.ok(
      Math.abs(api - hand) <= Math.abs(hand) * relTol + 1e-12,
      `${what}: the API answered ${api}, by hand ${hand} (±${relTol * 100}%)`,
    );
  }
}

/** The worded gain of a recommendation as the API answers it (its field is being renamed), if it has one. */
export function gainText(r: { expectedGain?: { description?: string }; gain?: { description?: string } }) {
  return r.expectedGain?.description ?? r.gain?.description;
}
