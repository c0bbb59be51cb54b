// toFetch(app): a tsgi application as a fetch handler, (Request) => Promise<Response>, so
// the same application runs on Bun, Deno or Workers, and in tests without a socket. The
// PEP 3333 obligations hold as on the native server: the Response (the "headers") is
// produced with the first non-empty chunk or at the end of the body; excInfo replaces
// the status before that and is rethrown after; close() runs exactly once (at the end,
// on an error, or when the consumer cancels the body); a Content-Length is never
// exceeded, and a body that falls short of it errors the stream.
import { ApplicationError } from '../errors';
import { ErrorOutput } from '../errors-stream';
import { fileWrapper } from '../file-wrapper';
import type { TextSink } from '../options';
import { BODY_500, checkStart, invalidChunk, prepareHead, startResponseMissing, type HeadTarget } from '../start-response';
import type { App, Body, Chunk, Environ, ErrorStream, FileWrapperFactory, InputStream, ResponseHeaders, Write } from '../types';
import { fetchEnviron, type FetchEnvironContext } from './fetch-environ';
import { bufferedInput, readWhole, StreamedInput } from './fetch-input';
import { closeBody } from '../close-body';

export interface ToFetchOptions {
  /** The mount prefix (SCRIPT_NAME) the application is served under. Default ''. */
  scriptName?: string;
  /** Where wsgi.errors writes (tracebacks, short bodies). Default process.stderr. */
  errors?: TextSink;
  /** 'buffer' (default): the body is read whole first, every wsgi.input read works. 'stream': async iteration only, as the body arrives. */
  input?: 'buffer' | 'stream';
  /** With input 'buffer': the largest body accepted; larger gets 413. Default 100 MiB. */
  maxBodySize?: number;
  /** wsgi.multithread / wsgi.multiprocess. Default false. */
  multithread?: boolean;
  multiprocess?: boolean;
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
const EMPTY_INPUT_STREAM = bufferedInput(Buffer.alloc(0));

function toBytes(v: unknown): Buffer | null {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.stack ?? String(e) : String(e);
}

/** One request through the application. */
class FetchExchange implements HeadTarget {
  head = '';
  statusCode = 0;
  contentLength = -1;
  respFlags = 0;
  private status = '';
  private headers: ResponseHeaders = [];
  private started = false;
  private headersSent = false;
  private ended = false;
  private bodyClosed = false;
  private iterDone = false;
  private sent = 0;
  private readonly pending: Buffer[] = [];
  private body: Body | undefined = undefined;
  private iter: Iterator<unknown> | AsyncIterator<unknown> | undefined = undefined;
  private writeFn: Write | undefined = undefined;

  constructor(private readonly environ: Environ, private readonly errors: ErrorStream) {}

  readonly startResponse = (status: string, headers: ResponseHeaders, excInfo?: unknown): Write => {
    checkStart(excInfo, this.started, this.headersSent);
    prepareHead(this, status, headers);
    this.status = status;
    this.headers = (headers as ResponseHeaders).map(([n, v]) => [n, v]);
    this.started = true;
    return (this.writeFn ??= (chunk: Chunk) => this.write(chunk));
  };

  private write(chunk: Chunk): void {
    if (!this.started) throw startResponseMissing();
    if (this.ended) throw new ApplicationError('TSGI_ERR_WRITE_AFTER_END', 'write() was called after the response ended');
    const c = toBytes(chunk);
    if (c === null) throw invalidChunk(chunk, 'write() takes a chunk that');
    this.headersSent = true;
    if (c.length > 0) this.pending.push(c);
  }

  async run(app: App): Promise<Response> {
    let first: Buffer | null;
    try {
      let result: unknown = app(this.environ, this.startResponse);
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function' && !Array.isArray(result)) result = await result;
      this.body = result as Body;
      this.iter = this.iterate(result);
      first = await this.nextChunk();
      if (!this.started) throw startResponseMissing();
    } catch (e) {
      return this.failEarly(e);
    }
    this.headersSent = true;
    const init = { status: this.statusCode, statusText: this.status.slice(4), headers: new Headers(this.headers) };
    if (first === null || NULL_BODY_STATUS.has(this.statusCode)) {
      this.finishBody();
      return new Response(null, init);
    }
    if (!this.deliverable(first)) {
      // The first chunk already reached the Content-Length.
      const whole = first;
      this.finishBody();
      return new Response(whole, init);
    }
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => { c.enqueue(first!); },
      pull: (c) => this.pull(c),
      cancel: () => { this.ended = true; this.closeBody(); },
    }, { highWaterMark: 0 });
    return new Response(stream, init);
  }

  /** The next chunk for the consumer; ends or errors the stream at the end of the body. */
  private async pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    if (this.ended) return;
    let chunk: Buffer | null;
    try {
      chunk = await this.nextChunk();
    } catch (e) {
      this.logError('application error', e);
      this.ended = true;
      this.closeBody();
      c.error(e);
      return;
    }
    if (this.ended) return;
    if (chunk === null) {
      this.ended = true;
      this.closeBody();
      if (this.contentLength >= 0 && this.sent < this.contentLength) {
        this.errors.write(`tsgi: ${this.describe()}: the application declared Content-Length: ${this.contentLength} but its body was ${this.sent} bytes; the response body was ended with an error\n`);
        c.error(new ApplicationError('TSGI_ERR_INVALID_BODY', `the body was shorter than its Content-Length (${this.sent} of ${this.contentLength} bytes)`));
      } else {
        c.close();
      }
      return;
    }
    const more = this.deliverable(chunk);
    c.enqueue(chunk);
    if (!more) {
      this.ended = true;
      this.closeBody();
      c.close();
    }
  }

  /** Counts `chunk` (cut to the Content-Length); false when nothing more may follow it. */
  private deliverable(chunk: Buffer): boolean {
    this.sent += chunk.length;
    return this.contentLength < 0 || this.sent < this.contentLength;
  }

  private iterate(result: unknown): Iterator<unknown> | AsyncIterator<unknown> {
    if (typeof result === 'string' || result instanceof Uint8Array) {
      throw new ApplicationError('TSGI_ERR_INVALID_BODY',
        `the application returned a ${typeof result === 'string' ? 'string' : 'Buffer'} directly; return an iterable of chunks such as [body]`);
    }
    if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
      const r = result as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
      if (typeof r[Symbol.iterator] === 'function') return r[Symbol.iterator]!();
      if (typeof r[Symbol.asyncIterator] === 'function') return r[Symbol.asyncIterator]!();
    }
    throw new ApplicationError('TSGI_ERR_INVALID_BODY',
      `the application must return an iterable (or async iterable) of chunks, or a Promise of one; got ${result === null ? 'null' : typeof result}`);
  }

  /** The next non-empty chunk (write()'s first), or null at the end of the body. */
  private async nextChunk(): Promise<Buffer | null> {
    for (;;) {
      if (this.pending.length > 0) {
        return this.cutToLength(this.pending.shift()!);
      }
      if (this.iterDone) return null;
      let r = this.iter!.next() as IteratorResult<unknown> | Promise<IteratorResult<unknown>>;
      if (r !== null && typeof (r as Promise<unknown>).then === 'function') r = await r;
      const res = r as IteratorResult<unknown>;
      if (res === null || typeof res !== 'object') throw new TypeError('the body iterator returned a non-object result from next()');
      if (res.done) {
        this.iterDone = true;
        continue;
      }
      const c = toBytes(res.value);
      if (c === null) throw invalidChunk(res.value, 'a body chunk');
      if (c.length === 0) continue;
      if (!this.started) throw startResponseMissing();
      return this.cutToLength(c);
    }
  }

  private cutToLength(c: Buffer): Buffer {
    if (this.contentLength < 0) return c;
    const room = this.contentLength - this.sent;
    if (c.length <= room) return c;
    this.errors.write(`tsgi: ${this.describe()}: the application's body was longer than its Content-Length: ${this.contentLength}; the excess was not sent\n`);
    return c.subarray(0, Math.max(room, 0));
  }

  /** An error before the Response exists: a 500 (the application's excInfo rules kept). */
  private failEarly(e: unknown): Response {
    this.logError('application error', e);
    this.ended = true;
    this.closeBody();
    return new Response(BODY_500, { status: 500, statusText: 'Internal Server Error', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }

  private finishBody(): void {
    this.ended = true;
    this.closeBody();
  }

  /** close() on the body, or return() on an unfinished iterator; once. */
  private closeBody(): void {
    const body = this.body;
    if (this.bodyClosed || body === undefined || body === null) return;
    this.bodyClosed = true;
    closeBody(body, this.iter, this.iterDone, this);
  }


  private describe(): string {
    return `${this.environ.REQUEST_METHOD} ${this.environ.REQUEST_URI}`;
  }

  logError(what: string, e: unknown): void {
    try { this.errors.write(`tsgi: ${what} in ${this.describe()}: ${errorText(e)}\n`); } catch { /* nowhere to report */ }
  }
}

/** A fetch handler, (Request) => Promise<Response>, that runs the tsgi application `app`. */
export function toFetch(app: App, options: ToFetchOptions = {}): (request: Request) => Promise<Response> {
  if (typeof app !== 'function') throw new TypeError(`toFetch() takes a tsgi application (environ, startResponse) => body, got ${app === null ? 'null' : typeof app}`);
  const errors = new ErrorOutput(options.errors ?? process.stderr);
  const ctx: FetchEnvironContext = {
    scriptName: options.scriptName ?? '',
    errors,
    fileWrapper: fileWrapper as FileWrapperFactory,
    multithread: options.multithread ?? false,
    multiprocess: options.multiprocess ?? false,
  };
  const streamInput = options.input === 'stream';
  const maxBodySize = options.maxBodySize ?? 100 * 1024 * 1024;

  return async function fetchHandler(request: Request): Promise<Response> {
    const declared = request.headers.get('content-length');
    let input: InputStream = EMPTY_INPUT_STREAM;
    let length = declared !== null && /^\d+$/.test(declared) ? declared : '';
    if (request.body !== null) {
      if (streamInput) {
        input = new StreamedInput(request.body, length === '' ? -1 : Number(length));
      } else {
        if (length !== '' && Number(length) > maxBodySize) return tooLarge(maxBodySize);
        try {
          const body = await readWhole(request.body, maxBodySize);
          input = bufferedInput(body);
          length = String(body.length);
        } catch (e) {
          if ((e as { code?: string }).code === 'TSGI_ERR_BODY_TOO_LARGE') return tooLarge(maxBodySize);
          throw e;
        }
      }
    }
    const environ = fetchEnviron(ctx, request, input, length);
    return new FetchExchange(environ, errors).run(app);
  };
}

function tooLarge(max: number): Response {
  return new Response(`Request body larger than ${max} bytes\n`, { status: 413, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
