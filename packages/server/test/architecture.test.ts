/**
 * The one-way data flow of STYLE.md: util → model → storage → ingest | apm | resources → api → app, cli.
 * A folder imports only folders to its left (and itself); model imports nothing from the project.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const RANK: Record<string, number> = {
  util: 0,
  'errors.ts': 0,
  model: 1,
  storage: 2,
  ingest: 3,
  apm: 3,
  resources: 3,
  cache: 3,
  db: 4,
  alerts: 4,
  'config.ts': 3,
  api: 5,
  'app.ts': 6,
  cli: 7,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const area = (file: string): string => relative(SRC, file).split('/')[0]!;

test('imports flow one way between the folders of src/', () => {
  const bad: string[] = [];
  for (const file of files(SRC)) {
    const from = area(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/^import [^;]*? from '(\.[^']+)';/gms)) {
      const to = area(resolve(dirname(file), m[1]!));
      if (to === from) continue;
      const ok = from !== 'model' && (RANK[to] ?? 99) < (RANK[from] ?? -1);
      if (!ok) bad.push(`${relative(SRC, file)} imports ${to}`);
    }
  }
  assert.deepEqual(bad, []);
});
