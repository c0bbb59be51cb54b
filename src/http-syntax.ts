// HTTP grammar shared by the helpers that build or check headers (validator, Response,
// cookies): tokens, field values, hop-by-hop names, reason phrases.
import { STATUS_CODES } from 'node:http';

/** RFC 9110 token: the grammar of header names, methods and cookie names. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value: VCHAR, SP, HTAB and obs-text (0x80-0xFF); no CR, LF, NUL or other controls. */
// eslint-disable-next-line no-control-regex
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** A status line as startResponse takes it: three digits, a space, a reason of field-value characters. */
export const STATUS_LINE = /^(\d{3}) ([\t\x20-\x7e\x80-\xff]*)$/;

// eslint-disable-next-line no-control-regex
const LATIN1 = /^[\x00-\xff]*$/;

/** True when every character is one byte (U+0000..U+00FF): a "native string". */
export function isLatin1(s: string): boolean {
  return LATIN1.test(s);
}

/** Header names the server owns (PEP 3333 "hop-by-hop"), lower-cased; Proxy-* too. */
export function isHopByHop(lower: string): boolean {
  switch (lower) {
    case 'connection': case 'keep-alive': case 'transfer-encoding': case 'upgrade':
    case 'te': case 'trailer': case 'trailers':
      return true;
    default:
      return lower.startsWith('proxy-');
  }
}

/** 'NNN Reason' for a status code, with the standard reason phrase (or 'Unknown'). */
export function statusLine(code: number, reason?: string): string {
  return `${code} ${reason ?? STATUS_CODES[code] ?? 'Unknown'}`;
}

/** A short, quoted description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a Uint8Array';
  return v === null ? 'null' : typeof v;
}
