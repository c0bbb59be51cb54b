// toNodeHandler: a tsgi application as a node:http request handler — for
// http.createServer, or as Express/connect middleware. Mounted under a path
// (app.use('/prefix', …), which sets req.baseUrl), SCRIPT_NAME is the mount and
// PATH_INFO the rest. The request body is read whole before the application runs
// (wsgi.input never waits on the network), up to maxBodySize bytes (413 beyond).
import type http from 'node:http';
import { NO_TRAILERS, WSGI_VERSION } from '../environ';
import { ApplicationError } from '../errors';
import { fileWrapper } from '../file-wrapper';
import { RequestInput, EMPTY_INPUT } from '../input';
import { kRelease } from '../symbols';
import { checkStart, prepareHead, startResponseMissing, type HeadTarget } from '../start-response';
import type { App, Chunk, Environ, ErrorStream, FileWrapperFactory, ResponseHeaders, Write } from '../types';
import { decodePath } from './fetch-url';

export interface ToNodeHandlerOptions {
  /** Largest request body read for wsgi.input; larger gets 413. Default 100 MiB (tsgi's maxBodySize). */
  maxBodySize?: number;
  /** wsgi.errors; default process.stderr. */
  errors?: { write(text: string | Uint8Array): unknown };
}

/** (req, res, next?) as node:http, Express and connect call it. */
export type NodeMiddleware = (req: http.IncomingMessage, res: http.ServerResponse, next?: (err?: unknown) => void) => void;

const DEFAULT_MAX_BODY = 100 * 1024 * 1024;

/** A header value as node read it (latin-1 characters) for an environ: already a native string. */
function environKey(name: string): string {
  return 'HTTP_' + name.toUpperCase().replace(/-/g, '_');
}

function buildEnviron(req: http.IncomingMessage, body: Buffer | null, errors: ErrorStream): Environ {
  const r = req as http.IncomingMessage & { baseUrl?: string; originalUrl?: string };
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const base = typeof r.baseUrl === 'string' ? r.baseUrl : '';
  const socket = req.socket as (http.IncomingMessage['socket'] & { encrypted?: boolean }) | null;
  const host = req.headers.host ?? '';
  const environ: Environ = {
    REQUEST_METHOD: req.method ?? 'GET',
    SCRIPT_NAME: decodePath(base),
    PATH_INFO: decodePath(path === '/' && base !== '' ? '' : path),
    QUERY_STRING: q < 0 ? '' : url.slice(q + 1),
    CONTENT_TYPE: '',
    CONTENT_LENGTH: body !== null ? String(body.length) : '',
    SERVER_NAME: host !== '' ? host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1') : socket?.localAddress ?? '',
    SERVER_PORT: socket?.localPort !== undefined ? String(socket.localPort) : '',
    SERVER_PROTOCOL: 'HTTP/' + (req.httpVersion === '1.0' ? '1.0' : '1.1'),
    REMOTE_ADDR: socket?.remoteAddress ?? '',
    REMOTE_PORT: socket?.remotePort !== undefined ? String(socket.remotePort) : '',
    REQUEST_URI: r.originalUrl ?? url,
    'wsgi.version': WSGI_VERSION,
    'wsgi.url_scheme': socket?.encrypted ? 'https' : 'http',
    'wsgi.input': body !== null ? new RequestInput(body, -1, body.length) : EMPTY_INPUT,
    'wsgi.errors': errors,
    'wsgi.multithread': false,
    'wsgi.multiprocess': false,
    'wsgi.run_once': false,
    'wsgi.file_wrapper': fileWrapper as FileWrapperFactory,
    'wsgi.input_terminated': true,
    'tsgi.connection': -1,
    'tsgi.listener': 0,
    'tsgi.trailers': NO_TRAILERS,
  };
  const env = environ as Record<string, unknown>;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (lower === 'content-type') { if (environ.CONTENT_TYPE === '') environ.CONTENT_TYPE = value; continue; }
    if (lower === 'content-length') continue;
    const key = environKey(lower);
    const prev = env[key];
    env[key] = prev === undefined ? value : prev + (lower === 'cookie' ? '; ' : ',') + value;
  }
  return environ;
}

/** Reads the request body whole; null without one. Rejects with status 413 past `max`. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  const declared = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if ((declared === undefined || declared === '0') && !chunked) return Promise.resolve(null);
  if (req.readableEnded || (req as { _body?: boolean })._body === true) return Promise.resolve(null);
  if (declared !== undefined && Number(declared) > max) return Promise.reject(Object.assign(new Error('request body too large'), { status: 413 }));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        req.resume();
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        return;
      }
      parts.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(size === 0 ? null : Buffer.concat(parts, size)));
    req.once('error', reject);
  });
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The response state of one request: startResponse's head and when it went out. */
class Outgoing implements HeadTarget {
  head = '';
  statusCode = 0;
  contentLength = -1;
  respFlags = 0;
  started = false;
  sent = false;
  status = '';
  headers: ResponseHeaders = [];
  written = 0;

  constructor(private readonly res: http.ServerResponse) {}

  startResponse = (status: string, headers: ResponseHeaders, excInfo?: unknown): Write => {
    checkStart(excInfo, this.started, this.sent);
    prepareHead(this, status, headers);
    this.status = status;
    this.headers = headers;
    this.started = true;
    return this.legacyWrite;
  };

  legacyWrite = (chunk: Chunk): void => {
    this.sendHead();
    this.write(chunk);
  };

  sendHead(): void {
    if (this.sent) return;
    if (!this.started) throw startResponseMissing();
    this.sent = true;
    const sp = this.status.indexOf(' ');
    const flat: string[] = [];
    for (const [n, v] of this.headers) flat.push(n, v);
    this.res.writeHead(this.statusCode, this.status.slice(sp + 1), flat);
  }

  /** Writes a chunk, never past the application's Content-Length. false: wait for 'drain'. */
  write(chunk: unknown): boolean {
    let c: Buffer | string;
    if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) c = chunk;
    else if (chunk instanceof Uint8Array) c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw new ApplicationError('TSGI_ERR_INVALID_CHUNK', `a body chunk must be a string or a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
    if (c.length === 0) return true;
    this.sendHead();
    if (this.contentLength >= 0) {
      const left = this.contentLength - this.written;
      if (left <= 0) return true;
      const buf = typeof c === 'string' ? Buffer.from(c) : c;
      if (buf.length > left) c = buf.subarray(0, left);
    }
    this.written += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
    return this.res.write(c);
  }
}

function waitDrain(res: http.ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

async function run(app: App, req: http.IncomingMessage, res: http.ServerResponse, opts: Required<Pick<ToNodeHandlerOptions, 'maxBodySize'>> & { errors: ErrorStream }): Promise<void> {
  const body = await readBody(req, opts.maxBodySize);
  const environ = buildEnviron(req, body, opts.errors);
  const out = new Outgoing(res);
  let result: unknown;
  let gone = false;
  const onClose = () => { gone = !res.writableFinished; };
  res.on('close', onClose);
  try {
    result = await app(environ, out.startResponse);
    const r = result as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null;
    if (Array.isArray(result)) {
      for (const c of result) out.write(c);
    } else if (r !== null && typeof r === 'object' && typeof r[Symbol.iterator] === 'function') {
      for (const c of result as Iterable<unknown>) {
        if (gone) break;
        if (!out.write(c) && !(await waitDrain(res))) break;
      }
    } else if (r !== null && typeof r === 'object' && typeof r[Symbol.asyncIterator] === 'function') {
      for await (const c of result as AsyncIterable<unknown>) {
        if (gone) break;
        if (!out.write(c) && !(await waitDrain(res))) break;
      }
    } else {
      throw new ApplicationError('TSGI_ERR_INVALID_BODY', `the application must return an iterable (or async iterable) of chunks, or a Promise of one; got ${result === null ? 'null' : typeof result}`);
    }
    if (!gone) {
      out.sendHead();
      if (out.contentLength >= 0 && out.written < out.contentLength && req.method !== 'HEAD' && out.statusCode !== 204 && out.statusCode !== 304) {
        opts.errors.write(`tsgi: ${req.method} ${req.url}: the application declared Content-Length: ${out.contentLength} but its body was ${out.written} bytes; the connection was closed\n`);
        res.destroy();
      } else {
        res.end();
      }
    }
  } finally {
    res.off('close', onClose);
    const close = (result as { close?: unknown } | undefined)?.close;
    if (typeof close === 'function') {
      try { close.call(result); } catch (e) { opts.errors.write(`tsgi: close() of the body failed: ${e instanceof Error ? e.stack : String(e)}\n`); }
    }
    (environ['wsgi.input'] as RequestInput)[kRelease]?.();
  }
}

/**
 * A node:http handler (and Express/connect middleware) that runs the tsgi application
 * `app`. With `next` (middleware), an error before the response started goes to next(err).
 */
export function toNodeHandler(app: App, options: ToNodeHandlerOptions = {}): NodeMiddleware {
  if (typeof app !== 'function') {
    throw new TypeError(`toNodeHandler() takes a tsgi application (environ, startResponse) => body, got ${app === null ? 'null' : typeof app}`);
  }
  const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY;
  if (!(Number.isInteger(maxBodySize) && maxBodySize >= 0)) throw new TypeError(`toNodeHandler(): maxBodySize must be a whole number of bytes, got ${String(options.maxBodySize)}`);
  const sink = options.errors ?? process.stderr;
  const errors: ErrorStream = {
    write(text) { sink.write(text); },
    writelines(lines) { for (const l of lines) sink.write(l); },
    flush() {},
  };
  return function tsgiHandler(req, res, next) {
    run(app, req, res, { maxBodySize, errors }).catch((e: unknown) => {
      const status = (e as { status?: unknown })?.status === 413 ? 413 : 500;
      if (status === 500) errors.write(`tsgi: application error in ${req.method} ${req.url}: ${e instanceof Error ? e.stack : String(e)}\n`);
      if (res.headersSent) { res.destroy(); return; }
      if (typeof next === 'function' && status === 500) { next(e); return; }
      plain(res, status, status === 413 ? 'Payload Too Large\n' : 'Internal Server Error\n');
    });
  };
}
