/**
 * `siperf serve`: starts the server in the foreground; SIGTERM/SIGINT drain in-flight requests, flush
 * rollups and close the store before exit.
 * @module
 */
import pino from 'pino';
import { type RunningServer, startServer } from '../app.ts';
import { type Config, loadConfig } from '../config.ts';
import { isSiperfError } from '../errors.ts';

/** Flags of `siperf serve` (strings as commander gives them). */
export interface ServeFlags {
  port?: string;
  grpcPort?: string;
  host?: string;
  dataDir?: string;
  store?: string;
  config?: string;
}

/** Runs the server until a signal. Exits with 1 and a one-line message on a configuration error. */
export async function serve(flags: ServeFlags): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({
      file: flags.config ?? process.env.SIPERF_CONFIG,
      env: process.env,
      flags: {
        port: flags.port,
        grpcPort: flags.grpcPort,
        host: flags.host,
        dataDir: flags.dataDir,
        store: flags.store,
      },
    });
  } catch (err) {
    if (isSiperfError(err)) {
      process.stderr.write(`siperf: ${err.detail}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = pino({
    level: config.logLevel,
    redact: ['req.headers.authorization', 'req.headers.cookie'],
  });
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'siperf could not start');
    process.stderr.write(`siperf: ${startHint(err, config)}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'draining');
    server.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** A one-line explanation of a start failure that a person can act on. */
function startHint(err: unknown, config: Config): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE')
    return `port ${config.port} on ${config.host} is already in use; stop the other program or pass --port`;
  if (e.code === 'EACCES' || e.code === 'EPERM')
    return `permission denied (${e.message}); check --data-dir and --port`;
  if (/Could not set lock on file/.test(e.message ?? '')) {
    return `the data directory ${config.dataDir} is in use by another process (${/PID \d+/.exec(e.message)?.[0] ?? 'another siperf'}); run one siperf per --data-dir`;
  }
  return e.message ?? String(err);
}
