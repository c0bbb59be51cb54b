// fromFetch(handler): a tsgi application that runs a WinterCG fetch handler, such as
// Hono's app.fetch or a handler written for Bun, Deno or Cloudflare Workers. The request
// still arrives through the native parser and the response leaves through the native
// framing: this only translates objects.
import { OptionError } from '../errors';
import type { App, Body, Chunk, Environ, ErrorStream, StartResponse } from '../types';
import { EnvironRequest, prepareEnvironRequest } from './fetch-request';
import { responseBody } from './fetch-response';
import { installLightResponse } from './light-response';
import type { ExecutionContext, FetchHandler, FetchHandlerObject } from './fetch-types';

export interface FromFetchOptions {
  /** The second argument of every call (Workers' `env`: bindings, variables). Default `{}`. */
  env?: unknown;
  /**
   * Replace globalThis.Response with tsgi's LightResponse, which defers building Node's
   * Response until something needs more than the status, headers and a string or bytes
   * body. Process-wide; default true. Pass false to leave the global alone.
   */
  overrideGlobalObjects?: boolean;
}

const NO_PROPS = Object.freeze({});

/** The third argument of every call: waitUntil() logs what rejects on wsgi.errors. */
class Context implements ExecutionContext {
  constructor(private readonly errors: ErrorStream) {}
  get props(): Record<string, unknown> { return NO_PROPS; }
  waitUntil(promise: Promise<unknown>): void {
    Promise.resolve(promise).catch((e: unknown) => {
      try { this.errors.write(`tsgi: a promise passed to ctx.waitUntil() rejected: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`); } catch { /* nowhere to report */ }
    });
  }
  passThroughOnException(): void {}
}

/**
 * While the handler is still working, the gateway can only reach the request through a
 * body: this one waits for the Response, and closing it (the client went away) aborts
 * request.signal at once. Used when the handler took request.signal.
 */
class PendingBody implements AsyncIterableIterator<Chunk> {
  private inner: AsyncIterator<Chunk> & { close?(): void } | undefined = undefined;
  private chunks: Chunk[] | undefined = undefined;
  private closed = false;

  constructor(private readonly pending: Promise<Response>, private readonly environ: Environ,
              private readonly startResponse: StartResponse, private readonly request: EnvironRequest) {}

  [Symbol.asyncIterator](): this { return this; }

  async next(): Promise<IteratorResult<Chunk>> {
    if (this.inner === undefined && this.chunks === undefined) {
      const res = await this.pending;
      const body = await responseBody(res, this.environ, this.startResponse, this.request);
      if (this.closed) {
        (body as { close?(): void }).close?.();
        return { done: true, value: undefined };
      }
      if (Array.isArray(body)) this.chunks = (body as Chunk[]).slice();
      else this.inner = body as unknown as AsyncIterator<Chunk> & { close?(): void };
    }
    if (this.chunks !== undefined) return this.chunks.length > 0 ? { done: false, value: this.chunks.shift()! } : { done: true, value: undefined };
    return this.inner!.next();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.inner !== undefined) this.inner.close?.();
    else if (this.chunks === undefined) this.request.abort();
  }
}

function isThenable(v: unknown): v is Promise<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Promise<unknown>).then === 'function';
}

/** A tsgi application that runs `handler` (a function, or an object with a fetch method such as a Hono app). */
export function fromFetch(handler: FetchHandler | FetchHandlerObject, options: FromFetchOptions = {}): App {
  let target: FetchHandlerObject;
  if (typeof handler === 'function') target = { fetch: handler };
  else if (handler !== null && typeof handler === 'object' && typeof (handler as FetchHandlerObject).fetch === 'function') target = handler;
  else throw new OptionError('TSGI_ERR_INVALID_OPTION', `fromFetch() takes a fetch handler (request) => Response or an object with a fetch method (a Hono app), got ${handler === null ? 'null' : typeof handler}`);
  prepareEnvironRequest();
  if (options.overrideGlobalObjects !== false) installLightResponse();
  const env = options.env ?? {};
  let context: Context | undefined;
  let contextErrors: ErrorStream | undefined;

  return function fetchApp(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    const request = new EnvironRequest(environ);
    const errors = environ['wsgi.errors'];
    // One context per error stream (in practice one per server).
    if (contextErrors !== errors) {
      contextErrors = errors;
      context = new Context(errors);
    }
    const res = target.fetch(request as unknown as Request, env, context);
    if (!isThenable(res)) return responseBody(res, environ, startResponse, request);
    if (request.signalWanted()) return new PendingBody(res as Promise<Response>, environ, startResponse, request);
    return (res as Promise<Response>).then((r) => responseBody(r, environ, startResponse, request));
  };
}
