// Worker bootstrap: the worker thread needs tsx's loader to run the TypeScript sources (loader hooks are
// per thread), then the worker proper.
import { register } from 'tsx/esm/api';

register();
await import('./forecast-worker.ts');
