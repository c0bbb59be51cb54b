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

/** The chunks of any body, as an async iterator that records its iterator on `closer`. */
export async function* chunksOf(body: Body, closer: BodyCloser): AsyncGenerator<Chunk, void, undefined> {
  const b = body as Partial<Iterable<Chunk> & AsyncIterable<Chunk>>;
  // A file is read without blocking the event loop.
  if (typeof b[Symbol.iterator] === 'function' && !(body instanceof FileWrapper)) {
    const it = b[Symbol.iterator]!();
    closer.iterator = it;
    for (;;) {
      const r = it.next();
      if (r.done) { closer.finished = true; return; }
      yield r.value;
    }
  }
  if (typeof b[Symbol.asyncIterator] === 'function') {
    const it = b[Symbol.asyncIterator]!();
    closer.iterator = it;
    for (;;) {
      const r = await it.next();
      if (r.done) { closer.finished = true; return; }
      yield r.value;
    }
  }
  throw new TypeError(`a body must be an iterable or async iterable of chunks, got ${body === null ? 'null' : typeof body}`);
}

/** A chunk as a Buffer (strings as UTF-8; other Uint8Arrays viewed, not copied). */
export function toBuffer(chunk: Chunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`a body chunk must be a string or a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
}
