// Builds the PEP 3333 environ from the native request record and the latin-1 head string.
// Fixed keys first in one order, then the headers in arrival order; header keys interned
// by the native core (knownHeaders()), values sliced from the head once. A header sequence
// seen before is built by one compiled object literal (environ-shapes.ts); the general
// path below (one literal, then keyed stores) handles the rest.
import {
  REC_VERSION_MINOR, REC_METHOD_END, REC_TARGET_END, REC_QUERY_START, REC_PATH_END,
  REC_ADDR_END, REC_REMOTE_PORT, REC_LISTENER, REC_FLAGS, REC_HEADER_COUNT, REC_HEADERS,
  REC_TRAILERS_START, REC_OVERRIDE_COUNT, FLAG_CHUNKED_BODY, FLAG_UWSGI,
} from './native';
import { shapeBuilder } from './environ-shapes';
import type { Environ, ErrorStream, FileWrapperFactory, InputStream, TlsInfo } from './types';

/** What the environ takes from the server rather than the request; built once per server. */
export interface EnvironContext {
  readonly scriptName: string;
  readonly urlScheme: string;
  readonly multithread: boolean;
  readonly multiprocess: boolean;
  readonly errors: ErrorStream;
  readonly fileWrapper: FileWrapperFactory;
  /** Environ keys by known-header id (binding.knownHeaders()). */
  readonly knownKeys: readonly string[];
  /** SERVER_NAME and SERVER_PORT by listener index. */
  serverNames: string[];
  serverPorts: string[];
  /** wsgi.url_scheme by listener index ('https' on TLS listeners); urlScheme where absent. */
  urlSchemes?: string[];
}

/** wsgi.version: (1, 0), frozen and shared by every environ. */
export const WSGI_VERSION = Object.freeze([1, 0] as const);
const HTTP_1_0 = 'HTTP/1.0';
const HTTP_1_1 = 'HTTP/1.1';
const CONTENT_LENGTH = 'CONTENT_LENGTH';
const CONTENT_TYPE = 'CONTENT_TYPE';
const HTTP_COOKIE = 'HTTP_COOKIE';
/** tsgi.trailers of a request without trailer fields, shared by every environ. */
export const NO_TRAILERS: ReadonlyArray<readonly [string, string]> = Object.freeze([]);

/**
 * The trailer fields of a chunked body from the head string's tail ('name:value\n' each,
 * as the native core wrote them): [lower-cased name, value] pairs in arrival order.
 */
function trailers(text: string): ReadonlyArray<readonly [string, string]> {
  if (text === '') return NO_TRAILERS;
  const out: Array<readonly [string, string]> = [];
  let at = 0;
  while (at < text.length) {
    // Each field is "name:value\n" (the native core writes them so); a malformed tail ends it.
    const nl = text.indexOf('\n', at);
    const colon = text.indexOf(':', at);
    if (nl < 0 || colon < 0 || colon > nl) break;
    out.push([text.slice(at, colon).toLowerCase(), text.slice(colon + 1, nl)]);
    at = nl + 1;
  }
  return out;
}

const PROXY_PREFIX = 'tsgi.proxy.';

/**
 * The record's override entries (REC_OVERRIDE_COUNT, after the headers): keys set
 * outright (SERVER_NAME, HTTPS, wsgi.url_scheme, ...), and 'tsgi.proxy.<name>' entries
 * gathered into the frozen object environ['tsgi.proxy'].
 */
function applyOverrides(env: Record<string, unknown>, rec: Int32Array, head: string, at: number,
                        prevEnd: number, count: number): void {
  let proxy: Record<string, string> | undefined;
  for (let i = 0; i < count; i++, at += 3) {
    const keyEnd = rec[at + 1];
    const valueEnd = rec[at + 2];
    const key = head.slice(prevEnd, keyEnd);
    const value = head.slice(keyEnd, valueEnd);
    prevEnd = valueEnd;
    if (key.startsWith(PROXY_PREFIX)) (proxy ??= {})[key.slice(PROXY_PREFIX.length)] = value;
    else env[key] = value;
  }
  if (proxy !== undefined) env['tsgi.proxy'] = Object.freeze(proxy);
}

/** REQUEST_METHOD: GET without a new string; other methods sliced from the head. */
function methodOf(head: string, end: number): string {
  if (end === 3 && head.charCodeAt(0) === 71 && head.charCodeAt(1) === 69 && head.charCodeAt(2) === 84) return 'GET';
  return head.slice(0, end);
}

// REMOTE_PORT as text, remembered by port in a small direct-mapped table: the requests of
// one client (keep-alive, pipelined) repeat their port, and the clients of a busy server
// are spread over the table (client ports are random: it is large enough that a few
// hundred connections seldom share a slot).
const PORT_SLOTS = 4096;
const portNumbers = new Int32Array(PORT_SLOTS).fill(-1);
const portTexts: string[] = new Array<string>(PORT_SLOTS).fill('');
function portText(port: number): string {
  const slot = port & (PORT_SLOTS - 1);
  if (portNumbers[slot] === port) return portTexts[slot];
  const text = port === 0 ? '' : '' + port;
  portNumbers[slot] = port;
  portTexts[slot] = text;
  return text;
}

/**
 * The environ of the request described by `rec` (the native record) over `head`.
 * `bodyLength` is the number of body bytes received (CONTENT_LENGTH of a chunked body).
 */
export function buildEnviron(ctx: EnvironContext, rec: Int32Array, head: string, conn: number,
                             input: InputStream, bodyLength: number, tls?: TlsInfo): Environ {
  const methodEnd = rec[REC_METHOD_END];
  const targetEnd = rec[REC_TARGET_END];
  const queryStart = rec[REC_QUERY_START];
  const pathEnd = rec[REC_PATH_END];
  const addrEnd = rec[REC_ADDR_END];
  const listener = rec[REC_LISTENER];
  const remotePort = rec[REC_REMOTE_PORT];

  const uri = head.slice(methodEnd, targetEnd);
  // The decoded path of an HTTP target without a query and of the same length as the
  // target had no escapes: it is the target's text, and the same string serves both.
  let pathInfo = queryStart < 0 && pathEnd - targetEnd === targetEnd - methodEnd && (rec[REC_FLAGS] & FLAG_UWSGI) === 0
    ? uri : head.slice(targetEnd, pathEnd);
  const scriptName = ctx.scriptName;
  if (scriptName !== '' && pathInfo.startsWith(scriptName) &&
      (pathInfo.length === scriptName.length || pathInfo.charCodeAt(scriptName.length) === 47 /* / */)) {
    pathInfo = pathInfo.slice(scriptName.length);
  }

  const method = methodOf(head, methodEnd);
  const query = queryStart < 0 ? '' : head.slice(queryStart, targetEnd);
  const serverName = ctx.serverNames[listener] ?? '';
  const serverPort = ctx.serverPorts[listener] ?? '';
  const protocol = rec[REC_VERSION_MINOR] === 1 ? HTTP_1_1 : HTTP_1_0;
  const addr = head.slice(pathEnd, addrEnd);
  const port = portText(remotePort);
  const scheme = ctx.urlSchemes?.[listener] ?? ctx.urlScheme;
  const count = rec[REC_HEADER_COUNT];
  const keys = ctx.knownKeys;
  let environ: Environ;
  let at = REC_HEADERS;
  let prevEnd = addrEnd;
  // A header sequence seen before: one compiled object literal (environ-shapes.ts).
  const build = shapeBuilder(rec, head, count, keys, addrEnd);
  if (build !== null) {
    environ = build(method, scriptName, pathInfo, query, serverName, serverPort, protocol, addr, port, uri,
      WSGI_VERSION, scheme, input, ctx.errors, ctx.multithread, ctx.multiprocess, ctx.fileWrapper, conn, listener,
      NO_TRAILERS, rec, head);
    if (count > 0) {
      at += 3 * count;
      prevEnd = rec[at - 1];
    }
  } else {
    environ = {
      REQUEST_METHOD: method,
      SCRIPT_NAME: scriptName,
      PATH_INFO: pathInfo,
      QUERY_STRING: query,
      CONTENT_TYPE: '',
      CONTENT_LENGTH: '',
      SERVER_NAME: serverName,
      SERVER_PORT: serverPort,
      SERVER_PROTOCOL: protocol,
      REMOTE_ADDR: addr,
      REMOTE_PORT: port,
      REQUEST_URI: uri,
      'wsgi.version': WSGI_VERSION,
      'wsgi.url_scheme': scheme,
      'wsgi.input': input,
      'wsgi.errors': ctx.errors,
      'wsgi.multithread': ctx.multithread,
      'wsgi.multiprocess': ctx.multiprocess,
      'wsgi.run_once': false,
      'wsgi.file_wrapper': ctx.fileWrapper,
      'wsgi.input_terminated': true,
      'tsgi.connection': conn,
      'tsgi.listener': listener,
      'tsgi.trailers': NO_TRAILERS,
    };
    const env = environ as Record<string, unknown>;
    for (let i = 0; i < count; i++, at += 3) {
      const id = rec[at];
      const keyEnd = rec[at + 1];
      const valueEnd = rec[at + 2];
      const key = id > 0 ? keys[id] : head.slice(prevEnd, keyEnd);
      const value = head.slice(keyEnd, valueEnd);
      prevEnd = valueEnd;
      const prev = env[key];
      if (prev === undefined) env[key] = value;
      // Repeated Content-Length fields all read as the same decimal (the parser refuses
      // differing ones) and a second Content-Type is refused: the first is the value.
      else if (key === CONTENT_LENGTH || key === CONTENT_TYPE) { if (prev === '') env[key] = value; }
      else env[key] = prev + (key === HTTP_COOKIE ? '; ' : ',') + value;
    }
  }
  if (tls !== undefined) {
    environ.HTTPS = 'on';
    environ['tsgi.tls'] = tls;
  }
  const overrides = rec[REC_OVERRIDE_COUNT];
  if (overrides > 0) applyOverrides(environ as Record<string, unknown>, rec, head, at, prevEnd, overrides);
  if ((rec[REC_FLAGS] & FLAG_CHUNKED_BODY) !== 0) {
    environ.CONTENT_LENGTH = '' + bodyLength;
    environ['tsgi.trailers'] = trailers(head.slice(rec[REC_TRAILERS_START]));
  }
  return environ;
}
