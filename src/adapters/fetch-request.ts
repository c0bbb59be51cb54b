// The Request a fetch handler receives from tsgi. Building a WHATWG Request costs more
// than most handlers need: this object answers method, url and headers from the environ
// and builds the real Request (with its body stream) only when something else is asked
// for. It inherits from Request.prototype, so `instanceof Request` holds. The common
// body readers (text, json, arrayBuffer) read wsgi.input directly, and its headers answer
// get() and has() from the environ (environ-headers.ts).
import type { Environ, InputStream } from '../types';
import { EnvironHeaders, prepareEnvironHeaders } from './environ-headers';
import { requestUrl } from './fetch-url';

/** Request bodies up to this size are handed to Request whole; larger ones as a stream pulled 64 KB at a time. */
const WHOLE_BODY_MAX = 64 * 1024;
const STREAM_CHUNK = 64 * 1024;

const kEnviron = Symbol('tsgi.environ');
const kReal = Symbol('tsgi.request');
const kHeaders = Symbol('tsgi.headers');
const kUrl = Symbol('tsgi.url');
const kAbort = Symbol('tsgi.abort');
const kUsed = Symbol('tsgi.bodyUsed');

function hasBody(environ: Environ): boolean {
  const m = environ.REQUEST_METHOD;
  if (m === 'GET' || m === 'HEAD') return false;
  const input = environ['wsgi.input'] as InputStream | undefined;
  return input !== undefined && input !== null && input.length > 0;
}

/** wsgi.input as a byte stream that reads only when its consumer pulls. */
export function inputStream(input: InputStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = input.read(STREAM_CHUNK);
      if (chunk.length === 0) controller.close();
      else controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

function bodyUnusable(): TypeError {
  return new TypeError('Body is unusable: the request body was already read');
}

export class EnvironRequest {
  [kEnviron]: Environ;
  [kReal]: Request | undefined = undefined;
  [kHeaders]: Headers | undefined = undefined;
  [kUrl]: string | undefined = undefined;
  [kAbort]: AbortController | undefined = undefined;
  [kUsed] = false;

  constructor(environ: Environ) {
    this[kEnviron] = environ;
  }

  get method(): string {
    return this[kEnviron].REQUEST_METHOD;
  }

  get url(): string {
    return (this[kUrl] ??= requestUrl(this[kEnviron]));
  }

  get headers(): Headers {
    return (this[kHeaders] ??= this[kReal] !== undefined ? this[kReal].headers : new EnvironHeaders(this[kEnviron]) as unknown as Headers);
  }

  get signal(): AbortSignal {
    return (this[kAbort] ??= new AbortController()).signal;
  }

  get bodyUsed(): boolean {
    return this[kReal] !== undefined ? this[kReal].bodyUsed : this[kUsed];
  }

  text(): Promise<string> {
    if (this[kReal] !== undefined) return this[kReal].text();
    return this.wholeBody().then((b) => b.toString('utf8'));
  }

  json(): Promise<unknown> {
    if (this[kReal] !== undefined) return this[kReal].json();
    return this.wholeBody().then((b) => JSON.parse(b.toString('utf8')));
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this[kReal] !== undefined) return this[kReal].arrayBuffer();
    return this.wholeBody().then((b) => {
      const ab = new ArrayBuffer(b.length);
      new Uint8Array(ab).set(b);
      return ab;
    });
  }

  /** The real Request, built on first need with the same URL, headers and signal. */
  toRequest(): Request {
    let real = this[kReal];
    if (real !== undefined) return real;
    const environ = this[kEnviron];
    const init: RequestInit & { duplex?: 'half' } = { method: environ.REQUEST_METHOD, headers: this.headers, signal: this.signal };
    if (hasBody(environ) && !this[kUsed]) {
      const input = environ['wsgi.input'] as InputStream;
      init.body = input.length <= WHOLE_BODY_MAX ? input.read() : inputStream(input);
      init.duplex = 'half';
    }
    real = new Request(this.url, init);
    this[kReal] = real;
    return real;
  }

  /** The client went away (or the response was abandoned): request.signal aborts. */
  abort(): void {
    const ac = this[kAbort];
    if (ac !== undefined && !ac.signal.aborted) ac.abort(new DOMException('The client went away', 'AbortError'));
  }

  /** Whether the handler asked for request.signal. */
  signalWanted(): boolean {
    return this[kAbort] !== undefined;
  }

  private wholeBody(): Promise<Buffer> {
    if (this[kUsed]) return Promise.reject(bodyUnusable());
    this[kUsed] = true;
    const environ = this[kEnviron];
    try {
      return Promise.resolve(hasBody(environ) ? (environ['wsgi.input'] as InputStream).read() : Buffer.alloc(0));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

let prototypeReady = false;

/**
 * Makes EnvironRequest answer everything else a Request has through the real one, and
 * inherit from Request.prototype. Done on first use, not at import: touching the global
 * Request loads Node's fetch implementation, which costs a process that never uses it.
 */
export function prepareEnvironRequest(): void {
  if (prototypeReady) return;
  prototypeReady = true;
  prepareEnvironHeaders();
  const own = new Set(Object.getOwnPropertyNames(EnvironRequest.prototype));
  for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(Request.prototype))) {
    if (own.has(name) || name === 'constructor') continue;
    if (typeof desc.get === 'function') {
      Object.defineProperty(EnvironRequest.prototype, name, {
        configurable: true, enumerable: desc.enumerable,
        get(this: EnvironRequest) { return (this.toRequest() as unknown as Record<string, unknown>)[name]; },
      });
    } else if (typeof desc.value === 'function') {
      Object.defineProperty(EnvironRequest.prototype, name, {
        configurable: true, enumerable: desc.enumerable, writable: true,
        value(this: EnvironRequest, ...args: unknown[]) {
          const real = this.toRequest() as unknown as Record<string, (...a: unknown[]) => unknown>;
          return real[name](...args);
        },
      });
    }
  }
  Object.defineProperty(EnvironRequest.prototype, Symbol.toStringTag, { value: 'Request', configurable: true });
  Object.setPrototypeOf(EnvironRequest.prototype, Request.prototype);
}
