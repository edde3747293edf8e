/**
 * What a statement from outside (a cached query, a statement of a span or a log the advisor explains) may
 * contain, by name: the functions, operators and types of PostgreSQL and of MySQL/MariaDB. Everything not
 * listed is refused (an allow-list, not a deny-list: a function added by a later server version or an
 * extension is refused until someone reads it and lists it).
 *
 * A function is listed when it is built in, has no effect outside the value it returns, and reads nothing
 * but its arguments, the clock or the session's settings (PostgreSQL: `provolatile` `i` or `s`, not
 * `SECURITY DEFINER`, in `pg_catalog`; `sql-allow-lists.test.ts` checks each name against the real
 * server's `pg_proc`). Left out on purpose, whatever their volatility:
 * - anything that runs SQL given as text (`query_to_xml`, `ts_stat`, `ts_rewrite`, `cursor_to_xml`), that
 *   reads files or settings (`pg_read_file`, `current_setting`, `LOAD_FILE`), locks (`pg_advisory_*`,
 *   `GET_LOCK`), sleeps (`pg_sleep`, `SLEEP`, `BENCHMARK`), signals (`pg_terminate_backend`), writes large
 *   objects (`lo_*`), reaches other servers (`dblink*`), moves sequences (`nextval`, `setval`, MariaDB's
 *   `NEXTVAL`), changes settings (`set_config`) or session state (`LAST_INSERT_ID(x)`, `setseed`);
 * - every `pg_*` function (administration and catalog introspection) and the XML functions (parsing XML
 *   is where external-entity tricks live);
 * - volatile functions without effects (`random`, `clock_timestamp`, `gen_random_uuid`, `UUID`, `RAND`):
 *   a cached result of them means nothing.
 * The row and byte bombs that remain possible with listed functions (`generate_series`, `repeat`, a
 * recursive CTE) are bounded by the row cap, the byte cap and the statement timeout, not by this list.
 * @module
 */

/** PostgreSQL functions a statement may call (lower case, as the parser gives unquoted names). */
export const PG_FUNCTIONS: ReadonlySet<string> = new Set([
  // arithmetic
  ...['abs', 'cbrt', 'ceil', 'ceiling', 'degrees', 'div', 'exp', 'factorial', 'floor', 'gcd', 'lcm', 'ln'],
  ...['log', 'log10', 'min_scale', 'mod', 'pi', 'power', 'radians', 'round', 'scale', 'sign', 'sqrt'],
  ...['trim_scale', 'trunc', 'width_bucket', 'acos', 'acosd', 'asin', 'asind', 'atan', 'atan2', 'atan2d'],
  ...['atand', 'cos', 'cosd', 'cot', 'cotd', 'sin', 'sind', 'tan', 'tand', 'sinh', 'cosh', 'tanh'],
  ...['asinh', 'acosh', 'atanh'],
  // strings
  ...['bit_length', 'btrim', 'char_length', 'character_length', 'chr', 'concat', 'concat_ws', 'format'],
  ...['initcap', 'left', 'length', 'lower', 'lpad', 'ltrim', 'md5', 'octet_length', 'overlay', 'position'],
  ...['repeat', 'replace', 'reverse', 'right', 'rpad', 'rtrim', 'split_part', 'starts_with'],
  ...['string_to_array', 'string_to_table', 'strpos', 'substr', 'substring', 'to_hex', 'translate'],
  ...['upper', 'ascii', 'quote_ident', 'quote_literal', 'quote_nullable', 'regexp_count', 'regexp_instr'],
  ...['regexp_like', 'regexp_match', 'regexp_matches', 'regexp_replace', 'regexp_split_to_array'],
  ...['regexp_split_to_table', 'regexp_substr', 'similar_to_escape', 'sha224', 'sha256', 'sha384'],
  ...['sha512', 'encode', 'decode', 'unistr', 'normalize', 'is_normalized', 'to_ascii', 'get_byte'],
  ...['get_bit'],
  // dates and times
  ...['to_char', 'to_date', 'to_number', 'to_timestamp', 'age', 'date_bin', 'date_part', 'date_trunc'],
  ...['extract', 'isfinite', 'justify_days', 'justify_hours', 'justify_interval', 'make_date'],
  ...['make_interval', 'make_time', 'make_timestamp', 'make_timestamptz', 'now', 'statement_timestamp'],
  ...['transaction_timestamp', 'timezone'],
  // arrays and set-returning functions
  ...['array_append', 'array_cat', 'array_dims', 'array_fill', 'array_length', 'array_lower'],
  ...['array_ndims', 'array_position', 'array_positions', 'array_prepend', 'array_remove'],
  ...['array_replace', 'array_to_string', 'array_upper', 'cardinality', 'generate_subscripts'],
  ...['trim_array', 'unnest', 'generate_series'],
  // JSON
  ...['array_to_json', 'json_agg', 'json_array_elements', 'json_array_elements_text', 'json_array_length'],
  ...['json_build_array', 'json_build_object', 'json_each', 'json_each_text', 'json_extract_path'],
  ...['json_extract_path_text', 'json_object', 'json_object_agg', 'json_object_keys', 'json_strip_nulls'],
  ...['json_typeof', 'jsonb_agg', 'jsonb_array_elements', 'jsonb_array_elements_text'],
  ...['jsonb_array_length', 'jsonb_build_array', 'jsonb_build_object', 'jsonb_each', 'jsonb_each_text'],
  ...['jsonb_extract_path', 'jsonb_extract_path_text', 'jsonb_insert', 'jsonb_object', 'jsonb_object_agg'],
  ...['jsonb_object_keys', 'jsonb_path_exists', 'jsonb_path_match', 'jsonb_path_query'],
  ...['jsonb_path_query_array', 'jsonb_path_query_first', 'jsonb_pretty', 'jsonb_set', 'jsonb_set_lax'],
  ...['jsonb_strip_nulls', 'jsonb_typeof', 'row_to_json', 'to_json', 'to_jsonb', 'jsonb_path_exists_tz'],
  ...['jsonb_path_match_tz', 'jsonb_path_query_tz', 'jsonb_path_query_array_tz'],
  ...['jsonb_path_query_first_tz'],
  // aggregates and window functions
  ...['array_agg', 'avg', 'bit_and', 'bit_or', 'bit_xor', 'bool_and', 'bool_or', 'count', 'every', 'max'],
  ...['min', 'string_agg', 'sum', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp'],
  ...['corr', 'covar_pop', 'covar_samp', 'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept'],
  ...['regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy', 'percentile_cont', 'percentile_disc'],
  ...['mode', 'range_agg', 'range_intersect_agg', 'row_number', 'rank', 'dense_rank', 'percent_rank'],
  ...['cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value'],
  // nulls, text search, ranges, network addresses
  ...['num_nonnulls', 'num_nulls', 'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'phraseto_tsquery'],
  ...['websearch_to_tsquery', 'ts_rank', 'ts_rank_cd', 'ts_headline', 'setweight', 'strip', 'numnode'],
  ...['querytree', 'tsvector_to_array', 'array_to_tsvector', 'isempty', 'lower_inc', 'upper_inc'],
  ...['lower_inf', 'upper_inf', 'range_merge', 'host', 'hostmask', 'masklen', 'netmask', 'network'],
  ...['broadcast', 'family', 'abbrev'],
]);

/**
 * PostgreSQL operators a statement may use (by name: the built-in ones of these names are all functions
 * without effects; the server-side check refuses a statement when a schema on the search path defines
 * one of the same name, see `pg-statement.ts`).
 */
export const PG_OPERATORS: ReadonlySet<string> = new Set([
  ...['=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '^', '|/', '||/', '@', '&', '|'],
  ...['#', '~', '<<', '>>', '||', '~~', '!~~', '~~*', '!~~*', '~*', '!~', '!~*', '@>', '<@', '&&'],
  ...['->', '->>', '#>', '#>>', '?', '?|', '?&', '@?', '@@', '#-', '-|-', '&<', '&>', '<<|', '|>>'],
  ...['BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC', 'NOT BETWEEN SYMMETRIC'],
]);

/**
 * PostgreSQL types a statement may cast to (the parser's names: `int` is `int4`, `double precision`
 * `float8`). Domains and user types are left out: a domain's CHECK may call any function.
 */
export const PG_TYPES: ReadonlySet<string> = new Set([
  ...['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text', 'varchar', 'bpchar', 'char', 'bool'],
  ...['date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'json', 'jsonb', 'uuid', 'bytea'],
  ...['inet', 'cidr', 'macaddr', 'bit', 'varbit', 'money', 'tsvector', 'tsquery', 'int4range', 'int8range'],
  ...['numrange', 'tsrange', 'tstzrange', 'daterange', 'name'],
]);

/** MySQL/MariaDB functions a statement may call (upper case; names are case-insensitive there). */
export const MYSQL_FUNCTIONS: ReadonlySet<string> = new Set([
  // arithmetic
  ...['ABS', 'ACOS', 'ASIN', 'ATAN', 'ATAN2', 'BIN', 'CEIL', 'CEILING', 'CONV', 'COS', 'COT', 'CRC32'],
  ...['DEGREES', 'EXP', 'FLOOR', 'GREATEST', 'LEAST', 'LN', 'LOG', 'LOG10', 'LOG2', 'MOD', 'OCT', 'PI'],
  ...['POW', 'POWER', 'RADIANS', 'ROUND', 'SIGN', 'SIN', 'SQRT', 'TAN', 'TRUNCATE'],
  // strings
  ...['ASCII', 'BIT_LENGTH', 'CHAR_LENGTH', 'CHARACTER_LENGTH', 'CONCAT', 'CONCAT_WS', 'ELT', 'FIELD'],
  ...['FIND_IN_SET', 'FORMAT', 'FROM_BASE64', 'HEX', 'INSTR', 'LCASE', 'LEFT', 'LENGTH', 'LOCATE'],
  ...['LOWER', 'LPAD', 'LTRIM', 'MD5', 'MID', 'OCTET_LENGTH', 'ORD', 'POSITION', 'QUOTE', 'REGEXP_INSTR'],
  ...['REGEXP_REPLACE', 'REGEXP_SUBSTR', 'REPEAT', 'REPLACE', 'REVERSE', 'RIGHT', 'RPAD', 'RTRIM', 'SHA1'],
  ...['SHA2', 'SOUNDEX', 'SPACE', 'STRCMP', 'SUBSTR', 'SUBSTRING', 'SUBSTRING_INDEX', 'TO_BASE64', 'TRIM'],
  ...['UCASE', 'UNHEX', 'UPPER', 'INET_ATON', 'INET_NTOA'],
  // dates and times
  ...['ADDDATE', 'ADDTIME', 'CONVERT_TZ', 'CURDATE', 'CURRENT_DATE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP'],
  ...['CURTIME', 'DATE', 'DATE_ADD', 'DATE_FORMAT', 'DATE_SUB', 'DATEDIFF', 'DAY', 'DAYNAME'],
  ...['DAYOFMONTH', 'DAYOFWEEK', 'DAYOFYEAR', 'EXTRACT', 'FROM_DAYS', 'FROM_UNIXTIME', 'HOUR', 'LAST_DAY'],
  ...['LOCALTIME', 'LOCALTIMESTAMP', 'MAKEDATE', 'MAKETIME', 'MICROSECOND', 'MINUTE', 'MONTH', 'MONTHNAME'],
  ...['NOW', 'PERIOD_ADD', 'PERIOD_DIFF', 'QUARTER', 'SEC_TO_TIME', 'SECOND', 'STR_TO_DATE', 'SUBDATE'],
  ...['SUBTIME', 'TIME', 'TIME_FORMAT', 'TIME_TO_SEC', 'TIMEDIFF', 'TIMESTAMP', 'TIMESTAMPADD'],
  ...['TIMESTAMPDIFF', 'TO_DAYS', 'TO_SECONDS', 'UNIX_TIMESTAMP', 'UTC_DATE', 'UTC_TIME', 'UTC_TIMESTAMP'],
  ...['WEEK', 'WEEKDAY', 'WEEKOFYEAR', 'YEAR', 'YEARWEEK'],
  // conditions
  ...['COALESCE', 'IF', 'IFNULL', 'NULLIF', 'ISNULL'],
  // JSON
  ...['JSON_ARRAY', 'JSON_ARRAYAGG', 'JSON_CONTAINS', 'JSON_CONTAINS_PATH', 'JSON_DEPTH', 'JSON_EXTRACT'],
  ...['JSON_INSERT', 'JSON_KEYS', 'JSON_LENGTH', 'JSON_MERGE_PATCH', 'JSON_MERGE_PRESERVE', 'JSON_OBJECT'],
  ...['JSON_OBJECTAGG', 'JSON_QUERY', 'JSON_QUOTE', 'JSON_REMOVE', 'JSON_REPLACE', 'JSON_SEARCH'],
  ...['JSON_SET', 'JSON_TYPE', 'JSON_UNQUOTE', 'JSON_VALID', 'JSON_VALUE'],
  // aggregates and window functions
  ...['AVG', 'BIT_AND', 'BIT_OR', 'BIT_XOR', 'COUNT', 'GROUP_CONCAT', 'MAX', 'MIN', 'STD', 'STDDEV'],
  ...['STDDEV_POP', 'STDDEV_SAMP', 'SUM', 'VAR_POP', 'VAR_SAMP', 'VARIANCE', 'ROW_NUMBER', 'RANK'],
  ...['DENSE_RANK', 'PERCENT_RANK', 'CUME_DIST', 'NTILE', 'LAG', 'LEAD', 'FIRST_VALUE', 'LAST_VALUE'],
  ...['NTH_VALUE'],
]);

/** MySQL/MariaDB operators (as node-sql-parser names them). */
export const MYSQL_OPERATORS: ReadonlySet<string> = new Set([
  ...['=', '<>', '!=', '<', '>', '<=', '>=', '<=>', '+', '-', '*', '/', '%', 'DIV', 'MOD', '&', '|', '^'],
  ...['<<', '>>', '~', '!', 'AND', 'OR', 'XOR', 'NOT', '&&', '||', 'IS', 'IS NOT', 'IN', 'NOT IN'],
  ...['LIKE', 'NOT LIKE', 'REGEXP', 'NOT REGEXP', 'RLIKE', 'NOT RLIKE', 'BETWEEN', 'NOT BETWEEN'],
  ...['EXISTS', 'NOT EXISTS', '->', '->>'],
]);

/** Schemas whose tables a statement may not read (system catalogs; their secrets and other sessions'). */
export const PG_DENIED_SCHEMAS: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema']);
/** MySQL/MariaDB databases a statement may not read (grants, password hashes, other sessions' SQL). */
export const MYSQL_DENIED_SCHEMAS: ReadonlySet<string> = new Set([
  'mysql',
  'information_schema',
  'performance_schema',
  'sys',
]);
