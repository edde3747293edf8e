// Run by `npm pack` / `npm publish` (prepack): copies what the server serves from other workspaces into
// dist/bundled/, so that the package carries it — the built dashboard (@siperf/dashboard's dist), the RUM
// script (@siperf/browser's dist/rum.js) and docs/errors.md (the /docs/errors page). In the repository the
// server reads them from the workspaces; installed, from dist/bundled/. `--clean` (postpack) removes the copy.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist/bundled');
rmSync(out, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);

const require = createRequire(import.meta.url);
const dashboard = join(dirname(require.resolve('@siperf/dashboard/package.json')), 'dist');
const rum = join(dirname(require.resolve('@siperf/browser/package.json')), 'dist/rum.js');
const errors = join(root, '../../docs/errors.md');
for (const [what, path] of [
  ['the built dashboard', join(dashboard, 'index.html')],
  ['rum.js', rum],
  ['docs/errors.md', errors],
  ['the compiled server', join(root, 'dist/cli/main.js')],
]) {
  if (!existsSync(path)) {
    process.stderr.write(`bundle-assets: ${what} is missing (${path}): run \`npm run build\` first\n`);
    process.exit(1);
  }
}
mkdirSync(out, { recursive: true });
cpSync(dashboard, join(out, 'dashboard'), { recursive: true });
cpSync(rum, join(out, 'rum.js'));
cpSync(errors, join(out, 'errors.md'));
