import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from './errors.ts';

test('docs/errors.md lists every error code and nothing else', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^## (err_[a-z_]+)$/gm)].map((m) => m[1]!.toUpperCase()).sort();
  assert.deepEqual(documented, Object.keys(ERROR_CODES).sort());
});
