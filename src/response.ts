// The gateway: calls the application for one request and drives what it returns to the
// native core. An array body becomes one native respond() call (the fast path); a sync
// iterable is pulled synchronously and what is available is written in batches; an async
// iterable is streamed chunk by chunk; both wait for onDrain when the connection's queue
// is full. close() (or return() on an unfinished iterator) runs exactly once whatever
// happens. Application errors become a canned 500, or an aborted connection once the
// headers went out, with the traceback on wsgi.errors.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ApplicationError } from './errors';
import { FileWrapper } from './file-wrapper';
import {
  RESP_SET_LENGTH, RESULT_GONE, RESULT_SHORT, RESULT_TRUNCATED, type NativeBinding,
} from './native';
import {
  BODY_500, BODY_504, HEAD_500, HEAD_504, invalidChunk, startResponse, startResponseMissing, type StartTarget,
} from './start-response';
import { kRange, kRelease } from './symbols';
import type { App, Body, Chunk, Closable, Environ, ErrorStream, ServerHooks, StartResponse, Write } from './types';
import type { RequestInput } from './input';
import { closeBody } from './close-body';

/** What every exchange of one server shares. */
export interface GatewayContext {
  readonly nb: NativeBinding;
  readonly app: App;
  readonly errors: ErrorStream;
  readonly hooks: ServerHooks | undefined;
  /** Exchanges that outlived their onRequest call, by connection: onDrain and onAbort find them here. */
  readonly live: Map<number, Exchange>;
  /** Per-request deadline in ms (harakiri); 0: none. */
  readonly harakiri: number;
  /**
   * Set by onQueued while it handles a request: the next response to go out whole may
   * take the next kept request with it (respondTake), whose head it leaves in `next`.
   */
  take: boolean;
  next: string | undefined;
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Chunks already available are written together up to this many bytes. */
const BATCH_BYTES = 64 * 1024;
/** Chunks smaller than this are merged into one write; larger ones are written from their own memory. */
const COALESCE_MAX = 16 * 1024;
/** A sync body yields to the event loop after this many bytes, so one response cannot starve the others. */
const TURN_BYTES = 1024 * 1024;
/** … or after this many chunks, empty ones included. */
const TURN_STEPS = 65536;

type SyncIter = Iterator<unknown>;
type AsyncIter = AsyncIterator<unknown>;

const enum Wait { None, Drain, File }

function chunkBytes(c: Buffer | string): number {
  return typeof c === 'string' ? Buffer.byteLength(c) : c.length;
}

/** A string or Buffer as the native core takes it; a non-Buffer Uint8Array is viewed (no copy); anything else is null. */
function toNativeChunk(v: unknown): Buffer | string | null {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

const S_STARTED = 1;
const S_HEADERS_SENT = 2;
const S_FINISHED = 4;
const S_ABORTED = 8;
const S_REGISTERED = 16;
const S_BODY_CLOSED = 32;
const S_ITER_DONE = 64;
const S_ASYNC = 128;

/** An exchange's state for a body that is iterated, awaited or timed: absent on the fast path. */
class Later {
  /** The promise (thenable) the application returned, until its body arrives. */
  pending: (PromiseLike<unknown> & Closable) | undefined = undefined;
  iter: SyncIter | AsyncIter | undefined = undefined;
  onNext: ((r: IteratorResult<unknown>) => void) | undefined = undefined;
  onError: ((e: unknown) => void) | undefined = undefined;
  /** The harakiri timer. */
  deadline: NodeJS.Timeout | undefined = undefined;
}

/** One request and its response. Created per request; the fast path finishes inside its constructor's caller. */
export class Exchange implements StartTarget {
  head = '';
  statusCode = 0;
  contentLength = -1;
  respFlags = 0;

  readonly startResponse: StartResponse;
  private writeFn: Write | undefined = undefined;
  /** S_* bits: the exchange's yes/no state in one field (the object is made per request). */
  private bits = 0;
  private wait = Wait.None;
  private body: Body | undefined = undefined;
  private bytesSent = 0;
  private t0 = 0;
  /** When the request started, for the harakiri deadline (performance.now()). */
  private startedAt = 0;
  /** What only a response that outlives its first call needs; made on first use. */
  private later: Later | undefined = undefined;

  private get started(): boolean { return (this.bits & S_STARTED) !== 0; }
  private set started(v: boolean) { this.setBit(S_STARTED, v); }
  private get headersSent(): boolean { return (this.bits & S_HEADERS_SENT) !== 0; }
  private set headersSent(v: boolean) { this.setBit(S_HEADERS_SENT, v); }
  private get finished(): boolean { return (this.bits & S_FINISHED) !== 0; }
  private set finished(v: boolean) { this.setBit(S_FINISHED, v); }
  private get aborted(): boolean { return (this.bits & S_ABORTED) !== 0; }
  private set aborted(v: boolean) { this.setBit(S_ABORTED, v); }
  private get registered(): boolean { return (this.bits & S_REGISTERED) !== 0; }
  private set registered(v: boolean) { this.setBit(S_REGISTERED, v); }
  private get bodyClosed(): boolean { return (this.bits & S_BODY_CLOSED) !== 0; }
  private set bodyClosed(v: boolean) { this.setBit(S_BODY_CLOSED, v); }
  private get iterDone(): boolean { return (this.bits & S_ITER_DONE) !== 0; }
  private set iterDone(v: boolean) { this.setBit(S_ITER_DONE, v); }
  private get async(): boolean { return (this.bits & S_ASYNC) !== 0; }
  private set async(v: boolean) { this.setBit(S_ASYNC, v); }
  private setBit(bit: number, v: boolean): void { this.bits = v ? this.bits | bit : this.bits & ~bit; }

  constructor(
    private readonly ctx: GatewayContext,
    readonly conn: number,
    readonly environ: Environ,
    private readonly input: RequestInput | null,
  ) {
    // A bound function: 48 bytes and no context object (an arrow function closing over
    // `this` costs a function and a context per request).
    this.startResponse = startResponse.bind(this) as StartResponse;
  }

  /** Runs the application and drives its body as far as it goes synchronously. */
  run(): void {
    if (this.ctx.harakiri > 0) this.startedAt = performance.now();
    const hooks = this.ctx.hooks;
    if (hooks !== undefined) {
      this.t0 = performance.now();
      if (hooks.requestStart !== undefined) {
        try { hooks.requestStart(this.environ); } catch (e) { this.logError('requestStart hook failed', e); }
      }
    }
    let result: unknown;
    try {
      result = this.ctx.app(this.environ, this.startResponse);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function' &&
        !Array.isArray(result)) {
      this.register();
      (this.later ??= new Later()).pending = result as PromiseLike<unknown> & Closable;
      (result as PromiseLike<unknown>).then((b) => this.drive(b), (e) => this.fail(e));
      return;
    }
    this.drive(result);
    if (!this.finished) this.register();
  }

  // ---- native events ------------------------------------------------------------------

  /** The connection's queue drained, or a sendFile finished. */
  drained(): void {
    const wait = this.wait;
    this.wait = Wait.None;
    if (this.finished) return;
    if (wait === Wait.File) this.complete(null);
    else if (wait === Wait.Drain) this.resume();
  }

  /** The client went away (or a timeout closed the connection) while the request was in flight. */
  abort(): void {
    this.gone();
  }

  /**
   * The request ran past its deadline (harakiri) while waiting on the application: it
   * alone ends — a 504 if its head has not gone out, else its connection is closed — and
   * its body is closed. The worker and its other requests go on.
   */
  expire(): void {
    this.later!.deadline = undefined;
    if (this.finished) return;
    const limit = this.ctx.harakiri;
    const nb = this.ctx.nb;
    let what: string;
    if (!this.headersSent) {
      this.headersSent = true;
      this.statusCode = 504;
      nb.respond(this.conn, 504, HEAD_504, BODY_504, -1, 0);
      this.bytesSent = BODY_504.length;
      what = 'answered 504 Gateway Timeout';
    } else {
      nb.abort(this.conn);
      what = 'its response had started, so the connection was closed';
    }
    const error = new ApplicationError('TSGI_ERR_HARAKIRI', `the request ran longer than harakiri (${limit} ms); ${what}`);
    try {
      this.ctx.errors.write(`tsgi: ${this.describe()}: ${error.message}\n`);
    } catch {
      // wsgi.errors itself failed; there is nowhere left to report to.
    }
    this.closeBody();
    this.finish(error);
  }

  /** Continues a sync body after yielding to the event loop. */
  nextTurn(): void {
    if (this.wait === Wait.None) this.resume();
  }

  // ---- driving the body ---------------------------------------------------------------

  private drive(result: unknown): void {
    if (this.later !== undefined) this.later.pending = undefined;
    this.body = result as Body;
    if (this.finished) {
      // The client left while the application was still producing its body.
      this.closeBody();
      return;
    }
    try {
      if (Array.isArray(result)) return this.respondArray(result);
      if (result instanceof FileWrapper) return this.sendFileWrapper(result);
      if (typeof result === 'string' || result instanceof Uint8Array) {
        throw new ApplicationError('TSGI_ERR_INVALID_BODY',
          `the application returned a ${typeof result === 'string' ? 'string' : 'Buffer'} directly; return an iterable of chunks such as [body] (a string would be iterated character by character)`);
      }
      if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
        const r = result as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
        if (typeof r[Symbol.iterator] === 'function') {
          (this.later ??= new Later()).iter = r[Symbol.iterator]!();
          return this.pumpSync();
        }
        if (typeof r[Symbol.asyncIterator] === 'function') {
          (this.later ??= new Later()).iter = r[Symbol.asyncIterator]!();
          this.async = true;
          return this.pullAsync();
        }
      }
      throw new ApplicationError('TSGI_ERR_INVALID_BODY',
        `the application must return an iterable (or async iterable) of chunks, or a Promise of one; got ${result === null ? 'null' : typeof result}`);
    } catch (e) {
      this.fail(e);
    }
  }

  /** The fast path: the whole response in one native call. */
  private respondArray(chunks: unknown[]): void {
    let out: unknown[] = chunks;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      if (typeof c === 'string' || Buffer.isBuffer(c)) continue;
      const n = toNativeChunk(c);
      if (n === null) throw invalidChunk(c, `body chunk ${i}`);
      if (out === chunks) out = chunks.slice();
      out[i] = n;
    }
    if (!this.started) throw startResponseMissing();
    this.endWith(out as Array<Buffer | string>);
  }

  /** Pulls a sync iterable until it ends, the queue is full, or this turn's byte budget is spent. */
  private pumpSync(): void {
    const it = this.later!.iter as SyncIter;
    let batch: Array<Buffer | string> | null = null;
    let batchBytes = 0;
    let turn = 0;
    let steps = 0;
    for (;;) {
      if (++steps > TURN_STEPS) {
        // Many chunks (or empty ones) in one turn: send what is pending and let other work run.
        const ok = batch === null ? true : this.writeBatch(batch);
        if (this.finished) return;
        if (!ok) this.wait = Wait.Drain;
        else setImmediate(resumeLater, this);
        return;
      }
      let r: IteratorResult<unknown>;
      try {
        r = it.next();
      } catch (e) {
        this.iterDone = true;
        if (batch !== null && this.started && this.headersSent) this.writeBatch(batch);
        return this.fail(e);
      }
      if (this.finished) return;
      if (r === null || typeof r !== 'object') {
        this.iterDone = true;
        return this.fail(new TypeError('the body iterator returned a non-object result from next()'));
      }
      if (r.done) {
        this.iterDone = true;
        return this.complete(batch);
      }
      const chunk = toNativeChunk(r.value);
      if (chunk === null) return this.fail(invalidChunk(r.value, 'a body chunk'));
      const size = chunk.length;
      if (size === 0) continue;
      if (!this.started) return this.fail(startResponseMissing());
      if (batch === null) batch = [];
      batch.push(chunk);
      batchBytes += size;
      if (batchBytes < BATCH_BYTES) continue;
      const ok = this.writeBatch(batch);
      if (this.finished) return;
      turn += batchBytes;
      batch = null;
      batchBytes = 0;
      if (this.contentLength >= 0 && this.bytesSent >= this.contentLength) return this.complete(null);
      if (!ok) {
        this.wait = Wait.Drain;
        return;
      }
      if (turn >= TURN_BYTES) {
        setImmediate(resumeLater, this);
        return;
      }
    }
  }

  /** Asks an async iterator for its next chunk. */
  private pullAsync(): void {
    let p: Promise<IteratorResult<unknown>>;
    try {
      p = (this.later!.iter as AsyncIter).next();
    } catch (e) {
      this.iterDone = true;
      return this.fail(e);
    }
    const later = this.later!;
    later.onNext ??= this.onNext.bind(this);
    later.onError ??= this.onAsyncError.bind(this);
    Promise.resolve(p).then(later.onNext, later.onError);
  }

  private onNext(r: IteratorResult<unknown>): void {
    // A throw here would become an unhandled rejection: report it as the application's.
    try {
      this.takeNext(r);
    } catch (e) {
      this.fail(e);
    }
  }

  private takeNext(r: IteratorResult<unknown>): void {
    if (this.finished) return;
    if (r === null || typeof r !== 'object') return this.onAsyncError(new TypeError('the async iterator returned a non-object result'));
    if (r.done) {
      this.iterDone = true;
      return this.complete(null);
    }
    const chunk = toNativeChunk(r.value);
    if (chunk === null) return this.fail(invalidChunk(r.value, 'a body chunk'));
    if (chunk.length === 0) return this.pullAsync();
    if (!this.started) return this.fail(startResponseMissing());
    const ok = this.writeChunk(chunk);
    if (this.finished) return;
    if (this.contentLength >= 0 && this.bytesSent >= this.contentLength) return this.complete(null);
    if (!ok) this.wait = Wait.Drain;
    else this.pullAsync();
  }

  private onAsyncError(e: unknown): void {
    this.iterDone = true;
    this.fail(e);
  }

  private resume(): void {
    if (this.finished) return;
    try {
      if (this.async) this.pullAsync();
      else this.pumpSync();
    } catch (e) {
      // Called from onDrain or a timer: nothing above this may see an application error.
      this.fail(e);
    }
  }

  /** The body ended: send what is left and end the response. */
  private complete(batch: Array<Buffer | string> | null): void {
    if (!this.started) return this.fail(startResponseMissing());
    this.endWith(batch);
  }

  /**
   * Ends the response with `chunks` (the caller's array, not modified; null or empty:
   * nothing more): the whole response in one native call if its head has not gone out,
   * else the rest of a streamed one.
   */
  private endWith(chunks: Array<Buffer | string> | null): void {
    const nb = this.ctx.nb;
    const n = chunks === null ? 0 : chunks.length;
    let result: number | undefined;
    if (!this.headersSent) {
      this.headersSent = true;
      const payload = n === 0 ? null : n === 1 ? chunks![0] : chunks;
      // Sizes are counted only when someone reads them: the hooks, or the short-body log line.
      const counted = this.ctx.hooks !== undefined;
      if (counted) this.countBytes(chunks, n);
      const ctx = this.ctx;
      if (ctx.take) {
        ctx.take = false;
        const r = nb.respondTake(this.conn, this.statusCode, this.head, payload, this.contentLength, this.respFlags);
        if (typeof r === 'string') ctx.next = r;
        else result = r;
      } else {
        result = nb.respond(this.conn, this.statusCode, this.head, payload, this.contentLength, this.respFlags);
      }
      if (!counted && result === RESULT_SHORT) this.countBytes(chunks, n);
    } else {
      let last: Buffer | string | null = null;
      if (n > 0) {
        if (n > 1) this.writeBatch(chunks!, n - 1);
        if (this.finished) return;
        last = chunks![n - 1];
        this.bytesSent += chunkBytes(last);
      }
      result = nb.end(this.conn, last);
    }
    this.ended(result);
  }

  private countBytes(chunks: Array<Buffer | string> | null, n: number): void {
    for (let i = 0; i < n; i++) this.bytesSent += chunkBytes(chunks![i]);
  }

  /**
   * Sends a FileWrapper body with the native sendFile, honouring the application's
   * Content-Length; without one, the core writes the file's size as Content-Length
   * (RESP_SET_LENGTH). The core decides whether a body goes out at all (HEAD, 204, 304):
   * then its sendFile sends nothing and onDrain still comes.
   */
  private sendFileWrapper(wrapper: FileWrapper): void {
    if (!this.started) throw startResponseMissing();
    const nb = this.ctx.nb;
    const fd = wrapper.fd();
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || typeof nb.sendFile !== 'function') {
      // A pipe or socket has no size to send: stream its blocks like any async body.
      (this.later ??= new Later()).iter = wrapper[Symbol.asyncIterator]();
      this.async = true;
      return this.pullAsync();
    }
    const range = wrapper[kRange];
    const offset = range.offset;
    const available = Math.max(0, stat.size - offset);
    const size = range.length < 0 ? available : Math.min(range.length, available);
    let length = size;
    if (this.contentLength >= 0) length = Math.min(this.contentLength, size);
    else if (!this.headersSent) {
      this.contentLength = size;
      this.respFlags |= RESP_SET_LENGTH;
    }
    if (!this.sendHead()) return;
    if (length === 0) return this.complete(null);
    this.bytesSent += length;
    if (nb.sendFile(this.conn, fd, offset, length) === RESULT_GONE) return this.gone();
    this.wait = Wait.File;
  }

  // ---- writing ------------------------------------------------------------------------

  /** Writes one chunk, sending the head first if it has not gone out. Returns false when the queue is full. */
  private writeChunk(chunk: Buffer | string): boolean {
    if (!this.sendHead()) return false;
    this.bytesSent += chunkBytes(chunk);
    return this.ctx.nb.write(this.conn, chunk);
  }

  /** Sends the head if it has not gone out yet; false when the client is gone (the exchange has then finished). */
  private sendHead(): boolean {
    if (this.headersSent) return true;
    this.headersSent = true;
    if (this.ctx.nb.writeHead(this.conn, this.statusCode, this.head, this.contentLength, this.respFlags) !== RESULT_GONE) return true;
    this.gone();
    return false;
  }

  /** Writes batch[0..n) (chunks that were available together): small neighbours merged, large ones from their own memory. */
  private writeBatch(batch: Array<Buffer | string>, n = batch.length): boolean {
    let ok = true;
    let i = 0;
    while (i < n && !this.finished) {
      let j = i;
      let strings = true;
      while (j < n && batch[j].length < COALESCE_MAX) {
        if (typeof batch[j] !== 'string') strings = false;
        j++;
      }
      if (j - i <= 1) {
        ok = this.writeChunk(batch[i]) && ok;
        i = j === i ? i + 1 : j;
        continue;
      }
      const run = batch.slice(i, j);
      const merged = strings ? (run as string[]).join('') : Buffer.concat(run.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
      ok = this.writeChunk(merged) && ok;
      i = j;
    }
    return ok;
  }

  /** Legacy write(): sends the head on first use, then the chunk. */
  writeLegacy(chunk: Chunk): void {
    if (!this.started) throw startResponseMissing();
    if (this.finished) {
      throw this.aborted
        ? new ApplicationError('TSGI_ERR_CLIENT_GONE', 'write(): the client went away')
        : new ApplicationError('TSGI_ERR_WRITE_AFTER_END', 'write() was called after the response ended');
    }
    const c = toNativeChunk(chunk);
    if (c === null) throw invalidChunk(chunk, 'write() takes a chunk that');
    const nb = this.ctx.nb;
    const headNow = !this.headersSent;
    if (!this.sendHead()) throw new ApplicationError('TSGI_ERR_CLIENT_GONE', 'write(): the client went away');
    if (c.length === 0) {
      // write('') transmits the headers (PEP 3333): flush the head queued just now.
      if (headNow) nb.write(this.conn, c);
      return;
    }
    this.bytesSent += chunkBytes(c);
    nb.write(this.conn, c);
  }

  // ---- endings ------------------------------------------------------------------------

  private ended(result: number | undefined): void {
    if (result === RESULT_GONE) return this.gone();
    if (result === RESULT_SHORT) {
      this.ctx.errors.write(`tsgi: ${this.describe()}: the application declared Content-Length: ${this.contentLength} but its body was ${this.bytesSent} bytes; the connection was closed\n`);
    } else if (result === RESULT_TRUNCATED) {
      this.ctx.errors.write(`tsgi: ${this.describe()}: the application's body was longer than its Content-Length: ${this.contentLength}; the excess was not sent\n`);
      this.bytesSent = this.contentLength;
    }
    this.closeBody();
    this.finish(undefined);
  }

  /** The client is gone: the application's pending promise and its body are closed. */
  private gone(): void {
    if (this.finished) return;
    this.aborted = true;
    this.closePending();
    this.closeBody();
    this.finish(new ApplicationError('TSGI_ERR_CLIENT_GONE', 'the client went away before the response was complete'));
  }

  /** An application error: a 500 if the head has not gone out, else the connection is closed. */
  private fail(error: unknown): void {
    if (this.finished) {
      this.logError('application error after the response ended', error);
      return;
    }
    this.logError('application error', error);
    const nb = this.ctx.nb;
    if (!this.headersSent) {
      this.headersSent = true;
      this.statusCode = 500;
      nb.respond(this.conn, 500, HEAD_500, BODY_500, -1, 0);
      this.bytesSent = BODY_500.length;
    } else {
      nb.abort(this.conn);
    }
    this.closeBody();
    this.finish(error);
  }

  /**
   * The client left while the application's promise was unsettled: a close() on that
   * promise (or thenable) tells the application now, rather than when its body arrives.
   */
  private closePending(): void {
    const p = this.later?.pending;
    if (p === undefined) return;
    this.later!.pending = undefined;
    if (typeof p.close !== 'function') return;
    try {
      p.close();
    } catch (e) {
      this.logError('close() of the pending response failed', e);
    }
  }

  /** Calls close() on the body, or return() on an iterator that did not finish; once. */
  private closeBody(): void {
    const body = this.body;
    if (this.bodyClosed || body === undefined || body === null) return;
    this.bodyClosed = true;
    closeBody(body, this.later?.iter, this.iterDone, this);
  }


  private finish(error: unknown): void {
    this.finished = true;
    const later = this.later;
    if (later !== undefined && later.deadline !== undefined) {
      clearTimeout(later.deadline);
      later.deadline = undefined;
    }
    if (this.registered) {
      this.registered = false;
      if (this.ctx.live.get(this.conn) === this) this.ctx.live.delete(this.conn);
    }
    if (this.input !== null) this.input[kRelease]();
    const hooks = this.ctx.hooks;
    if (hooks !== undefined && hooks.requestEnd !== undefined) {
      try {
        hooks.requestEnd(this.environ, this.statusCode, this.bytesSent, performance.now() - this.t0, error);
      } catch (e) {
        this.logError('requestEnd hook failed', e);
      }
    }
  }

  private register(): void {
    if (this.finished || this.registered) return;
    this.registered = true;
    this.ctx.live.set(this.conn, this);
    // Only a request that outlives its onRequest call can run past the deadline while the
    // event loop turns; one that blocks the loop is the process manager's (--timeout).
    const limit = this.ctx.harakiri;
    if (limit > 0) {
      // (A timer longer than 2^31-1 ms would fire at once: clamp it.)
      const deadline = setTimeout(expireLater, Math.min(MAX_TIMER_MS, Math.max(0, limit - (performance.now() - this.startedAt))), this);
      deadline.unref();
      (this.later ??= new Later()).deadline = deadline;
    }
  }

  private describe(): string {
    return `${this.environ.REQUEST_METHOD} ${this.environ.REQUEST_URI}`;
  }

  /** Logs an error of this request on wsgi.errors (also where closeBody reports). */
  logError(what: string, error: unknown): void {
    const detail = error instanceof Error ? error.stack ?? String(error) : (() => { try { return JSON.stringify(error); } catch { return String(error); } })();
    try {
      this.ctx.errors.write(`tsgi: ${what} in ${this.describe()}: ${detail}\n`);
    } catch {
      // wsgi.errors itself failed; there is nowhere left to report to.
    }
  }

  // For startResponse (start-response.ts), which is bound to the exchange.
  /** @internal */ isStarted(): boolean { return this.started; }
  /** @internal */ isHeadersSent(): boolean { return this.headersSent; }
  /** @internal */ markStarted(): Write {
    this.started = true;
    return (this.writeFn ??= this.writeLegacy.bind(this));
  }
}

function resumeLater(ex: Exchange): void {
  ex.nextTurn();
}

function expireLater(ex: Exchange): void {
  ex.expire();
}
