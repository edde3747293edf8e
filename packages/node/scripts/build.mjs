// Builds @siperf/node for plain Node.js apps: dist/index.cjs (require), dist/index.mjs (import),
// dist/register.mjs (the ESM preload) and dist/cache.{cjs,mjs} (`@siperf/node/cache`) and
// dist/db.{cjs,mjs} (`@siperf/node/db`). Dependencies stay external. Runs in ~0.1 s. The types: tsc
// (tsconfig.build.json) writes dist/types/*.d.ts, copied to dist/types-cjs/ under a package.json that says
// commonjs, so that a `require` of the package gets CommonJS types.
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
};
// `import.meta.url` (where optional peers are required from) is the file's own URL in the CommonJS builds too.
const cjs = {
  format: 'cjs',
  define: { 'import.meta.url': '__siperf_import_meta_url' },
  banner: { js: "const __siperf_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
};
await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], ...cjs, outfile: 'dist/index.cjs' }),
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/index.mjs' }),
  build({ ...common, entryPoints: ['src/register.ts'], format: 'esm', outfile: 'dist/register.mjs' }),
  build({ ...common, entryPoints: ['src/cache/index.ts'], ...cjs, outfile: 'dist/cache.cjs' }),
  build({ ...common, entryPoints: ['src/cache/index.ts'], format: 'esm', outfile: 'dist/cache.mjs' }),
  build({ ...common, entryPoints: ['src/db/index.ts'], ...cjs, outfile: 'dist/db.cjs' }),
  build({ ...common, entryPoints: ['src/db/index.ts'], format: 'esm', outfile: 'dist/db.mjs' }),
]);
const dist = new URL('../dist/', import.meta.url);
rmSync(new URL('types-cjs', dist), { recursive: true, force: true });
cpSync(new URL('types', dist), new URL('types-cjs', dist), { recursive: true });
writeFileSync(new URL('types-cjs/package.json', dist), '{ "type": "commonjs" }\n');
