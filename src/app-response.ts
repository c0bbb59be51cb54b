// Response: a small class whose instances are tsgi applications. `new Response(body, init)`
// is a function (environ, startResponse) => body, so it can be returned from a router,
// passed to serve(), or wrapped by middleware. The constructor returns a function whose
// prototype is Response.prototype (which inherits Function.prototype): `typeof r` is
// 'function' and `r instanceof Response` holds.
import { ApplicationError } from './errors';
import { FIELD_VALUE, TOKEN, describeValue, isHopByHop, statusLine } from './http-syntax';
import { serializeCookie, type CookieOptions } from './cookies';
import type { Body, Chunk, Environ, ResponseHeaders, StartResponse } from './types';

/** Headers as pairs, a record, or any iterable of [name, value]. */
export type HeadersInit = ResponseHeaders | Record<string, string> | Iterable<readonly [string, string]>;

export interface ResponseInit {
  /** Status code (200 by default), 200-599. */
  status?: number;
  /** Reason phrase (the standard one for the code by default). */
  statusText?: string;
  headers?: HeadersInit;
}

/** What a Response can carry: text (sent as UTF-8), bytes, or a streamed body (passed through, close() kept). */
export type ResponseBody = string | Uint8Array | Iterable<Chunk> | AsyncIterable<Chunk> | null | undefined;

export interface Response {
  /** A Response is a tsgi application. */
  (environ: Environ, startResponse: StartResponse): Body;
}

function headerError(message: string): ApplicationError {
  return new ApplicationError('TSGI_ERR_INVALID_HEADER', message);
}

function checkHeader(name: string, value: string): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw headerError(`Response: header name ${describeValue(name)} is not an HTTP token`);
  if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
    throw headerError(`Response: the value of ${name} must be a latin-1 string without CR, LF or control characters, got ${describeValue(value)}`);
  }
  if (isHopByHop(name.toLowerCase())) throw new ApplicationError('TSGI_ERR_HOP_BY_HOP_HEADER', `Response: ${name} is a hop-by-hop header, which the server manages`);
}

function toPairs(init: HeadersInit | undefined): Array<[string, string]> {
  if (init === undefined) return [];
  const pairs: Array<[string, string]> = [];
  const iterable = typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function';
  const source = iterable ? (init as Iterable<readonly [string, string]>) : Object.entries(init as Record<string, string>);
  for (const pair of source) {
    if (!Array.isArray(pair) || pair.length !== 2) throw headerError(`Response: headers must be [name, value] pairs, got ${describeValue(pair)}`);
    checkHeader(pair[0], pair[1]);
    pairs.push([pair[0], pair[1]]);
  }
  return pairs;
}

/** Percent-encodes what a Location value cannot carry (non-ASCII, controls, space) as UTF-8. */
function encodeLocation(url: string): string {
  return url.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[^\x21-\x7e]/gu, encodeURIComponent);
}

// Per-instance state lives under symbols: a function's own `name` and `length` are taken.
const kStatus = Symbol('status');
const kReason = Symbol('reason');
const kHeaders = Symbol('headers');
const kBody = Symbol('body');

/** A response that is itself a tsgi application. */
export class Response {
  declare [kStatus]: number;
  declare [kReason]: string | undefined;
  declare [kHeaders]: Array<[string, string]>;
  declare [kBody]: ResponseBody;

  constructor(body?: ResponseBody, init: ResponseInit = {}) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new ApplicationError('TSGI_ERR_INVALID_STATUS', `Response: status must be a whole number from 200 to 599, got ${describeValue(status)}`);
    }
    if (init.statusText !== undefined && (typeof init.statusText !== 'string' || !FIELD_VALUE.test(init.statusText))) {
      throw new ApplicationError('TSGI_ERR_INVALID_STATUS', `Response: statusText must be latin-1 without control characters, got ${describeValue(init.statusText)}`);
    }
    const app = function responseApp(this: unknown, environ: Environ, startResponse: StartResponse): Body {
      return (app as unknown as Response).serve(startResponse);
    } as unknown as Response;
    Object.setPrototypeOf(app, new.target.prototype);
    app[kStatus] = status;
    app[kReason] = init.statusText;
    app[kHeaders] = toPairs(init.headers);
    app[kBody] = body;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      if (typeof body === 'string' && !app.hasHeader('content-type')) app[kHeaders].push(['Content-Type', 'text/plain; charset=utf-8']);
    } else if (body !== null && body !== undefined && typeof (body as Iterable<Chunk>)[Symbol.iterator] !== 'function' && typeof (body as AsyncIterable<Chunk>)[Symbol.asyncIterator] !== 'function') {
      throw new ApplicationError('TSGI_ERR_INVALID_BODY', `Response: the body must be a string, a Uint8Array, an iterable or an async iterable of chunks, got ${describeValue(body)}`);
    }
    return app;
  }

  /** A JSON response: `JSON.stringify(data)` with Content-Type application/json. */
  static json(data: unknown, init: ResponseInit = {}): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new ApplicationError('TSGI_ERR_INVALID_BODY', `Response.json: ${describeValue(data)} has no JSON form`);
    const r = new Response(text, { ...init, headers: init.headers });
    if (!toPairs(init.headers).some(([n]) => n.toLowerCase() === 'content-type')) r.setHeader('Content-Type', 'application/json');
    return r;
  }

  /** A redirect to `url` (301, 302, 303, 307 or 308); non-ASCII in the URL is percent-encoded. */
  static redirect(url: string | URL, status = 302): Response {
    if (![301, 302, 303, 307, 308].includes(status)) {
      throw new ApplicationError('TSGI_ERR_INVALID_STATUS', `Response.redirect: status must be 301, 302, 303, 307 or 308, got ${describeValue(status)}`);
    }
    return new Response(null, { status, headers: [['Location', encodeLocation(String(url))]] });
  }

  get status(): number { return this[kStatus]; }
  set status(code: number) {
    if (!Number.isInteger(code) || code < 200 || code > 599) throw new ApplicationError('TSGI_ERR_INVALID_STATUS', `Response: status must be a whole number from 200 to 599, got ${describeValue(code)}`);
    this[kStatus] = code;
    this[kReason] = undefined;
  }

  /** The status line startResponse gets: 'NNN Reason'. */
  get statusLine(): string { return statusLine(this[kStatus], this[kReason]); }

  /** The body as given. */
  get body(): ResponseBody { return this[kBody]; }

  /** A copy of the headers, in order. */
  get headers(): ResponseHeaders { return this[kHeaders].map(([n, v]) => [n, v]); }

  /** The first value of a header (case-insensitive), or undefined. */
  getHeader(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this[kHeaders].find(([n]) => n.toLowerCase() === lower)?.[1];
  }

  hasHeader(name: string): boolean { return this.getHeader(name) !== undefined; }

  /** Replaces every header of that name with one. */
  setHeader(name: string, value: string): this {
    checkHeader(name, value);
    this.deleteHeader(name);
    this[kHeaders].push([name, value]);
    return this;
  }

  /** Adds a header, keeping the ones of that name already there. */
  appendHeader(name: string, value: string): this {
    checkHeader(name, value);
    this[kHeaders].push([name, value]);
    return this;
  }

  deleteHeader(name: string): this {
    const lower = name.toLowerCase();
    this[kHeaders] = this[kHeaders].filter(([n]) => n.toLowerCase() !== lower);
    return this;
  }

  /** Adds a Set-Cookie header. The name must be a token; the value is percent-encoded (UTF-8). */
  setCookie(name: string, value: string, options: CookieOptions = {}): this {
    this[kHeaders].push(['Set-Cookie', serializeCookie(name, value, options)]);
    return this;
  }

  /** Expires a cookie: give the path and domain it was set with. */
  deleteCookie(name: string, options: Pick<CookieOptions, 'path' | 'domain' | 'secure' | 'httpOnly' | 'sameSite' | 'partitioned'> = {}): this {
    this[kHeaders].push(['Set-Cookie', serializeCookie(name, '', { ...options, maxAge: 0, expires: new Date(0) })]);
    return this;
  }

  /** Starts the response and returns the body (what calling the Response does). */
  private serve(startResponse: StartResponse): Body {
    const body = this[kBody];
    const headers = this.headers;
    if (body === null || body === undefined) {
      if (!headers.some(([n]) => n.toLowerCase() === 'content-length')) headers.push(['Content-Length', '0']);
      startResponse(this.statusLine, headers);
      return [];
    }
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      if (!headers.some(([n]) => n.toLowerCase() === 'content-length')) headers.push(['Content-Length', String(bytes.byteLength)]);
      startResponse(this.statusLine, headers);
      return [bytes];
    }
    // A streamed body goes to the server as it is: its close() (or return()) is the server's to call.
    startResponse(this.statusLine, headers);
    return body as Body;
  }
}

// Instances are functions: keep call/apply/bind and Function.prototype.toString working.
Object.setPrototypeOf(Response.prototype, Function.prototype);
