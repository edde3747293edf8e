/**
 * The `siperf` command line. One file per subcommand; this file only parses.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

/** The version of the `@siperf/server` package this command belongs to. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// Each subcommand's module is loaded when it runs: `siperf report` does not load the server (about 170 MB
// of RSS and seconds of start-up).
const serve = async (...a: Parameters<typeof import('./serve.ts').serve>) =>
  (await import('./serve.ts')).serve(...a);
const importMetricsCsv = async (...a: Parameters<typeof import('./import-csv.ts').importMetricsCsv>) =>
  (await import('./import-csv.ts')).importMetricsCsv(...a);
const importLogs = async (...a: Parameters<typeof import('./import-log.ts').importLogs>) =>
  (await import('./import-log.ts')).importLogs(...a);

const program = new Command();
program
  .name('siperf')
  .description('SuperInsight Perf: self-hosted APM, resource and cache/database optimization')
  .version(VERSION, '-V, --version', 'print the version of siperf (@siperf/server)');
program
  .command('serve')
  .description('run the server: OTLP ingest (/v1/traces, /v1/metrics), Zipkin (/api/v2/spans) and the API')
  .option('-p, --port <port>', 'TCP port (default 4318; env SIPERF_PORT)')
  .option('-H, --host <host>', 'address to listen on (default 127.0.0.1; env SIPERF_HOST)')
  .option('--grpc-port <port>', 'OTLP/gRPC port, 0 for none (default 4317; env SIPERF_GRPC_PORT)')
  .option('-d, --data-dir <dir>', 'folder of the embedded store (default ./data; env SIPERF_DATA_DIR)')
  .option(
    '--store <url>',
    'clickhouse://user:password@host:8123/database to keep the data in ClickHouse (default: DuckDB under --data-dir; env SIPERF_STORE)',
  )
  .option('-c, --config <file>', 'JSON config file (env SIPERF_CONFIG)')
  .action((flags) => serve(flags));
const importCmd = program
  .command('import')
  .description('import data (into a running server, or read locally)');
importCmd
  .command('metrics-csv <file>')
  .description(
    'a timestamp,value CSV as a metric of a host (then forecast it under /api/v1/resources/predictions)',
  )
  .requiredOption('-m, --metric <name>', 'metric name, e.g. nab.ec2_cpu')
  .requiredOption('--host <host>', 'host.name the series belongs to')
  .option('-u, --url <url>', 'server URL (default http://127.0.0.1:4318; env SIPERF_URL)')
  .option('-k, --key <key>', 'API key when the server has one (env SIPERF_API_KEY)')
  .action((file: string, flags) => importMetricsCsv(file, flags));
const logOptions = (c: Command, formats: string) =>
  c
    .option('-f, --format <format>', `log format: ${formats} (read from the first lines when absent)`)
    .option(
      '--prefix <prefix>',
      "PostgreSQL log_line_prefix, e.g. '%m [%p] user=%u,db=%d ' (read from each line when absent)",
    )
    .option('--since <time>', 'only events at or after this ISO-8601 time (UTC when it has no offset)')
    .option('--until <time>', 'only events before this ISO-8601 time (UTC when it has no offset)')
    .option(
      '--log-timezone <zone>',
      'IANA zone of PostgreSQL log times written with a zone abbreviation or none, e.g. Europe/Paris (default UTC)',
    )
    .option('--limit <n>', 'queries in the profile (default 20)')
    .option('--width <n>', 'cut statements in the profile to this many characters (default: whole)')
    .option('--json', 'print the digest as JSON (the upload API answer)')
    .option('-u, --url <url>', 'also upload the files to this server (POST /api/v1/cache-db/logs)')
    .option('-k, --key <key>', 'API key when the server has one');
logOptions(
  importCmd
    .command('pg-log <files...>')
    .description('PostgreSQL logs (stderr, csvlog, jsonlog; .gz and .bz2 too) into per-query digests'),
  'pg-stderr, pg-csv, pg-json',
).action((files: string[], flags) =>
  importLogs(files, { ...flags, allowed: ['pg-stderr', 'pg-csv', 'pg-json'] }),
);
logOptions(
  importCmd
    .command('mysql-slow <files...>')
    .description('MySQL, MariaDB or Percona slow query logs (.gz and .bz2 too) into per-query digests'),
  'mysql-slow',
).action((files: string[], flags) => importLogs(files, { ...flags, allowed: ['mysql-slow'] }));
logOptions(
  program.command('report <files...>').description("print a log's per-query profile, like pt-query-digest"),
  'mysql-slow, pg-stderr, pg-csv, pg-json',
).action((files: string[], flags) => importLogs(files, flags));
await program.parseAsync(process.argv);
