// Builds @siperf/browser (run by `npm run build`, and so by `npm ci`; never while a request waits):
// - dist/rum.js, the script the siperf server serves at GET /rum.js: src/snippet.ts with web-vitals bundled,
//   as one minified IIFE for ES2020 browsers (about 18 kB, 7 kB gzipped);
// - dist/index.js, the ES module for an application's own bundler (`import { init } from '@siperf/browser'`),
//   with web-vitals left as an import. Its types (dist/index.d.ts) come from tsc (tsconfig.build.json).
import { build } from 'esbuild';

const common = {
  absWorkingDir: new URL('..', import.meta.url).pathname,
  bundle: true,
  target: 'es2020',
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
};
await Promise.all([
  build({ ...common, entryPoints: ['src/snippet.ts'], format: 'iife', minify: true, outfile: 'dist/rum.js' }),
  build({
    ...common,
    entryPoints: ['src/index.ts'],
    format: 'esm',
    packages: 'external',
    outfile: 'dist/index.js',
  }),
]);
