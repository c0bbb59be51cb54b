// validator: the body the application returns, as the server drives it. Every body goes
// back to the server wrapped so that its chunks, the order of startResponse and chunks,
// Content-Length, and the server's close() (exactly once, nothing pulled after it) are
// checked. Arrays stay arrays and file wrappers stay file wrappers, so the server keeps
// its fast paths under the validator.
import { FileWrapper } from '../file-wrapper';
import { describeValue } from '../http-syntax';
import type { Body, Chunk } from '../types';
import { checkChunk, checkEnd, countChunk, type ResponseState } from './validator-start-response';

/** Bodies handed to the server whose close() was not called yet: reported if collected. */
const unclosed = new FinalizationRegistry<ResponseState>((state) => {
  try {
    state.report('TSGI_ERR_SERVER_CONTRACT', 'server', 'close-called', 'the body was released without the server calling close() (PEP 3333: "the server must call close() upon completion of the current request")');
  } catch (e) {
    // Throw mode: a finalizer has no caller to throw to, so the error goes to wsgi.errors.
    try { state.errors?.write(`tsgi validator: ${(e as Error).message}\n`); } catch { /* nowhere left to report */ }
  }
});

function server(state: ResponseState, rule: string, message: string): void {
  state.report('TSGI_ERR_SERVER_CONTRACT', 'server', rule, message);
}

/** close() for the wrapped body: checked, then passed to the application's close (or return()). */
function closer(state: ResponseState, token: object, inner: () => unknown): () => unknown {
  let closed = false;
  return function close(): unknown {
    if (closed) {
      server(state, 'close-once', 'close() was called a second time on the same body (PEP 3333: close() is called once)');
      return undefined;
    }
    closed = true;
    unclosed.unregister(token);
    state.ended = true;
    return inner();
  };
}

function startCheck(state: ResponseState, where: string): void {
  if (!state.started) {
    state.report('TSGI_ERR_START_RESPONSE_MISSING', 'application', 'start-response-before-body', `${where} came before startResponse was called (PEP 3333: "the application must invoke the start_response() callable before the iterable yields its first body bytestring")`);
  }
}

/** Checks one yielded value: type, order, Content-Length. */
function checkValue(state: ResponseState, value: unknown, where: string): void {
  if (!checkChunk(state, value, where)) return;
  const n = typeof value === 'string' ? value.length : value.byteLength;
  if (n === 0) return;
  startCheck(state, where);
  state.headersSent = true;
  countChunk(state, value as Chunk, where);
}

class CheckedIterator {
  private closed = false;
  private done = false;
  private iter: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  readonly close: () => unknown;

  constructor(private readonly state: ResponseState, private readonly body: Body, private readonly isAsync: boolean) {
    this.close = closer(state, this, () => {
      this.closed = true;
      const own = (body as { close?: unknown }).close;
      if (typeof own === 'function') return own.call(body);
      const it = this.iter;
      if (it !== undefined && !this.done && typeof it.return === 'function') return it.return();
      return undefined;
    });
    unclosed.register(this, state, this);
  }

  private open(): Iterator<unknown> | AsyncIterator<unknown> {
    if (this.iter === undefined) {
      const b = this.body as unknown as Record<symbol, () => Iterator<unknown> | AsyncIterator<unknown>>;
      this.iter = this.isAsync ? b[Symbol.asyncIterator]() : b[Symbol.iterator]();
    }
    return this.iter;
  }

  protected pulled(): void {
    if (this.closed) server(this.state, 'no-pull-after-close', 'the server asked for another chunk after calling close() on the body');
  }

  protected result(r: unknown): void {
    if (r === null || typeof r !== 'object') {
      this.done = true;
      this.state.report('TSGI_ERR_INVALID_BODY', 'application', 'iterator-result', `the body iterator's next() returned ${describeValue(r)}, not an iterator result object`);
      return;
    }
    const res = r as IteratorResult<unknown>;
    if (res.done) {
      this.done = true;
      checkEnd(this.state);
    } else {
      checkValue(this.state, res.value, 'a body chunk');
    }
  }

  protected nextSync(): IteratorResult<unknown> {
    this.pulled();
    let r: IteratorResult<unknown>;
    try {
      r = (this.open() as Iterator<unknown>).next();
    } catch (e) {
      this.done = true;
      throw e;
    }
    this.result(r);
    return r;
  }

  protected async nextAsync(): Promise<IteratorResult<unknown>> {
    this.pulled();
    let r: IteratorResult<unknown>;
    try {
      r = await (this.open() as AsyncIterator<unknown>).next();
    } catch (e) {
      this.done = true;
      throw e;
    }
    this.result(r);
    return r;
  }

  protected returnInner(): unknown {
    const it = this.iter;
    this.done = true;
    return it !== undefined && typeof it.return === 'function' ? it.return() : undefined;
  }
}

class CheckedSyncBody extends CheckedIterator implements Iterator<unknown> {
  [Symbol.iterator](): Iterator<unknown> { return this; }
  next(): IteratorResult<unknown> { return this.nextSync(); }
  return(value?: unknown): IteratorResult<unknown> { this.returnInner(); return { done: true, value }; }
}

class CheckedAsyncBody extends CheckedIterator implements AsyncIterator<unknown> {
  [Symbol.asyncIterator](): AsyncIterator<unknown> { return this; }
  next(): Promise<IteratorResult<unknown>> { return this.nextAsync(); }
  async return(value?: unknown): Promise<IteratorResult<unknown>> { await this.returnInner(); return { done: true, value }; }
}

/** Checks the returned body and wraps it for the server. */
export function checkBody(state: ResponseState, body: unknown): Body {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    state.report('TSGI_ERR_INVALID_BODY', 'application', 'body-iterable', `the application returned a ${typeof body === 'string' ? 'string' : 'Uint8Array'} directly; return an iterable of chunks such as [body] (PEP 3333: "the application object must return an iterable yielding zero or more bytestrings")`);
    return body as unknown as Body;
  }
  if (Array.isArray(body)) {
    for (let i = 0; i < body.length; i++) checkValue(state, body[i], `body chunk ${i}`);
    checkEnd(state);
    const out = body.slice() as unknown[] & { close?: () => unknown };
    const token = {};
    out.close = closer(state, token, () => {
      const own = (body as { close?: unknown }).close;
      return typeof own === 'function' ? own.call(body) : undefined;
    });
    unclosed.register(out, state, token);
    return out as unknown as Body;
  }
  if (body instanceof FileWrapper) {
    // The server sends a file wrapper with sendfile; its own close() is checked in place.
    startCheck(state, 'a wsgi.file_wrapper body');
    state.headersSent = true;
    const token = {};
    const own = FileWrapper.prototype.close;
    Object.defineProperty(body, 'close', { configurable: true, writable: true, value: closer(state, token, () => own.call(body)) });
    unclosed.register(body, state, token);
    return body;
  }
  if (body !== null && (typeof body === 'object' || typeof body === 'function')) {
    const b = body as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
    if (typeof b[Symbol.iterator] === 'function') return new CheckedSyncBody(state, body as Body, false) as unknown as Body;
    if (typeof b[Symbol.asyncIterator] === 'function') return new CheckedAsyncBody(state, body as Body, true) as unknown as Body;
  }
  state.report('TSGI_ERR_INVALID_BODY', 'application', 'body-iterable', `the application must return an iterable or async iterable of chunks (or a Promise of one), got ${describeValue(body)}`);
  return body as Body;
}
