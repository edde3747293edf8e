#!/usr/bin/env node
// The siperf CLI: runs the bundle that `npm run build` makes in dist/bundle/ (no TypeScript at run time).
try {
  await import('../dist/bundle/cli-main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle/cli-main.js')) {
    process.stderr.write('siperf is not built: run `npm run build` in the siperf folder (npm ci does it)\n');
    process.exit(1);
  }
  throw err;
}
