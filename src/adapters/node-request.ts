// The `req` a node:http handler sees when it runs on tsgi: a real http.IncomingMessage
// built from the environ. Method, url, headers, rawHeaders, httpVersion and the socket's
// addresses come from the environ; the body is a readable stream over wsgi.input (the
// native core has already received it whole). Frameworks replace the prototype of `req`
// (Express 5), so everything tsgi needs lives on the instance, not on a subclass prototype.
import http from 'node:http';
import type net from 'node:net';
import type { Environ, InputStream } from '../types';
import type { NodeSocket } from './node-socket';

const READ_CHUNK = 64 * 1024;
const kInput = Symbol('tsgi.nodeInput');

/** Environ key → node:http header name ('HTTP_USER_AGENT' → 'user-agent'), built once per key. */
const names = new Map<string, string>();
const NAMES_MAX = 4096;

function headerName(key: string): string {
  let name = names.get(key);
  if (name === undefined) {
    name = key.slice(5).toLowerCase().replace(/_/g, '-');
    // Unusual names from hostile clients must not grow the cache without bound.
    if (names.size < NAMES_MAX) names.set(key, name);
  }
  return name;
}

/** node's rawHeaders from the environ: [name, value, …] in arrival order, names lower-cased. */
export function rawHeadersOf(environ: Environ): string[] {
  const raw: string[] = [];
  const env = environ as Record<string, unknown>;
  // A chunked body was decoded by the native core; like node:http, say so and give no length.
  const chunked = typeof env.HTTP_TRANSFER_ENCODING === 'string';
  for (const key in env) {
    if (key.charCodeAt(0) === 72 /* H */ && key.startsWith('HTTP_')) {
      const v = env[key];
      if (typeof v === 'string') raw.push(headerName(key), v);
    } else if (key === 'CONTENT_TYPE') {
      if (environ.CONTENT_TYPE !== '') raw.push('content-type', environ.CONTENT_TYPE);
    } else if (key === 'CONTENT_LENGTH') {
      if (environ.CONTENT_LENGTH !== '' && !chunked) raw.push('content-length', environ.CONTENT_LENGTH);
    }
  }
  return raw;
}

/** Pushes the body from wsgi.input; own property of the request (survives a prototype swap). */
function readInput(this: NodeRequest): void {
  const input = (this as unknown as Record<symbol, InputStream | null>)[kInput];
  if (input === null) {
    this.push(null);
    return;
  }
  const chunk = input.read(READ_CHUNK);
  if (chunk.length < READ_CHUNK) {
    (this as unknown as Record<symbol, InputStream | null>)[kInput] = null;
    if (chunk.length > 0) this.push(chunk);
    this.push(null);
  } else {
    this.push(chunk);
  }
}

export class NodeRequest extends http.IncomingMessage {
  constructor(environ: Environ, socket: NodeSocket) {
    super(socket as unknown as net.Socket);
    const self = this as unknown as Record<string | symbol, unknown>;
    self._read = readInput;
    const input = environ['wsgi.input'];
    // A middleware's own InputStream may not know its length: then it is read until empty.
    self[kInput] = input.length === 0 ? null : input;
    this.method = environ.REQUEST_METHOD;
    let url = environ.REQUEST_URI;
    const script = environ.SCRIPT_NAME;
    if (script !== '' && url.startsWith(script) && (url.length === script.length || url.charCodeAt(script.length) === 47 || url.charCodeAt(script.length) === 63)) {
      // Mounted under SCRIPT_NAME: the handler sees the path below it, as under an Express mount.
      self.originalUrl = url;
      url = url.slice(script.length);
      if (url === '' || url.charCodeAt(0) === 63 /* ? */) url = '/' + url;
    }
    this.url = url;
    const minor = environ.SERVER_PROTOCOL === 'HTTP/1.0' ? 0 : 1;
    this.httpVersionMajor = 1;
    this.httpVersionMinor = minor;
    this.httpVersion = minor === 0 ? '1.0' : '1.1';
    // _addHeaderLines stores rawHeaders; `headers` is then built lazily by node on first use.
    const raw = rawHeadersOf(environ);
    (this as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(raw, raw.length);
    // The native core dispatches a request once its body is complete.
    this.complete = true;
    const trailers = environ['tsgi.trailers'];
    if (trailers !== undefined && trailers.length > 0) {
      const rawTrailers: string[] = [];
      for (const [name, value] of trailers) rawTrailers.push(name, value);
      (this as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(rawTrailers, rawTrailers.length);
    }
  }
}
