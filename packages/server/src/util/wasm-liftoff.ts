/**
 * Sets V8's `--liftoff-only` for the process (its worker threads included), as a side effect of being
 * imported: import it before `libpg-query`, which compiles PostgreSQL's parser (WASM) when it is imported.
 *
 * Without it V8 recompiles the whole parser with TurboFan in the background in every thread that loads it
 * (the server: the event loop's thread and each decode worker), ~0.7 s of CPU and ~100 MB of RSS each, and
 * a CLI run waits for it before exiting. Parsing is as fast with Liftoff's code for what siperf parses
 * (statements are memoised per text; 50,000 distinct ones normalise no slower). Measured with
 * `scratch`-style harnesses on the compiled server: 600 OTLP bodies of 512 spans, peak RSS 406 against
 * 477–502 MB; 20,000 normalisations in one thread, 82 against 173 MB.
 * @module
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
