// validator: what the application passes to startResponse, and what the server's
// startResponse does with it (PEP 3333 "The start_response() Callable").
import { FIELD_VALUE, STATUS_LINE, TOKEN, describeValue, isHopByHop, isLatin1 } from '../http-syntax';
import type { Chunk, ErrorStream, ResponseHeaders, StartResponse, Write } from '../types';
import type { Report } from './validator-report';

/** What the validator knows about one response. */
export interface ResponseState {
  readonly report: Report;
  /** Where reports that cannot be thrown (a body collected without close()) are written. */
  errors: ErrorStream | undefined;
  /** HEAD requests may send less than Content-Length. */
  readonly head: boolean;
  started: boolean;
  /** Set by the first write() or the first non-empty chunk: excInfo must then be re-raised by the server. */
  headersSent: boolean;
  statusCode: number;
  /** The application's Content-Length, or -1. */
  contentLength: number;
  /** Body bytes the application produced (write() and chunks). */
  sent: number;
  /** The response ended (body exhausted or closed). */
  ended: boolean;
}

export function newResponseState(report: Report, head: boolean): ResponseState {
  return { report, errors: undefined, head, started: false, headersSent: false, statusCode: 0, contentLength: -1, sent: 0, ended: false };
}

function app(state: ResponseState, code: Parameters<Report>[0], rule: string, message: string): void {
  state.report(code, 'application', rule, message);
}

function checkStatus(state: ResponseState, status: unknown): void {
  if (typeof status !== 'string') {
    return app(state, 'TSGI_ERR_INVALID_STATUS', 'status-string', `startResponse: the status must be a string such as '200 OK', got ${describeValue(status)} (PEP 3333: "a status string like '999 Message here'")`);
  }
  if (!isLatin1(status)) {
    return app(state, 'TSGI_ERR_INVALID_STATUS', 'status-latin1', `startResponse: status ${describeValue(status)} has a character above U+00FF (PEP 3333: status and headers are native strings, latin-1)`);
  }
  const m = STATUS_LINE.exec(status);
  if (m === null) {
    return app(state, 'TSGI_ERR_INVALID_STATUS', 'status-format', `startResponse: status ${describeValue(status)} is not 'NNN Reason': three digits, one space, a reason without control characters (PEP 3333: "a status code and a reason phrase, in that order and separated by a single space")`);
  }
  const code = Number(m[1]);
  if (code < 200 || code > 599) {
    return app(state, 'TSGI_ERR_INVALID_STATUS', 'status-final', `startResponse: status ${code} is not a final status 200-599 (1xx interim responses are the server's job)`);
  }
  state.statusCode = code;
}

function checkHeaders(state: ResponseState, headers: unknown): void {
  if (!Array.isArray(headers)) {
    return app(state, 'TSGI_ERR_INVALID_HEADER', 'headers-array', `startResponse: headers must be an array of [name, value] pairs, got ${describeValue(headers)} (PEP 3333: "a list of (header_name, header_value) tuples")`);
  }
  let contentLength = -1;
  for (let i = 0; i < headers.length; i++) {
    const pair: unknown = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2) {
      app(state, 'TSGI_ERR_INVALID_HEADER', 'header-pair', `startResponse: header ${i} must be a [name, value] pair, got ${describeValue(pair)}`);
      continue;
    }
    const [name, value] = pair as unknown[];
    if (typeof name !== 'string' || typeof value !== 'string') {
      app(state, 'TSGI_ERR_INVALID_HEADER', 'header-strings', `startResponse: header ${i} must be two strings, got [${describeValue(name)}, ${describeValue(value)}] (PEP 3333: header names and values are native strings)`);
      continue;
    }
    if (!TOKEN.test(name)) {
      app(state, 'TSGI_ERR_INVALID_HEADER', 'header-name-token', `startResponse: header name ${describeValue(name)} is not a token (RFC 9110 §5.1; PEP 3333: no header may be malformed)`);
      continue;
    }
    if (!isLatin1(value)) {
      app(state, 'TSGI_ERR_INVALID_HEADER', 'header-value-latin1', `startResponse: the value of ${name} has a character above U+00FF: ${describeValue(value)} (PEP 3333: header values are native strings; encode the text first)`);
      continue;
    }
    if (!FIELD_VALUE.test(value)) {
      app(state, 'TSGI_ERR_INVALID_HEADER', 'header-value-control', `startResponse: the value of ${name} contains CR, LF, NUL or another control character: ${describeValue(value)} (PEP 3333: "no control characters, including carriage returns or linefeeds")`);
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'status') {
      app(state, 'TSGI_ERR_INVALID_HEADER', 'no-status-header', "startResponse: a 'Status' header is a CGI convention; pass the status as the first argument");
    } else if (isHopByHop(lower)) {
      app(state, 'TSGI_ERR_HOP_BY_HOP_HEADER', 'no-hop-by-hop', `startResponse: ${name} is a hop-by-hop header, which the server manages (PEP 3333: "applications ... must not generate hop-by-hop headers")`);
    } else if (lower === 'content-length') {
      const v = value.trim();
      if (!/^\d{1,16}$/.test(v)) {
        app(state, 'TSGI_ERR_INVALID_HEADER', 'content-length-number', `startResponse: Content-Length must be a whole number of bytes, got ${describeValue(value)}`);
      } else if (contentLength >= 0 && Number(v) !== contentLength) {
        app(state, 'TSGI_ERR_INVALID_HEADER', 'content-length-single', `startResponse: two different Content-Length headers (${contentLength} and ${v})`);
      } else {
        contentLength = Number(v);
      }
    }
  }
  state.contentLength = contentLength;
}

/** Counts a chunk against Content-Length and reports when it is exceeded. */
export function countChunk(state: ResponseState, chunk: Chunk, where: string): void {
  const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
  if (n === 0) return;
  state.sent += n;
  if (state.contentLength >= 0 && state.sent > state.contentLength) {
    app(state, 'TSGI_ERR_CONTENT_LENGTH_MISMATCH', 'content-length-exceeded',
      `${where}: the body is now ${state.sent} bytes, more than its Content-Length: ${state.contentLength} (PEP 3333: the application must not send more than it declared)`);
  }
}

/** Checks a chunk's type; returns false when it is neither a string nor a Uint8Array. */
export function checkChunk(state: ResponseState, chunk: unknown, where: string): chunk is Chunk {
  if (typeof chunk === 'string' || chunk instanceof Uint8Array) return true;
  app(state, 'TSGI_ERR_INVALID_CHUNK', 'chunk-type', `${where} must be a string or a Uint8Array, got ${describeValue(chunk)} (tsgi: type Chunk = Uint8Array | string)`);
  return false;
}

/** At the end of the body: startResponse was called, and a declared Content-Length was met. */
export function checkEnd(state: ResponseState): void {
  if (state.ended) return;
  state.ended = true;
  if (!state.started) {
    app(state, 'TSGI_ERR_START_RESPONSE_MISSING', 'start-response-before-body', 'the body ended without startResponse having been called (PEP 3333: "the application must invoke the start_response() callable before the iterable yields its first body bytestring")');
    return;
  }
  const bodyless = state.head || state.statusCode === 204 || state.statusCode === 304;
  if (!bodyless && state.contentLength >= 0 && state.sent < state.contentLength) {
    app(state, 'TSGI_ERR_CONTENT_LENGTH_MISMATCH', 'content-length-short',
      `the body ended after ${state.sent} bytes, short of its Content-Length: ${state.contentLength} (the server must close the connection)`);
  }
}

/** The startResponse the application is given: checks its arguments and the server's answer. */
export function checkedStartResponse(state: ResponseState, inner: StartResponse): StartResponse {
  return function validatedStartResponse(status: string, headers: ResponseHeaders, excInfo?: unknown): Write {
    const hasExc = excInfo !== undefined && excInfo !== null;
    if (arguments.length < 2 || arguments.length > 3) {
      app(state, 'TSGI_ERR_INVALID_STATUS', 'start-response-arguments', `startResponse takes (status, headers[, excInfo]), got ${arguments.length} arguments`);
    }
    if (state.started && !hasExc) {
      app(state, 'TSGI_ERR_START_RESPONSE_TWICE', 'start-response-once', 'startResponse was called a second time without excInfo (PEP 3333: "it is a fatal error to call start_response without the exc_info argument if start_response has already been called")');
    }
    if (!hasExc || !state.headersSent) {
      checkStatus(state, status);
      checkHeaders(state, headers);
    }
    const wasSent = state.headersSent;
    const write = inner(status, headers, excInfo);
    if (hasExc && wasSent) {
      state.report('TSGI_ERR_SERVER_CONTRACT', 'server', 'exc-info-reraise', 'startResponse returned normally when called with excInfo after the headers were sent (PEP 3333: "start_response must raise an error, and should re-raise using the exc_info tuple")');
    }
    state.started = true;
    if (typeof write !== 'function') {
      state.report('TSGI_ERR_SERVER_CONTRACT', 'server', 'write-callable', `startResponse returned ${describeValue(write)}, not the write() callable (PEP 3333)`);
      return write;
    }
    return function validatedWrite(chunk: Chunk): void {
      if (state.ended) {
        app(state, 'TSGI_ERR_WRITE_AFTER_END', 'write-after-end', 'write() was called after the response ended');
      }
      if (checkChunk(state, chunk, 'write() takes a chunk that')) {
        state.headersSent = true;
        countChunk(state, chunk, 'write()');
      }
      write(chunk);
    };
  };
}
