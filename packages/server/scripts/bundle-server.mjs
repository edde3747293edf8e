/**
 * Bundles the compiled server for start-up: the `siperf` command, the app and the two worker threads, with
 * the pure-JavaScript dependencies (Fastify and its plugins, Ajv, TypeBox, commander, …) inlined, into
 * `dist/bundle/` (ESM, code shared between the entries split into chunks).
 *
 * Why: importing the app from `dist/` opened ~1,500 files (TypeBox alone 374), about a third of a second
 * of CPU before the server could listen. The bundle reads a handful.
 *
 * Left outside (imported from node_modules as usual): packages with native or WebAssembly parts, that read
 * files beside their own code or start their own workers (DuckDB, libpg-query, node-sql-parser, pino,
 * protobufjs, gRPC, swagger-ui's static files), the database and Redis drivers (optional peers), and
 * siperf's own packages. `dist/bundle/` sits at the same depth as `dist/api/`, so the paths the code builds
 * from `import.meta.url` (`../bundled/…`, `../../proto/`, the worker files beside it) resolve alike.
 *
 * Run by `npm run build` after `tsc`.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/bundle');

const external = [
  '@duckdb/*',
  'libpg-query',
  'node-sql-parser',
  'pino',
  'pino/*',
  '@clickhouse/client',
  '@fastify/static',
  '@fastify/swagger-ui',
  'pg',
  'pg-native',
  'mysql2',
  'mysql2/*',
  'ioredis',
  '@siperf/*',
];

rmSync(OUT, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: {
    'cli-main': 'src/cli/main.ts',
    app: 'src/app.ts',
    'decode-worker': 'src/ingest/decode-worker.ts',
    'forecast-worker': 'src/resources/forecast/forecast-worker.ts',
  },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies inlined into ESM call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __siperfRequire } from 'node:module';\nconst require = __siperfRequire(import.meta.url);",
  },
});
