export type { LogDigest, QueryDigest } from './digest.ts';
export { DigestBuilder } from './digest.ts';
export { MysqlSlowLogParser } from './mysql-slow.ts';
export { compilePrefix, type PgLogFormat, PgLogParser } from './pg-log.ts';
export {
  detectLogFormat,
  digestLogFiles,
  digestLogText,
  firstLines,
  LOG_FORMATS,
  type LogFormat,
  type LogImportOptions,
} from './read-log.ts';
