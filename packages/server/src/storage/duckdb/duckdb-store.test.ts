import { runStoreContract } from '../store.contract.ts';
import { createDuckDbStore } from './duckdb-store.ts';

runStoreContract('DuckDB (:memory:)', (now) => createDuckDbStore({ path: ':memory:', now }));
