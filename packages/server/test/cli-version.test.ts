/** `siperf --version` prints the version of the @siperf/server package (what `npm pack` would publish). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/siperf.js', import.meta.url));
const PACKAGE = fileURLToPath(new URL('../package.json', import.meta.url));

test('siperf --version and -V print the package version', () => {
  const { version } = JSON.parse(readFileSync(PACKAGE, 'utf8')) as { version: string };
  assert.match(version, /^\d+\.\d+\.\d+/);
  for (const flag of ['--version', '-V']) {
    assert.equal(execFileSync(process.execPath, [BIN, flag], { encoding: 'utf8' }).trim(), version);
  }
});
