// wsgi.input: the request body, already fully received by the native core, either in
// memory or in an unlinked temporary file. Reads are synchronous and never wait on the
// network; at the end they return an empty Buffer.
import fs from 'node:fs';
import { kRelease } from './symbols';
import type { InputStream } from './types';

const EMPTY = Buffer.alloc(0);
const LINE_BLOCK = 8192;
const ASYNC_CHUNK = 64 * 1024;
const NL = 10;

export class RequestInput implements InputStream {
  readonly length: number;
  private body: Buffer | null;
  private fd: number;
  private pos = 0;

  /** `body` in memory, or `fd` (owned by this stream: closed by kRelease) holding `length` bytes. */
  constructor(body: Buffer | null, fd: number, length: number) {
    this.body = body;
    this.fd = fd;
    this.length = body !== null ? body.length : fd >= 0 ? length : 0;
  }

  read(size?: number | null): Buffer {
    const left = this.length - this.pos;
    const n = size === undefined || size === null || size < 0 || size > left ? left : Math.floor(size);
    if (n <= 0) return EMPTY;
    return this.take(n);
  }

  readline(limit?: number | null): Buffer {
    const left = this.length - this.pos;
    const max = limit === undefined || limit === null || limit < 0 || limit > left ? left : Math.floor(limit);
    if (max <= 0) return EMPTY;
    if (this.body !== null) {
      const nl = this.body.indexOf(NL, this.pos);
      const n = nl < 0 || nl - this.pos + 1 > max ? max : nl - this.pos + 1;
      return this.take(n);
    }
    if (this.fd < 0) return EMPTY;
    // Scan the file a block at a time from the current position for the end of the line.
    const block = Buffer.allocUnsafe(Math.min(LINE_BLOCK, max));
    let n = 0;
    while (n < max) {
      const want = Math.min(block.length, max - n);
      const got = fs.readSync(this.fd, block, 0, want, this.pos + n);
      if (got <= 0) break;
      const nl = block.subarray(0, got).indexOf(NL);
      if (nl >= 0) { n += nl + 1; break; }
      n += got;
    }
    return n === 0 ? EMPTY : this.take(n);
  }

  readlines(hint?: number | null): Buffer[] {
    const lines: Buffer[] = [];
    let total = 0;
    for (;;) {
      const line = this.readline();
      if (line.length === 0) break;
      lines.push(line);
      total += line.length;
      if (hint !== undefined && hint !== null && hint > 0 && total >= hint) break;
    }
    return lines;
  }

  /** Iterates the remaining body line by line. */
  *[Symbol.iterator](): Iterator<Buffer> {
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /** Iterates the remaining body in chunks of up to 64 KB. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = this.read(ASYNC_CHUNK);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  /** Closes the spooled body file; the stream reads as empty afterwards. */
  [kRelease](): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      this.pos = this.length;
      try { fs.closeSync(fd); } catch { /* already closed: nothing to release */ }
    }
  }

  private take(n: number): Buffer {
    const start = this.pos;
    if (this.body !== null) {
      this.pos = start + n;
      return this.body.subarray(start, start + n);
    }
    if (this.fd < 0) return EMPTY;
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(this.fd, out, got, n - got, start + got);
      if (r <= 0) break;
      got += r;
    }
    this.pos = start + got;
    return got === n ? out : out.subarray(0, got);
  }
}

/** The wsgi.input of every request without a body; reading it changes nothing, so it is shared. */
export const EMPTY_INPUT: InputStream = new RequestInput(null, -1, 0);
