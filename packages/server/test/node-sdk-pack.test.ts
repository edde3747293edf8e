/**
 * `@siperf/node` as a user gets it: `npm pack` of the workspace, the tarball installed into a fresh
 * application in a temporary folder outside the repository (from npm's cache when it holds every
 * dependency, else from the registry), then an ESM app (`import`) and a CommonJS app (`require`) export
 * spans to a running server, which answers for them through its API. Needs the built dist (`npm run
 * build`); skipped with a message without it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { get, REPO_ROOT, startTestApp, type TestApp } from './helpers.ts';

const run = promisify(execFile);
const DIST = join(REPO_ROOT, 'packages/node/dist/index.mjs');
const SKIP = existsSync(DIST) ? false : `packages/node/dist is not built (npm run build): pack test skipped`;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The app both module systems run: three SERVER spans named after the app, then a flush. */
const body = (service: string) => `
  const siperf = init({
    serviceName: '${service}',
    endpoint: process.env.SIPERF_ENDPOINT,
    defaultInstrumentations: false,
    spanExportDelayMs: 50,
    metricExportIntervalMs: 3600000,
  });
  for (let i = 0; i < 3; i++) await traceRequest('${service} work', async () => i, { kind: 1 });
  await siperf.shutdown();
`;

let t: TestApp;
let base: string;
let dir: string;

before(async () => {
  if (SKIP) return;
  t = await startTestApp();
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'siperf-pack-'));
  await run(NPM, ['pack', '-w', '@siperf/node', '--pack-destination', dir, '--silent'], { cwd: REPO_ROOT });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'pack-app', version: '1.0.0', private: true }),
  );
  const install = (mode: string) =>
    run(NPM, ['install', join(dir, tarball), mode, '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: app,
      timeout: 300_000,
    });
  // npm's cache holds every dependency after the repository's own `npm ci`; the registry otherwise.
  await install('--offline').catch(() => install('--prefer-offline'));
  writeFileSync(
    join(app, 'esm.mjs'),
    `import { init, traceRequest } from '@siperf/node';\n${body('pack-esm')}`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const { init, traceRequest } = require('@siperf/node');\n(async () => {${body('pack-cjs')}})();`,
  );
});

after(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const [kind, file, service] of [
  ['ESM', 'esm.mjs', 'pack-esm'],
  ['CommonJS', 'cjs.cjs', 'pack-cjs'],
] as const) {
  test(`${kind === 'ESM' ? 'an' : 'a'} ${kind} app using the installed tarball exports spans the server answers for`, {
    skip: SKIP,
  }, async () => {
    const app = join(dir, 'app');
    assert.ok(!app.startsWith(REPO_ROOT), 'the app is outside the repository');
    await run(process.execPath, [file], {
      cwd: app,
      timeout: 120_000,
      env: { ...process.env, SIPERF_ENDPOINT: base, OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process' },
    });
    const { json } = await get(t.app, `/api/v1/apm/metrics/api?window=15m&service=${service}&kind=server`);
    assert.deepEqual(
      json.endpoints.map((e: any) => [e.endpoint, e.requests]),
      [[`${service} work`, 3]],
    );
  });
}
