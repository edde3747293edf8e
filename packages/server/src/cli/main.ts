/**
 * The `siperf` command line. One file per subcommand; this file only parses.
 * @module
 */
import { Command } from 'commander';
import { serve } from './serve.ts';

const program = new Command();
program
  .name('siperf')
  .description('SuperInsight Perf: self-hosted APM, resource and cache/database optimization');
program
  .command('serve')
  .description('run the server: OTLP ingest (/v1/traces, /v1/metrics), Zipkin (/api/v2/spans) and the API')
  .option('-p, --port <port>', 'TCP port (default 4318; env SIPERF_PORT)')
  .option('-H, --host <host>', 'address to listen on (default 127.0.0.1; env SIPERF_HOST)')
  .option('-d, --data-dir <dir>', 'folder of the embedded store (default ./data; env SIPERF_DATA_DIR)')
  .option('-c, --config <file>', 'JSON config file (env SIPERF_CONFIG)')
  .action((flags) => serve(flags));
await program.parseAsync(process.argv);
