/**
 * Trace and span ids as lower-case hex strings, the form OTLP/JSON and the W3C trace context use.
 * @module
 */

const HEX = /^[0-9a-fA-F]*$/;

/** Hex of a byte array (lower case). */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Checks an id given as hex text and returns it in lower case.
 *
 * @param value - the id as sent (any case).
 * @param byteLength - 16 for a trace id, 8 for a span id.
 * @returns the lower-case hex id, or a reason string prefixed by `!` when it is invalid (not hex, wrong
 *   length, all zero). The `!` form avoids exceptions on the ingest hot path.
 */
export function normaliseHexId(value: string, byteLength: number): string {
  if (value.length === 0) return `!is missing (expected ${byteLength * 2} hex characters)`;
  if (value.length !== byteLength * 2) {
    if (value.length > 0 && !HEX.test(value)) {
      return `!must be ${byteLength * 2} hex characters (ids are hex, not base64), got "${truncate(value)}"`;
    }
    return `!must be ${byteLength * 2} hex characters (${byteLength} bytes), got ${value.length}`;
  }
  if (!HEX.test(value)) {
    return `!must be hex (ids are hex, not base64), got "${truncate(value)}"`;
  }
  if (/^0+$/.test(value)) return '!must not be all zero';
  return value.toLowerCase();
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
