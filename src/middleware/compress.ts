// compress(options)(app): gzip or brotli response bodies by Accept-Encoding, streaming —
// every chunk the application yields is compressed and flushed on its own, so nothing is
// held back. Skipped: HEAD, 1xx/204/206/304, bodies already encoded, no-transform,
// types that do not compress, and bodies known to be under the threshold.
import { ApplicationError } from '../errors';
import type { App, Body, Chunk, Environ, ResponseHeaders, StartResponse, Write } from '../types';
import { BodyCloser, BodyReader, joinChunks, toBuffer } from './body';
import { Compressor, compressWhole, type Coding, type CompressorSettings } from './compressor';
import { addVary, getHeader, requestHeader, statusCode, withoutHeader, type Middleware } from './headers';
import { chooseEncoding } from './negotiate';
import { startResponseTwice } from '../start-response';

export interface CompressOptions {
  /** Bodies with a known size under this many bytes are sent as they are. Default 1024. */
  threshold?: number;
  /** Codings offered, in the server's order of preference for equal q-values. Default ['br', 'gzip']. */
  encodings?: Coding[];
  /** zlib level for gzip, 0–9. Default 6. */
  gzipLevel?: number;
  /** Brotli quality, 0–11. Default 4 (fast enough to stream). */
  brotliQuality?: number;
  /** Whether a Content-Type is worth compressing. Default: `isCompressible`. */
  compressible?: (contentType: string) => boolean;
}

const COMPRESSIBLE = /^(?:text\/(?!event-stream)|application\/(?:json|javascript|x-javascript|ecmascript|xml|xhtml\+xml|rss\+xml|atom\+xml|wasm|graphql|x-www-form-urlencoded|x-ndjson|ndjson)|image\/(?:svg\+xml|x-icon|vnd\.microsoft\.icon|bmp)|font\/(?:ttf|otf)|application\/vnd\.ms-fontobject)/;

/** The default compressible-type test: text (not event streams), JSON, JS, XML, SVG, *+json, *+xml, uncompressed fonts. */
export function isCompressible(contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return COMPRESSIBLE.test(type) || /\+(?:json|xml)$/.test(type);
}

/** Array bodies up to this size are compressed in one synchronous call (and keep a Content-Length). */
const WHOLE_MAX = 1024 * 1024;

const KNOWN_OPTIONS = new Set(['threshold', 'encodings', 'gzipLevel', 'brotliQuality', 'compressible']);

export function compress(options: CompressOptions = {}): Middleware {
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(k)) throw new TypeError(`compress(): unknown option ${JSON.stringify(k)}; known: ${[...KNOWN_OPTIONS].join(', ')}`);
  }
  const threshold = options.threshold ?? 1024;
  if (!(Number.isInteger(threshold) && threshold >= 0)) throw new TypeError(`compress(): threshold must be a whole number of bytes >= 0, got ${String(threshold)}`);
  const encodings = options.encodings ?? ['br', 'gzip'];
  if (!Array.isArray(encodings) || encodings.some((e) => e !== 'br' && e !== 'gzip')) throw new TypeError(`compress(): encodings must be a list of 'br' and 'gzip', got ${JSON.stringify(encodings)}`);
  const settings: CompressorSettings = { gzipLevel: options.gzipLevel ?? 6, brotliQuality: options.brotliQuality ?? 4 };
  if (!(Number.isInteger(settings.gzipLevel) && settings.gzipLevel >= 0 && settings.gzipLevel <= 9)) throw new TypeError(`compress(): gzipLevel must be 0–9, got ${String(settings.gzipLevel)}`);
  if (!(Number.isInteger(settings.brotliQuality) && settings.brotliQuality >= 0 && settings.brotliQuality <= 11)) throw new TypeError(`compress(): brotliQuality must be 0–11, got ${String(settings.brotliQuality)}`);
  const compressible = options.compressible ?? isCompressible;
  const cfg: Config = { threshold, settings, compressible };

  return (app: App): App => (environ: Environ, startResponse: StartResponse) => {
    const coding = environ.REQUEST_METHOD === 'HEAD' ? null : chooseEncoding(requestHeader(environ, 'accept-encoding'), encodings) as Coding | null;
    const ex = new CompressExchange(cfg, coding, startResponse);
    const result = app(environ, ex.startResponse);
    if (result !== null && typeof result === 'object' && typeof (result as Promise<Body>).then === 'function' && !Array.isArray(result)) {
      return (result as Promise<Body>).then((b) => ex.body(b));
    }
    return ex.body(result as Body);
  };
}

interface Config {
  threshold: number;
  settings: CompressorSettings;
  compressible: (contentType: string) => boolean;
}

const enum Mode { Undecided, Pass, Compress }

/** One response through compress(): decides from the head, then passes or recodes the body. */
class CompressExchange {
  readonly startResponse: StartResponse;
  private mode = Mode.Undecided;
  private started = false;
  private realCalled = false;
  private status = '';
  private headers: ResponseHeaders = [];
  private vary = false;
  /** Chunks given to the legacy write() while compressing, sent before the body's. */
  private readonly queue: Buffer[] = [];
  private readonly queueWrite: Write = (chunk: Chunk) => { this.queue.push(toBuffer(chunk)); };

  constructor(private readonly cfg: Config, private readonly coding: Coding | null, private readonly real: StartResponse) {
    this.startResponse = (status, headers, excInfo) => this.onStart(status, headers, excInfo);
  }

  private onStart(status: string, headers: ResponseHeaders, excInfo?: unknown): Write {
    if (excInfo === undefined || excInfo === null) {
      if (this.started) {
        throw startResponseTwice();
      }
    }
    this.started = true;
    if (this.realCalled) {
      // A replacement after the real head was prepared: the body's coding is already chosen.
      return this.real(status, this.mode === Mode.Compress ? this.recoded(headers, -1) : this.passed(headers), excInfo);
    }
    this.status = status;
    this.headers = headers;
    this.mode = this.decide(status, headers);
    if (this.mode === Mode.Pass) {
      this.realCalled = true;
      return this.real(status, this.passed(headers), excInfo);
    }
    return this.queueWrite;
  }

  private decide(status: string, headers: ResponseHeaders): Mode {
    this.vary = false;
    // A malformed head is passed on as it is: the server's startResponse reports it.
    if (!Array.isArray(headers) || typeof status !== 'string' ||
        !headers.every((h) => Array.isArray(h) && typeof h[0] === 'string' && typeof h[1] === 'string')) return Mode.Pass;
    const type = getHeader(headers, 'content-type');
    const encoding = getHeader(headers, 'content-encoding');
    if (type === undefined || !this.cfg.compressible(type)) return Mode.Pass;
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return Mode.Pass;
    const cc = getHeader(headers, 'cache-control');
    if (cc !== undefined && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cc)) return Mode.Pass;
    this.vary = true;
    const code = statusCode(status);
    if (code < 200 || code === 204 || code === 206 || code === 304 || getHeader(headers, 'content-range') !== undefined) return Mode.Pass;
    if (this.coding === null) return Mode.Pass;
    const cl = getHeader(headers, 'content-length');
    if (cl !== undefined && /^\d+$/.test(cl.trim()) && Number(cl) < this.cfg.threshold) return Mode.Pass;
    return Mode.Compress;
  }

  private passed(headers: ResponseHeaders): ResponseHeaders {
    return this.vary && Array.isArray(headers) ? addVary(headers, 'Accept-Encoding') : headers;
  }

  private recoded(headers: ResponseHeaders, length: number): ResponseHeaders {
    let h = withoutHeader(withoutHeader(withoutHeader(headers, 'content-length'), 'content-encoding'), 'accept-ranges');
    h = h.map(([k, v]): [string, string] => (k.toLowerCase() === 'etag' && v.startsWith('"') ? [k, 'W/' + v] : [k, v]));
    h.push(['Content-Encoding', this.coding!]);
    if (length >= 0) h.push(['Content-Length', String(length)]);
    return addVary(h, 'Accept-Encoding');
  }

  private callReal(length: number): void {
    this.realCalled = true;
    this.real(this.status, this.recoded(this.headers, length));
  }

  /** What goes back to the server for the application's body. */
  body(body: Body): Body {
    if (this.mode === Mode.Pass) return body;
    if (this.mode === Mode.Compress && Array.isArray(body)) {
      // Already whole in memory: compress it in one call and keep the array fast path.
      let bufs: Buffer[];
      try { bufs = [...this.queue, ...(body as Chunk[]).map(toBuffer)]; } catch { return this.stream(body); }
      const total = bufs.reduce((n, b) => n + b.length, 0);
      if (total < this.cfg.threshold) {
        this.mode = Mode.Pass;
        this.realCalled = true;
        const write = this.real(this.status, this.passed(this.headers));
        for (const q of this.queue.splice(0)) write(q);
        return body;
      }
      // A large one is compressed on the zlib thread instead, so the event loop is not held.
      if (total > WHOLE_MAX) return this.stream(body);
      const out = compressWhole(this.coding!, bufs.length === 1 ? bufs[0] : Buffer.concat(bufs, total), this.cfg.settings);
      this.queue.length = 0;
      this.callReal(out.length);
      // The original's close() still runs once, when the server is done.
      if (typeof (body as { close?: unknown }).close !== 'function') return [out];
      const closer = new BodyCloser(body);
      return Object.assign([out], { close: () => closer.close() });
    }
    return this.stream(body);
  }

  /** The body recoded as it comes (or passed through, if the head is only known once it starts). */
  private stream(body: Body): Body {
    const closer = new BodyCloser(body);
    let comp: Compressor | null = null;
    const self = this;
    async function* run(): AsyncGenerator<Buffer, void, undefined> {
      const reader = new BodyReader(body, closer);
      try {
        for (;;) {
          // What a sync body produces at once comes as one batch; an async body's chunks one by one.
          const batch = await reader.next();
          if (self.mode === Mode.Undecided) {
            if (batch === null) return;   // ended without startResponse: the server reports it
            if (batch.length === 0) continue;
            throw new ApplicationError('TSGI_ERR_START_RESPONSE_MISSING',
              'the application produced its body without calling startResponse(status, headers) first');
          }
          if (self.mode === Mode.Pass) {
            if (batch === null) return;
            if (batch.length > 0) yield joinChunks(batch);
            continue;
          }
          if (!self.realCalled) self.callReal(-1);
          comp ??= new Compressor(self.coding!, self.cfg.settings);
          const input = self.queue.splice(0);
          if (batch !== null) for (const c of batch) input.push(toBuffer(c));
          if (input.length > 0) {
            const out = await comp.push(input);
            if (out.length > 0) yield out;
          }
          if (batch === null) {
            const last = await comp.end();
            if (last.length > 0) yield last;
            return;
          }
        }
      } finally {
        comp?.destroy();
      }
    }
    const gen = run();
    return {
      [Symbol.asyncIterator]: () => gen,
      close(): void {
        closer.close();
        comp?.destroy();
      },
    };
  }
}
