// Builds the browser script the siperf server serves at GET /rum.js: src/snippet.ts with web-vitals bundled,
// as one minified IIFE for ES2020 browsers (about 18 kB, 7 kB gzipped), into dist/rum.js. Run by
// `npm run build` (and so by `npm ci`), never while a request waits.
import { build } from 'esbuild';

await build({
  absWorkingDir: new URL('..', import.meta.url).pathname,
  entryPoints: ['src/snippet.ts'],
  bundle: true,
  format: 'iife',
  minify: true,
  target: 'es2020',
  platform: 'browser',
  outfile: 'dist/rum.js',
  legalComments: 'none',
  logLevel: 'warning',
});
