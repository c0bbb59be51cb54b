// Validation and serialisation of what the application passes to startResponse. Anything
// that would produce a mangled or smuggled response is an application error (a 500):
// a status that is not 'NNN Reason', non-latin-1 or control characters, header names that
// are not tokens, hop-by-hop headers, a Content-Length that is not a plain number.
import { ApplicationError } from './errors';
import { RESP_HAS_DATE } from './native';
import type { ResponseHeaders } from './types';
import { FIELD_VALUE, TOKEN, isHopByHop } from './http-syntax';

/** Where the validated head goes (the gateway's per-request state). */
export interface HeadTarget {
  /** 'NNN Reason\r\nName: value\r\n…' as respond()/writeHead() take it. */
  head: string;
  statusCode: number;
  /** The application's Content-Length, or -1. */
  contentLength: number;
  /** RESP_* flags derived from the headers (RESP_HAS_DATE). */
  respFlags: number;
}

const STATUS = /^([2-5]\d\d) [\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^\d{1,16}$/;
// Lengths of the header names prepareHead treats specially (te, date, upgrade, trailer,
// trailers, connection, keep-alive, content-length, transfer-encoding).
const SPECIAL_LENGTH = new Uint8Array(18);
for (const n of [2, 4, 7, 8, 10, 14, 17]) SPECIAL_LENGTH[n] = 1;


function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v;
}

/** Validates status and headers and writes the serialised head into `target`. Throws ApplicationError. */
export function prepareHead(target: HeadTarget, status: unknown, headers: unknown): void {
  if (typeof status !== 'string') {
    throw new ApplicationError('TSGI_ERR_INVALID_STATUS', `startResponse: the status must be a string such as '200 OK', got ${describe(status)}`);
  }
  if (!STATUS.test(status)) {
    const why = /^\d\d\d /.test(status)
      ? /^[01]/.test(status) || /^[6-9]/.test(status)
        ? 'the status code must be a final status from 200 to 599 (1xx interim responses are the server\'s job)'
        : 'the reason phrase must be latin-1 without control characters'
      : "it must be a three-digit code, a space and a reason, e.g. '200 OK'";
    throw new ApplicationError('TSGI_ERR_INVALID_STATUS', `startResponse: invalid status ${describe(status)}: ${why}`);
  }
  if (!Array.isArray(headers)) {
    throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: headers must be an array of [name, value] pairs, got ${describe(headers)}`);
  }
  let head = status + '\r\n';
  let contentLength = -1;
  let flags = 0;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: header ${i} must be a [name, value] pair, got ${describe(pair)}`);
    }
    const name = pair[0];
    const value = pair[1];
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: header name ${describe(name)} is not an HTTP token (letters, digits and !#$%&'*+-.^_\`|~)`);
    }
    if (typeof value !== 'string') {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: the value of header ${name} must be a string, got ${describe(value)}`);
    }
    if (!FIELD_VALUE.test(value)) {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: the value of header ${name} must be latin-1 without CR, LF, NUL or other control characters (encode it first), got ${describe(value)}`);
    }
    // Only names that could be special are lower-cased: same length as one, or Proxy-*.
    const first = name.charCodeAt(0) | 0x20;
    const lower = (name.length < 18 && SPECIAL_LENGTH[name.length] === 1) || first === 112 /* p */ ? name.toLowerCase() : '';
    if (lower === 'content-length') {
      const v = value.trim();
      if (!DIGITS.test(v)) throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: Content-Length must be a whole number of bytes, got ${describe(value)}`);
      const n = Number(v);
      if (contentLength >= 0) {
        if (n !== contentLength) throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: two different Content-Length headers (${contentLength} and ${n})`);
        continue;
      }
      contentLength = n;
    } else if (lower === 'date') {
      flags |= RESP_HAS_DATE;
    } else if (isHopByHop(lower)) {
      throw new ApplicationError('TSGI_ERR_HOP_BY_HOP_HEADER', `startResponse: ${name} is a hop-by-hop header, which the server manages (PEP 3333); remove it from the response headers`);
    }
    head += name + ': ' + value + '\r\n';
  }
  target.head = head;
  target.statusCode = (status.charCodeAt(0) - 48) * 100 + (status.charCodeAt(1) - 48) * 10 + (status.charCodeAt(2) - 48);
  target.contentLength = contentLength;
  target.respFlags = flags;
}

/**
 * The checks every startResponse makes before taking a head: a call with excInfo after
 * the head went out rethrows excInfo; a second call without excInfo is an error.
 */
export function checkStart(excInfo: unknown, started: boolean, headersSent: boolean): void {
  if (excInfo !== undefined && excInfo !== null) {
    if (headersSent) throw excInfo;
  } else if (started) {
    throw startResponseTwice();
  }
}

/** startResponse was called again without excInfo. */
export function startResponseTwice(): ApplicationError {
  return new ApplicationError('TSGI_ERR_START_RESPONSE_TWICE',
    'startResponse was called a second time without excInfo; pass the caught error as the third argument to replace the status and headers');
}

/** The body (or its end) came before startResponse. */
export function startResponseMissing(): ApplicationError {
  return new ApplicationError('TSGI_ERR_START_RESPONSE_MISSING',
    'the application produced its body (or ended) without calling startResponse(status, headers) first');
}

/** A body chunk (or write() argument) that is neither a string nor a Uint8Array. */
export function invalidChunk(v: unknown, where: string): ApplicationError {
  const what = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
  return new ApplicationError('TSGI_ERR_INVALID_CHUNK', `${where} must be a string or a Uint8Array, got ${what}`);
}

/** The head of the canned 500 response. */
export const HEAD_500 = '500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n';
export const BODY_500 = 'Internal Server Error\n';
/** The answer to a request that ran past its deadline (harakiri) before sending its head. */
export const HEAD_504 = '504 Gateway Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n';
export const BODY_504 = 'Gateway Timeout: the application did not answer in time\n';

/** For messages: the headers type the application should have passed. */
export type { ResponseHeaders };
