// A small Werkzeug-like view of an environ for people who want UTF-8: the path, query and
// headers decoded as UTF-8, and the body as text or JSON. The environ itself stays
// faithful (latin-1 native strings); this only reads it.
import { parseCookies } from './cookies';
import { readForm, type Form, type FormOptions } from './form';
import type { Environ, InputStream } from './types';

/** Decodes a native (latin-1, one char per byte) string as UTF-8. */
export function decodeNative(s: string): string {
  // Pure ASCII needs no decoding.
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}

/** Encodes a string as UTF-8 bytes carried in a native string (for environ values built by middleware). */
export function encodeNative(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/**
 * The request headers, Headers-like: names are case-insensitive, values UTF-8. Built from
 * the HTTP_* keys plus CONTENT_TYPE and CONTENT_LENGTH (when not empty).
 */
export class RequestHeaders implements Iterable<[string, string]> {
  private readonly map: Map<string, string>;

  constructor(environ: Environ) {
    const h = new Map<string, string>();
    const env = environ as Record<string, unknown>;
    for (const key of Object.keys(env)) {
      const v = env[key];
      if (typeof v !== 'string') continue;
      let name: string | undefined;
      if (key.startsWith('HTTP_')) name = key.slice(5);
      else if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') name = v === '' ? undefined : key;
      if (name !== undefined) h.set(name.toLowerCase().replace(/_/g, '-'), decodeNative(v));
    }
    this.map = h;
  }

  /** The value (repeated headers joined with ',', Cookie with '; '), or undefined. Named `get` as in Headers; `null` is not used. */
  get(name: string): string | undefined { return this.map.get(name.toLowerCase()); }
  has(name: string): boolean { return this.map.has(name.toLowerCase()); }
  get size(): number { return this.map.size; }
  /** [lower-case name, value] pairs. */
  entries(): IterableIterator<[string, string]> { return this.map.entries(); }
  keys(): IterableIterator<string> { return this.map.keys(); }
  values(): IterableIterator<string> { return this.map.values(); }
  forEach(fn: (value: string, name: string) => void): void { this.map.forEach((v, k) => fn(v, k)); }
  [Symbol.iterator](): IterableIterator<[string, string]> { return this.map.entries(); }
}

export class Request {
  readonly environ: Environ;
  private cachedBody: Buffer | undefined;
  private cachedHeaders: RequestHeaders | undefined;
  private cachedCookies: Map<string, string> | undefined;
  private cachedForm: Promise<Form> | undefined;

  constructor(environ: Environ) {
    this.environ = environ;
  }

  get method(): string {
    return this.environ.REQUEST_METHOD;
  }

  /** PATH_INFO decoded as UTF-8 ('/' when empty). */
  get path(): string {
    return decodeNative(this.environ.PATH_INFO) || '/';
  }

  /** SCRIPT_NAME decoded as UTF-8. */
  get scriptRoot(): string {
    return decodeNative(this.environ.SCRIPT_NAME);
  }

  /** SCRIPT_NAME + PATH_INFO decoded as UTF-8. */
  get fullPath(): string {
    return decodeNative(this.environ.SCRIPT_NAME + this.environ.PATH_INFO) || '/';
  }

  /** The query string's parameters, percent-decoded as UTF-8. */
  get query(): URLSearchParams {
    return new URLSearchParams(this.environ.QUERY_STRING);
  }

  /** The request headers: case-insensitive get/has/entries, values decoded as UTF-8. */
  get headers(): RequestHeaders {
    return (this.cachedHeaders ??= new RequestHeaders(this.environ));
  }

  /** One header (case-insensitive), or undefined. */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase());
  }

  get contentType(): string {
    return this.environ.CONTENT_TYPE;
  }

  get contentLength(): number {
    const n = Number(this.environ.CONTENT_LENGTH);
    return Number.isFinite(n) ? n : 0;
  }

  /** scheme://host/script/path?query, from Host (or SERVER_NAME/PORT). */
  get url(): string {
    const env = this.environ;
    const scheme = env['wsgi.url_scheme'];
    let host = env.HTTP_HOST as string | undefined;
    if (!host) {
      host = env.SERVER_NAME;
      if (env.SERVER_PORT && env.SERVER_PORT !== (scheme === 'https' ? '443' : '80')) host += ':' + env.SERVER_PORT;
    }
    const qs = env.QUERY_STRING ? '?' + env.QUERY_STRING : '';
    return `${scheme}://${decodeNative(host)}${encodeURI(this.fullPath)}${qs}`;
  }

  get remoteAddr(): string {
    return this.environ.REMOTE_ADDR;
  }

  /** The whole body (read once from wsgi.input and kept). */
  body(): Buffer {
    if (this.cachedBody === undefined) this.cachedBody = (this.environ['wsgi.input'] as InputStream).read();
    return this.cachedBody;
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return this.body().toString('utf8');
  }

  /** The body parsed as JSON (throws SyntaxError if it is not). */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /**
   * The form body: application/x-www-form-urlencoded or multipart/form-data, read from
   * wsgi.input once (later calls return the same Form). Rejects with a FormError (its
   * `status` is 400, 413 or 415) for a body it cannot accept. Options are read on the first
   * call; defaults in FORM_DEFAULTS.
   */
  form(options: FormOptions = {}): Promise<Form> {
    return (this.cachedForm ??= readForm(this.environ, options, this.cachedBody));
  }

  /** Cookies from the Cookie header (lenient: malformed pairs are skipped; the first of a repeated name wins). */
  get cookies(): ReadonlyMap<string, string> {
    if (this.cachedCookies === undefined) {
      const raw = this.header('cookie');
      this.cachedCookies = raw ? parseCookies(raw) : new Map();
    }
    return this.cachedCookies;
  }
}
