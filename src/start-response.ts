// Validation and serialisation of what the application passes to startResponse. Anything
// that would produce a mangled or smuggled response is an application error (a 500):
// a status that is not 'NNN Reason', non-latin-1 or control characters, header names that
// are not tokens, hop-by-hop headers, a Content-Length that is not a plain number.
import { ApplicationError } from './errors';
import { RESP_HAS_DATE } from './native';
import type { ResponseHeaders, Write } from './types';
import { FIELD_VALUE, TOKEN, isHopByHop } from './http-syntax';

/** Where the validated head goes (the gateway's per-request state). */
export interface HeadTarget {
  /** 'NNN Reason\r\nName: value\r\n…' as respond()/writeHead() take it. */
  head: string;
  /** The status code, parsed here once: respond()/writeHead() pass it to the core. */
  statusCode: number;
  /** The application's Content-Length, or -1. */
  contentLength: number;
  /** RESP_* flags derived from the headers (RESP_HAS_DATE). */
  respFlags: number;
}

const STATUS = /^([2-5]\d\d) [\t\x20-\x7e\x80-\xff]*$/;

// What a header name means to prepareHead, cached per distinct name: most applications
// send the same few names, so the token check and the lower-casing run once per name.
const enum NameClass { Plain, ContentLength, Date, HopByHop }
const nameClasses = new Map<string, NameClass>();
/** Distinct names remembered; past this the cache starts over (applications that invent names). */
const NAME_CACHE_MAX = 1024;

function classifyName(name: string): NameClass | undefined {
  if (!TOKEN.test(name)) return undefined;
  const lower = name.toLowerCase();
  const kind = lower === 'content-length' ? NameClass.ContentLength
    : lower === 'date' ? NameClass.Date
    : isHopByHop(lower) ? NameClass.HopByHop
    : NameClass.Plain;
  if (nameClasses.size >= NAME_CACHE_MAX) nameClasses.clear();
  nameClasses.set(name, kind);
  return kind;
}

/** FIELD_VALUE's rule; a loop is cheaper than the regular expression for short values. */
function isFieldValue(v: string): boolean {
  const n = v.length;
  if (n > 48) return FIELD_VALUE.test(v);
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** A Content-Length value (optional surrounding blanks, 1 to 16 digits) as a number, or -1. */
function parseContentLength(v: string): number {
  let i = 0;
  let end = v.length;
  while (i < end && (v.charCodeAt(i) === 0x20 || v.charCodeAt(i) === 0x09)) i++;
  while (end > i && (v.charCodeAt(end - 1) === 0x20 || v.charCodeAt(end - 1) === 0x09)) end--;
  if (end === i || end - i > 16) return -1;
  let n = 0;
  for (; i < end; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

// The last valid status string and its code: most responses repeat it. (A symbol no
// application can pass, until the first valid status.)
let lastStatus: unknown = Symbol('no status yet');
let lastStatusCode = 0;

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v;
}

function statusCodeOf(status: unknown): number {
  if (status === lastStatus) return lastStatusCode;
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
  const code = (status.charCodeAt(0) - 48) * 100 + (status.charCodeAt(1) - 48) * 10 + (status.charCodeAt(2) - 48);
  lastStatus = status;
  lastStatusCode = code;
  return code;
}

// The last head prepared: its status, its header names and values in order, and what
// they made. Most applications send the same head again and again (the same status, the
// same names, often the same values), and a head equal to one already validated needs
// neither the checks nor the concatenation: the same (flat) string is reused.
let cachedStatus: unknown = Symbol('no head yet');
const cachedFields: string[] = [];
let cachedHead = '';
let cachedCode = 0;
let cachedLength = -1;
let cachedFlags = 0;

/** True when headers are exactly cachedFields, pair by pair (no checks needed: they passed). */
function sameAsCached(headers: unknown[]): boolean {
  const fields = cachedFields;
  if (headers.length * 2 !== fields.length) return false;
  for (let i = 0, j = 0; i < headers.length; i++, j += 2) {
    const pair = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2 || pair[0] !== fields[j] || pair[1] !== fields[j + 1]) return false;
  }
  return true;
}

/** Validates status and headers and writes the serialised head into `target`. Throws ApplicationError. */
export function prepareHead(target: HeadTarget, status: unknown, headers: unknown): void {
  if (status === cachedStatus && Array.isArray(headers) && sameAsCached(headers)) {
    target.head = cachedHead;
    target.statusCode = cachedCode;
    target.contentLength = cachedLength;
    target.respFlags = cachedFlags;
    return;
  }
  const code = statusCodeOf(status);
  if (!Array.isArray(headers)) {
    throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: headers must be an array of [name, value] pairs, got ${describe(headers)}`);
  }
  let head = (status as string) + '\r\n';
  let contentLength = -1;
  let flags = 0;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: header ${i} must be a [name, value] pair, got ${describe(pair)}`);
    }
    const name = pair[0];
    const value = pair[1];
    const kind = typeof name === 'string' ? nameClasses.get(name) ?? classifyName(name) : undefined;
    if (kind === undefined) {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: header name ${describe(name)} is not an HTTP token (letters, digits and !#$%&'*+-.^_\`|~)`);
    }
    if (typeof value !== 'string') {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: the value of header ${name} must be a string, got ${describe(value)}`);
    }
    if (!isFieldValue(value)) {
      throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: the value of header ${name} must be latin-1 without CR, LF, NUL or other control characters (encode it first), got ${describe(value)}`);
    }
    if (kind !== NameClass.Plain) {
      if (kind === NameClass.ContentLength) {
        const n = parseContentLength(value);
        if (n < 0) throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: Content-Length must be a whole number of bytes, got ${describe(value)}`);
        if (contentLength >= 0) {
          if (n !== contentLength) throw new ApplicationError('TSGI_ERR_INVALID_HEADER', `startResponse: two different Content-Length headers (${contentLength} and ${n})`);
          continue;
        }
        contentLength = n;
      } else if (kind === NameClass.Date) {
        flags |= RESP_HAS_DATE;
      } else {
        throw new ApplicationError('TSGI_ERR_HOP_BY_HOP_HEADER', `startResponse: ${name} is a hop-by-hop header, which the server manages (PEP 3333); remove it from the response headers`);
      }
    }
    head += name + ': ' + value + '\r\n';
  }
  target.head = head;
  target.statusCode = code;
  target.contentLength = contentLength;
  target.respFlags = flags;
  // Remembered for the next call (short lists only: comparing long ones costs more).
  // The fields array is refilled in place: a miss (a new Content-Length value) allocates nothing.
  if (headers.length <= 16) {
    const fields = cachedFields;
    fields.length = 0;
    for (let i = 0; i < headers.length; i++) fields.push(headers[i][0], headers[i][1]);
    cachedStatus = status;
    cachedHead = head;
    cachedCode = code;
    cachedLength = contentLength;
    cachedFlags = flags;
  }
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

/** What startResponse works on: one request's response state (the gateway's Exchange). */
export interface StartTarget extends HeadTarget {
  isStarted(): boolean;
  isHeadersSent(): boolean;
  /** Records that startResponse succeeded; returns the legacy write(). */
  markStarted(): Write;
}

/** PEP 3333's start_response; the gateway binds it to each request's StartTarget. */
export function startResponse(this: StartTarget, status: string, headers: unknown, excInfo?: unknown): Write {
  checkStart(excInfo, this.isStarted(), this.isHeadersSent());
  prepareHead(this, status, headers);
  return this.markStarted();
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
