/**
 * Parsing OTLP/JSON bodies without losing 64-bit integers.
 *
 * OTLP/JSON allows 64-bit integers (times in ns, `intValue`) as JSON numbers; `JSON.parse` would turn
 * `1786057568475144853` into a double and drop up to ~256 ns. Before parsing, the values of the keys that
 * carry such integers are wrapped in quotes, so they arrive as strings and are read as bigint. A key in
 * JSON is always a quoted string followed by `:`, which cannot occur unescaped inside a string value,
 * so the rewrite never touches string contents.
 * @module
 */
import { SiperfError } from '../errors.ts';

// Only JSON integers (no fraction or exponent, no leading zero): a float stays a number and is then
// rejected for that span alone as "not an integer"; a leading zero stays invalid JSON.
const INT64_KEYS =
  /"(startTimeUnixNano|endTimeUnixNano|timeUnixNano|observedTimeUnixNano|intValue|asInt)"\s*:\s*(-?(?:0|[1-9]\d*))(?![\d.eE])/g;

/**
 * Parses an OTLP/JSON body.
 * @throws SiperfError `ERR_INGEST_DECODE` with the parser's message when the text is not JSON.
 */
export function parseOtlpJson(text: string): unknown {
  const quoted = text.replace(INT64_KEYS, '"$1":"$2"');
  try {
    return JSON.parse(quoted);
  } catch (err) {
    throw new SiperfError('ERR_INGEST_DECODE', `body is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
