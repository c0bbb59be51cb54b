// wsgi.file_wrapper: wraps a file so the gateway can send it with the native sendFile
// (zero-copy) instead of reading it through JavaScript. The wrapper is also an ordinary
// body (sync and async iterable of blocks), which is what runs under middleware that
// replaces it, or when sendfile is not possible.
import fs from 'node:fs';
import { ApplicationError } from './errors';
import { kBlockSize, kFile, kRange } from './symbols';
import type { FileLike, FileRange } from './types';

const DEFAULT_BLOCK = 64 * 1024;

type Handle = { readonly fd: number; close(): Promise<void> };

function isHandle(f: unknown): f is Handle {
  return typeof f === 'object' && f !== null && typeof (f as Handle).fd === 'number' && typeof (f as Handle).close === 'function';
}

/**
 * A file to send, from its start or over a byte range. It owns what it is given: a path is
 * opened and closed by it, an fd is closed by `close()`, a FileHandle has its `close()` called.
 */
export class FileWrapper implements Iterable<Buffer>, AsyncIterable<Buffer> {
  readonly [kFile]: FileLike;
  readonly [kBlockSize]: number;
  /** Where sending starts and how many bytes at most (-1: to the end of the file). */
  readonly [kRange]: { readonly offset: number; readonly length: number };
  private fdOpened = -1;
  private closed = false;

  constructor(file: FileLike, blockSize?: number, range?: FileRange) {
    if (!(typeof file === 'string' || (typeof file === 'number' && Number.isInteger(file) && file >= 0) || isHandle(file))) {
      throw new ApplicationError('TSGI_ERR_INVALID_FILE', 'wsgi.file_wrapper takes a path, a file descriptor or an fs.promises FileHandle');
    }
    if (blockSize !== undefined && !(Number.isInteger(blockSize) && blockSize > 0)) {
      throw new ApplicationError('TSGI_ERR_INVALID_FILE', `wsgi.file_wrapper blockSize must be a positive whole number, got ${String(blockSize)}`);
    }
    this[kFile] = file;
    this[kBlockSize] = blockSize ?? DEFAULT_BLOCK;
    this[kRange] = checkRange(range);
  }

  /** The file descriptor to read (opening a path on first use). */
  fd(): number {
    const file = this[kFile];
    if (typeof file === 'number') return file;
    if (isHandle(file)) return file.fd;
    if (this.fdOpened < 0) this.fdOpened = fs.openSync(file, 'r');
    return this.fdOpened;
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    const fd = this.fd();
    const { offset, length } = this[kRange];
    let pos = seekable(fd) ? offset : -1;
    let skip = pos < 0 ? offset : 0;
    let left = length < 0 ? Infinity : length;
    while (left > 0) {
      const block = Buffer.allocUnsafe(this[kBlockSize]);
      const want = Math.min(block.length, skip > 0 ? skip : left);
      const n = fs.readSync(fd, block, 0, want, pos < 0 ? null : pos);
      if (n <= 0) return;
      if (pos >= 0) pos += n;
      if (skip > 0) { skip -= n; continue; }
      left -= n;
      yield n === block.length ? block : block.subarray(0, n);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const fd = this.fd();
    const { offset, length } = this[kRange];
    let pos = seekable(fd) ? offset : -1;
    let skip = pos < 0 ? offset : 0;
    let left = length < 0 ? Infinity : length;
    while (left > 0) {
      const block = Buffer.allocUnsafe(this[kBlockSize]);
      const want = Math.min(block.length, skip > 0 ? skip : left);
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, block, 0, want, pos < 0 ? null : pos, (err, got) => (err ? reject(err) : resolve(got))));
      if (n <= 0) return;
      if (pos >= 0) pos += n;
      if (skip > 0) { skip -= n; continue; }
      left -= n;
      yield n === block.length ? block : block.subarray(0, n);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const file = this[kFile];
    if (isHandle(file)) {
      file.close().catch(() => { /* closing twice or a failed close leaves nothing to release */ });
      return;
    }
    const fd = typeof file === 'number' ? file : this.fdOpened;
    if (fd >= 0) {
      try { fs.closeSync(fd); } catch { /* already closed */ }
    }
  }
}

function checkRange(range: FileRange | undefined): { offset: number; length: number } {
  if (range === undefined || range === null) return { offset: 0, length: -1 };
  const offset = range.offset ?? 0;
  const length = range.length ?? -1;
  if (!(Number.isSafeInteger(offset) && offset >= 0) || !(Number.isSafeInteger(length) && length >= -1)) {
    throw new ApplicationError('TSGI_ERR_INVALID_FILE',
      `wsgi.file_wrapper range must be { offset >= 0, length >= 0 } in whole bytes, got ${JSON.stringify(range)}`);
  }
  return { offset, length };
}

/** Regular files are read from their start by position; pipes and sockets as they come. */
function seekable(fd: number): boolean {
  return fs.fstatSync(fd).isFile();
}

/** wsgi.file_wrapper(file, blockSize?, range?) */
export function fileWrapper(file: FileLike, blockSize?: number, range?: FileRange): FileWrapper {
  return new FileWrapper(file, blockSize, range);
}
