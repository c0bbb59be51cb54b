// wsgi.input under toFetch(): the fetch Request's body. 'buffer' (the default) reads the
// body whole before the application runs, as the native server does, so every PEP 3333
// read works; 'stream' hands the application the body as it arrives, readable only by
// async iteration (a synchronous read cannot wait for the network).
import { ApplicationError } from '../errors';
import { RequestInput } from '../input';
import type { InputStream } from '../types';

const EMPTY = Buffer.alloc(0);

/** Reads a body stream whole; rejects with TSGI_ERR_BODY_TOO_LARGE past `max` bytes. */
export async function readWhole(stream: ReadableStream<Uint8Array>, max: number): Promise<Buffer> {
  const reader = stream.getReader();
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    total += r.value.byteLength;
    if (total > max) {
      reader.cancel().catch(() => {});
      throw new ApplicationError('TSGI_ERR_BODY_TOO_LARGE', `the request body is larger than maxBodySize (${max} bytes); raise toFetch()'s maxBodySize option to accept it`);
    }
    parts.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
}

/** A body held whole in memory. */
export function bufferedInput(body: Buffer): InputStream {
  return new RequestInput(body, -1, body.length);
}

function streamed(what: string): ApplicationError {
  return new ApplicationError('TSGI_ERR_INPUT_STREAMED',
    `wsgi.input.${what}() cannot wait for a streamed request body; read it with \`for await (const chunk of environ['wsgi.input'])\`, or create the handler with toFetch(app, { input: 'buffer' })`);
}

/** The body as it arrives: async iteration pulls one chunk from the stream at a time. */
export class StreamedInput implements InputStream {
  /** The declared Content-Length, or -1 when the request does not say. */
  readonly length: number;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined = undefined;
  private finished: boolean;

  constructor(private readonly stream: ReadableStream<Uint8Array> | null, length: number) {
    this.length = length;
    this.finished = stream === null;
  }

  read(): Buffer { if (this.finished) return EMPTY; throw streamed('read'); }
  readline(): Buffer { if (this.finished) return EMPTY; throw streamed('readline'); }
  readlines(): Buffer[] { if (this.finished) return []; throw streamed('readlines'); }
  [Symbol.iterator](): Iterator<Buffer> { throw streamed('[Symbol.iterator]'); }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.finished || this.stream === null) return;
    const reader = (this.reader ??= this.stream.getReader());
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        this.finished = true;
        return;
      }
      if (r.value.byteLength > 0) yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  }
}
