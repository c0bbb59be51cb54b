// validator: wsgi.input and wsgi.errors as the application sees them, checked on both
// sides: the application's arguments, and what the server's stream returns.
import { describeValue } from '../http-syntax';
import type { ErrorStream, InputStream } from '../types';
import type { Report } from './validator-report';

function sizeArgument(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'number' && !Number.isNaN(v));
}

/** wsgi.input with its arguments and results checked. */
export class CheckedInput implements InputStream {
  private pos = 0;
  /** CONTENT_LENGTH as a number, or -1 when the environ has none. */
  private readonly declared: number;

  constructor(private readonly inner: InputStream, contentLength: string, private readonly terminated: boolean, private readonly report: Report) {
    this.declared = /^\d+$/.test(contentLength) ? Number(contentLength) : -1;
  }

  get length(): number {
    return this.inner.length;
  }

  read(size?: number | null): Buffer {
    this.checkArgument('read', size);
    this.checkBounds('read', size);
    return this.took('read', this.inner.read(size));
  }

  readline(limit?: number | null): Buffer {
    this.checkArgument('readline', limit);
    this.checkBounds('readline', limit);
    return this.took('readline', this.inner.readline(limit));
  }

  readlines(hint?: number | null): Buffer[] {
    this.checkArgument('readlines', hint);
    this.checkBounds('readlines', undefined);
    const lines = this.inner.readlines(hint);
    if (!Array.isArray(lines)) {
      this.report('TSGI_ERR_SERVER_CONTRACT', 'server', 'input-returns-bytes', `wsgi.input.readlines() returned ${describeValue(lines)}, not an array of Buffers`);
      return lines;
    }
    for (const line of lines) this.took('readlines', line);
    return lines;
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    this.checkBounds('iteration', undefined);
    for (const line of this.inner) yield this.took('iteration', line);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    this.checkBounds('async iteration', undefined);
    for await (const chunk of this.inner) yield this.took('async iteration', chunk);
  }

  private checkArgument(method: string, v: unknown): void {
    if (!sizeArgument(v)) {
      this.report('TSGI_ERR_INPUT_MISUSE', 'application', 'input-argument-number',
        `wsgi.input.${method}() takes a number or nothing, got ${describeValue(v)} (PEP 3333: read(size), readline(size), readlines(hint))`);
    }
  }

  /** Without wsgi.input_terminated the application must not ask for bytes past CONTENT_LENGTH. */
  private checkBounds(method: string, size: unknown): void {
    if (this.terminated || this.declared < 0) return;
    const left = this.declared - this.pos;
    const unbounded = size === undefined || size === null || (typeof size === 'number' && size < 0);
    const past = left <= 0 ? !(typeof size === 'number' && size === 0) : !unbounded && (size as number) > left;
    if (past) {
      this.report('TSGI_ERR_INPUT_MISUSE', 'application', 'input-past-content-length',
        `wsgi.input.${method}() asked for bytes past CONTENT_LENGTH (${this.declared}, ${Math.max(left, 0)} left) while wsgi.input_terminated is not set (PEP 3333: "an application should not attempt to read more data than is specified by the CONTENT_LENGTH variable")`);
    }
  }

  private took(method: string, chunk: Buffer): Buffer {
    if (!(chunk instanceof Uint8Array)) {
      this.report('TSGI_ERR_SERVER_CONTRACT', 'server', 'input-returns-bytes', `wsgi.input ${method} returned ${describeValue(chunk)}, not a Buffer`);
      return chunk;
    }
    this.pos += chunk.length;
    if (this.declared >= 0 && this.pos > this.declared) {
      this.report('TSGI_ERR_SERVER_CONTRACT', 'server', 'input-within-content-length',
        `wsgi.input returned ${this.pos} bytes, more than CONTENT_LENGTH (${this.declared}) (PEP 3333: the server should simulate an end-of-file past Content-Length)`);
    }
    return chunk;
  }
}

/** wsgi.errors with its arguments checked. */
export class CheckedErrors implements ErrorStream {
  constructor(private readonly inner: ErrorStream, private readonly report: Report) {}

  write(text: string | Uint8Array): void {
    if (typeof text !== 'string' && !(text instanceof Uint8Array)) {
      this.report('TSGI_ERR_INPUT_MISUSE', 'application', 'errors-write-argument', `wsgi.errors.write() takes a string or a Uint8Array, got ${describeValue(text)}`);
    }
    this.inner.write(text);
  }

  writelines(lines: Iterable<string | Uint8Array>): void {
    if (lines === null || typeof lines !== 'object' || typeof (lines as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      this.report('TSGI_ERR_INPUT_MISUSE', 'application', 'errors-write-argument', `wsgi.errors.writelines() takes an iterable of strings, got ${describeValue(lines)}`);
      this.inner.writelines(lines);
      return;
    }
    const list = [...lines];
    for (const l of list) {
      if (typeof l !== 'string' && !(l instanceof Uint8Array)) {
        this.report('TSGI_ERR_INPUT_MISUSE', 'application', 'errors-write-argument', `wsgi.errors.writelines() got an item that is ${describeValue(l)}, not a string`);
      }
    }
    this.inner.writelines(list);
  }

  flush(): void {
    this.inner.flush();
  }
}
