// Builds @siperf/node for plain Node.js apps: dist/index.cjs (require), dist/index.mjs (import),
// dist/register.mjs (the ESM preload) and dist/cache.{cjs,mjs} (`@siperf/node/cache`) and
// dist/db.{cjs,mjs} (`@siperf/node/db`). Dependencies stay external. Runs in ~0.1 s.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
};
await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], format: 'cjs', outfile: 'dist/index.cjs' }),
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/index.mjs' }),
  build({ ...common, entryPoints: ['src/register.ts'], format: 'esm', outfile: 'dist/register.mjs' }),
  build({ ...common, entryPoints: ['src/cache/index.ts'], format: 'cjs', outfile: 'dist/cache.cjs' }),
  build({ ...common, entryPoints: ['src/cache/index.ts'], format: 'esm', outfile: 'dist/cache.mjs' }),
  build({ ...common, entryPoints: ['src/db/index.ts'], format: 'cjs', outfile: 'dist/db.cjs' }),
  build({ ...common, entryPoints: ['src/db/index.ts'], format: 'esm', outfile: 'dist/db.mjs' }),
]);
