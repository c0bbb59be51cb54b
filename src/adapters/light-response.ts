// A Response that costs almost nothing to create. Node's Response (undici) builds a
// Headers object, a body stream and internal state on every `new Response(...)`, which
// dominates the time a fetch handler such as Hono spends per request. LightResponse keeps
// what it was given (a string or bytes body, the status, statusText and headers as
// [name, value] pairs) and builds the real Response only when something asks for more
// than that: the body stream, a body reader (text(), json(), …) or clone(). Its prototype
// chain reaches Response.prototype, so `instanceof Response` holds. fromFetch installs it
// as globalThis.Response (see overrideGlobalObjects) and sends its status, headers and
// body directly.
import type { ResponseHeaders } from '../types';

/** Node's own Response class, even when another library already replaced the global with a subclass-like wrapper. */
function baseResponse(): typeof Response {
  let C = globalThis.Response;
  for (let i = 0; i < 8; i++) {
    const parent = Object.getPrototypeOf(C.prototype) as { constructor?: typeof Response } | null;
    if (parent === null || parent === Object.prototype || typeof parent.constructor !== 'function') break;
    C = parent.constructor;
  }
  return C;
}

let native: typeof Response | undefined;

/** Node's Response class (looked up on first use: touching the global loads Node's fetch implementation). */
export function nativeResponse(): typeof Response {
  return (native ??= baseResponse());
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const TEXT_TYPE = 'text/plain;charset=UTF-8';
const JSON_TYPE = 'application/json';

type LightBody = string | Uint8Array | null;

/** What fromFetch sends for a LightResponse that was not turned into a real one. */
export interface LightParts {
  status: number;
  statusText: string;
  /** Lower-case names; a header object the handler may have changed is read at this point. */
  headers: ResponseHeaders;
  body: LightBody;
}

function trimValue(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  if (s.length === 0) return s;
  const a = s.charCodeAt(0), b = s.charCodeAt(s.length - 1);
  return a === 32 || a === 9 || a === 10 || a === 13 || b === 32 || b === 9 || b === 10 || b === 13 ? s.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '') : s;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n\u0100-\uffff]/;

/**
 * Adds name: value as Headers would (lower-case name, repeated names joined with ", ",
 * Set-Cookie kept apart). False for a name or value Headers would refuse.
 */
function addPair(pairs: ResponseHeaders, name: string, value: unknown): boolean {
  if (!TOKEN.test(name)) return false;
  const v = trimValue(value);
  if (BAD_VALUE.test(v)) return false;
  const n = name.toLowerCase();
  if (n !== 'set-cookie') {
    for (let i = 0; i < pairs.length; i++) {
      if (pairs[i][0] === n) {
        pairs[i] = [n, pairs[i][1] + ', ' + v];
        return true;
      }
    }
  }
  pairs.push([n, v]);
  return true;
}

/** A snapshot of headers init as pairs, or undefined when it is not a shape read here (then the real Headers decides). */
function initPairs(init: unknown): ResponseHeaders | undefined {
  const pairs: ResponseHeaders = [];
  if (init === undefined || init === null) return pairs;
  if (typeof init !== 'object') return undefined;
  if (init instanceof Headers) {
    for (const [n, v] of init) if (n !== 'set-cookie') pairs.push([n, v]);
    for (const c of init.getSetCookie()) pairs.push(['set-cookie', c]);
    return pairs;
  }
  if (Array.isArray(init)) {
    for (const p of init) {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || !addPair(pairs, p[0], p[1])) return undefined;
    }
    return pairs;
  }
  const proto = Object.getPrototypeOf(init);
  if (proto !== Object.prototype && proto !== null) return undefined;
  for (const k in init as Record<string, unknown>) {
    const v = (init as Record<string, unknown>)[k];
    if (typeof v !== 'string') {
      if (Array.isArray(v) || (v !== null && typeof v === 'object')) return undefined;
    }
    if (!addPair(pairs, k, v)) return undefined;
  }
  return pairs;
}

function hasHeader(pairs: ResponseHeaders, name: string): boolean {
  for (let i = 0; i < pairs.length; i++) if (pairs[i][0] === name) return true;
  return false;
}

interface Init { status?: unknown; statusText?: unknown; headers?: unknown }

let partsOf: (res: object) => LightParts | undefined;

/**
 * The string or bytes behind a body stream a LightResponse handed out and nobody read yet,
 * so `new Response(res.body, res)` (Hono, when a middleware changes a finished response)
 * stays light.
 */
const streamSources = new WeakMap<ReadableStream<Uint8Array>, string | Uint8Array>();

function sourceOf(body: ReadableStream<Uint8Array>): string | Uint8Array | undefined {
  return body.locked ? undefined : streamSources.get(body);
}

/** The new Response takes the stream, as Node's would: nobody else can read it now. */
function takeStream(body: ReadableStream<Uint8Array>): void {
  streamSources.delete(body);
  body.getReader();
}

export class LightResponse {
  #body: LightBody = null;
  #status = 200;
  #statusText = '';
  #pairs: ResponseHeaders | undefined = undefined;
  #headers: Headers | undefined = undefined;
  #real: Response | undefined = undefined;

  constructor(body?: unknown, init?: Init) {
    let b: LightBody | undefined;
    if (body === undefined || body === null) b = null;
    else if (typeof body === 'string') b = body;
    // Bytes are copied, as Node's Response does: the caller may reuse its buffer.
    else if (body instanceof Uint8Array) b = new Uint8Array(body);
    else if (body instanceof ArrayBuffer) b = new Uint8Array(body.slice(0));
    else if (body instanceof ReadableStream) b = sourceOf(body);
    const status = init?.status;
    const statusText = init?.statusText;
    const pairs = b === undefined ? undefined : initPairs(init?.headers);
    if (b === undefined || pairs === undefined
        || (status !== undefined && (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599))
        || (b !== null && NULL_BODY_STATUS.has(status as number))
        || (statusText !== undefined && statusText !== '' && (typeof statusText !== 'string' || !/^[\t\x20-\x7e\x80-\xff]*$/.test(statusText)))) {
      // Anything unusual (a stream, Blob, FormData, a status or header that may be invalid): Node's Response decides.
      this.#real = new (nativeResponse())(body as ConstructorParameters<typeof Response>[0], init as ResponseInit);
      return;
    }
    if (b !== null && typeof body === 'object' && body instanceof ReadableStream) takeStream(body);
    this.#body = b;
    if (status !== undefined) this.#status = status as number;
    if (statusText !== undefined) this.#statusText = statusText as string;
    if (typeof body === 'string' && !hasHeader(pairs, 'content-type')) pairs.push(['content-type', TEXT_TYPE]);
    this.#pairs = pairs;
  }

  /** The real Response behind this one, built on first need with the current headers. */
  #realize(): Response {
    if (this.#real !== undefined) return this.#real;
    const real = new (nativeResponse())(this.#body, { status: this.#status, statusText: this.#statusText, headers: this.#headers ?? this.#pairs });
    this.#real = real;
    this.#headers ??= real.headers;
    this.#pairs = undefined;
    return real;
  }

  get headers(): Headers {
    if (this.#headers !== undefined) return this.#headers;
    if (this.#real !== undefined) return (this.#headers = this.#real.headers);
    const h = new Headers();
    for (const [n, v] of this.#pairs!) h.append(n, v);
    this.#pairs = undefined;
    return (this.#headers = h);
  }

  get status(): number { return this.#real !== undefined ? this.#real.status : this.#status; }
  get statusText(): string { return this.#real !== undefined ? this.#real.statusText : this.#statusText; }
  get ok(): boolean { const s = this.status; return s >= 200 && s <= 299; }
  get type(): Response['type'] { return this.#real !== undefined ? this.#real.type : 'default'; }
  get url(): string { return this.#real !== undefined ? this.#real.url : ''; }
  get redirected(): boolean { return this.#real !== undefined ? this.#real.redirected : false; }
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#real !== undefined) return this.#real.body;
    const src = this.#body;
    if (src === null) return null;
    const stream = this.#realize().body!;
    streamSources.set(stream, src);
    return stream;
  }
  get bodyUsed(): boolean { return this.#real !== undefined ? this.#real.bodyUsed : false; }

  text(): Promise<string> { return this.#realize().text(); }
  json(): Promise<unknown> { return this.#realize().json(); }
  arrayBuffer(): Promise<ArrayBuffer> { return this.#realize().arrayBuffer(); }
  blob(): Promise<Blob> { return this.#realize().blob(); }
  formData(): Promise<FormData> { return this.#realize().formData(); }
  bytes(): Promise<Uint8Array> { return (this.#realize() as unknown as { bytes(): Promise<Uint8Array> }).bytes(); }

  clone(): Response {
    if (this.#real === undefined) {
      // An unread string or bytes body can be shared; the headers are copied.
      return new LightResponse(this.#body, { status: this.#status, statusText: this.#statusText, headers: this.#headers ?? this.#pairs!.slice() }) as unknown as Response;
    }
    const copy = this.#real.clone();
    if (this.#headers !== undefined && this.#headers !== this.#real.headers) {
      for (const [n] of [...copy.headers]) copy.headers.delete(n);
      for (const [n, v] of this.#headers) if (n !== 'set-cookie') copy.headers.append(n, v);
      for (const c of this.#headers.getSetCookie()) copy.headers.append('set-cookie', c);
    }
    return copy;
  }

  static json(data: unknown, init?: Init): Response {
    const text = JSON.stringify(data);
    if (typeof text !== 'string') return nativeResponse().json(data, init as ResponseInit);
    const headers = initPairs(init?.headers);
    if (headers === undefined) return nativeResponse().json(data, init as ResponseInit);
    if (!hasHeader(headers, 'content-type')) headers.push(['content-type', JSON_TYPE]);
    return new LightResponse(text, { status: init?.status, statusText: init?.statusText, headers }) as unknown as Response;
  }

  static error(): Response { return nativeResponse().error(); }
  static redirect(url: string | URL, status?: number): Response { return nativeResponse().redirect(url, status as Parameters<typeof Response.redirect>[1]); }

  /** Real Responses (from fetch(), Response.error(), …) are instances too. */
  static [Symbol.hasInstance](v: unknown): boolean {
    return v !== null && typeof v === 'object' && nativeResponse().prototype.isPrototypeOf(v);
  }

  static {
    partsOf = (res) => {
      if (!(#real in res) || res.#real !== undefined) return undefined;
      let headers: ResponseHeaders;
      if (res.#headers === undefined) {
        headers = res.#pairs!;
      } else {
        headers = [];
        const h = res.#headers;
        for (const [n, v] of h) if (n !== 'set-cookie') headers.push([n, v]);
        for (const c of h.getSetCookie()) headers.push(['set-cookie', c]);
      }
      return { status: res.#status, statusText: res.#statusText, headers, body: res.#body };
    };
  }
}

Object.defineProperty(LightResponse, 'name', { value: 'Response' });
let prototypeReady = false;

/** Status, headers and body of a LightResponse still held lightly; undefined for anything else. */
export function lightParts(res: object): LightParts | undefined {
  return partsOf(res);
}

/** Makes LightResponse the global Response (process-wide; idempotent). */
export function installLightResponse(): void {
  if (!prototypeReady) {
    prototypeReady = true;
    Object.setPrototypeOf(LightResponse.prototype, nativeResponse().prototype);
    Object.setPrototypeOf(LightResponse, nativeResponse());
  }
  if (globalThis.Response === (LightResponse as unknown as typeof Response)) return;
  Object.defineProperty(globalThis, 'Response', { value: LightResponse, writable: true, configurable: true, enumerable: false });
}
