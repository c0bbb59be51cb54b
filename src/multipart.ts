// A streaming multipart/form-data parser (RFC 7578 over RFC 2046 §5.1). It is fed the body
// in pieces and calls its sink as parts begin, carry data and end; it never holds more
// than one piece plus a delimiter's length of a part's data. Limits on part headers are
// enforced here; the sink enforces the others.
import { FormError } from './errors';

export interface PartHeaders {
  /** The form field name (Content-Disposition name). */
  name: string;
  /** The file name for a file part (filename* decoded), else undefined. */
  filename: string | undefined;
  /** The part's Content-Type ('text/plain' when absent). */
  contentType: string;
  /** Every header of the part, names lower-cased, values as UTF-8. */
  headers: Map<string, string>;
}

export interface MultipartSink {
  partStart(part: PartHeaders): void;
  partData(data: Buffer): void;
  partEnd(): void;
}

const enum State { Preamble, AfterBoundary, Headers, Body, Done }

const CRLF = Buffer.from('\r\n');

/** The boundary parameter of a multipart Content-Type, or undefined when there is none or it is invalid (RFC 2046 §5.1.1). */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2]) : undefined;
  if (b === undefined || b.length === 0 || b.length > 70 || !/^[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]$/.test(b)) return undefined;
  return b;
}

/** A parameter of a header value (`name="x"`), unquoted; undefined when absent. */
function param(value: string, key: string): string | undefined {
  const re = new RegExp(`;\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const m = re.exec(value);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2].trim();
}

/** RFC 5987 ext-value: UTF-8''percent-encoded. */
function extValue(v: string): string | undefined {
  const m = /^([\w!#$%&+^`{}~-]+)'[^']*'(.*)$/.exec(v);
  if (!m) return undefined;
  try { return m[1].toLowerCase() === 'utf-8' ? decodeURIComponent(m[2]) : unescape(m[2]); } catch { return undefined; }
}

export class MultipartParser {
  private state = State.Preamble;
  private buf: Buffer = Buffer.alloc(0);
  /** '\r\n--boundary': every delimiter, the first one included (the body is read as if it began with CRLF). */
  private readonly delimiter: Buffer;
  private started = false;

  constructor(boundary: string, private readonly sink: MultipartSink, private readonly maxHeaderSize: number) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** Feeds the next piece of the body. */
  write(chunk: Buffer): void {
    if (!this.started) {
      this.started = true;
      chunk = Buffer.concat([CRLF, chunk]);
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.run();
  }

  /** The body ended: anything but a closing delimiter is a truncated body. */
  end(): void {
    if (this.state === State.Done) return;
    if (this.state === State.Preamble) throw new FormError('TSGI_ERR_FORM_MALFORMED', 400, 'multipart/form-data: the body does not contain the boundary from the Content-Type');
    throw new FormError('TSGI_ERR_FORM_TRUNCATED', 400, `multipart/form-data: the body ended ${this.state === State.Body ? 'inside a part' : this.state === State.Headers ? "inside a part's headers" : 'before the closing boundary'}`);
  }

  private run(): void {
    for (;;) {
      switch (this.state) {
        case State.Preamble: {
          const at = this.buf.indexOf(this.delimiter);
          if (at < 0) {
            // Keep what could be the start of the delimiter.
            this.buf = this.buf.subarray(Math.max(0, this.buf.length - this.delimiter.length + 1));
            return;
          }
          this.buf = this.buf.subarray(at + this.delimiter.length);
          this.state = State.AfterBoundary;
          break;
        }
        case State.AfterBoundary: {
          if (this.buf.length < 2) return;
          if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
            this.state = State.Done;
            this.buf = Buffer.alloc(0);
            return;
          }
          const nl = this.buf.indexOf(CRLF);
          if (nl < 0) {
            if (this.buf.length > 256) throw new FormError('TSGI_ERR_FORM_MALFORMED', 400, 'multipart/form-data: a boundary line does not end with CRLF');
            return;
          }
          // Transport padding (spaces, tabs) may follow the boundary.
          if (!/^[ \t]*$/.test(this.buf.subarray(0, nl).toString('latin1'))) throw new FormError('TSGI_ERR_FORM_MALFORMED', 400, 'multipart/form-data: unexpected bytes after a boundary');
          this.buf = this.buf.subarray(nl + 2);
          this.state = State.Headers;
          break;
        }
        case State.Headers: {
          let end: number;
          let skip: number;
          if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) { end = 0; skip = 2; }
          else { end = this.buf.indexOf('\r\n\r\n'); skip = 4; }
          if (end < 0) {
            if (this.buf.length > this.maxHeaderSize) throw new FormError('TSGI_ERR_FORM_PART_TOO_LARGE', 413, `multipart/form-data: a part's headers are over maxHeaderSize (${this.maxHeaderSize} bytes)`);
            return;
          }
          if (end > this.maxHeaderSize) throw new FormError('TSGI_ERR_FORM_PART_TOO_LARGE', 413, `multipart/form-data: a part's headers are over maxHeaderSize (${this.maxHeaderSize} bytes)`);
          const part = this.parseHeaders(this.buf.subarray(0, end).toString('utf8'));
          this.buf = this.buf.subarray(end + skip);
          this.state = State.Body;
          this.sink.partStart(part);
          break;
        }
        case State.Body: {
          const at = this.buf.indexOf(this.delimiter);
          if (at < 0) {
            const keep = this.delimiter.length - 1;
            if (this.buf.length > keep) {
              this.sink.partData(this.buf.subarray(0, this.buf.length - keep));
              this.buf = this.buf.subarray(this.buf.length - keep);
            }
            return;
          }
          if (at > 0) this.sink.partData(this.buf.subarray(0, at));
          this.sink.partEnd();
          this.buf = this.buf.subarray(at + this.delimiter.length);
          this.state = State.AfterBoundary;
          break;
        }
        case State.Done:
          return;
      }
    }
  }

  private parseHeaders(text: string): PartHeaders {
    const headers = new Map<string, string>();
    for (const line of text === '' ? [] : text.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new FormError('TSGI_ERR_FORM_MALFORMED', 400, `multipart/form-data: a part header is not 'Name: value': ${JSON.stringify(line.slice(0, 60))}`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const disposition = headers.get('content-disposition');
    if (disposition === undefined || !/^form-data\b/i.test(disposition)) {
      throw new FormError('TSGI_ERR_FORM_MALFORMED', 400, 'multipart/form-data: a part has no Content-Disposition: form-data header');
    }
    const name = param(disposition, 'name');
    if (name === undefined) throw new FormError('TSGI_ERR_FORM_MALFORMED', 400, 'multipart/form-data: a part has no name in its Content-Disposition');
    const star = param(disposition, 'filename\\*');
    let filename = star !== undefined ? extValue(star) : undefined;
    filename ??= param(disposition, 'filename');
    return { name, filename, contentType: headers.get('content-type') ?? 'text/plain', headers };
  }
}
