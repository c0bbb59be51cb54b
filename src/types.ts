// The normative interface between a tsgi server and a tsgi application: PEP 3333 in
// TypeScript. Any application written against these types runs on any tsgi server.

/** A piece of the response body. A string is sent as UTF-8. */
export type Chunk = Uint8Array | string;

/** Response headers as (name, value) pairs, in order. Names and values are latin-1 strings. */
export type ResponseHeaders = Array<[name: string, value: string]>;

/** PEP 3333's legacy `write()` callable, returned by `startResponse`. */
export type Write = (chunk: Chunk) => void;

/**
 * PEP 3333's `start_response`. Stores the status ('200 OK') and headers; they are sent with
 * the first non-empty chunk, the first `write()`, or when the body ends. `excInfo`: an error
 * the application caught; before the headers are sent it replaces status and headers, after
 * they are sent it is rethrown.
 */
export type StartResponse = (status: string, headers: ResponseHeaders, excInfo?: unknown) => Write;

/** An optional `close()` the server calls exactly once when it is done with the body. */
export interface Closable {
  close?(): void;
}

/** What an application returns: an iterable (or async iterable) of chunks, which may carry `close()`. */
export type Body = (Iterable<Chunk> | AsyncIterable<Chunk>) & Closable;

/** A tsgi application. */
export type App = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

/** `wsgi.input`: the request body, fully received. Reads never block on the network and return an empty Buffer at the end. */
export interface InputStream extends Iterable<Buffer>, AsyncIterable<Buffer> {
  /** Reads up to `size` bytes (all that is left when omitted or negative). */
  read(size?: number | null): Buffer;
  /** Reads one line including its '\n', at most `limit` bytes. */
  readline(limit?: number | null): Buffer;
  /** Reads lines until about `hint` bytes were read (all when omitted). */
  readlines(hint?: number | null): Buffer[];
  /** Bytes of the body (CONTENT_LENGTH as a number). */
  readonly length: number;
}

/** `wsgi.errors`: a text stream for error output. */
export interface ErrorStream {
  write(text: string | Uint8Array): void;
  writelines(lines: Iterable<string | Uint8Array>): void;
  flush(): void;
}

/** What `wsgi.file_wrapper` accepts: a path, a file descriptor, or an open `fs.promises` FileHandle. */
export type FileLike = string | number | { readonly fd: number; close(): Promise<void> };

/** A byte range of a file: from `offset` (default 0), `length` bytes at most (default: to the end). */
export interface FileRange {
  offset?: number;
  length?: number;
}

/**
 * `wsgi.file_wrapper`: wraps a file so the server can send it without copying it through
 * JavaScript; `range` (a tsgi extension) sends only part of it.
 */
export type FileWrapperFactory = (file: FileLike, blockSize?: number, range?: FileRange) => Body;

/** `environ['tsgi.tls']`: what the TLS handshake of the connection settled. */
export interface TlsInfo {
  /** 'TLSv1.3' or 'TLSv1.2'. */
  readonly protocol: string;
  /** The cipher suite, OpenSSL's name ('TLS_AES_256_GCM_SHA384'). */
  readonly cipher: string;
  /** The verified client certificate's subject (RFC 2253, 'CN=alice,O=Example'), or '' without one. */
  readonly peerSubject: string;
}

/**
 * The request environment: a plain object keyed exactly as PEP 3333. Every string is a
 * "native string": one character per byte (latin-1), so bytes round-trip exactly.
 */
export interface Environ {
  REQUEST_METHOD: string;
  /** The mount prefix of the application ('' at the root). */
  SCRIPT_NAME: string;
  /** The percent-decoded path after SCRIPT_NAME (bytes as latin-1 characters). */
  PATH_INFO: string;
  QUERY_STRING: string;
  CONTENT_TYPE: string;
  /** The body size in decimal; for a chunked request, the bytes received. '' without a body. */
  CONTENT_LENGTH: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  /** 'HTTP/1.0' or 'HTTP/1.1'. */
  SERVER_PROTOCOL: string;
  REMOTE_ADDR: string;
  REMOTE_PORT: string;
  /** The raw request target, as received. */
  REQUEST_URI: string;
  'wsgi.version': readonly [1, 0];
  'wsgi.url_scheme': string;
  'wsgi.input': InputStream;
  'wsgi.errors': ErrorStream;
  'wsgi.multithread': boolean;
  'wsgi.multiprocess': boolean;
  'wsgi.run_once': boolean;
  'wsgi.file_wrapper': FileWrapperFactory;
  /** Always true: `wsgi.input` ends at the end of the body. */
  'wsgi.input_terminated': boolean;
  /** The native connection id the request arrived on. */
  'tsgi.connection': number;
  /** Index of the listener that accepted the connection, in listen order. */
  'tsgi.listener': number;
  /**
   * The trailer fields of a chunked request body, as [lower-cased name, value] pairs in
   * arrival order (repeats kept); empty for any other body. Complete when the
   * application is called (the body is received whole first). Never merged into the
   * HTTP_* keys.
   */
  'tsgi.trailers': ReadonlyArray<readonly [string, string]>;
  /** 'on' on an HTTPS listener (absent otherwise). */
  HTTPS?: string;
  /** On an HTTPS listener: the connection's TLS (frozen, the same object for each request of the connection). */
  'tsgi.tls'?: TlsInfo;
  /**
   * On a listener with the PROXY protocol: what the proxy's header said, as strings
   * (version, command, family, source/destination address and port, and when the proxy
   * sent them alpn, authority, uniqueId, ssl, sslVersion, sslCipher, sslCn, sslSigAlg,
   * sslKeyAlg, sslVerify, sslClient). Absent on other listeners.
   */
  'tsgi.proxy'?: Readonly<Record<string, string>>;
  /** HTTP_* request headers (repeated headers joined with ',', Cookie with '; ') and any middleware keys. */
  [key: string]: unknown;
}

/** Hooks for access logs, stats and deadlines. Absent hooks cost nothing. */
export interface ServerHooks {
  /** Called before the application, with the environ it will receive. */
  requestStart?(environ: Environ): void;
  /** Called once the response ended (sent, failed or abandoned). */
  requestEnd?(environ: Environ, status: number, bytesSent: number, durationMs: number, error?: unknown): void;
}

/** Where a server listens, shaped as net.Server's address(). */
export interface ServerAddress {
  /** '127.0.0.1', '::1', … or the socket path for a Unix socket. */
  address: string;
  family: 'IPv4' | 'IPv6' | 'unix';
  /** 0 for a Unix socket. */
  port: number;
}
