/**
 * The packages as a user gets them: `npm pack` of `@siperf/node`, `@siperf/browser` and `@siperf/server`, the
 * three tarballs installed once into a fresh application in a temporary folder outside the repository (from
 * npm's cache when it holds every dependency, else from the registry), and then, in that application:
 * - the installed packages are publishable (not private, `files`, `engines`, `exports` whose targets exist, no
 *   TypeScript but `.d.ts`, nothing resolved through `../` outside the package), and neither tsx nor esbuild
 *   is installed, so nothing of them can run;
 * - `@siperf/node` pulls no gRPC (`npm ls @grpc/grpc-js`: only the server's own OTLP/gRPC receiver);
 * - `npx siperf serve` starts, ingests an OTLP/HTTP span and answers for it through the API, serves `/rum.js`
 *   (the built script, as the package carries it), the dashboard page and its script, and `/docs/errors`;
 * - an ESM app (`import`) and a CommonJS app (`require`) using `@siperf/node` export spans that server
 *   answers for;
 * - the database drivers are optional peers, loaded only when a pool or a Redis cache asks for one: with
 *   `pg`, `mysql2` and `ioredis` made unresolvable, the SDK still loads and a memory cache works, and each
 *   pool or Redis cache fails with an error naming the package to install.
 * Needs the built packages (`npm run build`); skipped with a message without them.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, waitFor } from './helpers.ts';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const BUILT = [
  'packages/node/dist/index.mjs',
  'packages/node/dist/types/index.d.ts',
  'packages/browser/dist/rum.js',
  'packages/browser/dist/index.js',
  'packages/server/dist/bundle/cli-main.js',
  'packages/dashboard/dist/index.html',
];
const missing = BUILT.filter((f) => !existsSync(join(REPO_ROOT, f)));
const SKIP = missing.length ? `not built (npm run build): ${missing.join(', ')}; pack test skipped` : false;
const PACKAGES = ['@siperf/node', '@siperf/browser', '@siperf/server'] as const;
/** A workspace's version, as its package.json says. */
const version = (folder: string): string =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'packages', folder, 'package.json'), 'utf8')).version;

/** The environment of a child: nothing of the test runner's tsx (NODE_OPTIONS). */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/** The SDK app both module systems run: three SERVER spans named after the app, then a flush. */
const sdkBody = (service: string) => `
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

/** Preload that makes the three drivers unresolvable, as in an application that installed none of them. */
const HIDE_DRIVERS = `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^(pg|mysql2|ioredis)(\\/|$)/.test(request)) {
    const err = new Error("Cannot find module '" + request + "'");
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
`;

/** Each driver-backed constructor, and what it printed: the error's name and message, or 'ok'. */
const DRIVERS_CJS = `const { createPgPool, createMysqlPool } = require('@siperf/node/db');
const { createCache } = require('@siperf/node/cache');
const out = {};
async function attempt(name, make) {
  try {
    const close = await make();
    out[name] = 'ok';
    await close();
  } catch (err) {
    out[name] = err.name + ': ' + err.message;
  }
}
(async () => {
  await attempt('memory', async () => {
    const c = createCache('mem', { backend: 'memory', maxEntries: 10 });
    await c.set('k', 1);
    const v = await c.get('k');
    if (v !== 1) throw new Error('the memory cache answered ' + v);
    return () => c.close();
  });
  await attempt('pg', () => {
    const p = createPgPool('p', { host: '127.0.0.1', port: 1 });
    return () => p.pool.end();
  });
  await attempt('mysql2', () => {
    const m = createMysqlPool('m', { host: '127.0.0.1', port: 1 });
    return () => m.pool.end();
  });
  await attempt('ioredis', () => {
    const c = createCache('red', { backend: 'redis', redis: 'redis://127.0.0.1:1' });
    return () => c.close();
  });
  process.stdout.write(JSON.stringify(out));
})();
`;

let dir: string;
let app: string;
let server: ChildProcess | undefined;
/** Resolves once every process holding the server's stdout (npx and the siperf it started) has exited. */
let serverGone: Promise<void>;
let serverOut = '';
let serverErr = '';
let stopped = false;
let base: string;

before(async () => {
  if (SKIP) return;
  dir = mkdtempSync(join(tmpdir(), 'siperf-pack-'));
  assert.ok(!dir.startsWith(REPO_ROOT), 'the app is outside the repository');
  await run(NPM, ['pack', ...PACKAGES.flatMap((p) => ['-w', p]), '--pack-destination', dir, '--silent'], {
    cwd: REPO_ROOT,
    env: plainEnv(),
    timeout: 120_000,
  });
  const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  assert.deepEqual(tarballs.sort(), [
    'siperf-browser-0.1.0.tgz',
    'siperf-node-0.1.0.tgz',
    'siperf-server-0.1.0.tgz',
  ]);
  assert.ok(
    !existsSync(join(REPO_ROOT, 'packages/server/dist/bundled')),
    'postpack removed the bundled copy',
  );
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'pack-app', version: '1.0.0', private: true }),
  );
  const install = (mode: string) =>
    run(
      NPM,
      ['install', ...tarballs.map((t) => join(dir, t)), mode, '--no-audit', '--no-fund', '--loglevel=error'],
      {
        cwd: app,
        env: plainEnv(),
        timeout: 300_000,
      },
    );
  // npm's cache holds every dependency after an earlier run; the registry otherwise.
  await install('--offline').catch(() => install('--prefer-offline'));

  const data = join(dir, 'data');
  server = spawn(
    NPX,
    ['--no-install', 'siperf', 'serve', '--port', '0', '--grpc-port', '0', '--data-dir', data],
    {
      cwd: app,
      env: plainEnv({ SIPERF_LOG_LEVEL: 'info', SIPERF_MAX_EVENT_LOOP_DELAY_MS: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  serverGone = new Promise((res) => server?.stdout?.once('close', () => res()));
  server.stdout?.on('data', (d) => {
    serverOut += d;
  });
  server.stderr?.on('data', (d) => {
    serverErr += d;
  });
  base = await waitFor(
    () => {
      if (server?.exitCode !== null)
        throw new Error(`siperf serve exited (${server?.exitCode}): ${serverErr}`);
      const line = serverOut.split('\n').find((l) => l.includes('"siperf listening"'));
      return line ? (JSON.parse(line) as { url: string }).url : undefined;
    },
    'the installed siperf serve listening',
    { timeoutMs: 120_000, intervalMs: 50 },
  );
});

after(async () => {
  if (server?.pid && !stopped) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {}
    await serverGone;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The installed package's folder. */
const installed = (name: string) => join(app, 'node_modules', name);

/** Every file under `root`, relative. */
function files(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(root, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

/** Every string target of an `exports` map. */
function targets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (exports && typeof exports === 'object') return Object.values(exports).flatMap(targets);
  return [];
}

test('the installed packages are publishable: not private, files, engines, exports that exist, no TypeScript sources', {
  skip: SKIP,
}, () => {
  for (const name of PACKAGES) {
    const root = installed(name);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.private, undefined, `${name} is not private`);
    assert.equal(pkg.license, 'Apache-2.0', name);
    assert.equal(pkg.engines?.node, '>=20.11', name);
    assert.ok(Array.isArray(pkg.files), `${name} lists its files`);
    const all = files(root);
    const sources = all.filter((f) => /\.[cm]?tsx?$/.test(f) && !/\.d\.[cm]?ts$/.test(f));
    assert.deepEqual(sources, [], `${name} ships no TypeScript sources`);
    assert.ok(
      all.some((f) => f.endsWith('.d.ts')),
      `${name} ships .d.ts`,
    );
    const dangling = targets(pkg.exports).filter((t) => !existsSync(join(root, t)));
    assert.deepEqual(dangling, [], `${name}'s exports point at files it carries`);
    for (const t of targets(pkg.exports)) assert.ok(!t.includes('..'), `${name}: ${t} stays in the package`);
  }
  const server = JSON.parse(readFileSync(join(installed('@siperf/server'), 'package.json'), 'utf8'));
  assert.equal(server.bin.siperf, './bin/siperf.js');
  for (const f of ['dist/bundled/dashboard/index.html', 'dist/bundled/rum.js', 'dist/bundled/errors.md']) {
    assert.ok(existsSync(join(installed('@siperf/server'), f)), `@siperf/server carries ${f}`);
  }
  for (const dev of ['tsx', 'esbuild', 'typescript', '@siperf/dashboard']) {
    assert.ok(!existsSync(installed(dev)), `${dev} is not installed in the app`);
  }
  const node = JSON.parse(readFileSync(join(installed('@siperf/node'), 'package.json'), 'utf8'));
  for (const driver of ['pg', 'mysql2', 'ioredis']) {
    assert.equal(node.dependencies[driver], undefined, `${driver} is not a dependency of @siperf/node`);
    assert.ok(node.peerDependencies[driver], `${driver} is a peer of @siperf/node`);
    assert.equal(node.peerDependenciesMeta[driver]?.optional, true, `${driver} is an optional peer`);
  }
});

test('@siperf/node pulls no gRPC: npm ls finds @grpc/grpc-js under the server only', {
  skip: SKIP,
}, async () => {
  const { stdout } = await run(NPM, ['ls', '@grpc/grpc-js', '--all', '--json'], {
    cwd: app,
    env: plainEnv(),
  });
  const paths: string[][] = [];
  const walk = (deps: Record<string, { dependencies?: object }> | undefined, path: string[]) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      if (name === '@grpc/grpc-js') paths.push(path);
      walk(node.dependencies as never, [...path, name]);
    }
  };
  walk(JSON.parse(stdout).dependencies, []);
  assert.ok(paths.length > 0, 'the server has its OTLP/gRPC receiver');
  assert.deepEqual(
    paths.filter((p) => p.includes('@siperf/node')),
    [],
    `no path to @grpc/grpc-js through @siperf/node: ${JSON.stringify(paths)}`,
  );
});

test('the installed siperf serve ingests an OTLP/HTTP span, answers for it, serves rum.js, the dashboard and /docs/errors', {
  skip: SKIP,
}, async () => {
  const traceId = randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pack-http' } }] },
        scopeSpans: [
          {
            scope: { name: 'pack-test' },
            spans: [
              {
                traceId,
                spanId: randomBytes(8).toString('hex'),
                name: 'GET /pack',
                kind: 2,
                startTimeUnixNano: String(now - 15_000_000n),
                endTimeUnixNano: String(now),
              },
            ],
          },
        ],
      },
    ],
  };
  const posted = await fetch(`${base}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(posted.status, 200, await posted.text());
  const trace = (await (await fetch(`${base}/api/v1/apm/traces/${traceId}`)).json()) as {
    spanCount: number;
    roots: { name: string; durationMs?: number }[];
  };
  assert.equal(trace.spanCount, 1);
  assert.deepEqual(
    trace.roots.map((r) => r.name),
    ['GET /pack'],
  );

  const rum = await fetch(`${base}/rum.js`);
  assert.equal(rum.status, 200);
  assert.match(rum.headers.get('content-type') ?? '', /^application\/javascript/);
  const built = readFileSync(join(REPO_ROOT, 'packages/browser/dist/rum.js'), 'utf8');
  assert.equal(await rum.text(), built, 'the script the build wrote, carried by the package');

  const page = await fetch(`${base}/traces`, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.equal(html, readFileSync(join(REPO_ROOT, 'packages/dashboard/dist/index.html'), 'utf8'));
  const script = /<script type="module"[^>]* src="([^"]+)"/.exec(html)?.[1];
  assert.ok(script, 'the dashboard page loads its script');
  const asset = await fetch(new URL(script, base));
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type') ?? '', /javascript/);

  const errors = await fetch(`${base}/docs/errors`);
  assert.equal(errors.status, 200);
  assert.match(await errors.text(), /id="err_ingest_decode"/);
});

for (const [kind, file, service, source] of [
  [
    'ESM',
    'esm.mjs',
    'pack-esm',
    `import { init, traceRequest } from '@siperf/node';\n${sdkBody('pack-esm')}`,
  ],
  [
    'CommonJS',
    'cjs.cjs',
    'pack-cjs',
    `const { init, traceRequest } = require('@siperf/node');\n(async () => {${sdkBody('pack-cjs')}})();`,
  ],
] as const) {
  test(`${kind === 'ESM' ? 'an' : 'a'} ${kind} app using the installed @siperf/node exports spans the installed server answers for`, {
    skip: SKIP,
  }, async () => {
    writeFileSync(join(app, file), source);
    await run(process.execPath, [file], {
      cwd: app,
      timeout: 120_000,
      env: plainEnv({ SIPERF_ENDPOINT: base }),
    });
    const r = await fetch(`${base}/api/v1/apm/metrics/api?window=15m&service=${service}&kind=server`);
    assert.equal(r.status, 200);
    const json = (await r.json()) as { endpoints: { endpoint: string; requests: number }[] };
    assert.deepEqual(
      json.endpoints.map((e) => [e.endpoint, e.requests]),
      [[`${service} work`, 3]],
    );
  });
}

test('database drivers are optional peers: loaded only for a pool or a Redis cache, else an error naming the package', {
  skip: SKIP,
}, async () => {
  writeFileSync(join(app, 'hide-drivers.cjs'), HIDE_DRIVERS);
  writeFileSync(join(app, 'drivers.cjs'), DRIVERS_CJS);
  const hidden = await run(process.execPath, ['--require', './hide-drivers.cjs', 'drivers.cjs'], {
    cwd: app,
    timeout: 60_000,
    env: plainEnv(),
  });
  const install = (feature: string, pkg: string) =>
    `MissingPeerDependencyError: ${feature} needs the '${pkg}' package: install it with \`npm install ${pkg}\``;
  assert.deepEqual(JSON.parse(hidden.stdout), {
    memory: 'ok',
    pg: install('createPgPool', 'pg'),
    mysql2: install('createMysqlPool', 'mysql2'),
    ioredis: install('createCache (backend redis)', 'ioredis'),
  });
  // Installed (here through @siperf/server), the CommonJS build finds them from its own folder.
  const present = await run(process.execPath, ['drivers.cjs'], {
    cwd: app,
    timeout: 60_000,
    env: plainEnv(),
  });
  const out = JSON.parse(present.stdout);
  assert.equal(out.pg, 'ok');
  assert.equal(out.mysql2, 'ok');
  assert.doesNotMatch(out.ioredis, /MissingPeerDependencyError/);
});

test('npx siperf --version prints the package version; siperf serve drains and stops on SIGTERM', {
  skip: SKIP,
}, async () => {
  const { stdout } = await run(NPX, ['--no-install', 'siperf', '--version'], { cwd: app, env: plainEnv() });
  assert.equal(stdout.trim(), version('server'));
  assert.ok(server?.pid);
  process.kill(-server.pid, 'SIGTERM');
  await serverGone;
  stopped = true;
  assert.match(serverOut, /"msg":"draining"/);
  assert.doesNotMatch(serverOut, /shutdown failed/);
  assert.doesNotMatch(serverErr, /Error/);
});
