// Entry of a decode worker thread: Node 20 workers do not inherit tsx from the main thread
// (`node --import tsx` or `bin/siperf.js`), so register it here, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./decode-worker.ts');
