// Worker bootstrap when the server runs from source (tests, benchmarks): the worker thread needs tsx's
// loader to run the TypeScript sources (loader hooks are per thread), then the worker proper. The compiled
// server (dist/) starts dist/resources/forecast/forecast-worker.js instead (util/worker-entry.ts).
import { register } from 'tsx/esm/api';

register();
await import('./forecast-worker.ts');
