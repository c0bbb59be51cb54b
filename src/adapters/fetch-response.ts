// A fetch Response handed to the tsgi gateway: status and headers through startResponse,
// the body as what the gateway drives. A body the Response was created with whole (a
// string or bytes, as `new Response('text')` or `Response.json()`) goes out as a
// one-element array, the gateway's single-native-call path; any other body is streamed
// from its reader, one read per chunk the gateway asks for, so the connection's
// backpressure reaches the producer. Closing the body early (the client went away)
// cancels the stream and aborts request.signal.
import { ApplicationError } from '../errors';
import type { Body, Environ, ResponseHeaders, StartResponse } from '../types';
import { isHopByHop, statusLine } from '../http-syntax';
import { lightParts, nativeResponse } from './light-response';

/** What the gateway calls back when it is done with a response. */
export interface AbortTarget {
  abort(): void;
}

// Node's Response keeps the body it was created with under an internal symbol; found by
// probing on first use, so the fast path costs nothing when it is absent (another Response class).
let kState: symbol | null | undefined;

function stateSymbol(): symbol | null {
  if (kState !== undefined) return kState;
  try {
    const probe = new (nativeResponse())('x');
    kState = Object.getOwnPropertySymbols(probe).find((s) => {
      const st = (probe as unknown as Record<symbol, { body?: { source?: unknown } }>)[s];
      return st !== null && typeof st === 'object' && st.body !== undefined && st.body !== null && st.body.source === 'x';
    }) ?? null;
  } catch {
    kState = null;
  }
  return kState;
}

interface BodyState { stream?: ReadableStream<Uint8Array>; source?: unknown }

/** The bytes a Response was created with, when it was created with a string or bytes and is unread; else undefined. */
function knownBody(res: Response): string | Uint8Array | null | undefined {
  const key = stateSymbol();
  if (key === null) return undefined;
  const st = (res as unknown as Record<symbol, { body?: BodyState | null } | undefined>)[key];
  if (st === undefined || st === null || typeof st !== 'object') return undefined;
  const body = st.body;
  if (body === null) return null;
  if (body === undefined || body.stream === undefined || body.stream.locked) return undefined;
  const src = body.source;
  return typeof src === 'string' || src instanceof Uint8Array ? src : undefined;
}


function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `an object (${Object.prototype.toString.call(v)})` : typeof v;
}

/** The response's status line and headers, hop-by-hop ones left out (the server manages those). */
function startFromResponse(res: Response, startResponse: StartResponse): void {
  const status = res.status;
  const headers: ResponseHeaders = [];
  const h = res.headers;
  // Set-Cookie values cannot be joined: each goes on its own line, from getSetCookie() where the Headers class has it.
  const cookies = typeof h.getSetCookie === 'function' ? h.getSetCookie() : undefined;
  let cookiesDone = false;
  for (const [name, value] of h) {
    if (name === 'set-cookie' && cookies !== undefined) {
      if (!cookiesDone) for (const c of cookies) headers.push(['set-cookie', c]);
      cookiesDone = true;
    } else if (!isHopByHop(name)) {
      headers.push([name, value]);
    }
  }
  startResponse(statusLine(status, res.statusText || undefined), headers);
}

const DONE: IteratorResult<Uint8Array> = { done: true, value: undefined };
type ReadResult = { done: boolean; value?: Uint8Array };
/** How many reads may complete without waiting before a body is streamed rather than sent whole. */
const EAGER_READS = 2;

/** `p`'s result if it settles within a few microtask turns (data already queued), else undefined. */
function readNow(p: Promise<ReadResult>): Promise<ReadResult | undefined> {
  return Promise.race([p, Promise.resolve().then(() => Promise.resolve(undefined))]);
}

/**
 * A Response body stream as the gateway's async iterable: first the chunks read eagerly,
 * then one read per chunk the gateway asks for. close() cancels the stream when it did not end.
 */
class StreamBody implements AsyncIterableIterator<Uint8Array> {
  private ended = false;
  private closed = false;
  private readonly onRead: (r: ReadResult) => IteratorResult<Uint8Array>;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>, private readonly request: AbortTarget,
              private readonly early: Uint8Array[], private pending: Promise<ReadResult> | undefined) {
    this.onRead = (r) => {
      if (r.done) {
        this.ended = true;
        return DONE;
      }
      return r as IteratorResult<Uint8Array>;
    };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.closed) return Promise.resolve(DONE);
    if (this.early.length > 0) return Promise.resolve({ done: false, value: this.early.shift()! });
    const p = this.pending ?? this.reader.read();
    this.pending = undefined;
    return p.then(this.onRead);
  }

  /** Called exactly once by the gateway: after the last chunk, on an error, or when the client left. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ended) return;
    this.reader.cancel().catch(() => { /* the stream's own error: nothing is waiting for it */ });
    this.request.abort();
  }
}

/**
 * Reads what the stream has ready without waiting: a body that ends within EAGER_READS
 * reads goes out whole (one native call, with a Content-Length), anything else streams.
 */
async function streamBody(stream: ReadableStream<Uint8Array>, request: AbortTarget): Promise<Body> {
  const reader = stream.getReader();
  const early: Uint8Array[] = [];
  let pending: Promise<ReadResult> | undefined;
  for (let i = 0; i < EAGER_READS; i++) {
    pending = reader.read();
    const r = await readNow(pending);
    if (r === undefined) return new StreamBody(reader, request, early, pending);
    pending = undefined;
    if (r.done) return early;
    if (r.value !== undefined && r.value.byteLength > 0) early.push(r.value);
  }
  return new StreamBody(reader, request, early, undefined);
}

/** Hands `res` to the gateway: startResponse called, the body returned. */
export function responseBody(res: unknown, environ: Environ, startResponse: StartResponse, request: AbortTarget): Body | Promise<Body> {
  if (res !== null && typeof res === 'object') {
    // A LightResponse still holding its string or bytes: no Headers, no stream.
    const light = lightParts(res);
    if (light !== undefined) {
      const headers: ResponseHeaders = [];
      for (const pair of light.headers) if (!isHopByHop(pair[0])) headers.push(pair);
      const status = light.status;
      startResponse(statusLine(status, light.statusText || undefined), headers);
      return light.body === null ? [] : [light.body];
    }
  }
  if (!(res instanceof nativeResponse())) {
    if (res === null || typeof res !== 'object' || typeof (res as Response).status !== 'number' || typeof (res as Response).headers !== 'object') {
      throw new ApplicationError('TSGI_ERR_INVALID_RESPONSE', `the fetch handler must return a Response (or a Promise of one), got ${describe(res)}`);
    }
  }
  const response = res as Response;
  startFromResponse(response, startResponse);
  const known = knownBody(response);
  if (known === null) return [];
  // For HEAD the native core sends the head with this length and no body.
  if (known !== undefined) return [known];
  const stream = response.body;
  if (stream === null) return [];
  if (environ.REQUEST_METHOD === 'HEAD') {
    stream.cancel().catch(() => { /* nothing is waiting for it */ });
    return [];
  }
  return streamBody(stream, request);
}
