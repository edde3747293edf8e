import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runStoreContract } from '../store.contract.ts';
import { createDuckDbStore } from './duckdb-store.ts';

runStoreContract('DuckDB (:memory:)', (now) => createDuckDbStore({ path: ':memory:', now }), {
  inMemory: true,
});

const dir = mkdtempSync(join(tmpdir(), 'siperf-store-contract-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
runStoreContract(
  'DuckDB (file)',
  (now) => createDuckDbStore({ path: join(dir, `store-${++files}.duckdb`), now }),
  { inMemory: false },
);
