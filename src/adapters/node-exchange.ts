// One node:http request on tsgi: owns the socket, req and res the handler sees, and turns
// what the handler does to `res` into what the gateway takes from an application.
//   - end(body) with no write() before it: an array body ([body]), the gateway's one-call
//     fast path. When the handler ends synchronously the app returns the array itself;
//     otherwise the app returns this exchange as a thenable that settles with it.
//   - write() or flushHeaders(): the exchange becomes an async iterable body; write()
//     returns false past a high-water mark of chunks the gateway has not taken yet, and
//     'drain' follows when it has (the gateway itself waits for the connection to drain).
//   - the gateway calls close() once it is done: after a complete response, 'finish' then
//     'close' on res (and the request is dumped as node does); before (the client went
//     away, or the connection timed out), 'close' on socket, req and res, req 'aborted'.
import type { Body, Chunk, Environ, ResponseHeaders, StartResponse, Write } from '../types';
import { connectionReset } from './node-errors';
import { NodeRequest } from './node-request';
import { NodeResponse, type ResponseSink } from './node-response';
import { NodeSocket, type SocketOwner } from './node-socket';

const HIGH_WATER_MARK = 16 * 1024;
/** Small chunks queued together are handed to the gateway as one. */
const MERGE_MAX = 64 * 1024;
const EMPTY: Chunk[] = [];
const DONE: IteratorResult<Chunk> = Object.freeze({ value: undefined, done: true }) as IteratorResult<Chunk>;

const enum Mode {
  /** The handler runs and nothing was written. */
  Open,
  /** The whole response is an array body. */
  Array,
  /** The body streams through next(). */
  Stream,
}

type Callback = (e?: Error | null) => void;

function toChunk(chunk: string | Uint8Array, encoding: BufferEncoding | null): Chunk {
  if (typeof chunk === 'string') {
    if (encoding === null || encoding === 'utf8' || encoding === 'utf-8') return chunk;
    return Buffer.from(chunk, encoding);
  }
  return chunk;
}

function chunkLength(c: Chunk): number {
  return typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
}

function emitDrain(res: NodeResponse): void {
  res.emit('drain');
}

function callAll(callbacks: Callback[]): void {
  for (const cb of callbacks) cb();
}

export class NodeExchange implements ResponseSink, SocketOwner, AsyncIterator<Chunk> {
  readonly socket: NodeSocket;
  readonly req: NodeRequest;
  readonly res: NodeResponse;
  private readonly startResponse: StartResponse;
  private readonly noBody: boolean;
  private legacyWrite: Write | null = null;
  private mode = Mode.Open;
  private status = '';
  private headers: ResponseHeaders = EMPTY as unknown as ResponseHeaders;
  /** The body, once decided, until the gateway asks for it (then()). */
  private result: Body | null = null;
  private failure: unknown = undefined;
  private onOk: ((b: Body) => void) | null = null;
  private onError: ((e: unknown) => void) | null = null;
  /** then() callers after the first (a middleware awaiting the app as well as the gateway). */
  private more: Array<[(b: Body) => void, (e: unknown) => void]> | null = null;
  // streaming
  private queue: Chunk[] = [];
  private callbacks: Callback[] | null = null;
  private queued = 0;
  private needDrain = false;
  private ended = false;
  private wake: ((r: IteratorResult<Chunk>) => void) | null = null;
  private wakeError: ((e: unknown) => void) | null = null;
  // endings
  /** The gateway has the whole response (array given, or the stream reported done). */
  private complete = false;
  private closed = false;

  constructor(environ: Environ, startResponse: StartResponse) {
    this.startResponse = startResponse;
    const port = environ.SERVER_PORT === '' ? undefined : Number(environ.SERVER_PORT);
    this.socket = new NodeSocket(this, environ.REMOTE_ADDR, environ.REMOTE_PORT === '' ? 0 : Number(environ.REMOTE_PORT),
      environ.SERVER_NAME === '' ? undefined : environ.SERVER_NAME, port, environ['wsgi.url_scheme'] === 'https');
    this.req = new NodeRequest(environ, this.socket);
    this.res = new NodeResponse(this.req, this);
    (this.res as { socket: unknown }).socket = this.socket;
    this.socket._httpMessage = this.res;
    this.noBody = environ.REQUEST_METHOD === 'HEAD';
  }

  /** What the app returns once the handler's synchronous part ran: the body if it is decided, else this thenable. */
  outcome(): Body | PromiseLike<Body> {
    if (this.failure !== undefined) throw this.failure;
    // A streaming body is this exchange, itself a thenable: then() hands it over.
    if (this.result !== null && this.result !== (this as unknown)) return this.result;
    return this as unknown as PromiseLike<Body>;
  }

  /** PromiseLike for the gateway: settles with the body once the handler ends or writes. */
  then(onOk: (b: Body) => void, onError: (e: unknown) => void): void {
    if (this.failure !== undefined) return onError(this.failure);
    if (this.result !== null) return onOk(this.result);
    if (this.onOk === null) {
      this.onOk = onOk;
      this.onError = onError;
    } else {
      (this.more ??= []).push([onOk, onError]);
    }
  }

  // ---- ResponseSink ---------------------------------------------------------------------

  commitHead(status: string, headers: ResponseHeaders): void {
    this.status = status;
    this.headers = headers;
  }

  write(chunk: string | Uint8Array, encoding: BufferEncoding | null, callback: Callback | null): boolean {
    if (this.noBody) {
      // node:http ignores the body of a response to HEAD.
      if (callback !== null) process.nextTick(callback);
      return true;
    }
    if (this.closed) {
      if (callback !== null) process.nextTick(callback, connectionReset());
      return false;
    }
    if (this.mode !== Mode.Stream) this.startStream();
    const c = toChunk(chunk, encoding);
    if (callback !== null) (this.callbacks ??= []).push(callback);
    if (this.wake !== null && this.queue.length === 0) {
      const wake = this.wake;
      this.wake = this.wakeError = null;
      this.releaseCallbacks();
      wake({ value: c, done: false });
      return true;
    }
    this.queue.push(c);
    this.queued += chunkLength(c);
    this.res.outputSize = this.queued;
    if (this.queued >= HIGH_WATER_MARK) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  end(chunk: string | Uint8Array | null, encoding: BufferEncoding | null): void {
    if (this.closed) return;
    if (this.mode === Mode.Open) {
      this.mode = Mode.Array;
      this.complete = true;
      this.deliver(chunk === null || this.noBody ? EMPTY : [toChunk(chunk, encoding)]);
      return;
    }
    if (chunk !== null && !this.noBody) this.write(chunk, encoding, null);
    this.ended = true;
    if (this.wake !== null && this.queue.length === 0) {
      const wake = this.wake;
      this.wake = this.wakeError = null;
      this.complete = true;
      wake(DONE);
    }
  }

  flush(): void {
    if (this.closed) return;
    if (this.mode === Mode.Open) this.startStream();
    // The legacy write('') sends the head now rather than with the first chunk.
    if (this.legacyWrite !== null && this.failure === undefined) {
      try {
        this.legacyWrite('');
      } catch {
        // The client went away: the gateway reports it through close().
      }
    }
  }

  destroyConnection(error: Error | undefined): void {
    if (this.closed) return;
    // The gateway aborts the connection (or answers 500 if nothing went out yet).
    if (!this.complete) this.fail(error ?? new Error('tsgi: the node:http handler destroyed the connection before the response was complete'), error);
    else this.aborted(error);
  }

  // ---- the body as an async iterator ----------------------------------------------------

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Chunk>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) {
      this.complete = true;
      return Promise.resolve(DONE);
    }
    return new Promise((resolve, reject) => {
      this.wake = resolve;
      this.wakeError = reject;
    });
  }

  /** The gateway is done with the body: the response is complete, or the client went away. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.complete) process.nextTick(finished, this);
    else this.aborted(undefined);
  }

  // ---- internals ------------------------------------------------------------------------

  /** The handler threw, its promise rejected, or the head was refused: the gateway answers 500 or aborts. */
  fail(error: unknown, socketError?: Error): void {
    if (this.failure !== undefined || this.complete || this.closed) return;
    this.failure = error;
    // The waiters on then() take the error; else a body waiting for its next chunk does.
    if (!this.settle(1, error) && this.wakeError !== null) {
      const wakeError = this.wakeError;
      this.wake = this.wakeError = null;
      wakeError(error);
    }
    this.aborted(socketError);
  }

  /** The handler threw synchronously: the gateway answers 500; nothing of this exchange is used any more. */
  abandon(): void {
    if (!this.closed) this.aborted(undefined);
  }

  private startStream(): void {
    this.mode = Mode.Stream;
    this.deliver(this as unknown as Body);
  }

  private deliver(body: Body): void {
    try {
      this.legacyWrite = this.startResponse(this.status, this.headers);
    } catch (e) {
      this.complete = false;
      this.fail(e);
      return;
    }
    this.result = body;
    this.settle(0, body);
  }

  /** Calls the callbacks given to then(), the fulfilment (0) or rejection (1) ones, once; false when there were none. */
  private settle(which: 0 | 1, value: unknown): boolean {
    if (this.onOk === null || this.onError === null) return false;
    const first = which === 0 ? this.onOk : this.onError;
    const more = this.more;
    this.onOk = this.onError = this.more = null;
    (first as (v: unknown) => void)(value);
    if (more !== null) for (const m of more) (m[which] as (v: unknown) => void)(value);
    return true;
  }

  /** Takes what is queued: one chunk, or small neighbours merged. */
  private take(): Chunk {
    const q = this.queue;
    let c: Chunk;
    if (q.length === 1 || chunkLength(q[0]) >= MERGE_MAX) {
      c = q.shift()!;
    } else {
      let n = 0;
      let total = 0;
      let strings = true;
      while (n < q.length && total < MERGE_MAX) {
        if (typeof q[n] !== 'string') strings = false;
        total += chunkLength(q[n]);
        n++;
      }
      const run = q.splice(0, n);
      c = strings ? (run as string[]).join('') : Buffer.concat(run.map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));
    }
    this.queued -= chunkLength(c);
    if (q.length === 0) this.queued = 0;
    this.res.outputSize = this.queued;
    this.releaseCallbacks();
    if (this.needDrain && this.queued < HIGH_WATER_MARK) {
      this.needDrain = false;
      process.nextTick(emitDrain, this.res);
    }
    return c;
  }

  private releaseCallbacks(): void {
    if (this.callbacks !== null && this.queue.length === 0) {
      const cbs = this.callbacks;
      this.callbacks = null;
      process.nextTick(callAll, cbs);
    }
  }

  /** The connection is gone before the response completed: node:http's events for a lost client. */
  private aborted(error: Error | undefined): void {
    this.closed = true;
    this.queue = [];
    this.queued = 0;
    if (this.wake !== null) {
      // The gateway stopped waiting for this body; end the pending read quietly.
      const wake = this.wake;
      this.wake = this.wakeError = null;
      wake(DONE);
    }
    this.socket.markClosed(error);
    const req = this.req;
    if (!req.destroyed) req.destroy(connectionReset());
    process.nextTick(emitResClose, this.res);
  }
}

function emitResClose(res: NodeResponse): void {
  const r = res as NodeResponse & { _closed: boolean };
  if (r._closed) return;
  r.destroyed = true;
  r._closed = true;
  res.emit('close');
}

/** After a complete response: 'finish', the request dumped if nobody read it, then 'close'. */
function finished(ex: NodeExchange): void {
  const res = ex.res;
  const req = ex.req as NodeRequest & { _consuming: boolean; _readableState: { resumeScheduled: boolean }; _dump(): void };
  res.emit('prefinish');
  res.emit('finish');
  if (!req._consuming && !req._readableState.resumeScheduled) req._dump();
  ex.socket._httpMessage = null;
  (res as { socket: unknown }).socket = null;
  process.nextTick(emitResClose, res);
}
