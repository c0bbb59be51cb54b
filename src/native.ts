// The one module that loads the native addon, and the typed contract of what it exports.
// Everything the TypeScript layer knows about the C++ core is written down here.
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const load: (dir: string) => unknown = require('node-gyp-build');

/**
 * Limits and timeouts the native core enforces, each named as its setting (src/settings/limits.ts);
 * times in milliseconds. Validated in TypeScript before the call.
 */
export interface NativeLimits {
  maxRequestLine: number;       // bytes; longer request line: 414
  maxHeaderSize: number;        // bytes of the whole head; larger: 431
  maxHeaders: number;           // header fields; more: 431 (at most MAX_HEADERS_CAP)
  maxBodySize: number;          // request body; larger: 413 (Content-Length checked before reading)
  bodyMemorySize: number;       // bodies larger than this are spooled to an unlinked temp file
  spoolDir: string;             // where spooled bodies go
  headerTimeout: number;        // head not complete this long after its first byte: 408 and close
  firstByteTimeout: number;     // a new connection that sends nothing for this long: closed
  bodyTimeout: number;          // no body bytes for this long: 408 and close
  minBodyRate: number;          // bytes/s a body must average once the grace is over, else 408 (0: none)
  minBodyRateGrace: number;     // how long a body may take before minBodyRate is checked
  keepAliveTimeout: number;     // idle keep-alive connection: closed
  writeTimeout: number;         // a client that reads nothing of a pending response for this long: closed
  responseHold: number;         // µs an onQueued request may take for its response to be held for the batch (0: never held)
  sendfile: 'auto' | 'always' | 'never'; // file responses: sendfile(2) always, never, or except to loopback clients
  maxConnections: number;       // more open connections: the oldest without a request head is closed, else the new one gets 503
  maxKeepAliveRequests: number; // requests per connection before it is closed (0: no limit)
  healthPath?: string;          // answered by the core without the application (200; 503 and close while draining); '' or absent: none
}

/** Called by the native core; `conn` is an opaque connection id. */
export interface NativeHandlers {
  /**
   * A complete request: the head was parsed and the body (if any) fully received.
   * `head` is one latin-1 string that the request record (`binding.record`) indexes.
   * The body is `body` (bytes in memory; null when empty) or, when larger than
   * `bodyMemorySize`, an unlinked temp file open for reading at `bodyFd` (else -1),
   * `bodyLength` bytes long; the TypeScript side owns that fd and closes it.
   * A connection has at most one request in flight: the next pipelined request is not
   * dispatched before this one's response ended (respond/end/abort).
   */
  onRequest(conn: number, head: string, body: Buffer | null, bodyFd: number, bodyLength: number, tls: NativeTlsInfo | undefined): void;
  /** The connection's write queue fell below its low-water mark after write() returned false, or a sendFile finished. */
  onDrain(conn: number): void;
  /**
   * The connection closed while its request was in flight (client went away: a reset, or
   * a write to it failed; timeout; non-graceful close). Not called for abort() from JS.
   * Not called for a half-close: a client that sends FIN after its requests still gets
   * every complete request answered, in order (the request in flight finishes, buffered
   * pipelined ones follow), and the connection closes after the last response. A FIN
   * from a client that closed its socket completely is only told apart when a write to
   * it fails; that gives onAbort if its request is still in flight. At EOF an incomplete
   * head is dropped without a response; a complete head whose body is incomplete gets 400.
   */
  onAbort(conn: number): void;
  /**
   * Optional. Requests read from sockets in one pass of the event loop (each the only
   * request of its read, without a body, not TLS) are kept by the core and handed over
   * together after the loop's poll phase: this is called once, and takes each with
   * takeQueued() and handles it as onRequest would (body null, no body fd, body length
   * 0, no TLS info). Without it every request comes through onRequest.
   */
  onQueued?(): void;
}

/**
 * The TLS state of an HTTPS connection, given to onRequest (undefined on other listeners):
 * one frozen object per connection, made at its first request.
 */
export interface NativeTlsInfo {
  readonly protocol: string;     // 'TLSv1.3'
  readonly cipher: string;       // 'TLS_AES_256_GCM_SHA384'
  readonly peerSubject: string;  // the verified client certificate's subject (RFC 2253), or ''
}

export interface NativeAddress {
  address: string;         // '127.0.0.1', '::1', or the socket path for Unix sockets
  family: 'IPv4' | 'IPv6' | 'unix';
  port: number;            // 0 for Unix sockets
}

/** TLS of an https listener: PEM bytes read by the TypeScript side, settings validated there. */
export interface NativeTlsOptions {
  cert: Buffer;                // certificate chain, PEM
  key: Buffer;                 // private key, PEM (may be the same bytes as cert)
  passphrase: string;          // of an encrypted key; '' when none
  ca: Buffer | undefined;      // CA certificates for client certificates, PEM
  certReqs: 'none' | 'optional' | 'required';
  ciphers: string;             // OpenSSL cipher list for TLS 1.2; '' keeps OpenSSL's default
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  sni: Readonly<Record<string, { cert: Buffer; key: Buffer; certName?: string; keyName?: string }>>; // by lower-case server name ('*.example.com' allowed)
  certName?: string;           // how errors name cert and key: the file's path, or the option ('tls.cert')
  keyName?: string;
  tlsHandshakeTimeout: number;  // a handshake not done this long after accept: closed
}

/**
 * What a listener speaks (the last argument of listenTcp/listenUnix/listenFd; every field
 * optional). Plain HTTP/1.1 without it.
 */
export interface NativeListenOptions {
  /**
   * 'http' (the default) or 'uwsgi': the uwsgi binary protocol nginx's uwsgi_pass sends
   * (modifier1 0). A uwsgi connection carries one request (its body framed by
   * CONTENT_LENGTH) and is answered in HTTP/1.1 with Connection: close, a streamed body
   * of unknown length delimited by the close, as uWSGI does; bytes after the body are
   * ignored. A malformed packet gets 400, one over uwsgiBufferSize 431, then the close.
   */
  protocol?: 'http' | 'uwsgi';
  /** The largest uwsgi packet (its variables, the 4-byte header not counted), 1..65535; 4096 when absent. */
  uwsgiBufferSize?: number;
  /**
   * Every connection starts with a PROXY protocol header (v1 or v2), read within
   * firstByteTimeout of the accept; its client address and port become REMOTE_ADDR and
   * REMOTE_PORT, its TLS records `tsgi.proxy` (see REC_OVERRIDE_COUNT). A connection
   * whose peer is not in proxyAllow, or whose header is malformed, is closed without a
   * response. Unix socket peers are always allowed (the socket file's mode decides).
   */
  proxyProtocol?: boolean;
  /** Addresses and CIDR ranges ('10.0.0.0/8', '::1', '*') allowed to send the header; ['127.0.0.1', '::1'] when absent. An invalid entry throws (code TSGI_ERR_PROXY_ALLOW). */
  proxyAllow?: string[];
  /** Present: HTTP over TLS (an https bind). */
  tls?: NativeTlsOptions;
}

/**
 * Optional features of this build of the native core. A listener asking for one that is
 * absent is refused by the TypeScript side with a clear error (never served as plain HTTP).
 */
export interface NativeCapabilities {
  tls?: boolean;
  uwsgi?: boolean;
  proxyProtocol?: boolean;
}

export interface NativeStats {
  connections: number;     // open now
  requests: number;        // dispatched to JS since start
  bytesSent: number;
  bytesReceived: number;
  listeners: number;
  evicted: number;         // connections closed to make room at maxConnections
  acceptPauses: number;    // times accepting paused for lack of descriptors
}

/**
 * What a native application's requests leave for the access log and the stats, kept by
 * the core with no JavaScript per request (nativeAppDrain). Counters are totals since the
 * server started; the entries are those finished since the last drain.
 */
export interface NativeAppDrain {
  finished: number;
  /** Answered with a status >= 500. */
  errors: number;
  /** Body bytes sent. */
  bytes: number;
  timeUs: number;
  inFlight: number;
  /** Entries dropped because the ring was full (JavaScript drained too slowly). */
  dropped: number;
  /** Requests harakiri ended. */
  harakiri: number;
  count: number;
  /** Per entry: start (ms since the epoch), duration (ms), status, body bytes. */
  numbers: Float64Array;
  /** Per entry its fields, each followed by NUL: REQUEST_METHOD, REQUEST_URI,
   * SERVER_PROTOCOL, REMOTE_ADDR (the client a trusted proxy named, as the environ had it),
   * PATH_INFO, QUERY_STRING, then the keys nativeAppLog named (request headers from the
   * head; other keys as the application's environ had them when the request ended). */
  text: string;
}

export interface NativeBinding {
  /** Environ keys by known-header id; index 0 is ''. E.g. 'HTTP_HOST', 'CONTENT_TYPE'. */
  knownHeaders(): string[];
  /** The request record, rewritten before each onRequest (layout: REC_* below). */
  record: Int32Array;
  /** What this build supports beyond plain HTTP listeners (absent: none of it). */
  capabilities?: NativeCapabilities;

  /**
   * nativeApp: a native application (an external holding a tsgi_native_app*, see
   * native/native_app.h) that answers every request inside the core; the handlers'
   * onRequest/onDrain/onAbort are then not called.
   */
  createServer(limits: NativeLimits, handlers: NativeHandlers, nativeApp?: unknown): number;
  /** host '' means all IPv4 and IPv6 addresses ('::' dual-stack). Throws an Error with .code (EADDRINUSE…). */
  listenTcp(server: number, host: string, port: number, backlog: number, options?: NativeListenOptions): NativeAddress;
  /** mode: file mode for the socket file, or -1 to leave it. An existing stale socket file is an error (EADDRINUSE). */
  listenUnix(server: number, socketPath: string, backlog: number, mode: number, options?: NativeListenOptions): NativeAddress;
  /**
   * A bound socket (TCP or Unix) inherited by this process, listening already or not (the
   * pre-fork master binds without listening); it is dup()ed, the caller keeps fd.
   * listen(2) is called on it with backlog (511 when absent); on an already listening
   * socket that resizes its accept queue, for every process sharing the socket.
   */
  listenFd(server: number, fd: number, backlog: number, options?: NativeListenOptions): NativeAddress;
  /**
   * Stops accepting on every listener of the server (the sockets are closed). Connections
   * already waiting in a listener's accept queue are accepted first (closing the socket
   * would reset them), except on an fd listener whose caller still holds fd: that socket
   * stays open and its queue is left to the others accepting on it. refuseFds: fd
   * listeners (by the fd given to listenFd) that are not handed over to anyone: their
   * queue is accepted here, then the shared socket stops listening for every process that
   * holds it (shutdown(2)), so new clients are refused at once (ECONNREFUSED) instead of
   * waiting in a queue nobody accepts any more.
   */
  stopListening(server: number, refuseFds?: number[]): void;
  /**
   * graceful: stops listening (as stopListening), lets in-flight requests finish (their
   * responses carry Connection: close), and calls done once no connection is left. No
   * request the client has begun to send, or may be sending, is dropped, and no
   * connection is reset:
   * - a connection with part of a request received, or accepted and still waiting for its
   *   first request, stays open until that request is answered (with Connection: close);
   *   one that sends nothing is ended after the drain grace (2 s, at most the header
   *   timeout) from its accept;
   * - an idle keep-alive connection (also one whose streamed response began before the
   *   close and ends during it) stays open for the drain grace (2 s, at most the
   *   keep-alive timeout) from the end of its last response: its next request is answered
   *   with Connection: close, and it is ended if none comes. One idle that long already
   *   is ended now, unless request bytes already wait in its socket (then those are
   *   answered);
   * - "ended" is a clean close: the write side is shut down and the connection lingers for
   *   the client's FIN (2 s at most), reading and discarding.
   * Not graceful: closes every connection now (in-flight requests get onAbort), then done.
   * A second call does not call its done; a non-graceful second call closes what is left.
   */
  close(server: number, graceful: boolean, done: () => void): void;
  stats(server: number): NativeStats;
  /** A native application's server keeps up to capacity access entries (0: none) with these request header environ keys; false for a JavaScript application. */
  nativeAppLog(server: number, capacity: number, keys: string[]): boolean;
  /** A native application's counters and finished requests since the last call; null for a JavaScript application. */
  nativeAppDrain(server: number): NativeAppDrain | null;
  /** Where native applications' error lines go: a descriptor (duplicated), or -1 for standard error. */
  nativeAppErrorLog(fd: number): void;

  /**
   * Called by onRequest once the request it was given has been answered: the
   * connection's next pipelined request of the same read when it is complete and has no
   * body, its record in `record` and its head string returned (body null, no body fd,
   * body length 0, the same TLS info). undefined: none; the core dispatches what is left
   * through onRequest as usual. Worth calling only when the record said FLAG_PIPELINED.
   */
  nextRequest(conn: number): string | undefined;
  /**
   * Inside onQueued: the next request kept for it, its record in `record`, its
   * connection's id in `current[0]`, its head string returned; undefined: none left
   * (requests whose connection closed meanwhile are skipped).
   */
  takeQueued(): string | undefined;
  /** current[0]: the connection of the request takeQueued() returned. */
  current: Float64Array;
  /**
   * A whole response in one call. `status` is the status code of `head` (100..999, else
   * a TypeError): the core goes by it, never by the head's text. `head` is the status line
   * without 'HTTP/1.x ' and the application's header lines, each ending in CRLF, without
   * the blank line: '200 OK\r\nContent-Type: text/plain\r\n'. The core writes every
   * header the server owns: Date (unless RESP_HAS_DATE), Content-Length (when
   * contentLength is -1, computed from the body; with RESP_SET_LENGTH, contentLength),
   * Connection. contentLength >= 0: the body's length (the application's declared one,
   * already in head, unless RESP_SET_LENGTH); never more is sent, and a shorter body
   * closes the connection. The core alone decides that HEAD, 1xx, 204 and 304 responses
   * send no body (and no Content-Length for 1xx, 204 and 304). Returns a RESULT_* code,
   * except RESULT_OK, which comes back as undefined (the common case makes no value).
   */
  respond(conn: number, status: number, head: string, body: Buffer | string | null | Array<Buffer | string>,
          contentLength: number, flags: number): number | undefined;
  /**
   * respond() followed, when the response went out whole (RESULT_OK), by takeQueued():
   * the next kept request's head string comes back in place of undefined (its record in
   * `record`, its connection in `current[0]`). Only inside onQueued, by the exchange of
   * the request onQueued is handling: one call per request instead of two.
   */
  respondTake(conn: number, status: number, head: string, body: Buffer | string | null | Array<Buffer | string>,
              contentLength: number, flags: number): number | string | undefined;
  /**
   * Starts a streamed response (status, head, contentLength and flags as for respond): the
   * head is queued, and goes out with the first write/sendFile/end. contentLength -1:
   * chunked on HTTP/1.1, close-delimited on HTTP/1.0.
   */
  writeHead(conn: number, status: number, head: string, contentLength: number, flags: number): number;
  /** Queues a chunk (a Buffer is written from its own memory). false: wait for onDrain before writing more (also false when the connection is gone). */
  write(conn: number, chunk: Buffer | string): boolean;
  /** Ends a streamed response (with an optional last chunk). Returns a RESULT_* code. */
  end(conn: number, chunk: Buffer | string | null): number;
  /**
   * Sends length bytes of the open file fd from offset after what is queued (sendfile where
   * possible); onDrain when done (never from inside this call). The caller keeps fd open
   * until then. Needs writeHead first (else RESULT_GONE). On a response without a body
   * (HEAD, 1xx, 204, 304) nothing is sent and onDrain comes on the next loop turn. Where sendfile(2) does not
   * support the file (EINVAL, ENOSYS, EOPNOTSUPP) it is read with pread() and written
   * block by block, with the same backpressure; TSGI_NO_SENDFILE=1 in the environment when
   * the addon loads forces that path (a diagnostic switch). A file shorter than length
   * (EOF first): the response cannot be completed; nothing more of it is sent, onDrain
   * still comes, end() then returns RESULT_SHORT and the connection is closed.
   */
  sendFile(conn: number, fd: number, offset: number, length: number): number;
  /**
   * The response can no longer be completed: before its head went out the connection
   * closes now; after, what is already queued is still sent (no last chunk), then it closes.
   */
  abort(conn: number): void;
  /**
   * A new TLS configuration for every HTTPS listener of the server: new handshakes use
   * it, open connections keep theirs. Throws an Error (code ERR_TSGI_TLS, the message says
   * what is wrong) and changes nothing when it cannot be used. Returns the listeners updated.
   */
  reloadTls?(server: number, tls: NativeTlsOptions): number;
}

// Request record layout (Int32Array indexes). Positions are indexes into `head`.
export const REC_VERSION_MINOR = 0;  // 0 or 1 (major is always 1)
export const REC_METHOD_END = 1;     // REQUEST_METHOD = head.slice(0, methodEnd)
export const REC_TARGET_END = 2;     // REQUEST_URI    = head.slice(methodEnd, targetEnd)
export const REC_QUERY_START = 3;    // QUERY_STRING   = head.slice(queryStart, targetEnd), or '' when -1
export const REC_PATH_END = 4;       // PATH_INFO      = head.slice(targetEnd, pathEnd) (percent-decoded bytes)
export const REC_ADDR_END = 5;       // REMOTE_ADDR    = head.slice(pathEnd, addrEnd) ('' on Unix sockets)
export const REC_REMOTE_PORT = 6;    // 0 on Unix sockets
export const REC_LOCAL_PORT = 7;     // port of the listener that accepted (0 on Unix sockets)
export const REC_LISTENER = 8;       // index of that listener, in listen order
export const REC_FLAGS = 9;          // FLAG_* bits
export const REC_HEADER_COUNT = 10;
export const REC_TRAILERS_START = 11; // chunked bodies: head.slice(trailersStart) is the accepted trailer fields, 'name:value\n' each
// Entries after the headers (same 3-int layout, id 0, the key as text) that set environ
// keys outright instead of adding headers: from a uwsgi packet SERVER_NAME, SERVER_PORT,
// SERVER_PROTOCOL, HTTPS and wsgi.url_scheme; from a PROXY protocol header
// 'tsgi.proxy.<name>' entries, which the environ gathers into one object, tsgi.proxy
// (and HTTPS, wsgi.url_scheme when its SSL record says the client used TLS).
export const REC_OVERRIDE_COUNT = 12;
export const REC_HEADERS = 16;       // then 3 ints per header, in arrival order:
//   id       known-header id (knownHeaders()[id] is the environ key); for another name,
//            minus the code of its environ key (the same key text, the same code, for the
//            life of the process's loop), or 0 when the core gave it none
//   keyEnd   id <= 0: the environ key ('HTTP_' + name upper-cased, '-' as '_') = head.slice(prevEnd, keyEnd);
//            id > 0: keyEnd == prevEnd (no key text)
//   valueEnd value = head.slice(keyEnd, valueEnd); prevEnd starts at addrEnd
export const REC_HEADER_STRIDE = 3;
export const MAX_HEADERS_CAP = 1024;

// Bit 1 is unused: whether the connection persists is the core's decision when the
// response starts (the request, RESP_CLOSE, the keep-alive limit, a graceful close).
export const FLAG_HEAD = 2;            // REQUEST_METHOD is HEAD (information only: the core sends no body for it)
export const FLAG_CHUNKED_BODY = 4;    // the body arrived chunked (CONTENT_LENGTH is what was received)
export const FLAG_UWSGI = 8;           // the request came as a uwsgi packet (REQUEST_URI and PATH_INFO are the packet's)
export const FLAG_TLS = 16;            // the connection is TLS (HTTPS=on; onRequest gets its tsgi.tls)
export const FLAG_PIPELINED = 32;      // more bytes of the same read follow: nextRequest(conn) may have the next request

export const RESP_HAS_DATE = 1;        // the application sent Date itself
export const RESP_CLOSE = 2;           // close the connection after this response
export const RESP_SET_LENGTH = 4;      // contentLength is the body's size measured by the gateway (a file's), not a header of the application's: the core writes Content-Length

export const RESULT_OK = 0;
export const RESULT_SHORT = 1;         // fewer bytes than the declared Content-Length: connection closed
export const RESULT_TRUNCATED = 2;     // more bytes than the declared Content-Length: the excess was dropped
export const RESULT_GONE = -1;         // the connection is already closed

let cached: NativeBinding | undefined;

/**
 * Loads the addon once per thread: build/Release when present (a source checkout), else
 * the prebuild for this platform. TSGI_NATIVE_ADDON names a .node file to load instead
 * (e.g. the sanitizer build, build-asan/Release/tsgi.node).
 */
export function binding(): NativeBinding {
  if (!cached) {
    const override = process.env.TSGI_NATIVE_ADDON;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const exports = (override ? require(path.resolve(override)) : load(path.join(__dirname, '..'))) as NativeBinding;
    // The addon's exports object is in dictionary mode (its properties are defined one by
    // one): every nb.respond on the hot path would be a slow keyed lookup. A plain copy has
    // a fixed shape, so optimized code loads its members inline.
    cached = { ...exports };
  }
  return cached;
}
