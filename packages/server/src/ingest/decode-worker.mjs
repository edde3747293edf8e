// Entry of a decode worker thread when the server runs from source (tests, benchmarks): Node 20 workers do
// not inherit tsx from the main thread (`node --import tsx`), so register it here, then load the TypeScript
// worker. The compiled server (dist/) starts dist/ingest/decode-worker.js instead (util/worker-entry.ts).
import { register } from 'tsx/esm/api';

register();
await import('./decode-worker.ts');
