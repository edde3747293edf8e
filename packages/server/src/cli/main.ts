/**
 * The `siperf` command line. One file per subcommand; this file only parses.
 * @module
 */
import { Command } from 'commander';
import { importMetricsCsv } from './import-csv.ts';
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
program
  .command('import')
  .description('import data into a running server')
  .command('metrics-csv <file>')
  .description(
    'a timestamp,value CSV as a metric of a host (then forecast it under /api/v1/resources/predictions)',
  )
  .requiredOption('-m, --metric <name>', 'metric name, e.g. nab.ec2_cpu')
  .requiredOption('--host <host>', 'host.name the series belongs to')
  .option('-u, --url <url>', 'server URL (default http://127.0.0.1:4318; env SIPERF_URL)')
  .option('-k, --key <key>', 'API key when the server has one (env SIPERF_API_KEY)')
  .action((file: string, flags) => importMetricsCsv(file, flags));
await program.parseAsync(process.argv);
