// The `res` a node:http handler sees when it runs on tsgi: a real http.ServerResponse whose
// header methods (setHeader, getHeader, appendHeader, getHeaders, …) are node's own and
// whose output methods (writeHead, write, end, flushHeaders, destroy) hand the status,
// headers and body to the adapter's exchange instead of a socket. Frameworks replace the
// prototype of `res` (Express 5), so the output methods are own properties of each
// instance; they behave as node's: statusMessage defaults, ERR_HTTP_HEADERS_SENT,
// write-after-end errors, false from write() and 'drain' under backpressure.
import http from 'node:http';
import type { ResponseHeaders } from '../types';
import {
  alreadyFinished, headersSent, invalidChar, invalidChunk, invalidStatusCode, nullValues, streamDestroyed, writeAfterEnd,
} from './node-errors';
import type { NodeRequest } from './node-request';
import { isHopByHop } from '../http-syntax';

/** What the response asks of the exchange it belongs to. */
export interface ResponseSink {
  /** The head is final (writeHead ran): the status line and header pairs. */
  commitHead(status: string, headers: ResponseHeaders): void;
  /** A body chunk; false when the caller should wait for 'drain'. */
  write(chunk: string | Uint8Array, encoding: BufferEncoding | null, callback: ((e?: Error | null) => void) | null): boolean;
  /** The body ended (with an optional last chunk). */
  end(chunk: string | Uint8Array | null, encoding: BufferEncoding | null): void;
  /** flushHeaders(): the head goes to the client now, the body follows as a stream. */
  flush(): void;
  /** destroy(): the connection is closed. */
  destroyConnection(error: Error | undefined): void;
}

export const kSink = Symbol('tsgi.nodeSink');

// The symbol under which node's OutgoingMessage keeps its headers ({ lower: [name, value] }).
// Found once; when a node version hides it, the public getters are used instead.
const kOutHeaders: symbol | undefined = Object.getOwnPropertySymbols(new http.OutgoingMessage())
  .find((s) => s.description === 'kOutHeaders');

// Hop-by-hop headers belong to the connection, which tsgi's core manages: a framework's
// Connection, Keep-Alive, Transfer-Encoding or Proxy-* is dropped rather than refused.
// node:http's own check of header values and reason phrases.
const INVALID_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

type Res = NodeResponse & Record<string | symbol, unknown>;


function pushHeader(out: ResponseHeaders, lower: string, name: string, value: unknown): void {
  if (isHopByHop(lower)) return;
  if (Array.isArray(value)) {
    for (const v of value) out.push([name, String(v)]);
  } else {
    out.push([name, String(value)]);
  }
}

/** The response's headers as tsgi pairs, in the order they were set, original spelling. */
function headerPairs(res: NodeResponse): ResponseHeaders {
  const out: ResponseHeaders = [];
  if (kOutHeaders !== undefined) {
    const h = (res as Res)[kOutHeaders] as Record<string, [string, unknown]> | null;
    if (h === null || h === undefined) return out;
    for (const lower in h) {
      const entry = h[lower];
      pushHeader(out, lower, entry[0], entry[1]);
    }
    return out;
  }
  for (const name of (res as unknown as { getRawHeaderNames(): string[] }).getRawHeaderNames()) pushHeader(out, name.toLowerCase(), name, res.getHeader(name));
  return out;
}

function setHeaders(res: NodeResponse, obj: unknown): void {
  if (Array.isArray(obj)) {
    if (obj.length > 0 && Array.isArray(obj[0])) {
      for (const pair of obj as Array<[string, string]>) res.appendHeader(pair[0], pair[1]);
    } else {
      if (obj.length % 2 !== 0) throw Object.assign(new TypeError(`The argument 'headers' is invalid: an array of headers must hold name, value pairs`), { code: 'ERR_INVALID_ARG_VALUE' });
      for (let i = 0; i < obj.length; i += 2) if (obj[i]) res.appendHeader(obj[i] as string, obj[i + 1] as string);
    }
    return;
  }
  if (obj !== null && typeof obj === 'object') {
    const o = obj as Record<string, string | number | string[]>;
    for (const k in o) if (k) res.setHeader(k, o[k]);
  }
}

function writeHead(this: NodeResponse, statusCode: number, reason?: unknown, obj?: unknown): NodeResponse {
  if (this._header) throw headersSent('write');
  const original = statusCode;
  statusCode |= 0;
  if (statusCode < 100 || statusCode > 999) throw invalidStatusCode(original);
  if (typeof reason === 'string') {
    this.statusMessage = reason;
  } else {
    this.statusMessage ||= http.STATUS_CODES[statusCode] || 'unknown';
    obj ??= reason;
  }
  this.statusCode = statusCode;
  if (obj !== undefined && obj !== null) setHeaders(this, obj);
  if (INVALID_CHAR.test(this.statusMessage)) throw invalidChar('statusMessage');
  const status = statusCode + ' ' + this.statusMessage;
  // A truthy _header is how node marks the head as final (headersSent, setHeader throws).
  (this as Res)._header = 'HTTP/1.1 ' + status + '\r\n';
  ((this as Res)[kSink] as ResponseSink).commitHead(status, headerPairs(this));
  return this;
}

function onErrorNT(res: NodeResponse, error: Error, callback: ((e?: Error | null) => void) | undefined): void {
  if (callback !== undefined) callback(error);
  if (!res.destroyed) res.emit('error', error);
}

function checkChunk(chunk: unknown): void {
  if (chunk === null) throw nullValues();
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) throw invalidChunk(chunk);
}

function write(this: NodeResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  if (typeof encoding === 'function') {
    callback = encoding;
    encoding = null;
  }
  checkChunk(chunk);
  const cb = typeof callback === 'function' ? (callback as (e?: Error | null) => void) : undefined;
  if (this.finished) {
    if (!this.destroyed) process.nextTick(onErrorNT, this, writeAfterEnd(), cb);
    return false;
  }
  if (this.destroyed) {
    if (cb !== undefined) process.nextTick(cb, streamDestroyed('write'));
    return false;
  }
  if (!this._header) (this as unknown as { _implicitHeader(): void })._implicitHeader();
  return ((this as Res)[kSink] as ResponseSink).write(chunk as string | Uint8Array, (encoding as BufferEncoding) || null, cb ?? null);
}

function end(this: NodeResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): NodeResponse {
  if (typeof chunk === 'function') {
    callback = chunk;
    chunk = null;
    encoding = null;
  } else if (typeof encoding === 'function') {
    callback = encoding;
    encoding = null;
  }
  const cb = typeof callback === 'function' ? (callback as (e?: Error | null) => void) : undefined;
  if (chunk !== null && chunk !== undefined) {
    checkChunk(chunk);
    if (this.finished) {
      if (!this.destroyed) process.nextTick(onErrorNT, this, writeAfterEnd(), cb);
      return this;
    }
  } else if (this.finished) {
    if (cb !== undefined) {
      if (!this.writableFinished) this.once('finish', cb);
      else cb(alreadyFinished('end'));
    }
    return this;
  }
  if (cb !== undefined) this.once('finish', cb);
  if (!this._header) (this as unknown as { _implicitHeader(): void })._implicitHeader();
  this.finished = true;
  const c = chunk === undefined || chunk === null || (chunk as string | Uint8Array).length === 0 ? null : (chunk as string | Uint8Array);
  ((this as Res)[kSink] as ResponseSink).end(c, (encoding as BufferEncoding) || null);
  return this;
}

function flushHeaders(this: NodeResponse): void {
  if (this.finished || this.destroyed) return;
  if (!this._header) (this as unknown as { _implicitHeader(): void })._implicitHeader();
  ((this as Res)[kSink] as ResponseSink).flush();
}

function destroy(this: NodeResponse, error?: Error): NodeResponse {
  if (this.destroyed) return this;
  ((this as Res)[kSink] as ResponseSink).destroyConnection(error);
  return this;
}

// Interim responses (100 Continue, 102, 103) are the native core's business or not sent.
function writeInterim(this: NodeResponse, ...args: unknown[]): void {
  const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
  if (cb !== undefined) process.nextTick(cb);
}

function noop(): void {}

export class NodeResponse extends http.ServerResponse {
  constructor(req: NodeRequest, sink: ResponseSink) {
    super(req);
    const self = this as unknown as Record<string | symbol, unknown>;
    // Own fields from the start (node keeps their defaults on the prototype), so writeHead
    // stores into existing slots rather than growing the object after a prototype swap.
    self.statusCode = 200;
    self.statusMessage = undefined;
    self[kSink] = sink;
    self.writeHead = writeHead;
    self.write = write;
    self.end = end;
    self.flushHeaders = flushHeaders;
    self.destroy = destroy;
    self.writeContinue = writeInterim;
    self.writeProcessing = writeInterim;
    self.writeEarlyHints = writeInterim;
    self.cork = noop;
    self.uncork = noop;
  }

  /** @internal node's marker of a final head (typed here for the output methods). */
  declare _header: string | null;
  /** @internal node's count of body bytes queued and not yet written. */
  declare outputSize: number;
}
