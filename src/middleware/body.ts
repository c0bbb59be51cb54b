// Helpers for middleware that replace a body: walk any body (sync or async iterable) as
// an async iterator, and close the original exactly once whatever happens.
import { FileWrapper } from '../file-wrapper';
import type { Body, Chunk } from '../types';

/** Closes `body` once: its close() if it has one, else return() on an unfinished iterator. */
export class BodyCloser {
  private closed = false;
  iterator: Iterator<unknown> | AsyncIterator<unknown> | undefined = undefined;
  finished = false;

  constructor(private readonly body: Body) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const close = (this.body as { close?: unknown }).close;
    if (typeof close === 'function') {
      const r = close.call(this.body) as unknown;
      if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).catch === 'function') (r as Promise<unknown>).catch(() => { /* reported by nobody: the server is done with it */ });
    } else if (this.iterator !== undefined && !this.finished && typeof this.iterator.return === 'function') {
      const r = this.iterator.return() as unknown;
      if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).catch === 'function') (r as Promise<unknown>).catch(() => { /* as above */ });
    }
  }
}

/** Bytes and chunks taken from a sync body in one batch: it produces them without waiting. */
const BATCH_BYTES = 64 * 1024;
const BATCH_CHUNKS = 4096;

/**
 * Reads any body in batches: a sync iterable gives what it produces at once (up to 64 KB),
 * an async iterable one chunk at a time (so a streamed chunk is never held back). The
 * iterator is recorded on `closer`.
 */
export class BodyReader {
  private sync: Iterator<Chunk> | null = null;
  private async: AsyncIterator<Chunk> | null = null;
  private done = false;

  constructor(body: Body, private readonly closer: BodyCloser) {
    const b = body as Partial<Iterable<Chunk> & AsyncIterable<Chunk>>;
    // A file is read without blocking the event loop.
    if (typeof b[Symbol.iterator] === 'function' && !(body instanceof FileWrapper)) this.sync = b[Symbol.iterator]!();
    else if (typeof b[Symbol.asyncIterator] === 'function') this.async = b[Symbol.asyncIterator]!();
    else throw new TypeError(`a body must be an iterable or async iterable of chunks, got ${body === null ? 'null' : typeof body}`);
    closer.iterator = this.sync ?? this.async!;
  }

  /** The next chunks (at least one), or null at the end. */
  async next(): Promise<Chunk[] | null> {
    if (this.done) return null;
    if (this.sync !== null) {
      const out: Chunk[] = [];
      let bytes = 0;
      while (bytes < BATCH_BYTES && out.length < BATCH_CHUNKS) {
        const r = this.sync.next();
        if (r.done) { this.end(); break; }
        out.push(r.value);
        bytes += typeof r.value === 'string' ? r.value.length : (r.value as Uint8Array)?.length ?? 0;
      }
      return out.length > 0 ? out : this.done ? null : out;
    }
    const r = await this.async!.next();
    if (r.done) { this.end(); return null; }
    return [r.value];
  }

  private end(): void {
    this.done = true;
    this.closer.finished = true;
  }
}

/** A chunk as a Buffer (strings as UTF-8; other Uint8Arrays viewed, not copied). */
export function toBuffer(chunk: Chunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`a body chunk must be a string or a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
}

/** Chunks as one Buffer (one chunk as itself). */
export function joinChunks(chunks: Chunk[]): Buffer {
  if (chunks.length === 1) return toBuffer(chunks[0]);
  return Buffer.concat(chunks.map(toBuffer));
}
