// Every error tsgi throws, from one registry with stable codes. A code never changes
// meaning once released; docs/api.md lists every code (a test checks it).

/** The registry: code → one line saying what happened. Add new codes here. */
export const ERROR_CODES = {
  TSGI_ERR_INVALID_OPTION: 'An embedding option is unknown, of the wrong type or out of range.',
  TSGI_ERR_INVALID_BIND: 'A bind string is not HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N.',
  TSGI_ERR_SERVER_STATE: 'A server method was called in a state that does not allow it (listen twice, listen after close).',
  TSGI_ERR_LISTEN: 'A listener could not be opened (address in use, permission denied, bad fd).',
  TSGI_ERR_START_RESPONSE_TWICE: 'startResponse was called a second time without excInfo.',
  TSGI_ERR_START_RESPONSE_MISSING: 'The application produced body bytes (or ended) without calling startResponse.',
  TSGI_ERR_INVALID_STATUS: "The status is not 'NNN Reason' with a final status code, in latin-1 without control characters.",
  TSGI_ERR_INVALID_HEADER: 'A response header is not a [name, value] pair of a token name and a latin-1 value without CR, LF or NUL.',
  TSGI_ERR_HOP_BY_HOP_HEADER: 'The application set a hop-by-hop header (Connection, Transfer-Encoding, Keep-Alive, Upgrade, TE, Trailer, Proxy-*).',
  TSGI_ERR_INVALID_BODY: 'The application returned something that is not an iterable of chunks (for example a bare string or Buffer).',
  TSGI_ERR_INVALID_CHUNK: 'The body yielded (or write() got) something that is neither a string nor a Uint8Array.',
  TSGI_ERR_WRITE_AFTER_END: 'write() was called after the response ended.',
  TSGI_ERR_CLIENT_GONE: 'The client went away before the response was complete.',
  TSGI_ERR_HARAKIRI: 'The request ran longer than harakiri: it was answered 504 (or its connection closed if the response had started).',
  TSGI_ERR_CONFIG: 'A setting from the command line, a TSGI_* environment variable or the config file is unknown, malformed or out of range.',
  TSGI_ERR_APP_LOAD: 'The application named MODULE[:EXPORT] could not be loaded, or the export is not an application function.',
  TSGI_ERR_INVALID_FILE: 'wsgi.file_wrapper got something that is not a path, a file descriptor or a FileHandle.',
  TSGI_ERR_INVALID_RESPONSE: 'A fetch handler run by fromFetch() returned something that is not a Response.',
  TSGI_ERR_INPUT_STREAMED: 'A synchronous read of wsgi.input under toFetch() with input: "stream"; iterate it asynchronously instead.',
  TSGI_ERR_BODY_TOO_LARGE: 'A request body given to toFetch() was larger than its maxBodySize.',
  TSGI_ERR_INVALID_ENVIRON: 'validator: the environ the server passed breaks PEP 3333 (a missing key, a wrong type, a character over 0xFF, a bad SCRIPT_NAME/PATH_INFO, …).',
  TSGI_ERR_SERVER_CONTRACT: 'validator: the server broke its side of the interface (close() twice or never, a pull after close(), a second concurrent next(), startResponse not re-raising excInfo, wsgi.input returning more than CONTENT_LENGTH).',
  TSGI_ERR_CONTENT_LENGTH_MISMATCH: 'validator: the application sent more bytes than its Content-Length (or fewer, for a response that has a body).',
  TSGI_ERR_INPUT_MISUSE: 'validator: the application called wsgi.input or wsgi.errors with arguments of the wrong type, or read past CONTENT_LENGTH when wsgi.input_terminated is not set.',
  TSGI_ERR_INVALID_COOKIE: 'Response.setCookie/deleteCookie: a cookie name that is not a token, an attribute value with a separator or control character, or a combination browsers refuse (SameSite=None or Partitioned without Secure, a __Host- or __Secure- prefix without its rules).',
  TSGI_ERR_FORM_UNSUPPORTED_TYPE: 'Request.form(): the Content-Type is neither application/x-www-form-urlencoded nor multipart/form-data (415).',
  TSGI_ERR_FORM_BOUNDARY_MISSING: 'Request.form(): multipart/form-data without a valid boundary parameter (400).',
  TSGI_ERR_FORM_MALFORMED: 'Request.form(): a multipart part has malformed headers, no Content-Disposition form-data name, or the body does not start with the boundary (400).',
  TSGI_ERR_FORM_TRUNCATED: 'Request.form(): the multipart body ended inside a part or before the closing boundary (400).',
  TSGI_ERR_FORM_TOO_MANY_PARTS: 'Request.form(): more parts (or urlencoded fields) than maxParts (413).',
  TSGI_ERR_FORM_PART_TOO_LARGE: 'Request.form(): a field over maxFieldSize, a file over maxFileSize, or part headers over maxHeaderSize (413).',
  TSGI_ERR_FORM_TOO_LARGE: 'Request.form(): the body is over maxTotalSize (413).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The base of every tsgi error: `code` is stable, `message` says what to do. `name` is the
 * class (`OptionError`, `ListenError`, `ConfigError`, …); the first line of the stack names
 * the code too, as Node's own errors do: `OptionError [TSGI_ERR_INVALID_OPTION]: …`.
 */
export class TsgiError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    const name = new.target.name;
    // V8 formats the stack when it is first read: read it while `name` carries the code.
    Object.defineProperty(this, 'name', { value: `${name} [${code}]`, configurable: true, writable: true, enumerable: false });
    void this.stack;
    Object.defineProperty(this, 'name', { value: name, configurable: true, writable: true, enumerable: false });
  }
}

/** Options, bind strings and server-state misuse by the embedding code. */
export class OptionError extends TsgiError {}

/** A contract violation by the application (PEP 3333): the response becomes a 500. */
export class ApplicationError extends TsgiError {}

export class ListenError extends TsgiError {
  /** The system error code (EADDRINUSE, EACCES, …) when there is one. */
  readonly syscallCode: string | undefined;
  constructor(message: string, syscallCode: string | undefined, cause: unknown) {
    super('TSGI_ERR_LISTEN', message, { cause });
    this.syscallCode = syscallCode;
  }
}

/**
 * A rule of the interface broken at run time, found by `validator(app)`. `side` says who
 * broke it: the server ('server') or the application ('application'); `rule` names the
 * rule (stable, kebab-case, e.g. 'header-name-token').
 */
export class ValidationError extends TsgiError {
  readonly side: 'server' | 'application';
  readonly rule: string;
  constructor(code: ErrorCode, side: 'server' | 'application', rule: string, message: string) {
    super(code, message);
    this.side = side;
    this.rule = rule;
  }
}

/** A request body `Request.form()` cannot accept. `status` is the HTTP status to answer with (400, 413 or 415). */
export class FormError extends TsgiError {
  readonly status: number;
  constructor(code: ErrorCode, status: number, message: string) {
    super(code, message);
    this.status = status;
  }
}
