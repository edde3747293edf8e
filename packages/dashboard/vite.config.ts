/**
 * Builds the dashboard to `dist/` (static files served by `siperf serve` at `/`). Each page is its own chunk
 * (dynamic imports in `src/pages.ts`); nothing is loaded from any other host.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:4318', '/docs': 'http://127.0.0.1:4318' } },
});
