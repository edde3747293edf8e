/**
 * Builds the browser script (`rum.js`): `src/snippet.ts` with `web-vitals` bundled, as one minified IIFE
 * for ES2020 browsers, in memory. The siperf server calls this once and serves the result.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

let cached: Promise<string> | undefined;

/**
 * @returns the minified script (about 18 kB, 7 kB gzipped).
 * @throws the esbuild error when the sources do not compile.
 */
export function buildSnippet(): Promise<string> {
  cached ??= build({
    entryPoints: [fileURLToPath(new URL('./src/snippet.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    minify: true,
    target: 'es2020',
    platform: 'browser',
    write: false,
    legalComments: 'none',
  }).then((r) => r.outputFiles[0]!.text);
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
