/**
 * Where a worker thread starts, compiled or from source.
 *
 * `npm start` and the `siperf` bin run the JavaScript that `npm run build` compiles into `dist/` (the same
 * layout as `src/`): there a worker starts from its own compiled module. Tests and benchmarks run the
 * TypeScript sources through tsx, whose loader is per thread (Node 20 workers do not inherit `--import`), so
 * there a worker starts from the `.mjs` boot file beside its source, which registers tsx and then imports it.
 * @module
 */

/**
 * @param base - `import.meta.url` of the module that starts the worker (a `.ts` URL when run from source).
 * @param compiled - the worker's compiled module relative to `base`, e.g. `./decode-worker.js`.
 * @param sourceBoot - the tsx boot file relative to `base`, e.g. `./decode-worker.mjs`.
 * @returns the URL to hand to `new Worker`.
 */
export function workerEntry(base: string, compiled: string, sourceBoot: string): URL {
  return new URL(base.endsWith('.ts') ? sourceBoot : compiled, base);
}
