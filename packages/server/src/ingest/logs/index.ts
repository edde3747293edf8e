export type { LogDigest, LogImportDigest, LogQueryDigest, QueryDigest } from './digest.ts';
export { DigestBuilder } from './digest.ts';
export { MysqlSlowLogParser } from './mysql-slow.ts';
export { checkTimeZone, compilePrefix, type PgLogFormat, PgLogParser } from './pg-log.ts';
export {
  detectLogFormat,
  digestLogFiles,
  digestLogStream,
  digestLogText,
  firstLines,
  LOG_FORMATS,
  type LogFormat,
  type LogImportOptions,
  type LogStreamOptions,
  parseInstant,
} from './read-log.ts';
export { tablesOf } from './tables.ts';
